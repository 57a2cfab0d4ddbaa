"""Safeguard: find known abuse imagery by hashing, and turn what is found into action."""

__version__ = "0.1.0"
