from django.core.management.base import BaseCommand, CommandError

from console.accounts.models import Organization, Role
from console.accounts.services import create_api_key


class Command(BaseCommand):
    help = "Create an API key for an organization and print it (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="Organization name")
        parser.add_argument("--name", default="command line", help="A label for the key")
        parser.add_argument("--role", default=Role.ADMIN, choices=Role.values,
                            help="What the key may do (default: admin)")

    def handle(self, *args, organization, name, role, **options):
        try:
            org = Organization.objects.get(name=organization)
        except Organization.DoesNotExist:
            raise CommandError(f"No organization named {organization!r}.") from None
        _, raw_key = create_api_key(org, name, role=role)
        self.stdout.write(raw_key)
