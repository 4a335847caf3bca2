"""Local emulations of the SaaS providers the console syncs to (see app.py for the module contract)."""

from .server import SandboxServer

__all__ = ["SandboxServer"]
