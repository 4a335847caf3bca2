"""The Salesloft emulation of seed 004's writes: notes, external emails, account delete and
redaction, with answers checked against the published spec where it lists the path."""

import base64
from email.message import EmailMessage

from .openapi import published_or_skip
from .test_salesloft import api, sl  # noqa: F401  (fixture)


def raw_email(to, subject="Hello", date="Mon, 02 Nov 2026 15:04:05 +0000"):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"], message["Date"] = "riley@sandbox.example", to, subject, date
    message.set_content("Hi there")
    return base64.b64encode(message.as_bytes()).decode()


def test_notes_on_people_and_accounts_answer_as_published(sandbox, sl):  # noqa: F811
    contract = published_or_skip("salesloft")
    pid = api(sl, "POST", "/people.json", json={"email_address": "ada@example.com"}).json()["data"]["id"]
    aid = api(sl, "POST", "/accounts.json", json={"name": "Acme", "domain": "acme.com"}).json()["data"]["id"]
    note = api(sl, "POST", "/notes.json", json={"content": "Met", "associated_with_type": "Person",
                                                "associated_with_id": pid})
    assert note.status_code == 200 and contract.answer_problems(note) == []
    assert note.json()["data"]["associated_with"]["id"] == pid
    on_account = api(sl, "POST", "/notes.json", json={"content": "Renewal", "associated_with_type": "account",
                                                      "associated_with_id": aid, "user_guid": "nobody"})
    assert on_account.status_code == 422 and on_account.json()["errors"] == {"user_guid": ["is not a user of this team"]}
    assert api(sl, "POST", "/notes.json", json={"content": "?", "associated_with_type": "person",
                                                "associated_with_id": 9999}).status_code == 404
    assert api(sl, "POST", "/notes.json", json={"content": "x"}).json()["errors"] == {
        "associated_with_type": ["can't be blank"], "associated_with_id": ["can't be blank"]}
    listed = api(sl, "GET", "/notes.json", params={"associated_with_type": "person", "associated_with_id": pid})
    assert contract.answer_problems(listed) == [] and [n["content"] for n in listed.json()["data"]] == ["Met"]


def test_an_external_email_is_matched_to_the_person_it_went_to(sandbox, sl):  # noqa: F811
    contract = published_or_skip("salesloft")
    pid = api(sl, "POST", "/people.json", json={"email_address": "ada@example.com"}).json()["data"]["id"]
    created = api(sl, "POST", "/external_emails.json", json={"mailbox": "riley@sandbox.example",
                                                            "raw": raw_email("Ada <ADA@example.com>")})
    assert created.status_code == 201 and contract.answer_problems(created) == []
    listed = api(sl, "GET", "/activities/emails.json", params={"person_id": pid})
    assert contract.answer_problems(listed) == []
    [mail] = listed.json()["data"]
    assert (mail["subject"], mail["recipient"]["id"], mail["user"]["id"]) == ("Hello", pid, 2)
    assert mail["sent_at"].startswith("2026-11-02T15:04:05")
    assert api(sl, "POST", "/external_emails.json", json={"mailbox": "x", "raw": "not base64!"}).status_code == 422


def test_account_delete_unlinks_people_and_redaction_blanks_the_account_and_its_people(sandbox, sl):  # noqa: F811
    aid = api(sl, "POST", "/accounts.json", json={"name": "Acme", "domain": "acme.com", "phone": "555"}).json()["data"]["id"]
    pid = api(sl, "POST", "/people.json", json={"email_address": "ada@acme.com", "first_name": "Ada",
                                               "account_id": aid}).json()["data"]["id"]
    dry = api(sl, "POST", "/data_control/account_redaction", json={"account_id": aid, "dry_run": True})
    assert dry.json()["data"] == {"id": 1, "account_id": aid, "dry_run": True, "status": "dry_run", "people": 1}
    assert api(sl, "GET", f"/people/{pid}.json").json()["data"]["first_name"] == "Ada"

    done = api(sl, "POST", "/data_control/account_redaction", json={"account_id": aid, "dry_run": False})
    assert done.status_code == 200 and done.json()["data"]["status"] == "completed"
    account = api(sl, "GET", f"/accounts/{aid}.json").json()["data"]
    assert (account["name"], account["domain"], account["phone"]) == ("Redacted", None, None)
    person = api(sl, "GET", f"/people/{pid}.json").json()["data"]
    assert (person["email_address"], person["first_name"]) == (None, None)
    assert api(sl, "GET", "/people.json", params={"email_addresses[]": "ada@acme.com"}).json()["data"] == []
    assert api(sl, "POST", "/data_control/account_redaction", json={"account_id": 999}).status_code == 404
    assert api(sl, "POST", "/data_control/account_redaction", json={}).json()["errors"] == {
        "account_id": ["can't be blank"]}

    assert api(sl, "DELETE", f"/accounts/{aid}.json").status_code == 204
    assert api(sl, "GET", f"/accounts/{aid}.json").status_code == 404
    assert api(sl, "GET", f"/people/{pid}.json").json()["data"]["account"] is None
