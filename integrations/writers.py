"""Writers for model-sync targets, dispatched by connection type id to the provider's
`writer(session, spec) -> Writer` (integrations/provider.py); the engine asks for one with
`make_writer(connection_type, session, spec)`.
"""

from __future__ import annotations

from . import registry
from .base import ConnectorError, ProviderSession, WriteSpec, Writer


def make_writer(connection_type: str, session: ProviderSession, spec: WriteSpec) -> Writer:
    provider = registry.get(connection_type)
    if provider is None or provider.writer is None:
        raise ConnectorError(f"Connections of type '{connection_type}' cannot be written to by a sync.")
    return provider.writer(session, spec)
