"""The Gong provider: its Provider is in provider.py."""
