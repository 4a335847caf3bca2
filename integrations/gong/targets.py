"""Gong Engage targets: every flow.

Object id: the Gong flow id itself ("1695493301223590792"). A flow takes CRM
prospect ids (a Salesforce or HubSpot contact or lead id that exists in the CRM
connected to Gong): the identity target "Id". "FlowOwnerEmail" optionally names
the Gong user who owns the flow to-dos for that record.
"""

from integrations.base import STRING, TargetField, TargetObject
from integrations.provider import Targets
from integrations.targets import get_json, mode

LABEL = "Gong"


def flow_modes():
    return (
        mode("updateOrCreate", description="Assign each CRM contact to the flow (contacts already in it stay)."),
        mode("create", description="Assign CRM contacts that are not in the flow yet."),
        mode("remove", description="Unassign the matching CRM contacts from the flow."),
    )


def objects(session):
    return [
        TargetObject(str(flow["id"]), f"Flow: {flow['name']}", flow_modes())
        for flow in flows(session)
    ]


def flows(session) -> list[dict]:
    """Company flows plus the personal flows of each owner we know of, once each."""
    found = {}
    for email in owner_emails(session):
        cursor = None
        while True:
            params = {"flowOwnerEmail": email}
            if cursor:
                params["cursor"] = cursor
            body = get_json(session, "v2/flows", params=params)
            for flow in body.get("flows") or []:
                found.setdefault(str(flow["id"]), flow)
            cursor = (body.get("records") or {}).get("cursor")
            if not cursor:
                break
    return list(found.values())


def owner_emails(session) -> list[str]:
    configured = session.config.get("flow_owner_email") or session.config.get("email")
    if configured:
        return [configured]
    emails, cursor = [], None
    while True:
        body = get_json(session, "v2/users", params={"cursor": cursor} if cursor else None)
        emails += [u["emailAddress"] for u in body.get("users") or [] if u.get("emailAddress") and u.get("active", True)]
        cursor = (body.get("records") or {}).get("cursor")
        if not cursor:
            return emails


def fields(session, object_id, properties=None):
    return [
        TargetField(
            id="Id", name="CRM prospect id", type=STRING, required=True, identity=True,
            description="Id of a contact or lead in the CRM connected to Gong (Salesforce or HubSpot).",
        ),
        TargetField(
            id="FlowOwnerEmail", name="Flow owner email", type=STRING,
            description="Gong user who owns the flow's to-dos for this contact; defaults to the connection's user.",
        ),
    ]


def sentence(obj, mode_id, identity):
    name = obj.name.split(": ", 1)[-1]
    if mode_id == "remove":
        return f"Remove CRM contacts from the Gong Engage flow {name}"
    return f"Add CRM contacts (by {identity or 'CRM id'}) to the Gong Engage flow {name}"


TARGETS = Targets(label=LABEL, objects=objects, fields=fields, sentence=sentence)
