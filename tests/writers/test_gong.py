"""Gong Engage flow writer against the sandbox."""

from .conftest import record

FLOW = "1695493301223590792"  # SDR Outbound - Enterprise (Company visibility)
KNOWN = ["0035g00000SBX001AA", "0035g00000SBX002AA", "00Q5g00000SBX001AA"]


def running(inspector, flow=FLOW):
    return sorted(i["crmProspectId"] for i in inspector.docs("gong", "flow_instances")
                  if i["flowId"] == flow and i["_active"])


def test_assigns_known_ids_and_rejects_unknown_ones_with_gongs_message(writer_for, inspector):
    writer = writer_for("gong", FLOW, identity_field="Id")
    outcomes = writer.write([record(KNOWN[0], Id=KNOWN[0]), record("0035g00000NOPE99AA", Id="0035g00000NOPE99AA"),
                             record(KNOWN[2], Id=KNOWN[2])])
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].error == "Invalid crmId 0035g00000NOPE99AA"
    assert outcomes[0].action == "inserted" and outcomes[0].target_id
    assert running(inspector) == sorted([KNOWN[0], KNOWN[2]])
    [instance] = [i for i in inspector.docs("gong", "flow_instances") if i["crmProspectId"] == KNOWN[0]]
    assert instance["flowInstanceOwnerEmail"] == "admin@sandbox.example"  # the first active user


def test_already_assigned_is_a_success_and_nothing_is_duplicated(writer_for, inspector):
    writer = writer_for("gong", FLOW, identity_field="Id")
    writer.write([record(KNOWN[0], Id=KNOWN[0])])
    [again] = writer.write([record(KNOWN[0], Id=KNOWN[0])])
    assert again.ok and again.action == "unchanged"
    assert running(inspector) == [KNOWN[0]]


def test_flow_owner_per_record(writer_for, inspector):
    writer = writer_for("gong", FLOW, identity_field="Id")
    outcomes = writer.write([record(KNOWN[0], Id=KNOWN[0], FlowOwnerEmail="sam@sandbox.example"),
                             record(KNOWN[1], Id=KNOWN[1], FlowOwnerEmail="nobody@sandbox.example")])
    assert outcomes[0].ok
    assert not outcomes[1].ok and outcomes[1].error == "No Gong user with email nobody@sandbox.example"
    owners = {i["crmProspectId"]: i["flowInstanceOwnerEmail"] for i in inspector.docs("gong", "flow_instances")}
    assert owners == {KNOWN[0]: "sam@sandbox.example"}


def test_an_unknown_flow_rejects_every_record(writer_for):
    writer = writer_for("gong", "999", identity_field="Id")
    outcomes = writer.write([record(KNOWN[0], Id=KNOWN[0]), record(KNOWN[1], Id=KNOWN[1])])
    assert [o.error for o in outcomes] == ["Flow 999 not found"] * 2


def test_remove_unassigns(writer_for, inspector):
    writer_for("gong", FLOW, identity_field="Id").write([record(i, Id=i) for i in KNOWN])
    remover = writer_for("gong", FLOW, mode="remove", identity_field="Id")
    outcomes = remover.remove([record(KNOWN[1], Id=KNOWN[1])])
    assert outcomes[0].ok and outcomes[0].action == "removed"
    assert running(inspector) == sorted([KNOWN[0], KNOWN[2]])
