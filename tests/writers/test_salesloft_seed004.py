"""Seed 004's Salesloft targets against the sandbox: activities, account delete, redaction."""

import base64
import email

import pytest

from integrations.base import ConnectorError

from .conftest import record


def person(inspector, email_address, **fields):
    [doc] = inspector.seed("salesloft", "people", [{"email_address": email_address, **fields}])
    return doc


def test_calls_are_logged_for_people_found_by_email_with_a_wrong_one_refused(writer_for, inspector):
    ada = person(inspector, "ada@example.com", phone="+1 555 0100")
    writer = writer_for("salesloft", "activity:call", mode="create", identity_field="PersonEmail")
    outcomes = writer.write([
        record("ada@example.com", PersonEmail="ada@example.com", Note="Talked pricing", Duration=300,
               Disposition="Connected", UserId=2),
        record("nobody@example.com", PersonEmail="nobody@example.com", Note="?"),
    ])
    assert (outcomes[0].ok, outcomes[0].action) == (True, "inserted")
    assert not outcomes[1].ok and "No Salesloft person has the email nobody@example.com" in outcomes[1].error
    [call] = inspector.docs("salesloft", "calls")
    assert (call["person_id"], call["duration"], call["disposition"], call["user_id"]) == (ada["id"], 300, "Connected", 2)
    assert str(call["id"]) == outcomes[0].target_id
    [note] = inspector.docs("salesloft", "notes")
    assert note["content"] == "Talked pricing"


def test_a_wrong_person_id_carries_salesloft_s_own_words(writer_for, inspector):
    ada = person(inspector, "ada@example.com")
    writer = writer_for("salesloft", "activity:call", mode="create", identity_field="PersonId")
    outcomes = writer.write([record(ada["id"], PersonId=ada["id"]), record(999999, PersonId=999999)])
    assert outcomes[0].ok
    assert (outcomes[1].ok, outcomes[1].error) == (False, "Not Found")
    assert [c["person_id"] for c in inspector.docs("salesloft", "calls")] == [ada["id"]]


def test_notes_go_on_the_person_or_on_the_account(writer_for, inspector):
    ada = person(inspector, "ada@example.com")
    [acme] = inspector.seed("salesloft", "accounts", [{"name": "Acme", "domain": "acme.example"}])
    on_person = writer_for("salesloft", "activity:note", mode="create", identity_field="PersonId")
    on_account = writer_for("salesloft", "activity:note", mode="create", identity_field="AccountId")
    assert on_person.write([record(ada["id"], PersonId=ada["id"], Note="Likes rockets")])[0].ok
    [ok, wrong] = on_account.write([record(acme["id"], AccountId=acme["id"], Note="Renewal in May"),
                                    record(424242, AccountId=424242, Note="?")])
    assert ok.ok and (wrong.ok, wrong.error) == (False, "Not Found")
    notes = {(n["associated_type"], n["associated_id"]): n["content"] for n in inspector.docs("salesloft", "notes")}
    assert notes == {("person", ada["id"]): "Likes rockets", ("account", acme["id"]): "Renewal in May"}


def test_emails_are_logged_as_external_emails_to_the_person(writer_for, inspector):
    ada = person(inspector, "ada@example.com")
    writer = writer_for("salesloft", "activity:email", mode="create", identity_field="PersonId")
    [outcome] = writer.write([record(ada["id"], PersonId=ada["id"], Subject="Proposal", Note="Attached.",
                                     OccurredAt="2026-11-02T15:04:05Z")])
    assert outcome.ok and outcome.target_id
    [mail] = inspector.docs("salesloft", "emails")
    assert (mail["person_id"], mail["subject"], mail["recipient"]) == (ada["id"], "Proposal", "ada@example.com")
    assert mail["sent_at"].startswith("2026-11-02T15:04:05")
    assert mail["body"].strip() == "Attached."
    assert mail["mailbox"] == "admin@sandbox.example"  # the connected user's mailbox
    assert writer.write([record(ada["id"], PersonId=ada["id"], OccurredAt="yesterday")])[0].error == (
        "OccurredAt must be an ISO 8601 time, not 'yesterday'.")


def test_an_email_message_is_valid_mime():
    from integrations.salesloft.writer import mime_email

    raw = mime_email("rep@example.com", "ada@example.com", {"Subject": "Hi", "Note": "Body"})
    message = email.message_from_bytes(base64.b64decode(raw))
    assert (message["From"], message["To"], message["Subject"]) == ("rep@example.com", "ada@example.com", "Hi")


def test_account_delete_removes_matching_accounts(writer_for, inspector):
    inspector.seed("salesloft", "accounts", [{"name": f"Co {n}", "domain": f"co{n}.example"} for n in range(4)])
    ada = person(inspector, "ada@example.com")
    writer = writer_for("salesloft", "accounts", mode="remove", identity_field="Domain")
    outcomes = writer.remove([record("co0.example", Domain="co0.example"),
                              record("gone.example", Domain="gone.example")])
    assert [(o.ok, o.action) for o in outcomes] == [(True, "removed"), (True, "removed")]
    assert sorted(a["domain"] for a in inspector.docs("salesloft", "accounts")) == [
        "co1.example", "co2.example", "co3.example"]
    assert inspector.docs("salesloft", "people")[0]["id"] == ada["id"]


def test_account_delete_refuses_to_wipe_most_of_the_team_s_accounts(writer_for, inspector):
    inspector.seed("salesloft", "accounts", [{"name": f"Co {n}", "domain": f"co{n}.example"} for n in range(12)])
    writer = writer_for("salesloft", "accounts", mode="remove", identity_field="Domain")
    writer.wipe_guard = (10, 0.5)
    batch = [record(f"co{n}.example", Domain=f"co{n}.example") for n in range(7)]
    with pytest.raises(ConnectorError, match="bring this run to 7 of the team's 12 Salesloft accounts"):
        writer.remove(batch)
    assert len(inspector.docs("salesloft", "accounts")) == 12
    allowed = writer_for("salesloft", "accounts", mode="remove", identity_field="Domain")
    allowed.wipe_guard = None  # the run allows mass removal
    assert all(o.ok for o in allowed.remove(batch))
    assert len(inspector.docs("salesloft", "accounts")) == 5


def test_redaction_needs_the_sync_s_confirmation(writer_for):
    with pytest.raises(ConnectorError, match="not confirmed"):
        writer_for("salesloft", "account_redaction", mode="remove", identity_field="Domain")


def test_redaction_blanks_the_account_and_its_people_and_is_audited(writer_for, inspector):
    [acme] = inspector.seed("salesloft", "accounts", [{"name": "Acme", "domain": "acme.example", "phone": "555"}])
    ada = person(inspector, "ada@acme.example", first_name="Ada", account_id=acme["id"])
    bo = person(inspector, "bo@other.example", first_name="Bo")
    writer = writer_for("salesloft", "account_redaction", mode="remove", identity_field="Domain",
                        configuration={"confirm_redaction": "REDACT"})
    audited = []
    writer.audit = lambda **entry: audited.append(entry)

    outcomes = writer.remove([record("acme.example", Domain="acme.example"),
                              record("none.example", Domain="none.example")])

    assert (outcomes[0].ok, outcomes[0].action) == (True, "removed")
    assert not outcomes[1].ok and "No Salesloft account has Domain none.example" in outcomes[1].error
    account = {a["id"]: a for a in inspector.docs("salesloft", "accounts")}[acme["id"]]
    assert (account["name"], account["domain"], account["phone"]) == ("Redacted", None, None)
    people = {p["id"]: p for p in inspector.docs("salesloft", "people")}
    assert (people[ada["id"]]["email_address"], people[ada["id"]]["first_name"]) == (None, None)
    assert people[bo["id"]]["first_name"] == "Bo"
    [request] = inspector.docs("salesloft", "redactions")
    assert (request["account_id"], request["dry_run"], request["people"]) == (acme["id"], False, 1)
    assert audited == [{"action": "redaction_requested", "object_type": "salesloft_account",
                        "object_id": str(acme["id"]), "path": "/v2/data_control/account_redaction", "status": 200}]
