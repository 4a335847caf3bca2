from django.core.management.base import BaseCommand, CommandError

from console.accounts.models import Organization, Role
from console.accounts.services import create_api_key, create_partner_key


class Command(BaseCommand):
    help = ("Create an API key for an organization, or with --partner an instance-level partner key "
            "that manages organizations, and print it (shown once).")

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="Organization name (not with --partner)")
        parser.add_argument("--partner", action="store_true",
                            help="A partner key: /api/organizations/... on every organization, nothing else")
        parser.add_argument("--name", default="command line", help="A label for the key")
        parser.add_argument("--role", default=Role.ADMIN, choices=Role.values,
                            help="What the key may do (default: admin; not with --partner)")

    def handle(self, *args, organization, partner, name, role, **options):
        if partner:
            if organization:
                raise CommandError("A partner key belongs to no organization; drop --organization.")
            _, raw_key = create_partner_key(name)
        else:
            if not organization:
                raise CommandError("Name the key's --organization, or make a --partner key.")
            try:
                org = Organization.objects.get(name=organization)
            except Organization.DoesNotExist:
                raise CommandError(f"No organization named {organization!r}.") from None
            _, raw_key = create_api_key(org, name, role=role)
        self.stdout.write(raw_key)
