"""LinkedIn Ads audience writer against the sandbox: hashed emails, create, remove."""

import hashlib

from .conftest import record

AUDIENCE = "512630692::urn:li:organization:28818517~user_audience.10700"
COMPANIES = "512630692::urn:li:organization:28818517~company_audience.10701"
NEW = {"name": "New audience", "type": "user_audience", "account": "512630692::urn:li:organization:28818517"}


def sha(email):
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def members(inspector, segment_id):
    return sorted(m["key"] for m in inspector.docs("linkedin", "segment_members") if m["segment"] == segment_id)


def test_adds_users_by_hashed_lower_cased_email(writer_for, inspector):
    writer = writer_for("linkedinads", AUDIENCE, mode="create", identity_field="Email")
    outcomes = writer.write([record(" Ann@Example.com", Email=" Ann@Example.com", FirstName="Ann", LastName="A"),
                             record("bo@example.com", Email="bo@example.com")])
    assert [(o.ok, o.action) for o in outcomes] == [(True, "inserted"), (True, "inserted")]
    assert members(inspector, 10700) == sorted([f"SHA256_EMAIL:{sha('ann@example.com')}",
                                                f"SHA256_EMAIL:{sha('bo@example.com')}"])
    stored = [m["element"] for m in inspector.docs("linkedin", "segment_members")]
    assert all("@" not in str(element) for element in stored)  # the email never left
    assert {e.get("firstName") for e in stored} == {"Ann", None}


def test_a_member_without_email_or_name_is_rejected_with_linkedins_message(writer_for):
    writer = writer_for("linkedinads", AUDIENCE, mode="create", identity_field="Email")
    outcomes = writer.write([record("x", Email="", FirstName="Only"), record("c@example.com", Email="c@example.com")])
    assert not outcomes[0].ok and outcomes[0].error == "userIds or firstName and lastName are required"
    assert outcomes[1].ok


def test_remove_mode_removes(writer_for, inspector):
    writer_for("linkedinads", AUDIENCE, mode="create").write(
        [record("a@example.com", Email="a@example.com"), record("b@example.com", Email="b@example.com")])
    remover = writer_for("linkedinads", AUDIENCE, mode="remove")
    outcomes = remover.remove([record("a@example.com", Email="A@example.com")])
    assert outcomes[0].ok and outcomes[0].action == "removed"
    assert members(inspector, 10700) == [f"SHA256_EMAIL:{sha('b@example.com')}"]


def test_company_audience_takes_company_attributes(writer_for, inspector):
    writer = writer_for("linkedinads", COMPANIES, mode="create")
    outcomes = writer.write([record("acme.example", CompanyDomain="acme.example", CompanyName="Acme")])
    assert outcomes[0].ok
    assert members(inspector, 10701) == ["companyWebsiteDomain:acme.example"]


def test_prepare_creates_the_audience_once_then_fills_it(writer_for, inspector):
    inspector.settings(linkedin_segment_ready_seconds=1.5)
    writer = writer_for("linkedinads", "", mode="create", create=NEW)
    state = writer.prepare()
    [segment] = [s for s in inspector.docs("linkedin", "segments") if s["name"] == "New audience"]
    assert state["object_id"] == f"512630692::urn:li:organization:28818517~user_audience.{segment['id']}"
    assert segment["type"] == "USER" and segment["account"] == "urn:li:sponsoredAccount:512630692"
    assert writer.write([record("a@example.com", Email="a@example.com")])[0].ok  # ready: prepare waited
    assert members(inspector, segment["id"]) == [f"SHA256_EMAIL:{sha('a@example.com')}"]

    # A run that died before the sync kept the new id finds the same audience again.
    again = writer_for("linkedinads", "", mode="create", create=NEW).prepare()
    assert again["object_id"] == state["object_id"]
    assert len([s for s in inspector.docs("linkedin", "segments") if s["name"] == "New audience"]) == 1


def test_prepare_on_an_existing_audience_does_nothing(writer_for, inspector):
    assert writer_for("linkedinads", AUDIENCE, mode="create", create=NEW).prepare() == {}
    assert len(inspector.docs("linkedin", "segments")) == 2
