"""Salesloft people upserts through bulk jobs, against the sandbox."""

from integrations.salesloft.writer import BULK_THRESHOLD

from .conftest import record
from .test_salesloft import memberships, people_by_email


def batch(count, prefix="bulk"):
    return [record(f"{prefix}{n}@example.com", Email=f"{prefix}{n}@example.com", FirstName=f"F{n}")
            for n in range(count)]


def calls(inspector) -> dict:
    """Salesloft requests the sandbox answered, by method and rule."""
    return {rule: count for rule, count in inspector.requests()["rules"].items() if "/salesloft/" in rule}


def calls_to(inspector, method, suffix) -> int:
    return sum(n for rule, n in calls(inspector).items() if rule.startswith(method + " ") and
               rule.removesuffix(".json").endswith(suffix))


def test_a_large_batch_is_one_bulk_job_with_per_row_outcomes(writer_for, inspector):
    inspector.settings(salesloft_bulk_seconds=0)
    [existing] = inspector.seed("salesloft", "people", [{"email_address": "bulk0@example.com", "title": "Old"}])
    records = batch(BULK_THRESHOLD + 10)
    records[3] = record("not-an-email", Email="not-an-email", FirstName="X")
    writer = writer_for("salesloft", "people", identity_field="Email")

    outcomes = writer.write(records)

    assert (outcomes[0].ok, outcomes[0].action, outcomes[0].target_id) == (True, "updated", str(existing["id"]))
    assert (outcomes[3].ok, outcomes[3].error) == (False, "email_address is invalid")
    assert outcomes[3].payload["email_address"] == "not-an-email"
    rest = [o for n, o in enumerate(outcomes) if n not in (0, 3)]
    assert {(o.ok, o.action) for o in rest} == {(True, "inserted")}
    people = people_by_email(inspector)
    assert len(people) == len(records) - 1
    assert people["bulk0@example.com"]["first_name"] == "F0"
    assert [o.target_id for o in outcomes[4:6]] == [str(people[f"bulk{n}@example.com"]["id"]) for n in (4, 5)]
    assert calls_to(inspector, "POST", "/person_upserts") == 0
    assert calls_to(inspector, "POST", "/bulk_jobs") == 1
    assert calls_to(inspector, "POST", "/job_data") == 1
    [job] = inspector.docs("salesloft", "bulk_jobs")
    assert (job["type"], job["state"], job["total"], job["errors"]) == ("person/upsert", "done", len(records), 1)


def test_a_small_batch_keeps_one_upsert_per_record(writer_for, inspector):
    writer = writer_for("salesloft", "people", identity_field="Email")
    outcomes = writer.write(batch(BULK_THRESHOLD - 1))
    assert all(o.ok and o.action == "inserted" for o in outcomes)
    assert calls_to(inspector, "POST", "/person_upserts") == BULK_THRESHOLD - 1
    assert inspector.docs("salesloft", "bulk_jobs") == []


def test_the_writer_polls_an_executing_job_until_done(writer_for, inspector):
    inspector.settings(salesloft_bulk_seconds=0.6)
    writer = writer_for("salesloft", "people", identity_field="Email")
    outcomes = writer.write(batch(BULK_THRESHOLD))
    assert all(o.ok for o in outcomes)
    assert calls_to(inspector, "GET", "/bulk_jobs/<int:id>") >= 2  # executing, then done
    assert len(people_by_email(inspector)) == BULK_THRESHOLD


def test_a_resumed_run_reads_the_job_its_first_attempt_closed(writer_for, inspector):
    inspector.settings(salesloft_bulk_seconds=0)
    records = batch(BULK_THRESHOLD)
    first = writer_for("salesloft", "people", identity_field="Email")
    first.run_key, first.resumed = "77", False
    first.write(records)  # then imagine the worker died before the engine recorded the outcomes
    again = writer_for("salesloft", "people", identity_field="Email")
    again.run_key, again.resumed = "77", True

    outcomes = again.write(records)

    assert [o.action for o in outcomes] == ["inserted"] * BULK_THRESHOLD  # the first job's answers
    assert len(inspector.docs("salesloft", "bulk_jobs")) == 1
    assert len(people_by_email(inspector)) == BULK_THRESHOLD


def test_a_resumed_run_never_reuses_another_runs_job(writer_for, inspector):
    inspector.settings(salesloft_bulk_seconds=0)
    records = batch(BULK_THRESHOLD)
    first = writer_for("salesloft", "people", identity_field="Email")
    first.run_key = "77"
    first.write(records)
    other = writer_for("salesloft", "people", identity_field="Email")
    other.run_key, other.resumed = "78", True
    outcomes = other.write(records)
    assert [o.action for o in outcomes] == ["updated"] * BULK_THRESHOLD
    assert len(inspector.docs("salesloft", "bulk_jobs")) == 2
    assert len(people_by_email(inspector)) == BULK_THRESHOLD


def test_a_cadence_batch_upserts_by_bulk_job_then_enrolls_each_person(writer_for, inspector):
    inspector.settings(salesloft_bulk_seconds=0)
    inspector.seed("salesloft", "people", [{"email_address": "dnc@example.com", "do_not_contact": True}])
    records = batch(BULK_THRESHOLD) + [record("dnc@example.com", Email="dnc@example.com")]
    writer = writer_for("salesloft", "cadence:11", identity_field="Email")

    outcomes = writer.write(records)

    assert all(o.ok for o in outcomes[:-1])
    assert not outcomes[-1].ok and "person is marked do not contact" in outcomes[-1].error
    assert calls_to(inspector, "GET", "/people") == 0  # the job's results name each person
    assert calls_to(inspector, "POST", "/cadence_memberships") == len(records)
    enrolled = {m["person_id"] for m in memberships(inspector)}
    assert enrolled == {int(o.target_id) for o in outcomes[:-1]}
