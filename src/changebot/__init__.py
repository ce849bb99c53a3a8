"""changebot: make every infrastructure and configuration change accountable."""

__version__ = "0.1.0"
