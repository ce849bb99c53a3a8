"""Adapters: the only modules that talk to git, GitHub, Slack and the queue."""
