"""The HTTP API provider: its Provider is in provider.py."""
