"""One pass of a sync over its model: read, map, validate, plan, write, record.

The model never sits in memory: rows arrive in batches. The run keeps the
64-bit hash of every fingerprint the target holds and takes each out as a row
matches it (an unchanged row, which needs nothing more), and the hash of every
other identity it reads: about 75 bytes a state or row, for duplicates across
batches and records gone from the model. The chunks the target answered are
committed (fingerprints, errors) while the next ones are on their way, so a
worker killed mid-run leaves only those few chunks unrecorded, and the resumed
run sends them again. A fingerprint is saved only once the target accepted the
record, so a failed record is sent again next run and an unchanged one never is.
"""

import contextlib
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass

from django.db import connections, transaction

from console.engine.models import Execution, ExecutionStatus, RecordError, RecordState
from integrations.base import (
    ConnectionFailed,
    ConnectorError,
    OutgoingRecord,
    RateLimited,
    RecordOutcome,
)
from integrations.clock import SYSTEM_CLOCK

from . import staging
from .conf import setting
from .filters import row_filter
from .mapping import Mapping, RowMapper, identity_key, without_create_only
from .staging import StoredState, TargetState

SAMPLES = 5
DONE = {"insert": "inserted", "update": "updated", "remove": "removed"}
OUTCOME_ACTIONS = ("inserted", "updated", "removed", "unchanged")
MODES_NEEDING_IDENTITY = ("create", "update", "updateOrCreate", "remove")
MODES_REMOVING_VANISHED = ("replace",)
CANCEL_CHECK_SECONDS = 1.0
PAGE = 5000  # states read at a time when looking for records gone from the model


class RunStopped(Exception):
    pass


class RunFailed(RunStopped):
    """The run cannot go on; the message is shown to the user as the run's error."""


class Canceled(RunStopped):
    pass


class LostClaim(RunStopped):
    """Another worker took this execution over (the sweeper thought this one dead)."""


@dataclass
class Counts:
    queried: int = 0  # rows read from the model (within the run's scope)
    invalid: int = 0  # set aside before sending: null or duplicate identity
    unchanged: int = 0
    inserted: int = 0
    updated: int = 0
    removed: int = 0
    errored: int = 0  # sent and rejected by the target
    vanished: int = 0  # written by an earlier run, gone from the model, acted on now

    @property
    def total(self) -> int:
        return self.queried + self.vanished


@dataclass(frozen=True)
class Policy:
    """What a run does with what the target already holds, decided once as it starts."""

    force: bool  # rows are sent even when the target holds them as they are
    skip_unchanged: bool  # rows the target holds as they are are counted, not planned
    skip_backfill: bool  # the sync's first run records its rows and sends none
    holds_nothing: bool  # the sync has no state yet: every row is new to the target
    removes_vanished: bool  # what the sync wrote and the model no longer returns is removed

    @classmethod
    def of(cls, execution: Execution) -> "Policy":
        sync = execution.sync
        targeted = bool(execution.identities) or execution.retry_of_id is not None
        force = execution.resync or sync.sync_all_records or targeted
        return cls(
            force=force,
            skip_unchanged=not force and sync.mode != "remove",
            skip_backfill=(
                getattr(sync, "skip_initial_backfill", False)
                and not force
                and not sync.executions.filter(status=ExecutionStatus.COMPLETED, dry_run=False).exists()
            ),
            holds_nothing=not RecordState.objects.filter(sync=sync).exists(),
            removes_vanished=sync.mode in MODES_REMOVING_VANISHED and not targeted,
        )


@dataclass
class Planned:
    key: str
    record: OutgoingRecord
    fingerprint: str
    action: str  # insert, update, remove


class Run:
    def __init__(self, execution: Execution, rows, writer=None, claim: str = ""):
        sync = execution.sync
        self.execution = execution
        self.sync = sync
        self.mode = sync.mode
        self.rows = rows
        self.writer = writer
        self.claim = claim
        self.dry_run = execution.dry_run
        self.logs_records = sync.organization.record_logging
        self.mapping = Mapping.from_sync(sync.identity, sync.fields, sync.override_fields)
        self.map_row = RowMapper(self.mapping)
        self.passes = row_filter(sync)
        self.filtered = 0  # rows the sync's filters left out (not counted as read)
        self.notes = []  # lines for the run's log
        self.counts = Counts()
        self.policy = Policy.of(execution)
        self.wanted = self.normalized(execution.identities) if execution.identities else None
        self.batch_size = max(1, getattr(writer, "batch_size", 0) or 100)
        self.failed_batches = 0
        self.checked_at = 0.0
        self.ahead = 0 if self.dry_run else max(0, setting("ENGINE_WRITE_AHEAD"))
        self.side_threads = None  # run the writer when chunks are written ahead
        self.in_flight = deque()  # (chunk, future): handed to the writer, not recorded yet
        self.dry_run_plan = {"samples": {"insert": [], "update": [], "remove": [], "invalid": []}}
        # hash() of the fingerprints the target holds (loaded when unchanged rows are skipped),
        # each taken out by the row that matches it, and of the other identities read.
        # Two values sharing a 64-bit hash would let a changed row pass for unchanged or set
        # a row aside as a duplicate (odds together about 1 in 12 million for a million rows
        # against a million states); hashes differ from process to process, so the next run
        # gets it right.
        self.accepted = None
        self.seen = set()

    def normalized(self, identities) -> set:
        keys = (identity_key(i, "", self.mapping.case_insensitive)[0] for i in identities)
        return {k for k in keys if k}

    def execute(self) -> Counts:
        if self.mode in MODES_NEEDING_IDENTITY and not self.mapping.identity_source:
            raise RunFailed(f"Mode '{self.mode}' matches records on an identity; this sync has none.")
        policy = self.policy
        baseline = 0
        if policy.removes_vanished:
            baseline = RecordState.objects.filter(sync=self.sync).exclude(fingerprint="").count()
        if policy.skip_unchanged and not policy.skip_backfill:
            self.accepted = set() if policy.holds_nothing else staging.accepted(self.sync.pk, self.execution.pk)
        with self.writes():
            for batch in self.rows:
                self.check_progress()
                if batch:
                    self.process(batch)
            if policy.removes_vanished:
                self.settle_in_flight()  # what vanished is judged on what the target accepted
                self.remove_vanished(baseline)
        if policy.skip_backfill:
            self.notes.append("First run skipping the initial backfill: rows were recorded, not sent.")
        if self.filtered:
            self.notes.append(f"{self.filtered} rows did not pass the sync's filters and were left out.")
        self.save_counts()
        return self.counts

    # ---- one batch of rows --------------------------------------------------

    def process(self, rows: list[dict]):
        rows = self.filter(rows)
        first, invalid = self.classify(rows)
        if self.policy.skip_backfill:
            self.set_aside(invalid)
            self.adopt(first)
            return
        planned = self.plan(first, invalid)
        self.set_aside(invalid)
        self.send(planned)

    def filter(self, rows: list[dict]) -> list[dict]:
        """The rows the sync's filters let through; the others are counted apart, not as read."""
        if not self.passes:
            return rows
        kept = [row for row in rows if self.passes(row)]
        self.filtered += len(rows) - len(kept)
        return kept

    def classify(self, rows: list[dict]) -> tuple[dict, list]:
        """Sorts the rows in the run's scope into the first row read of each identity,
        key -> (fingerprint, row), and the invalid ones, (row, reason). A row matching what
        the target holds in memory is counted unchanged and goes no further."""
        identified = self.in_scope([(self.map_row.identify(row), row) for row in rows])
        self.counts.queried += len(identified)
        invalid, first = [], {}
        seen, accepted, unchanged = self.seen, self.accepted, 0
        for (key, fingerprint, problem), row in identified:
            if problem:
                invalid.append((row, problem))
                continue
            marker = hash(key)
            if accepted and marker not in seen:
                try:
                    accepted.remove(hash(fingerprint))
                    unchanged += 1
                    continue
                except KeyError:
                    pass
            if marker in seen:
                invalid.append((row, duplicate_message(self.mapping)))
                continue
            seen.add(marker)
            first[key] = (fingerprint, row)
        self.counts.unchanged += unchanged
        return first, invalid

    def plan(self, first: dict, invalid: list) -> list[Planned]:
        """What to send for each first row, judged against the target's state for its identity.
        A row whose state an earlier row of this run matched is a duplicate: added to `invalid`."""
        accepted = self.accepted
        if self.policy.holds_nothing:  # a run reads each identity once, so its own states never answer
            states = dict.fromkeys(first)
        else:
            # With what the target holds in memory, every state is looked at: one whose
            # fingerprint an earlier row took out means this row repeats that row's identity.
            states = staging.states_to_plan(self.sync.pk, self.execution.pk,
                                            {key: fingerprint for key, (fingerprint, _) in first.items()},
                                            self.policy.skip_unchanged and accepted is None)
        self.counts.unchanged += len(first) - len(states)
        planned = []
        for key, state in states.items():
            fingerprint, row = first[key]
            if accepted is not None and self.matched_earlier(state):
                invalid.append((row, duplicate_message(self.mapping)))
                continue
            action = self.decide(fingerprint, state)
            if action:
                mapped = self.map_row.record(row)
                fields = mapped.fields
                if action == "update":
                    fields = without_create_only(fields, self.mapping.create_only)
                record = OutgoingRecord(
                    identity=mapped.identity,
                    fields=fields,
                    target_id=(state.target_id or None) if state else None,
                )
                planned.append(Planned(key, record, fingerprint, action))
        return planned

    def send(self, planned: list[Planned]):
        for start in range(0, len(planned), self.batch_size):
            try:
                self.send_chunk(planned[start : start + self.batch_size])
            except RunStopped:
                # Rows of this batch that were never sent are not counted as read,
                # so the counts of a stopped run still add up.
                self.counts.queried -= max(0, len(planned) - start - self.batch_size)
                raise

    def matched_earlier(self, state: TargetState | None) -> bool:
        """Whether a row read earlier in this run matched the state (took its fingerprint out)."""
        return (state is not None and state.fingerprint != "" and state.last_execution_id != self.execution.id
                and hash(state.fingerprint) not in self.accepted)

    def read_in_this_run(self, state: StoredState) -> bool:
        """Whether this run read the identity of a state: a row matched it, or it was seen."""
        if self.accepted is not None and state.fingerprint and state.last_execution_id != self.execution.id:
            return hash(state.fingerprint) not in self.accepted or hash(state.identity) in self.seen
        return hash(state.identity) in self.seen

    def adopt(self, first: dict):
        """First run of a sync that skips the initial backfill: remember the rows as they
        are, send nothing; later runs send what changes."""
        self.counts.unchanged += len(first)
        if self.dry_run:
            return
        RecordState.objects.bulk_create(
            [
                RecordState(sync=self.sync, identity=key, fingerprint=fingerprint,
                            last_execution_id=self.execution.id, last_action="unchanged")
                for key, (fingerprint, _) in first.items()
            ],
            update_conflicts=True,
            unique_fields=["sync", "identity"],
            update_fields=["fingerprint", "last_execution_id", "last_action", "updated_at"],
        )
        self.save_counts()

    def in_scope(self, identified):
        """A targeted run (API `identities`, or retrying a run's failed records) skips the rest."""
        if self.wanted is not None:
            return [item for item in identified if item[0][0] in self.wanted]
        if self.execution.retry_of_id:
            keys = [item[0][0] for item in identified if item[0][0]]
            failed = set(
                RecordError.objects.filter(execution_id=self.execution.retry_of_id, identity__in=keys)
                .values_list("identity", flat=True)
            )
            return [item for item in identified if item[0][0] in failed]
        return identified

    def decide(self, fingerprint: str, state: TargetState | None) -> str | None:
        """insert, update or remove; None when nothing is sent (and the row is counted here)."""
        mine = state is not None and state.last_execution_id == self.execution.id
        force = self.policy.force
        if self.mode == "remove":
            if state is not None and state.fingerprint == "" and state.last_action == "removed" and (mine or not force):
                self.count("removed" if mine else "unchanged")
                return None
            return "remove"
        written = state is not None and state.fingerprint != ""
        if not written:
            return "update" if self.mode == "update" else "insert"
        if state.fingerprint == fingerprint and (mine or not force):
            # A resumed run counts what its earlier attempt already wrote.
            self.count(state.last_action if mine and state.last_action in OUTCOME_ACTIONS else "unchanged")
            return None
        if self.mode == "create":  # never modifies what exists
            self.count("unchanged")
            return None
        return "update"

    def set_aside(self, invalid: list[tuple[dict, str]]):
        """Rows never sent (null or duplicate identity), each with its reason."""
        if not invalid:
            return
        self.counts.invalid += len(invalid)
        mapped = [(self.map_row(row), reason) for row, reason in invalid]
        for m, reason in mapped[: SAMPLES - len(self.dry_run_plan["samples"]["invalid"])]:
            self.dry_run_plan["samples"]["invalid"].append(
                {"identity": m.key, "reason": reason, "fields": m.record.fields}
            )
        if self.dry_run:
            return
        RecordError.objects.bulk_create(
            [
                RecordError(
                    execution=self.execution,
                    identity=(m.key or "")[:500],
                    kind="invalid",
                    message=reason,
                    payload=self.logged(m.record.fields),
                )
                for m, reason in mapped
            ]
        )

    # ---- writing -------------------------------------------------------------

    @contextlib.contextmanager
    def writes(self):
        """With ENGINE_WRITE_AHEAD = n, the writer works on n side threads, with up to n
        chunks in flight: their requests overlap each other, the recording of the chunks
        before them and the reading and planning of the rows after them. Whatever way the
        run ends, the chunks in flight are recorded (unless another worker took the run over)."""
        if self.ahead:
            self.side_threads = ThreadPoolExecutor(max_workers=self.ahead, thread_name_prefix="engine-write")
        try:
            yield
            self.settle_in_flight()
        except LostClaim:
            raise
        except BaseException:
            while self.in_flight:  # each is recorded even if recording another fails
                with contextlib.suppress(Exception):  # the run already ends on the first error
                    self.settle(*self.in_flight.popleft())
            raise
        finally:
            if self.side_threads is not None:
                self.side_threads.shutdown(wait=True)
                self.side_threads = None
            self.in_flight.clear()

    def send_chunk(self, chunk: list[Planned]):
        if not chunk:
            return
        if self.dry_run:
            for p in chunk:
                self.count(DONE[p.action])
                samples = self.dry_run_plan["samples"][p.action]
                if len(samples) < SAMPLES:
                    samples.append({"identity": p.key, "fields": p.record.fields})
            return
        if self.side_threads is not None:
            future = self.side_threads.submit(self.write_on_side_thread, chunk)
        else:
            future = Future()
            try:
                future.set_result(self.write(chunk))
            except Exception as error:  # noqa: BLE001 - settled (and raised if it must) below
                future.set_exception(error)
        self.in_flight.append((chunk, future))
        while len(self.in_flight) > self.ahead:
            self.settle(*self.in_flight.popleft())

    def write(self, chunk: list[Planned]) -> list[RecordOutcome]:
        records = [p.record for p in chunk]
        if chunk[0].action == "remove":
            return self.writer.remove(records)
        return self.writer.write(records)

    def write_on_side_thread(self, chunk: list[Planned]) -> list[RecordOutcome]:
        try:
            return self.write(chunk)
        finally:
            connections.close_all()  # this thread's own, if a token renewal opened one

    def settle_in_flight(self):
        while self.in_flight:
            self.settle(*self.in_flight.popleft())

    def settle(self, chunk: list[Planned], future: Future):
        """Waits for the writer's answer on a chunk and records it."""
        try:
            outcomes = future.result()
        except ConnectorError as error:
            self.failed_batches += 1
            message = str(error) or type(error).__name__
            self.record(chunk, [RecordOutcome(p.record.identity, ok=False, error=message) for p in chunk])
            if isinstance(error, (ConnectionFailed, RateLimited)):
                raise RunFailed(message) from error
            if self.failed_batches >= setting("ENGINE_FAILED_TARGET_BATCHES"):
                raise RunFailed(
                    f"The target refused {self.failed_batches} batches in a row; the last said: {message}"
                ) from error
            return
        self.failed_batches = 0
        if len(outcomes) != len(chunk):
            raise RunFailed(
                f"The writer answered {len(outcomes)} outcomes for {len(chunk)} records; "
                "this batch was not recorded."
            )
        self.record(chunk, outcomes)

    def logged(self, fields: dict) -> dict:
        """A record's field values as its record log keeps them: none when record logging is off."""
        return fields if self.logs_records else {}

    def record(self, chunk: list[Planned], outcomes: list[RecordOutcome]):
        states, errors = [], []
        for p, outcome in zip(chunk, outcomes):
            if not outcome.ok:
                self.counts.errored += 1
                errors.append(
                    RecordError(
                        execution=self.execution,
                        identity=p.key[:500],
                        kind="rejected",
                        action=p.action,
                        message=outcome.error or "The target rejected this record and gave no reason.",
                        payload=self.logged(outcome.payload or p.record.fields),
                    )
                )
                continue
            done = outcome.action if outcome.action in OUTCOME_ACTIONS else DONE[p.action]
            self.count(done)
            removed = p.action == "remove"
            states.append({
                "identity": p.key,
                "fingerprint": "" if removed else p.fingerprint,
                "target_id": "" if removed else str(outcome.target_id or p.record.target_id or ""),
                "last_execution_id": self.execution.id,
                "last_action": "removed" if removed else done,
            })
        # Committed at once, chunk by chunk: a worker killed now sends again only what is in flight.
        if errors:
            with transaction.atomic():
                staging.save_states(self.sync.pk, states)
                RecordError.objects.bulk_create(errors)
        else:
            staging.save_states(self.sync.pk, states)  # one statement: atomic alone
        self.check_progress()

    # ---- records gone from the model -----------------------------------------

    def remove_vanished(self, baseline: int):
        """Removes from the target what this sync wrote and the model no longer returns."""
        resumed = count = 0
        for state in self.unseen_states():
            if state.fingerprint:
                count += 1
            elif state.last_action == "removed" and state.last_execution_id == self.execution.id:
                resumed += 1  # removed by this execution's earlier attempt
        self.counts.removed += resumed
        self.counts.vanished += resumed
        if not count:
            return
        if (
            not self.execution.allow_mass_removal
            and baseline >= setting("ENGINE_WIPE_GUARD_MIN")
            and count > baseline * setting("ENGINE_WIPE_GUARD_RATIO")
        ):
            message = wipe_guard_message(self.counts.queried, count, baseline)
            if self.dry_run:
                self.dry_run_plan["removal_blocked"] = message
                return
            raise RunFailed(message)
        chunk = []
        for state in self.unseen_states():
            if state.fingerprint:
                record = OutgoingRecord(identity=state.identity, fields={}, target_id=state.target_id or None)
                chunk.append(Planned(state.identity, record, "", "remove"))
            if len(chunk) == self.batch_size:
                self.send_removals(chunk)
                chunk = []
        self.send_removals(chunk)

    def unseen_states(self):
        """The sync's states whose identity this run did not read, page by page."""
        last_pk = 0
        while page := staging.states_after(self.sync.pk, last_pk, PAGE):
            last_pk = page[-1].pk
            yield from (state for state in page if not self.read_in_this_run(state))

    def send_removals(self, chunk: list[Planned]):
        self.check_canceled()
        self.counts.vanished += len(chunk)
        self.send_chunk(chunk)

    # ---- bookkeeping ---------------------------------------------------------

    def count(self, what: str):
        setattr(self.counts, what, getattr(self.counts, what) + 1)

    def save_counts(self):
        """Raises LostClaim when another worker holds the execution now."""
        if not Execution.objects.filter(pk=self.execution.pk, claim=self.claim).update(**asdict(self.counts)):
            raise LostClaim()

    def check_canceled(self):
        getattr(self.execution, "clock", SYSTEM_CLOCK).check()  # set at once when the run's watcher saw a cancel
        now = time.monotonic()
        if now - self.checked_at < CANCEL_CHECK_SECONDS:
            return
        self.checked_at = now
        status = Execution.objects.filter(pk=self.execution.pk).values_list("status", flat=True).first()
        if status in (ExecutionStatus.CANCELING, ExecutionStatus.CANCELED):
            raise Canceled()

    def check_progress(self):
        """About once a second while reading and writing: the counts saved (still
        holding the claim), and a cancel noticed."""
        getattr(self.execution, "clock", SYSTEM_CLOCK).check()
        if time.monotonic() - self.checked_at >= CANCEL_CHECK_SECONDS:
            self.save_counts()
            self.check_canceled()

    def plan_summary(self) -> dict:
        c = self.counts
        return {
            "queried": c.queried,
            "invalid": c.invalid,
            "unchanged": c.unchanged,
            "would_insert": c.inserted,
            "would_update": c.updated,
            "would_remove": c.removed,
            "filtered": self.filtered,
            **self.dry_run_plan,
        }


def duplicate_message(mapping: Mapping) -> str:
    return (
        f"Another row of the model has the same '{mapping.identity_source}'; "
        "the first one was used and this one was not sent."
    )


def wipe_guard_message(queried: int, missing: int, baseline: int) -> str:
    return (
        f"The model returned {queried} rows, so {missing} of the {baseline} records this sync "
        "wrote are missing from it. Removing them would wipe most of what the sync wrote, "
        "so nothing was removed. If the model is right, run again allowing removals."
    )
