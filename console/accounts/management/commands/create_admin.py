import getpass
import secrets
import sys

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from console.accounts.models import Membership, Organization, Role, User


class Command(BaseCommand):
    help = ("Create a user who administers an organization (made if new). The password comes from "
            "--password, else a prompt, else (no terminal) is generated and printed once.")

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--organization", required=True, help="Organization name")
        parser.add_argument("--password", help="Default: ask, or generate one when there is no terminal")

    def handle(self, *args, email, organization, password=None, **options):
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address.") from None
        if User.objects.filter(email=email).exists():
            raise CommandError(f"An account with the email {email} already exists.")
        name = organization.strip()
        if not name:
            raise CommandError("--organization: give the organization a name.")
        generated = False
        if password is None and sys.stdin.isatty():
            password = self.ask_password()
        if not password:
            password, generated = secrets.token_urlsafe(16), True
        try:
            password_validation.validate_password(password)
        except ValidationError as error:
            raise CommandError("--password: " + " ".join(error.messages)) from None
        with transaction.atomic():
            org = Organization.objects.filter(name__iexact=name).first()
            created = org is None
            if created:
                org = Organization.objects.create(name=name)
            user = User.objects.create_user(email=email, password=password)
            Membership.objects.create(user=user, organization=org, role=Role.ADMIN)
        self.stdout.write(f"{email} is an admin of {org.name}{' (new)' if created else ''}.")
        if generated:
            self.stdout.write(f"Password (shown once): {password}")

    def ask_password(self) -> str:
        password = getpass.getpass("Password (empty: generate one): ")
        if password and password != getpass.getpass("Password again: "):
            raise CommandError("The passwords do not match.")
        return password
