from django.core.management.base import BaseCommand

from console.accounts.models import Organization, User
from console.accounts.services import sign_up

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "sync-demo-2026"
DEMO_ORGANIZATION = "Demo Company"


class Command(BaseCommand):
    help = "Create the demo organization and its user (idempotent) and print how to sign in."

    def handle(self, *args, **options):
        if not User.objects.filter(email=DEMO_EMAIL).exists():
            sign_up(DEMO_EMAIL, DEMO_PASSWORD, DEMO_ORGANIZATION)
        organization = Organization.objects.get(name=DEMO_ORGANIZATION)
        for hook in demo_hooks():
            hook(organization)
        self.stdout.write(
            f"Demo organization: {DEMO_ORGANIZATION}\n"
            f"Sign in at http://127.0.0.1:8000 as {DEMO_EMAIL} / {DEMO_PASSWORD}"
        )


def demo_hooks():
    """Apps that add demo objects (connections, models, syncs) register here."""
    from importlib import import_module

    hooks = []
    for module in ("console.connections.demo", "console.datamodels.demo", "console.syncs.demo"):
        try:
            hooks.append(import_module(module).seed)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
    return hooks
