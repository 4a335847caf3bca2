import pytest

from console.accounts.services import sign_up
from console.connections import sharing
from console.connections.models import Connection

PASSWORD = "lent-warehouse-password-8c21"


@pytest.fixture
def copy(organization):
    """Acme's PostgreSQL connection (its password stored) shared with Globex as "Warehouse from Acme"."""
    parent = Connection.objects.create(organization=organization, name="Acme warehouse", type="postgresql",
                                       configuration={"hostname": "db.acme.example", "port": 5432,
                                                      "username": "acme", "database": "prod"},
                                       secrets={"password": PASSWORD})
    child = sign_up("child@example.com", "correct-horse-battery", "Globex").memberships.get().organization
    return sharing.share(parent, child, "Warehouse from Acme")
