import pytest
from django.test import Client


@pytest.fixture
def signed_in(org_admin):
    """A console client signed in as the organization's admin."""
    client = Client()
    client.force_login(org_admin)
    return client
