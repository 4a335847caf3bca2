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


def response_error(response) -> str:
    """The provider's own words from an error answer (JSON or text), kept short."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason_phrase or f"HTTP {response.status_code}")[:500]
    return error_text(body) or f"HTTP {response.status_code}"


def error_text(body) -> str:
    if isinstance(body, list):
        return "; ".join(filter(None, (error_text(item) for item in body)))[:500]
    if not isinstance(body, dict):
        return str(body)[:500]
    errors = body.get("errors")
    if isinstance(errors, dict):  # Rails style: {"field": ["message", ...]}
        return "; ".join(
            (message if field == "base" else f"{field} {message}")
            for field, messages in errors.items()
            for message in (messages if isinstance(messages, list) else [messages])
        )[:500]
    if isinstance(errors, list) and errors:
        return "; ".join(error_text(e) if isinstance(e, dict) else str(e) for e in errors)[:500]
    for key in ("message", "error_description", "errorMessage", "error"):
        value = body.get(key)
        if isinstance(value, dict):
            return error_text(value)
        if value:
            return str(value)[:500]
    return str(body)[:500]
