"""The GitHub App's web side: webhook intake, health and metrics (Flask)."""

from changebot.server.app import create_app

__all__ = ["create_app"]
