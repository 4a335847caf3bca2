"""The Salesloft provider: its Provider is in provider.py."""
