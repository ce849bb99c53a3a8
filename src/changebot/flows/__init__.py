"""Use cases: plain functions over the ports, shared by the App and the Action."""
