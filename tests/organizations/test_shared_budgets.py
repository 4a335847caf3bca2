"""A shared copy spends under its parent's limits: the daily call budget and the provider's rate windows."""

from console.connections import sharing
from console.connections.models import Connection


def test_a_copy_spends_under_its_parents_daily_budget(organization, copy):
    from console.connections import usage

    parent = Connection.objects.create(organization=organization, name="Acme Salesforce", type="salesforce",
                                       configuration={"enforce_api_limits": True, "daily_api_calls": 3})
    lent = sharing.share(parent, copy.organization)
    report = usage.usage(lent)
    assert (report["daily_api_calls"], report["enforced"], report["remaining_today"]) == (3, True, 3)


def test_copies_share_their_parents_rate_budget(organization, copy):
    from console.engine.ratelimit import limiter_for

    parent = Connection.objects.create(organization=organization, name="Acme Salesloft", type="salesloft",
                                       configuration={"auth_method": "api_key"})
    lent = sharing.share(parent, copy.organization)
    assert limiter_for(lent).keys == limiter_for(parent).keys
    assert limiter_for(lent).name == str(parent.pk)
