"""Connection services. Other apps call these, never the model's secrets directly."""

from .models import Connection


def connection_config(connection: Connection) -> dict:
    """Plain and secret configuration merged, for integrations only (never for output)."""
    return {**connection.configuration, **connection.secrets}
