from django.core.management.base import BaseCommand, CommandError

from console.accounts.models import Organization
from console.accounts.services import create_api_key


class Command(BaseCommand):
    help = "Create an API key for an organization and print it (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="Organization name")
        parser.add_argument("--name", default="command line", help="A label for the key")

    def handle(self, *args, organization, name, **options):
        try:
            org = Organization.objects.get(name=organization)
        except Organization.DoesNotExist:
            raise CommandError(f"No organization named {organization!r}.") from None
        _, raw_key = create_api_key(org, name)
        self.stdout.write(raw_key)
