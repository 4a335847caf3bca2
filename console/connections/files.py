"""The folder tenants' SQLite files may live in (FILE_CONNECTIONS_DIR), with the console's own files fenced off."""

from pathlib import Path

from django.conf import settings
from django.db import connections

from integrations.files import FileRoot


def file_root() -> FileRoot | None:
    """Where file-backed connections may open files, or None when the operator allows none."""
    if not settings.FILE_CONNECTIONS_DIR:
        return None
    return FileRoot(Path(settings.FILE_CONNECTIONS_DIR), protected_files=console_databases(),
                    protected_folders=(Path(settings.VAR_DIR),))


def files_enabled() -> bool:
    return bool(settings.FILE_CONNECTIONS_DIR)


def console_databases() -> tuple[Path, ...]:
    """The console's own SQLite database, wherever DATABASE_URL puts it (var/ holds its keys and logs)."""
    if connections["default"].vendor != "sqlite":
        return ()
    names = {str(settings.DATABASES["default"]["NAME"]), str(connections["default"].settings_dict["NAME"])}
    return tuple(Path(name) for name in sorted(names) if name and name != ":memory:")
