"""The run: mapping, validation, planning against fingerprints, writing, counting.
Fake rows and a fake target; the database is real."""

from datetime import timedelta

import pytest
from django.utils import timezone

from console.engine import services
from console.engine.models import Event
from console.engine.models import Execution, ExecutionStatus, RecordError, RecordState
from integrations.base import ConnectionFailed
from tests.engine.fakes import Broken, FakeTarget, batches

pytestmark = pytest.mark.django_db


def people(n, plan="free", start=0):
    return [{"email": f"p{i}@example.com", "first_name": f"P{i}", "plan": plan} for i in range(start, start + n)]


def adds_up(e: Execution) -> bool:
    return e.queried + e.vanished == e.invalid + e.unchanged + e.inserted + e.updated + e.removed + e.errored


def test_first_run_inserts_every_row_and_saves_fingerprints(make_sync, run_in_process):
    sync, target = make_sync(), FakeTarget()
    e = run_in_process(sync, people(5), target)
    assert e.status == ExecutionStatus.COMPLETED, e.error
    assert (e.queried, e.inserted, e.updated, e.unchanged, e.errored) == (5, 5, 0, 0, 0)
    assert adds_up(e)
    assert target.records["p0@example.com"] == {"first": "P0", "plan": "free", "email": "p0@example.com"}
    assert RecordState.objects.filter(sync=sync).count() == 5
    assert RecordState.objects.get(sync=sync, identity="p3@example.com").target_id == "t-p3@example.com"
    assert e.started_at and e.completed_at and e.attempt == 1
    assert target.prepared == 1
    assert list(Event.objects.values_list("type", flat=True).order_by("created_at")) == [
        "sync.running", "sync.completed"]


def test_a_second_run_without_changes_sends_nothing(make_sync, run_in_process):
    sync, target = make_sync(), FakeTarget()
    run_in_process(sync, people(5), target)
    target.sent.clear()
    e = run_in_process(sync, people(5), target)
    assert target.sent == []
    assert (e.queried, e.unchanged, e.inserted, e.updated) == (5, 5, 0, 0)
    assert adds_up(e)


def test_only_changed_and_new_rows_are_sent(make_sync, run_in_process):
    sync, target = make_sync(), FakeTarget()
    run_in_process(sync, people(6), target)
    target.sent.clear()
    rows = people(6)
    rows[1]["plan"] = "gold"
    rows[4]["first_name"] = "Changed"
    rows += people(1, start=6)
    e = run_in_process(sync, rows, target)
    assert sorted(r.identity for r in target.sent) == ["p1@example.com", "p4@example.com", "p6@example.com"]
    assert (e.queried, e.unchanged, e.updated, e.inserted) == (7, 4, 2, 1)
    assert target.records["p1@example.com"]["plan"] == "gold"
    # the update carries the id the target gave on insert
    assert {r.target_id for r in target.sent if r.identity != "p6@example.com"} == {
        "t-p1@example.com", "t-p4@example.com"}


def test_resync_sends_everything_again(make_sync, run_in_process):
    sync, target = make_sync(), FakeTarget()
    run_in_process(sync, people(4), target)
    target.sent.clear()
    e = run_in_process(sync, people(4), target, resync=True)
    assert len(target.sent) == 4
    assert (e.updated, e.unchanged) == (4, 0)


def test_null_and_duplicate_identities_are_set_aside_and_never_sent(make_sync, run_in_process):
    sync, target = make_sync(), FakeTarget()
    rows = people(4)
    rows.insert(1, {"email": None, "first_name": "Nobody", "plan": "free"})
    rows.insert(2, {"email": "", "first_name": "Blank", "plan": "free"})
    rows.append({"email": "p0@example.com", "first_name": "Again", "plan": "gold"})  # another batch
    rows.insert(3, {"email": "p1@example.com", "first_name": "Twin", "plan": "gold"})  # same batch
    e = run_in_process(sync, rows, target, batch_size=3)
    assert (e.queried, e.invalid, e.inserted) == (8, 4, 4)
    assert adds_up(e)
    assert sorted(r.identity for r in target.sent) == [f"p{i}@example.com" for i in range(4)]
    assert target.records["p0@example.com"]["first"] == "P0", "the first row of a duplicate wins"
    errors = RecordError.objects.filter(execution=e, kind="invalid").order_by("id")
    assert [err.identity for err in errors].count("p0@example.com") == 1
    assert any("is null" in err.message for err in errors)
    assert any("same 'email'" in err.message for err in errors)
    assert errors.get(identity="p0@example.com").payload["first"] == "Again"


@pytest.mark.parametrize("order", ["changed first", "unchanged first"])
def test_a_later_run_sets_aside_a_row_repeating_an_unchanged_rows_identity(make_sync, run_in_process, order):
    sync, target = make_sync(mode="replace"), FakeTarget()
    run_in_process(sync, people(6), target)
    target.sent.clear()
    rows = people(6)
    changed = {"email": "p1@example.com", "first_name": "Renamed", "plan": "free"}
    same = dict(rows[1])  # what the target holds for p1
    rows[1:2] = [changed, same] if order == "changed first" else [same, changed]
    rows.append(people(1, start=4)[0])  # an exact copy of an unchanged row, in another batch
    e = run_in_process(sync, rows, target, batch_size=3)
    assert e.status == ExecutionStatus.COMPLETED, e.error
    assert (e.queried, e.invalid, e.removed) == (8, 2, 0), "nothing read is taken for gone"
    assert adds_up(e)
    assert [r.identity for r in target.sent] == (["p1@example.com"] if order == "changed first" else [])
    assert (e.updated, e.unchanged) == ((1, 5) if order == "changed first" else (0, 6))
    duplicates = RecordError.objects.filter(execution=e, kind="invalid").values_list("identity", flat=True)
    assert sorted(duplicates) == ["p1@example.com", "p4@example.com"]


def test_a_rejected_record_keeps_the_providers_message_and_is_retried_next_run(make_sync, run_in_process):
    sync = make_sync()
    target = FakeTarget(reject={"p2@example.com": "Email address is invalid (422)"})
    e = run_in_process(sync, people(4), target)
    assert (e.inserted, e.errored) == (3, 1)
    assert adds_up(e)
    error = RecordError.objects.get(execution=e)
    assert (error.identity, error.kind, error.action) == ("p2@example.com", "rejected", "insert")
    assert error.message == "Email address is invalid (422)"
    assert error.payload == {"first": "P2", "plan": "free", "email": "p2@example.com"}
    assert not RecordState.objects.filter(sync=sync, identity="p2@example.com").exists()

    target.reject.clear()
    target.sent.clear()
    again = run_in_process(sync, people(4), target)
    assert [r.identity for r in target.sent] == ["p2@example.com"]
    assert (again.inserted, again.unchanged, again.errored) == (1, 3, 0)
    assert Event.objects.filter(type="sync.completed_with_errors").count() == 1


def test_retry_failed_records_sends_only_those(make_sync, run_in_process):
    sync = make_sync()
    target = FakeTarget(reject={"p1@example.com": "nope", "p3@example.com": "nope"})
    first = run_in_process(sync, people(5), target)
    target.reject.clear()
    target.sent.clear()
    rows = people(5)
    rows[0]["plan"] = "gold"  # changed, but not part of the retry
    retry = run_in_process(sync, rows, target, retry_of=first, trigger="retry")
    assert sorted(r.identity for r in target.sent) == ["p1@example.com", "p3@example.com"]
    assert (retry.queried, retry.inserted) == (2, 2)


def test_a_run_limited_to_identities(make_sync, run_in_process):
    sync, target = make_sync(), FakeTarget()
    run_in_process(sync, people(5), target)
    target.sent.clear()
    e = run_in_process(sync, people(5), target, identities=["p4@example.com"])
    assert [r.identity for r in target.sent] == ["p4@example.com"], "named identities are sent even unchanged"
    assert e.queried == 1


def test_create_mode_never_modifies_existing_records(make_sync, run_in_process):
    sync, target = make_sync(mode="create"), FakeTarget()
    run_in_process(sync, people(3), target)
    target.sent.clear()
    e = run_in_process(sync, people(3, plan="gold"), target)
    assert target.sent == []
    assert e.unchanged == 3


def test_do_not_overwrite_fields_are_sent_on_create_only(make_sync, data_model, run_in_process):
    fields = [
        {"source": {"model_id": str(data_model.pk), "field": "first_name"}, "target": "first", "sync_mode": "create"},
        {"source": {"model_id": str(data_model.pk), "field": "plan"}, "target": "plan"},
    ]
    sync, target = make_sync(fields=fields), FakeTarget()
    run_in_process(sync, people(1), target)
    assert "first" in target.sent[0].fields
    rows = people(1, plan="gold")
    rows[0]["first_name"] = "Renamed"
    run_in_process(sync, rows, target)
    assert target.sent[1].fields == {"plan": "gold", "email": "p0@example.com"}


def test_replace_removes_records_this_sync_wrote_that_left_the_model(make_sync, run_in_process):
    sync, target = make_sync(mode="replace"), FakeTarget()
    target.records["someone-else@example.com"] = {"first": "Not ours"}
    run_in_process(sync, people(10), target)
    e = run_in_process(sync, people(7), target)
    assert e.status == ExecutionStatus.COMPLETED, e.error
    assert sorted(target.removed) == ["p7@example.com", "p8@example.com", "p9@example.com"]
    assert "someone-else@example.com" in target.records
    assert (e.queried, e.vanished, e.removed, e.unchanged) == (7, 3, 3, 7)
    assert adds_up(e)
    assert RecordState.objects.get(sync=sync, identity="p8@example.com").fingerprint == ""
    # a removed record that comes back is created again
    target.sent.clear()
    back = run_in_process(sync, people(8), target)
    assert [r.identity for r in target.sent] == ["p7@example.com"]
    assert back.inserted == 1


def test_the_wipe_guard_stops_a_run_whose_model_came_back_empty(make_sync, run_in_process):
    sync, target = make_sync(mode="replace"), FakeTarget()
    run_in_process(sync, people(20), target)
    e = run_in_process(sync, [], target)
    assert e.status == ExecutionStatus.FAILED
    assert "missing from it" in e.error and "nothing was removed" in e.error
    assert target.removed == []
    assert len(target.records) == 20


def test_the_wipe_guard_stops_a_run_that_lost_most_rows(make_sync, run_in_process):
    sync, target = make_sync(mode="replace"), FakeTarget()
    run_in_process(sync, people(20), target)
    e = run_in_process(sync, people(9), target)
    assert e.status == ExecutionStatus.FAILED
    assert target.removed == []
    allowed = run_in_process(sync, people(9), target, allow_mass_removal=True)
    assert allowed.status == ExecutionStatus.COMPLETED
    assert len(target.removed) == 11


def test_remove_mode_removes_the_models_identities_once(make_sync, run_in_process):
    sync, target = make_sync(mode="remove"), FakeTarget()
    for i in range(3):
        target.records[f"p{i}@example.com"] = {}
    e = run_in_process(sync, people(2), target)
    assert sorted(target.removed) == ["p0@example.com", "p1@example.com"]
    assert (e.removed, e.queried) == (2, 2)
    again = run_in_process(sync, people(2), target)
    assert len(target.removed) == 2 and again.unchanged == 2


def test_dry_run_plans_without_writing(make_sync, run_in_process):
    sync, target = make_sync(), FakeTarget()
    run_in_process(sync, people(4), target)
    target.sent.clear()
    rows = people(4)
    rows[0]["plan"] = "gold"
    rows += people(2, start=4) + [{"email": None, "first_name": "X", "plan": "free"}]
    e = run_in_process(sync, rows, target, dry_run=True)
    assert e.status == ExecutionStatus.COMPLETED
    assert target.sent == [] and target.prepared == 1, "a dry run neither writes nor prepares"
    plan = e.plan
    assert (plan["would_insert"], plan["would_update"], plan["unchanged"], plan["invalid"]) == (2, 1, 3, 1)
    assert plan["samples"]["update"][0] == {
        "identity": "p0@example.com", "fields": {"first": "P0", "plan": "gold", "email": "p0@example.com"}}
    assert [s["identity"] for s in plan["samples"]["insert"]] == ["p4@example.com", "p5@example.com"]
    assert RecordState.objects.filter(sync=sync).count() == 4
    assert not RecordError.objects.filter(execution=e).exists()


def test_a_dry_run_may_run_beside_a_real_one(make_sync):
    sync = make_sync()
    services.start_execution(sync)
    with pytest.raises(services.AlreadyRunning):
        services.start_execution(sync)
    assert services.start_execution(sync, dry_run=True).dry_run


# With write-ahead the writer already holds the next chunk when a failure is known:
# that chunk is sent too, and recorded. Nothing after it is sent.
WRITE_AHEAD = pytest.mark.parametrize("write_ahead, handed_over", [("0", 0), ("1", 1)],
                                      ids=["in-turn", "write-ahead"])


@WRITE_AHEAD
def test_a_target_that_cannot_be_reached_fails_the_run_with_its_message(
        make_sync, run_in_process, monkeypatch, write_ahead, handed_over):
    monkeypatch.setenv("ENGINE_WRITE_AHEAD", write_ahead)
    sync = make_sync()
    target = FakeTarget(fail_with=ConnectionFailed("HubSpot refused the credentials (401)."))
    e = run_in_process(sync, people(3), target)
    assert e.status == ExecutionStatus.FAILED
    assert e.error == "HubSpot refused the credentials (401)."
    assert e.errored == 2 + handed_over and adds_up(e), "the batches handed over are counted as rejected"
    assert Event.objects.filter(type="sync.failed").exists()


@WRITE_AHEAD
def test_repeated_batch_failures_stop_the_run(make_sync, run_in_process, monkeypatch, write_ahead, handed_over):
    monkeypatch.setenv("ENGINE_WRITE_AHEAD", write_ahead)
    sync = make_sync()
    target = FakeTarget(fail_with=Broken("Bad gateway"))
    e = run_in_process(sync, people(10), target)
    assert e.status == ExecutionStatus.FAILED
    assert "refused 3 batches in a row" in e.error
    # batches of 2, 1 (end of the first rows), 2, and the one handed over: 1
    assert e.errored == 5 + handed_over and adds_up(e)
    assert RecordError.objects.filter(execution=e, message="Bad gateway").count() == 5 + handed_over


def test_a_missing_column_fails_the_run_clearly(make_sync, run_in_process):
    sync = make_sync()
    e = run_in_process(sync, [{"email": "a@example.com", "first_name": "A"}], FakeTarget())
    assert e.status == ExecutionStatus.FAILED
    assert "no column 'plan'" in e.error


class CancelAfter(FakeTarget):
    def __init__(self, execution_holder, after):
        super().__init__()
        self.holder, self.after = execution_holder, after

    def write(self, records):
        outcomes = super().write(records)
        if len(self.sent) >= self.after:
            services.sync_runs.cancel_sync(self.holder["sync"])
        return outcomes


def test_cancel_stops_between_batches(make_sync, run_in_process, monkeypatch):
    monkeypatch.setattr("console.engine.runner.CANCEL_CHECK_SECONDS", 0)
    monkeypatch.setenv("ENGINE_WRITE_AHEAD", "0")  # this fake cancels from inside the writer
    sync = make_sync()
    target = CancelAfter({"sync": sync}, after=3)
    e = run_in_process(sync, people(30), target)
    assert e.status == ExecutionStatus.CANCELED
    assert len(target.sent) == 3
    assert e.inserted == 3
    assert Event.objects.filter(type="sync.canceled").exists()


def test_cancel_with_write_ahead_records_the_chunk_in_flight_and_sends_no_more(
        make_sync, run_in_process, monkeypatch):
    monkeypatch.setattr("console.engine.runner.CANCEL_CHECK_SECONDS", 0)
    sync = make_sync()
    target = FakeTarget()

    def rows_then_cancel(sync_, size, *_):
        for number, batch in enumerate(batches(people(30), 3)):
            if number == 2:
                services.sync_runs.cancel_sync(sync)
            yield batch

    monkeypatch.setattr(services, "open_rows", rows_then_cancel)
    monkeypatch.setattr(services, "open_writer", lambda s, *_: target)  # run_in_process: no heartbeat thread
    execution = services.start_execution(sync)
    services.sync_runs.run(execution.pk)
    e = Execution.objects.get(pk=execution.pk)
    assert e.status == ExecutionStatus.CANCELED
    assert len(target.sent) == 6, "the two batches read before the cancel, no more"
    assert e.queried == e.inserted == RecordState.objects.filter(sync=sync).count() == 6 and adds_up(e)


def test_canceling_a_queued_execution_ends_it_at_once(make_sync):
    sync = make_sync()
    execution = services.start_execution(sync)
    assert services.sync_runs.cancel(execution) == "Execution canceled."
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.CANCELED and execution.completed_at
    with pytest.raises(services.NotCancelable):
        services.sync_runs.cancel(execution)
    assert services.sync_runs.cancel_sync(sync) == "No execution is running."


class WorkerDies(BaseException):
    """Stands in for SIGKILL: nothing after it runs, not even `finally` of the run."""


class DiesAfter(FakeTarget):
    def __init__(self, shared, after):
        super().__init__()
        self.records = shared
        self.after = after

    def write(self, records):
        if self.after is not None and len(self.sent) >= self.after:
            raise WorkerDies()
        return super().write(records)


def test_a_run_resumed_after_its_worker_died_sends_no_record_twice(make_sync, run_in_process, monkeypatch):
    sync = make_sync()
    shared = {}
    dying = DiesAfter(shared, after=6)
    with pytest.raises(WorkerDies):
        run_in_process(sync, people(15), dying)
    execution = Execution.objects.get(sync=sync)
    assert execution.status == ExecutionStatus.RUNNING

    assert services.sync_runs.sweep(now=timezone.now() + timedelta(minutes=5))["requeued"] == 1
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.QUEUED

    survivor = DiesAfter(shared, after=None)
    monkeypatch.setattr(services, "open_writer", lambda s, *_: survivor)
    services.sync_runs.run(execution.pk)
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.COMPLETED, execution.error
    assert execution.attempt == 2
    sent = [r.identity for r in dying.sent + survivor.sent]
    assert len(sent) == len(set(sent)) == 15, "every record sent exactly once"
    assert (execution.queried, execution.inserted, execution.unchanged) == (15, 15, 0)
    assert execution.logs.filter(message__startswith="Resuming").exists()


def test_a_resumed_run_counts_the_updates_its_earlier_attempt_made(make_sync, run_in_process, monkeypatch):
    sync, shared = make_sync(), {}
    run_in_process(sync, people(15), DiesAfter(shared, after=None))
    dying = DiesAfter(shared, after=6)
    with pytest.raises(WorkerDies):
        run_in_process(sync, people(15, plan="gold"), dying)
    execution = Execution.objects.filter(sync=sync).order_by("-created_at").first()
    services.sync_runs.sweep(now=timezone.now() + timedelta(minutes=5))
    survivor = DiesAfter(shared, after=None)
    monkeypatch.setattr(services, "open_writer", lambda s, *_: survivor)
    monkeypatch.setattr(services, "open_rows", lambda s, n, *_: batches(people(15, plan="gold"), 4))
    services.sync_runs.run(execution.pk)
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.COMPLETED, execution.error
    sent = [r.identity for r in dying.sent + survivor.sent]
    assert len(sent) == len(set(sent)) == 15, "every changed record sent exactly once"
    assert (execution.queried, execution.updated, execution.unchanged) == (15, 15, 0)
    assert {r["plan"] for r in shared.values()} == {"gold"}


def test_the_sweeper_gives_up_after_the_last_attempt(make_sync):
    sync = make_sync()
    execution = services.start_execution(sync)
    Execution.objects.filter(pk=execution.pk).update(
        status=ExecutionStatus.RUNNING, attempt=3, heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert services.sync_runs.sweep()["failed"] == 1
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED
    assert "stopped responding 3 times" in execution.error


def test_the_sweeper_ends_a_cancel_whose_worker_died(make_sync):
    sync = make_sync()
    execution = services.start_execution(sync)
    Execution.objects.filter(pk=execution.pk).update(
        status=ExecutionStatus.CANCELING, attempt=1, heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert services.sync_runs.sweep()["canceled"] == 1


def test_the_sweeper_leaves_live_runs_alone(make_sync):
    sync = make_sync()
    execution = services.start_execution(sync)
    Execution.objects.filter(pk=execution.pk).update(
        status=ExecutionStatus.RUNNING, attempt=1, heartbeat_at=timezone.now())
    assert services.sync_runs.sweep() == {"requeued": 0, "failed": 0, "canceled": 0, "resent": 0}


def test_a_claimed_execution_is_not_run_twice(make_sync, run_in_process):
    sync, target = make_sync(), FakeTarget()
    e = run_in_process(sync, people(2), target)
    assert services.sync_runs.run(e.pk) is None
    assert len(target.sent) == 2


def test_skipping_the_initial_backfill_records_rows_without_sending(make_sync, run_in_process):
    sync = make_sync()
    if not hasattr(sync, "skip_initial_backfill"):
        pytest.skip("the sync model has no skip_initial_backfill yet")
    sync.skip_initial_backfill = True
    sync.save()
    target = FakeTarget()
    first = run_in_process(sync, people(3), target)
    assert target.sent == [] and first.unchanged == 3
    rows = people(4)
    rows[0]["plan"] = "gold"
    run_in_process(sync, rows, target)
    assert sorted(r.identity for r in target.sent) == ["p0@example.com", "p3@example.com"]


def test_old_record_errors_and_events_are_purged(make_sync, run_in_process):
    sync = make_sync()
    e = run_in_process(sync, people(2), FakeTarget(reject={"p0@example.com": "no"}))
    assert RecordError.objects.filter(execution=e).exists() and Event.objects.exists()
    services.sync_runs.sweep(now=timezone.now() + timedelta(days=13))
    assert RecordError.objects.filter(execution=e).exists()
    services.sync_runs.sweep(now=timezone.now() + timedelta(days=15))
    assert not RecordError.objects.filter(execution=e).exists() and not Event.objects.exists()
    assert Execution.objects.filter(pk=e.pk).exists(), "the run and its counts stay"


class ClosableClient:
    closed = False

    def close(self):
        self.closed = True


@pytest.mark.parametrize("fail_with", [None, ConnectionFailed("Could not reach the target")])
def test_the_writer_http_client_is_closed_when_the_run_ends(make_sync, run_in_process, fail_with):
    target = FakeTarget(fail_with=fail_with)
    target.http = ClosableClient()
    execution = run_in_process(make_sync(), people(4), target)
    assert execution.status == (ExecutionStatus.FAILED if fail_with else ExecutionStatus.COMPLETED)
    assert target.http.closed
