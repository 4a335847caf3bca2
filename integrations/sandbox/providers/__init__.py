"""The emulated providers, in mounting order. A module that is not written yet is skipped."""

import importlib

NAMES = ("salesloft", "gong", "linkedin", "salesforce", "hubspot", "webhook_sink")

PROVIDERS = []
for _name in NAMES:
    try:
        PROVIDERS.append(importlib.import_module(f"{__name__}.{_name}"))
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{_name}":
            raise
