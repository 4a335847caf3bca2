from django.conf import settings
from django.core.management.base import BaseCommand

from console.accounts.models import Organization, User
from console.accounts.services import sign_up
from console.connections.demo import demo_files_dir

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "sync-demo-2026"
DEMO_ORGANIZATION = "Demo Company"


class Command(BaseCommand):
    help = "Create the demo organization and its user (idempotent) and print how to sign in."

    def handle(self, *args, **options):
        if not settings.FILE_CONNECTIONS_DIR:
            settings.FILE_CONNECTIONS_DIR = str(demo_files_dir())  # the folder `make run` opens
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
    return hooks + [seed_cadence_sync]


CADENCE_QUERY = ("SELECT MAX(last_activity_date) AS last_activity_date, plan, first_name, last_name, email "
                 "FROM users GROUP BY plan, first_name, last_name, email")
CADENCE_FIELDS = [("last_activity_date", "date"), ("plan", "string"), ("first_name", "string"),
                  ("last_name", "string"), ("email", "string")]


def seed_cadence_sync(organization):
    """Seed 000, ready to run: the demo users into the sandbox Salesloft cadence
    "Inbound Leads - Fast Follow". Nothing reaches a warehouse or provider here."""
    from console.connections.models import Connection
    from console.connections.services import create_connection
    from console.datamodels.models import DataModel, ModelField
    from console.syncs.models import Sync
    from integrations import registry

    snowflake = Connection.objects.filter(organization=organization, type="snowflake").first()
    if snowflake is None or registry.get("salesloft") is None:
        return  # the demo warehouse's seed 000 needs both
    if Sync.objects.filter(organization=organization, target_object="cadence:10").exists():
        return
    salesloft = Connection.objects.filter(organization=organization, type="salesloft").first()
    if salesloft is None:
        salesloft = create_connection(organization, name="Salesloft (sandbox)", type_id="salesloft",
                                      configuration={"auth_method": "api_key", "api_key": "sandbox-api-key"},
                                      validate=False)
    model, created = DataModel.objects.get_or_create(
        organization=organization, connection=snowflake, name="Active Users",
        defaults={"configuration": {"query": CADENCE_QUERY}})
    if created:
        for position, (name, type_) in enumerate(CADENCE_FIELDS):
            ModelField.objects.create(model=model, name=name, type=type_, position=position)

    def source(field):
        return {"model_id": str(model.pk), "field": field}

    identity = {"source": source("email"), "target": "Email", "function": "Equality"}
    Sync.objects.create(
        organization=organization, name="Snowflake to Salesloft Cadence Sync", mode="updateOrCreate",
        model=model, target_connection=salesloft, target_object="cadence:10",
        identity=identity, identities=[identity],
        fields=[{"source": source("first_name"), "target": "FirstName"},
                {"source": source("last_name"), "target": "LastName"}],
        schedule={"frequency": "manual"},
    )
