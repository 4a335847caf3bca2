"""The one list of providers: every package under integrations/ with a provider.py
defining PROVIDER. Removing a package's folder removes the provider everywhere.

    from integrations import registry
    registry.providers()          # [Provider, ...] by id
    registry.get("salesloft")     # Provider or None
    with registry.extra(FakeCrm()):   # a test's own provider, for the block only
        ...
"""

from __future__ import annotations

import importlib
import pkgutil
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from integrations.provider import Provider

PACKAGE = Path(__file__).parent
added: dict[str, Provider] = {}


def package_names() -> list[str]:
    """Packages of integrations/ that hold a provider.py (found without importing them)."""
    return sorted(info.name for info in pkgutil.iter_modules([str(PACKAGE)])
                  if info.ispkg and (PACKAGE / info.name / "provider.py").is_file())


@cache
def found() -> dict[str, Provider]:
    providers = {}
    for name in package_names():
        provider = importlib.import_module(f"integrations.{name}.provider").PROVIDER
        providers[provider.id] = provider
    return providers


def providers() -> list[Provider]:
    return list({**found(), **added}.values())


def get(type_id: str) -> Provider | None:
    return added.get(type_id) or found().get(type_id)


@contextmanager
def extra(provider: Provider):
    """Register `provider` beside the packages' own until the block ends (tests)."""
    if get(provider.id) is not None:
        raise ValueError(f"a provider {provider.id!r} is already registered")
    added[provider.id] = provider
    try:
        yield provider
    finally:
        added.pop(provider.id, None)


def budgets() -> dict[str, list[tuple[int, int]]]:
    """Each provider's API budget windows, (limit, window seconds)."""
    return {p.id: list(p.budget) for p in providers() if p.budget}


def bulk_sources() -> dict:
    """Type id -> bulk-sync source module, for the providers that have one."""
    return {p.id: p.source for p in providers() if p.source is not None}


def sandboxes() -> list:
    """The emulations the sandbox mounts, one per provider that has one."""
    return [emulation for emulation in (p.sandbox() for p in providers()) if emulation is not None]
