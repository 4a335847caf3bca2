"""The emulations the sandbox mounts: each registered provider's own (integrations/<type>/sandbox.py),
then the sandbox's webhook sink."""

from integrations import registry

from . import webhook_sink


def mounted() -> list:
    return registry.sandboxes() + [webhook_sink]
