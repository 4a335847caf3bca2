"""The HubSpot provider: its Provider is in provider.py."""
