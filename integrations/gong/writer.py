"""Gong Engage flow writer: assign CRM prospect ids to a flow, or unassign them.

The identity is the CRM contact or lead id ("Id"). Gong answers an assignment
with the prospects it assigned and those it did not, each with its reason; an
unknown id is that record's error, a prospect already in the flow a success.
"""

from __future__ import annotations

from integrations.base import ConnectionFailed, ConnectorError, RecordOutcome, Writer
from integrations.responses import provider_words

MAX_PROSPECTS = 200  # per assign call
ALREADY_ASSIGNED = "InvalidState"


def make_writer(session, spec) -> Writer:
    if not spec.object_id:
        raise ConnectorError("A Gong sync needs a flow as its target object.")
    return FlowWriter(session, spec)


class FlowWriter(Writer):
    batch_size = MAX_PROSPECTS

    def __init__(self, session, spec):
        self.http = session.http
        self.config = session.config
        self.flow_id = str(spec.object_id)
        self.spec = spec
        self.default_owner = (spec.configuration.get("flow_owner_email") or self.config.get("flow_owner_email")
                              or self.config.get("email"))

    def call(self, path: str, body: dict):
        response = self.http.post(path, json=body)
        if response.status_code == 401:
            raise ConnectionFailed(f"Gong refused the credentials: {provider_words(response)}")
        if response.status_code >= 500:
            raise ConnectorError(f"Gong answered {response.status_code} to POST {path}: {provider_words(response)}")
        return response

    def owner(self) -> str:
        """The Gong user who owns the flow's to-dos when a record names none: the
        configured one, or the first active Gong user."""
        if not self.default_owner:
            response = self.http.get("v2/users")
            if response.status_code >= 400:
                raise ConnectorError(f"Gong did not list its users: {provider_words(response)}")
            users = [u for u in response.json().get("users") or [] if u.get("active", True) and u.get("emailAddress")]
            if not users:
                raise ConnectorError("Gong has no active user to own the flow's to-dos; map FlowOwnerEmail.")
            self.default_owner = users[0]["emailAddress"]
        return self.default_owner

    def write(self, records):
        outcomes = {}
        by_owner = {}
        for index, record in enumerate(records):
            owner = record.fields.get("FlowOwnerEmail") or None
            by_owner.setdefault(owner, []).append(index)
        for owner, indexes in by_owner.items():
            self.assign([records[i] for i in indexes], owner or self.owner(), indexes, outcomes)
        return [outcomes[i] for i in range(len(records))]

    def assign(self, records, owner, indexes, outcomes):
        ids = [str(r.identity) for r in records]
        body = {"crmProspectsIds": list(dict.fromkeys(ids)), "flowId": self.flow_id,
                "flowInstanceOwnerEmail": owner}
        response = self.call("v2/flows/prospects/assign", body)
        if response.status_code >= 400:
            message = provider_words(response)
            for index, record in zip(indexes, records):
                outcomes[index] = RecordOutcome(record.identity, ok=False, error=message, payload=body)
            return
        data = response.json()
        assigned = {str(p["crmProspectId"]): p for p in data.get("prospectsAssigned") or []}
        refused = {str(p["crmProspectId"]): p for p in data.get("prospectsNotAssigned") or []}
        for index, record in zip(indexes, records):
            crm_id = str(record.identity)
            if crm_id in assigned:
                outcomes[index] = RecordOutcome(record.identity, ok=True, action="inserted",
                                                target_id=str(assigned[crm_id].get("flowInstanceId") or ""))
            elif refused.get(crm_id, {}).get("errorCode") == ALREADY_ASSIGNED:
                outcomes[index] = RecordOutcome(record.identity, ok=True, action="unchanged",
                                                target_id=record.target_id)
            elif crm_id in refused:
                outcomes[index] = RecordOutcome(
                    record.identity, ok=False, payload={"crmProspectId": crm_id, "flowId": self.flow_id},
                    error=refused[crm_id].get("errorMessage") or refused[crm_id].get("errorCode") or "Not assigned")
            else:
                outcomes[index] = RecordOutcome(record.identity, ok=False,
                                                error="Gong's answer did not mention this prospect.")

    def remove(self, records):
        outcomes = []
        for record in records:
            body = {"crmProspectId": str(record.identity), "flowId": self.flow_id}
            response = self.call("v2/flows/prospects/unassign-flows-by-crm-id", body)
            if response.status_code >= 400:
                outcomes.append(RecordOutcome(record.identity, ok=False, error=provider_words(response),
                                              payload=body))
            else:
                outcomes.append(RecordOutcome(record.identity, ok=True, action="removed"))
        return outcomes
