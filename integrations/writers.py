"""Writers for model-sync targets, dispatched by connection type id.

Each provider module `integrations/<type>/writer.py` offers

    make_writer(session: ProviderSession, spec: WriteSpec) -> Writer

and the engine asks for one with `make_writer(connection_type, session, spec)`.
"""

from __future__ import annotations

import importlib

from .base import ConnectorError, ProviderSession, WriteSpec, Writer

PROVIDERS = ("salesloft", "gong", "linkedinads", "salesforce", "hubspot", "httpapi")


def make_writer(connection_type: str, session: ProviderSession, spec: WriteSpec) -> Writer:
    if connection_type not in PROVIDERS:
        raise ConnectorError(f"Connections of type '{connection_type}' cannot be written to by a sync.")
    try:
        module = importlib.import_module(f"integrations.{connection_type}.writer")
    except ModuleNotFoundError as error:
        if error.name != f"integrations.{connection_type}.writer":
            raise
        raise ConnectorError(f"Writing to {connection_type} is not available yet.") from None
    return module.make_writer(session, spec)

