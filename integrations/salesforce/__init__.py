"""The Salesforce provider: its Provider is in provider.py."""
