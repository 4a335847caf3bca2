"""Salesloft writers: people, accounts, and cadences.

A cadence sync finds each person (by the identity: email, CRM id or Salesloft id),
creates or updates them, then adds them to the cadence; a person already on the
cadence counts as a success. People and accounts use Salesloft's upserts
(accounts by domain). From BULK_THRESHOLD records a batch, people are upserted by
one bulk job (bulk.py) instead of a call each; cadence memberships have no bulk form
and follow one call each, under the same budget. Every record gets its own outcome,
with Salesloft's own message when it refuses one.
"""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from integrations.base import ConnectionFailed, ConnectorError, RecordOutcome, Writer
from integrations.clock import SYSTEM_CLOCK
from integrations.responses import provider_words

from .bulk import BulkUpserts
from .targets import (
    ACCOUNT_ATTRIBUTES,
    CUSTOM_PREFIX,
    PERSON_ATTRIBUTES,
    REDACTION,
    REDACTION_WORD,
    activity_kind,
    cadence_id,
)

PER_PAGE = 100
# Identity target field -> (list filter of GET /people, person attribute)
PERSON_LOOKUPS = {"Email": ("email_addresses[]", "email_address"), "CrmId": ("crm_id[]", "crm_id"),
                  "Id": ("ids[]", "id")}
ACCOUNT_LOOKUPS = {"Domain": ("domain[]", "domain"), "CrmId": ("crm_id[]", "crm_id"), "Id": ("ids[]", "id")}
ALREADY_ON_CADENCE = "already on this cadence"
BULK_THRESHOLD = 50  # records in a batch from which people are upserted by a bulk job
BULK_BATCH = 1000  # records a batch when bulk jobs may be used
PERSON_UPSERT_KEYS = {"Email": "email_address", "CrmId": "crm_id", "Id": "id"}


def make_writer(session, spec) -> Writer:
    if spec.object_id == "people":
        return PeopleWriter(session, spec)
    if spec.object_id == "accounts":
        return AccountsWriter(session, spec)
    if cadence_id(spec.object_id or ""):
        return CadenceWriter(session, spec)
    if activity_kind(spec.object_id or ""):
        return ActivityWriter(session, spec)
    if spec.object_id == REDACTION:
        return RedactionWriter(session, spec)
    raise ConnectorError(f"Salesloft has no target object {spec.object_id!r}.")


def attributes(fields: dict, names: dict) -> dict:
    """Target fields as Salesloft attributes; custom:<name> fields go into custom_fields."""
    body, custom = {}, {}
    for field_id, value in fields.items():
        if field_id.startswith(CUSTOM_PREFIX):
            custom[field_id[len(CUSTOM_PREFIX):]] = value
        elif field_id in names and field_id != "Id":
            body[names[field_id]] = value
    if custom:
        body["custom_fields"] = custom
    if body.get("crm_id") is not None:
        body["crm_id_type"] = "salesforce"
    return body


def normalized(value) -> str:
    return str(value).strip().lower()


class SalesloftWriter(Writer):
    batch_size = PER_PAGE
    collection = ""  # "people" or "accounts"
    names: dict = {}
    lookups: dict = {}
    upsert_keys: dict = {}
    run_key = ""  # the engine's run id (stable when a killed run is resumed) and whether it is resumed
    resumed = False
    clock = SYSTEM_CLOCK  # the run's clock: a canceled run's bulk-job polls end at once

    def __init__(self, session, spec):
        self.http = session.http
        self.spec = spec
        self.identity_field = spec.identity_field or next(iter(self.lookups))
        if self.identity_field not in self.lookups:
            raise ConnectorError(
                f"Salesloft {self.collection} cannot be matched on {self.identity_field}; "
                f"use one of {', '.join(self.lookups)}."
            )

    # ---- HTTP --------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs):
        """The response of one call; a refused login or a provider failure stops the batch."""
        response = self.http.request(method, path, **kwargs)
        if response.status_code == 401:
            raise ConnectionFailed(f"Salesloft refused the credentials: {provider_words(response)}")
        if response.status_code >= 500:
            raise ConnectorError(
                f"Salesloft answered {response.status_code} to {method} {path}: {provider_words(response)}"
            )
        return response

    def json(self, method: str, path: str, **kwargs) -> dict:
        response = self.call(method, path, **kwargs)
        if response.status_code >= 400:
            raise ConnectorError(f"Salesloft refused {method} {path}: {provider_words(response)}")
        return response.json() if response.content else {}

    # ---- lookups -------------------------------------------------------------------

    def find(self, records) -> dict:
        """Existing Salesloft records of this batch, by normalized identity value."""
        param, attribute = self.lookups[self.identity_field]
        wanted = sorted({normalized(r.identity) for r in records if r.identity is not None})
        found = {}
        for start in range(0, len(wanted), PER_PAGE):
            chunk = wanted[start:start + PER_PAGE]
            page = 1
            while page:
                body = self.json("GET", f"{self.collection}.json",
                                 params={param: chunk, "per_page": PER_PAGE, "page": page})
                for item in body.get("data") or []:
                    if item.get(attribute) is not None:
                        found.setdefault(normalized(item[attribute]), item)
                page = ((body.get("metadata") or {}).get("paging") or {}).get("next_page")
        return found

    def body(self, record) -> dict:
        return attributes(record.fields, self.names)

    def upsert_body(self, record) -> dict:
        key = self.upsert_keys[self.identity_field]
        return {**self.body(record), "upsert_key": key, key: record.identity}

    def create(self, record) -> tuple[dict | None, str | None]:
        response = self.call("POST", f"{self.collection}.json", json=self.body(record))
        if response.status_code >= 400:
            return None, provider_words(response)
        return response.json()["data"], None

    def update(self, existing: dict, record) -> tuple[dict | None, str | None]:
        response = self.call("PUT", f"{self.collection}/{existing['id']}.json", json=self.body(record))
        if response.status_code >= 400:
            return None, provider_words(response)
        return response.json()["data"], None

    def save(self, record, existing) -> RecordOutcome:
        """Create or update one record as the mode allows."""
        mode = self.spec.mode
        if existing is None:
            if mode == "update":
                return RecordOutcome(record.identity, ok=False, error=(
                    f"No Salesloft {self.singular} has {self.identity_field} {record.identity}; "
                    "this sync only updates existing ones."))
            saved, error = self.create(record)
            action = "inserted"
        elif mode == "create":
            return RecordOutcome(record.identity, ok=True, action="unchanged", target_id=str(existing["id"]))
        else:
            saved, error = self.update(existing, record)
            action = "updated"
        if error:
            return RecordOutcome(record.identity, ok=False, error=error, payload=self.body(record))
        return RecordOutcome(record.identity, ok=True, action=action, target_id=str(saved["id"]))

    def write(self, records):
        existing = self.find(records)
        return [self.save(r, existing.get(normalized(r.identity))) for r in records]

    def delete_each(self, records, paths: dict) -> list[RecordOutcome]:
        """DELETE paths[id(record)] for each record; none, or a 404, means it is already gone."""
        outcomes = []
        for record in records:
            path = paths.get(id(record))
            response = self.call("DELETE", path) if path else None
            if response is not None and response.status_code >= 400 and response.status_code != 404:
                outcomes.append(RecordOutcome(record.identity, ok=False, error=provider_words(response)))
            else:
                outcomes.append(RecordOutcome(record.identity, ok=True, action="removed"))
        return outcomes

    @property
    def singular(self) -> str:
        return "person" if self.collection == "people" else "account"


class UpsertingWriter(SalesloftWriter):
    """People or accounts: updateOrCreate is one upsert call per record, matched by Salesloft."""

    def write(self, records):
        if self.spec.mode != "updateOrCreate":
            return super().write(records)
        return [self.upsert(r) for r in records]

    def upsert(self, record) -> RecordOutcome:
        body = self.upsert_body(record)
        response = self.call("POST", f"{self.singular}_upserts.json", json=body)
        if response.status_code >= 400:
            return RecordOutcome(record.identity, ok=False, error=provider_words(response), payload=body)
        data = response.json()["data"]
        action = "inserted" if data.get("upsert_type") == "create" else "updated"
        return RecordOutcome(record.identity, ok=True, action=action, target_id=str(data[self.singular]["id"]))


class BulkPeople:
    """People upserted by a bulk job when a batch is large enough (updateOrCreate only)."""

    def __init__(self, session, spec):
        super().__init__(session, spec)
        if spec.mode == "updateOrCreate":
            self.batch_size = BULK_BATCH

    def bulk_ready(self, records) -> bool:
        return self.spec.mode == "updateOrCreate" and len(records) >= BULK_THRESHOLD

    def bulk_upsert(self, records) -> list[RecordOutcome]:
        bodies = [self.upsert_body(r) for r in records]
        jobs = BulkUpserts(self.json, run_key=self.run_key, resumed=self.resumed, clock=self.clock)
        outcomes = []
        for record, body, result in zip(records, bodies, jobs.upsert(bodies)):
            if result["status"] != "success":
                error = result.get("error") or "Salesloft's bulk job refused this row and gave no reason."
                outcomes.append(RecordOutcome(record.identity, ok=False, error=error, payload=body))
                continue
            resource = result.get("resource") or {}
            action = "inserted" if resource.get("upsert_type") == "create" else "updated"
            outcomes.append(RecordOutcome(record.identity, ok=True, action=action,
                                          target_id=str(resource["person"]["id"])))
        return outcomes


class PeopleWriter(BulkPeople, UpsertingWriter):
    collection = "people"
    names = PERSON_ATTRIBUTES
    lookups = PERSON_LOOKUPS
    upsert_keys = PERSON_UPSERT_KEYS

    def write(self, records):
        if self.bulk_ready(records):
            return self.bulk_upsert(records)
        return super().write(records)


class AccountIds:
    """Accounts of a batch by Salesloft id: learned by an earlier run, the identity itself, or a lookup."""

    def account_ids(self, records) -> dict:
        """id(record) -> Salesloft account id (absent when no account matches)."""
        ids = {id(r): int(r.target_id) for r in records if r.target_id}
        if self.identity_field == "Id":
            ids.update({id(r): int(r.identity) for r in records if id(r) not in ids and str(r.identity).isdigit()})
            return ids
        unknown = [r for r in records if id(r) not in ids and r.identity is not None]
        if unknown:
            found = self.find(unknown)
            for record in unknown:
                account = found.get(normalized(record.identity))
                if account is not None:
                    ids[id(record)] = int(account["id"])
        return ids


class AccountsWriter(AccountIds, UpsertingWriter):
    collection = "accounts"
    names = ACCOUNT_ATTRIBUTES
    lookups = ACCOUNT_LOOKUPS
    upsert_keys = {"Domain": "domain", "CrmId": "crm_id", "Id": "id"}
    wipe_guard = (10, 0.5)  # (least accounts, share): set by the engine, None when the run allows mass removal

    def __init__(self, session, spec):
        super().__init__(session, spec)
        self.guard_lock = threading.Lock()
        self.team_accounts = None  # the team's accounts when this run first deleted
        self.deleted = 0

    def update(self, existing: dict, record) -> tuple[dict | None, str | None]:
        """PUT takes name and domain always (the published contract): the account's own unless mapped."""
        body = {"name": existing.get("name"), "domain": existing.get("domain"), **self.body(record)}
        response = self.call("PUT", f"accounts/{existing['id']}.json", json=body)
        if response.status_code >= 400:
            return None, provider_words(response)
        return response.json()["data"], None

    def remove(self, records):
        """Delete the matching accounts; an account already gone counts as removed."""
        ids = self.account_ids(records)
        self.check_wipe_guard(len(set(ids.values())))
        return self.delete_each(records, {key: f"accounts/{account}.json" for key, account in ids.items()})

    def check_wipe_guard(self, count: int):
        """Refuses deletions that would take this run past the guard's share of the team's accounts."""
        if self.wipe_guard is None or not count:
            return
        least, share = self.wipe_guard
        with self.guard_lock:
            if self.team_accounts is None:
                body = self.json("GET", "accounts.json", params={"per_page": 1, "include_paging_counts": "true"})
                self.team_accounts = int(((body.get("metadata") or {}).get("paging") or {}).get("total_count") or 0)
            after = self.deleted + count
            if self.team_accounts >= least and after > self.team_accounts * share:
                raise ConnectorError(
                    f"Deleting these accounts would bring this run to {after} of the team's "
                    f"{self.team_accounts} Salesloft accounts, more than {share:.0%}, so none of them was "
                    "deleted. If the model is right, run again allowing removals.")
            self.deleted = after


class CadenceWriter(BulkPeople, SalesloftWriter):
    """Create or update the person, then add them to the cadence (idempotent: a person
    already on it is a success, so a resumed run never enrolls anyone twice)."""

    collection = "people"
    names = PERSON_ATTRIBUTES
    lookups = PERSON_LOOKUPS
    upsert_keys = PERSON_UPSERT_KEYS

    def __init__(self, session, spec):
        super().__init__(session, spec)
        self.cadence = cadence_id(spec.object_id)

    def write(self, records):
        if self.bulk_ready(records):
            saved = self.bulk_upsert(records)
        else:
            existing = self.find(records)
            saved = [self.save(record, existing.get(normalized(record.identity))) for record in records]
        return [self.enroll(record, outcome) if outcome.ok else outcome for record, outcome in zip(records, saved)]

    def enroll(self, record, saved: RecordOutcome) -> RecordOutcome:
        body = {"person_id": int(saved.target_id), "cadence_id": int(self.cadence)}
        response = self.call("POST", "cadence_memberships.json", json=body)
        if response.status_code < 400:
            return saved
        message = provider_words(response)
        if response.status_code == 422 and ALREADY_ON_CADENCE in message.lower():
            return saved
        return RecordOutcome(record.identity, ok=False, target_id=saved.target_id, payload=body,
                             error=f"The person was saved but not added to the cadence: {message}")

    def remove(self, records):
        """Take people off the cadence; people not on it (or gone) are already removed."""
        people = self.people_of(records)
        memberships = self.memberships(sorted(set(people.values())))
        return self.delete_each(records, {key: f"cadence_memberships/{memberships[person]['id']}.json"
                                          for key, person in people.items() if person in memberships})

    def people_of(self, records) -> dict:
        """id(record) -> Salesloft person id, from the id an earlier run learned or a lookup."""
        people = {id(r): int(r.target_id) for r in records if r.target_id}
        unknown = [r for r in records if not r.target_id and r.identity is not None]
        if unknown:
            found = self.find(unknown)
            for record in unknown:
                person = found.get(normalized(record.identity))
                if person is not None:
                    people[id(record)] = int(person["id"])
        return people

    def memberships(self, person_ids: list[int]) -> dict:
        """person id -> their current membership of this cadence."""
        found = {}
        for start in range(0, len(person_ids), PER_PAGE):
            body = self.json("GET", "cadence_memberships.json", params={
                "person_id[]": person_ids[start:start + PER_PAGE], "cadence_id": self.cadence,
                "currently_on_cadence": "true", "per_page": PER_PAGE,
            })
            for membership in body.get("data") or []:
                found[int(membership["person"]["id"])] = membership
        return found


class RedactionWriter(AccountIds, SalesloftWriter):
    """One account redaction request per account (irreversible: the sync must carry its
    confirmation); each request goes to `audit`, which the engine points at the audit log."""

    collection = "accounts"
    names = ACCOUNT_ATTRIBUTES
    lookups = ACCOUNT_LOOKUPS
    path = "data_control/account_redaction"  # Salesloft's Account and People Redaction API

    def __init__(self, session, spec):
        super().__init__(session, spec)
        if (spec.configuration or {}).get("confirm_redaction") != REDACTION_WORD:
            raise ConnectorError("This redaction sync was not confirmed; nothing was sent. Redaction is "
                                 "irreversible: confirm it on the sync (confirm_redaction) before it runs.")

    @staticmethod
    def audit(**entry):
        """Replaced by the engine; a writer used alone keeps no log."""

    def write(self, records):
        raise ConnectorError("Redaction runs in remove mode only.")

    def remove(self, records):
        ids = self.account_ids(records)
        outcomes = []
        for record in records:
            account_id = ids.get(id(record))
            if account_id is None:
                outcomes.append(RecordOutcome(record.identity, ok=False, error=(
                    f"No Salesloft account has {self.identity_field} {record.identity}; nothing was redacted.")))
                continue
            response = self.call("POST", self.path, json={"account_id": account_id, "dry_run": False})
            self.audit(action="redaction_requested", object_type="salesloft_account", object_id=str(account_id),
                       path=f"/v2/{self.path}", status=response.status_code)
            if response.status_code >= 400:
                outcomes.append(RecordOutcome(record.identity, ok=False, error=provider_words(response)))
            else:
                outcomes.append(RecordOutcome(record.identity, ok=True, action="removed"))
        return outcomes


class ActivityWriter(SalesloftWriter):
    """Logs each record as a new call, email or note of the person (by email, resolved to
    their id, or by id) or, for notes, of the account. A wrong id is the record's error, in
    Salesloft's words."""

    collection = "people"
    lookups = {"PersonEmail": ("email_addresses[]", "email_address"), "PersonId": ("ids[]", "id"),
               "AccountId": None}

    def __init__(self, session, spec):
        super().__init__(session, spec)
        self.kind = activity_kind(spec.object_id)
        if self.identity_field == "AccountId" and self.kind != "note":
            raise ConnectorError(f"Salesloft {self.kind}s are about a person: match on PersonEmail or PersonId.")
        self.users = {}  # user id (None: the connected user) -> (guid, email) or error

    def write(self, records):
        people = self.find(records) if self.identity_field == "PersonEmail" else {}
        outcomes = []
        for record in records:
            subject, problem = self.subject_of(record, people)
            outcomes.append(RecordOutcome(record.identity, ok=False, error=problem) if problem
                            else self.log(record, subject))
        return outcomes

    def subject_of(self, record, people) -> tuple[dict, str | None]:
        """Whom the activity is about: {"person_id"} or {"account_id"}, or why it cannot be logged."""
        if self.identity_field == "PersonEmail":
            person = people.get(normalized(record.identity))
            if person is None:
                return {}, f"No Salesloft person has the email {record.identity}; nothing was logged."
            return {"person_id": int(person["id"]), "email": person.get("email_address")}, None
        key = "person_id" if self.identity_field == "PersonId" else "account_id"
        try:
            return {key: int(record.identity)}, None
        except (TypeError, ValueError):
            return {}, f"{self.identity_field} must be a whole number, not {record.identity!r}."

    def log(self, record, subject: dict) -> RecordOutcome:
        fields = record.fields
        user, problem = self.user(fields.get("UserId"))
        if problem:
            return RecordOutcome(record.identity, ok=False, error=problem)
        if self.kind == "call":
            body = {"person_id": subject["person_id"], "notes": fields.get("Note"), "to": fields.get("To"),
                    "duration": fields.get("Duration"), "disposition": fields.get("Disposition"),
                    "sentiment": fields.get("Sentiment"), "user_guid": user["guid"]}
            path = "activities/calls.json"
        elif self.kind == "note":
            kind, associated = (("person", subject["person_id"]) if "person_id" in subject
                                else ("account", subject["account_id"]))
            body = {"content": fields.get("Note"), "subject": fields.get("Subject"), "associated_with_type": kind,
                    "associated_with_id": associated, "user_guid": user["guid"]}
            path = "notes.json"
        else:
            recipient, problem = self.recipient(subject)
            if problem:
                return RecordOutcome(record.identity, ok=False, error=problem)
            try:
                body = {"mailbox": user["email"], "raw": mime_email(user["email"], recipient, fields)}
            except ValueError:
                return RecordOutcome(record.identity, ok=False,
                                     error=f"OccurredAt must be an ISO 8601 time, not {fields.get('OccurredAt')!r}.")
            path = "external_emails.json"
        body = {k: v for k, v in body.items() if v is not None}
        response = self.call("POST", path, json=body)
        if response.status_code >= 400:
            return RecordOutcome(record.identity, ok=False, error=provider_words(response), payload=body)
        data = response.json().get("data") or {}
        return RecordOutcome(record.identity, ok=True, action="inserted",
                             target_id=str(data.get("id") or data.get("message_id") or ""))

    def user(self, user_id) -> tuple[dict, str | None]:
        """The rep's guid and email (the connected user's when no id is given), or why not."""
        key = None if user_id in (None, "") else user_id
        if key not in self.users:
            response = self.call("GET", "me.json" if key is None else f"users/{key}.json")
            if response.status_code >= 400:
                self.users[key] = f"Salesloft user {key}: {provider_words(response)}"
            else:
                data = response.json().get("data") or {}
                self.users[key] = {"guid": data.get("guid"), "email": data.get("email")}
        found = self.users[key]
        return ({}, found) if isinstance(found, str) else (found, None)

    def recipient(self, subject: dict) -> tuple[str | None, str | None]:
        if subject.get("email"):
            return subject["email"], None
        response = self.call("GET", f"people/{subject['person_id']}.json")
        if response.status_code >= 400:
            return None, provider_words(response)
        email_address = (response.json().get("data") or {}).get("email_address")
        if not email_address:
            return None, f"Salesloft person {subject['person_id']} has no email address to log an email to."
        return email_address, None


def mime_email(sender: str, recipient: str, fields: dict) -> str:
    """The email as Salesloft's external emails take it: a base64 MIME message."""
    message = EmailMessage()
    message["From"], message["To"] = sender, recipient
    message["Subject"] = str(fields.get("Subject") or "")
    occurred = fields.get("OccurredAt")
    if occurred:
        when = occurred if isinstance(occurred, datetime) else datetime.fromisoformat(str(occurred))
        message["Date"] = format_datetime(when if when.tzinfo else when.replace(tzinfo=UTC))
    message["Message-ID"] = make_msgid(domain="sync-console")
    message.set_content(str(fields.get("Note") or ""))
    return base64.b64encode(message.as_bytes()).decode()
