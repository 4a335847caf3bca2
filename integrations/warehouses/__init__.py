"""Warehouse sources: Snowflake, PostgreSQL, MySQL and SQLite.

Each module defines TYPE_ID, NAME, CONFIG_FIELDS and a `Source` class that
implements `integrations.warehouses.base.WarehouseSource`.
"""

from __future__ import annotations

from integrations.base import ConnectorError
from integrations.files import FileRoot
from integrations.warehouses import mysql, postgresql, snowflake, sqlite
from integrations.warehouses.base import WarehouseSource

SOURCES = {module.TYPE_ID: module for module in (snowflake, postgresql, mysql, sqlite)}


def get_source(type_id: str, config: dict, endpoint: str | None = None,
               files: FileRoot | None = None, deadline: float | None = None) -> WarehouseSource:
    """A source for a connection of this type (not yet connected: it connects on first use).
    `files` is the folder file-backed sources (SQLite) may open; without it they open nothing.
    A web request passes its `deadline` (time.monotonic()), which the source's timeouts keep."""
    module = SOURCES.get(type_id)
    if module is None:
        raise ConnectorError(f"{type_id!r} is not a warehouse type; known: {', '.join(sorted(SOURCES))}.")
    return module.Source(config, endpoint=endpoint, files=files, deadline=deadline)
