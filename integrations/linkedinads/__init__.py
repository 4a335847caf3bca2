"""The LinkedIn Ads provider: its Provider is in provider.py."""
