"""Files a tenant may name: the database files of SQLite connections.

File-backed connections are off unless the operator opens a folder for them
(the console's FILE_CONNECTIONS_DIR). A tenant's path is then read relative
to that folder, may not contain "..", and must still lie inside the folder
once symbolic links are followed. The console's own files (its database,
keys and logs) are refused even when the folder holds them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePath

from integrations.base import ConnectionFailed

FILES_OFF = ("SQLite connections are turned off on this console; "
             "the operator enables them with FILE_CONNECTIONS_DIR.")
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")  # what SQLite writes beside a database file


class FileRefused(ConnectionFailed):
    """A path the console will not open for a tenant."""


@dataclass(frozen=True)
class FileRoot:
    """The folder tenants' files live in, and the console's own files that never are theirs.

    protected_files are refused wherever they are (with SQLite's journals beside them);
    nothing directly inside one of protected_folders is a tenant's (the console's var/).
    """

    folder: Path
    protected_files: tuple[Path, ...] = ()
    protected_folders: tuple[Path, ...] = ()

    def resolve(self, text) -> Path:
        """The real path of the tenant's file `text`, or FileRefused saying why not."""
        if not isinstance(text, str) or not text.strip():
            raise FileRefused("No database file is configured (path).")
        if "\x00" in text:
            raise FileRefused("The path may not contain a NUL character.")
        if ".." in PurePath(text).parts:
            raise FileRefused(f"The path {text!r} may not contain '..'.")
        folder = Path(os.path.realpath(self.folder))
        real = Path(os.path.realpath(folder / text))
        if real == folder or not real.is_relative_to(folder):
            raise FileRefused(f"The path {text!r} is outside the console's folder for database files; "
                              "give a path relative to it.")
        if self.is_console_file(real):
            raise FileRefused(f"The path {text!r} is one of the console's own files.")
        return real

    def is_console_file(self, real: Path) -> bool:
        for protected in self.protected_files:
            original = Path(os.path.realpath(protected))
            if real in {Path(f"{original}{suffix}") for suffix in SQLITE_COMPANIONS} or same_file(real, original):
                return True
        return any(real.parent == Path(os.path.realpath(folder)) for folder in self.protected_folders)


def same_file(a: Path, b: Path) -> bool:
    """Whether both exist and are one file (a hard link to it, say)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
