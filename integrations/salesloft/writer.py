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

from integrations.base import ConnectionFailed, ConnectorError, RecordOutcome, Writer
from integrations.responses import provider_words

from .bulk import BulkUpserts
from .targets import ACCOUNT_ATTRIBUTES, CUSTOM_PREFIX, PERSON_ATTRIBUTES, cadence_id

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
        jobs = BulkUpserts(self.json, run_key=self.run_key, resumed=self.resumed)
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


class AccountsWriter(UpsertingWriter):
    collection = "accounts"
    names = ACCOUNT_ATTRIBUTES
    lookups = ACCOUNT_LOOKUPS
    upsert_keys = {"Domain": "domain", "CrmId": "crm_id", "Id": "id"}


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
        outcomes = []
        for record in records:
            person_id = people.get(id(record))
            membership = memberships.get(person_id)
            if membership is None:
                outcomes.append(RecordOutcome(record.identity, ok=True, action="removed"))
                continue
            response = self.call("DELETE", f"cadence_memberships/{membership['id']}.json")
            if response.status_code >= 400 and response.status_code != 404:
                outcomes.append(RecordOutcome(record.identity, ok=False, error=provider_words(response)))
            else:
                outcomes.append(RecordOutcome(record.identity, ok=True, action="removed"))
        return outcomes

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
