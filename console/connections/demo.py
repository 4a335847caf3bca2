"""Ready-made connections for the demo organization (called by `manage.py seed_demo`).

The Snowflake connection is configured like the product brief's (seed 000) and
reaches the demo warehouse through SNOWFLAKE_ENDPOINT; the SQLite one reads a
file filled with the same demo tables, in the folder the console allows
SQLite files in (`make run` opens var/demo-files). Nothing is checked here:
the warehouse starts after seeding.
"""

from pathlib import Path

from django.conf import settings

from integrations import registry
from integrations.demo.warehouse import load_sqlite

from . import services
from .files import files_enabled
from .models import Connection

SQLITE_FILE = "demo-warehouse.sqlite3"
DEMO_FILES = "demo-files"  # under var/: the FILE_CONNECTIONS_DIR of `make run`

SNOWFLAKE = {"account": "uc193736182", "username": "user", "password": "secret", "dbname": "database"}


def demo_files_dir() -> Path:
    return Path(settings.VAR_DIR) / DEMO_FILES


def demo_connections() -> list[tuple[str, str, dict]]:
    """The demo's connections: the warehouses (SQLite only where the console allows SQLite files),
    then each provider whose sandbox takes a static key (its demo_configuration)."""
    sqlite = [("Demo SQLite", "sqlite", {"path": SQLITE_FILE})] if files_enabled() else []
    providers = [(f"{p.name} (sandbox)", p.id, dict(p.demo_configuration))
                 for p in registry.providers() if p.demo_configuration]
    return [("Snowflake Connection", "snowflake", SNOWFLAKE), *sqlite, *providers]


def seed(organization):
    if files_enabled():
        sqlite_path = Path(settings.FILE_CONNECTIONS_DIR) / SQLITE_FILE
        if not sqlite_path.exists():
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            load_sqlite(sqlite_path)
    for name, type_id, configuration in demo_connections():
        if not Connection.objects.filter(organization=organization, name=name).exists():
            services.create_connection(organization, name=name, type_id=type_id, configuration=configuration,
                                       validate=False)
