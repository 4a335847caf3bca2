"""LinkedIn Ads audience writer: stream members into (or out of) a DMP segment.

User audiences take people by SHA-256 of the trimmed, lower-cased email (the email
itself never leaves); company audiences take company attributes. With
`spec.create` the first run creates the segment (or finds the one an interrupted
run created under the same name) and returns its object id for the sync to keep.
"""

from __future__ import annotations

import hashlib
import time

from integrations.base import ConnectionFailed, ConnectorError, RecordOutcome, Writer
from integrations.responses import provider_words

from .targets import API_VERSION, COMPANY_FIELDS, SEGMENT_TYPES, USER_FIELDS, parse_object_id

BATCH_SIZE = 1000
SOURCE_PLATFORM = "SYNC_CONSOLE"
READY_WAIT = 120.0  # seconds a new segment may take before it accepts members
ACCOUNT_URN = "urn:li:sponsoredAccount:"


def make_writer(session, spec) -> Writer:
    return AudienceWriter(session, spec)


def sha256_email(email) -> str:
    return hashlib.sha256(str(email).strip().lower().encode()).hexdigest()


def first(value):
    return value[0] if isinstance(value, list) else value


class AudienceWriter(Writer):
    batch_size = BATCH_SIZE

    def __init__(self, session, spec, sleep=time.sleep):
        self.http = session.http
        self.spec = spec
        self.sleep = sleep
        self.headers = {"X-Restli-Protocol-Version": "2.0.0"}
        if "LinkedIn-Version" not in self.http.headers:
            self.headers["LinkedIn-Version"] = API_VERSION
        self.target = self.parse(spec.object_id)
        if self.target is None and not spec.create:
            raise ConnectorError(f"{spec.object_id!r} is not a LinkedIn audience id; pick an audience or "
                                 "give the properties of a new one.")

    @staticmethod
    def parse(object_id):
        try:
            return parse_object_id(object_id or "")
        except KeyError:
            return None

    # ---- HTTP -----------------------------------------------------------------

    def call(self, method: str, path: str, headers=None, **kwargs):
        response = self.http.request(method, path, headers={**self.headers, **(headers or {})}, **kwargs)
        if response.status_code == 401:
            raise ConnectionFailed(f"LinkedIn refused the credentials: {provider_words(response)}")
        if response.status_code >= 500:
            raise ConnectorError(f"LinkedIn answered {response.status_code} to {method} {path}: "
                                 f"{provider_words(response)}")
        return response

    # ---- creating the audience ------------------------------------------------

    def prepare(self) -> dict:
        if self.target is not None:
            return {}
        create = self.spec.create
        kind = first(create.get("type"))
        name = first(create.get("name"))
        account = str(first(create.get("account")) or "")
        if kind not in SEGMENT_TYPES or not name or not account:
            raise ConnectorError("A new LinkedIn audience needs an account, a type "
                                 "(user_audience or company_audience) and a name.")
        account_id, _, reference = account.partition("::")
        account_id = account_id.rsplit(":", 1)[-1]
        urn = ACCOUNT_URN + account_id
        segment_id = self.existing_segment(urn, name, SEGMENT_TYPES[kind]) or self.create_segment(
            urn, name, SEGMENT_TYPES[kind])
        self.wait_until_ready(segment_id)
        object_id = f"{account_id}::{reference}~{kind}.{segment_id}"
        self.target = parse_object_id(object_id)
        return {"object_id": object_id, "segment_id": segment_id, "name": name}

    def existing_segment(self, urn, name, segment_type):
        """A segment this console created under that name: an earlier, interrupted run's."""
        start = 0
        while True:
            response = self.call("GET", "dmpSegments", params={
                "q": "account", "account": urn, "sourcePlatform": SOURCE_PLATFORM, "start": start, "count": 100})
            if response.status_code >= 400:
                raise ConnectorError(f"LinkedIn did not list the audiences of {urn}: {provider_words(response)}")
            elements = response.json().get("elements") or []
            for segment in elements:
                if segment.get("name") == name and segment.get("type") == segment_type:
                    return str(segment["id"])
            start += len(elements)
            if len(elements) < 100:
                return None

    def create_segment(self, urn, name, segment_type) -> str:
        body = {"name": name, "sourcePlatform": SOURCE_PLATFORM, "account": urn, "type": segment_type,
                "accessPolicy": "PRIVATE", "destinations": [{"destination": "LINKEDIN"}]}
        response = self.call("POST", "dmpSegments", json=body)
        if response.status_code >= 400:
            raise ConnectorError(f"LinkedIn did not create the audience {name!r}: {provider_words(response)}")
        segment_id = response.headers.get("x-restli-id") or response.headers.get("Location", "").rsplit("/", 1)[-1]
        if not segment_id:
            raise ConnectorError("LinkedIn created the audience but did not say its id.")
        return str(segment_id)

    def wait_until_ready(self, segment_id):
        """A new segment takes members only once LinkedIn has built it."""
        deadline = time.monotonic() + READY_WAIT
        while True:
            response = self.call("GET", f"dmpSegments/{segment_id}")
            if response.status_code < 400:
                destinations = response.json().get("destinations") or []
                if all(d.get("status") in (None, "READY") for d in destinations):
                    return
            if time.monotonic() > deadline:
                raise ConnectorError(f"The LinkedIn audience {segment_id} was not ready after {READY_WAIT:.0f} s.")
            self.sleep(1.0)

    # ---- members --------------------------------------------------------------

    @property
    def companies(self) -> bool:
        return self.target["type"] == "company_audience"

    def element(self, record, action: str) -> dict:
        element = {"action": action}
        if self.companies:
            for field_id, value in record.fields.items():
                attribute = COMPANY_FIELDS.get(field_id)
                if attribute and value not in (None, ""):
                    if field_id == "Email":
                        value = str(value).rsplit("@", 1)[-1].strip().lower()
                    element.setdefault(attribute, value)
            return element
        ids = []
        for field_id, value in record.fields.items():
            attribute = USER_FIELDS.get(field_id)
            if not attribute or value in (None, ""):
                continue
            if attribute == "SHA256_EMAIL":
                ids.append({"idType": "SHA256_EMAIL", "idValue": sha256_email(value)})
            elif attribute == "GOOGLE_AID":
                ids.append({"idType": "GOOGLE_AID", "idValue": str(value)})
            else:
                element[attribute] = value
        if ids:
            element["userIds"] = ids
        return element

    def send(self, records, action: str):
        if self.target is None:
            self.prepare()
        elements = [self.element(r, action) for r in records]
        path = f"dmpSegments/{self.target['segment_id']}/{'companies' if self.companies else 'users'}"
        response = self.call("POST", path, json={"elements": elements},
                             headers={"X-RestLi-Method": "BATCH_CREATE"})
        if response.status_code >= 400:
            raise ConnectorError(f"LinkedIn refused the batch: {provider_words(response)}")
        results = response.json().get("elements") or []
        if len(results) != len(records):
            raise ConnectorError(f"LinkedIn answered {len(results)} results for {len(records)} members.")
        done = "removed" if action == "REMOVE" else "inserted"
        outcomes = []
        for record, element, result in zip(records, elements, results):
            status = int(result.get("status") or 0)
            if 200 <= status < 300:
                outcomes.append(RecordOutcome(record.identity, ok=True, action=done))
            else:
                error = result.get("error") or {}
                message = error.get("message") if isinstance(error, dict) else str(error)
                outcomes.append(RecordOutcome(record.identity, ok=False, payload=element,
                                              error=message or f"LinkedIn answered {status} for this member."))
        return outcomes

    def write(self, records):
        if self.spec.mode == "remove":
            return self.send(records, "REMOVE")
        return self.send(records, "ADD")

    def remove(self, records):
        return self.send(records, "REMOVE")
