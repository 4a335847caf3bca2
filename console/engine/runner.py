"""One pass of a sync over its model: read, map, validate, plan, write, record.

The model never sits in memory: rows arrive in batches, duplicates and vanished
records are found through RunIdentity, and every written chunk is recorded
(fingerprints, errors, counts) before the next one is sent. A fingerprint is
saved only once the target accepted the record, so a failed record is sent
again next run and an unchanged one never is.
"""

import time
from dataclasses import asdict, dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef

from console.syncs.models import Execution, ExecutionStatus, RecordError, RecordState
from integrations.base import (
    ConnectionFailed,
    ConnectorError,
    OutgoingRecord,
    RateLimited,
    RecordOutcome,
)

from . import staging
from .conf import setting
from .filters import row_filter
from .mapping import Mapping, RowMapper, identity_key, without_create_only
from .models import RunIdentity

SAMPLES = 5
DONE = {"insert": "inserted", "update": "updated", "remove": "removed"}
OUTCOME_ACTIONS = ("inserted", "updated", "removed", "unchanged")
MODES_NEEDING_IDENTITY = ("create", "update", "updateOrCreate", "remove")
MODES_REMOVING_VANISHED = ("replace",)
CANCEL_CHECK_SECONDS = 1.0


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
        self.mapping = Mapping.from_sync(sync.identity, sync.fields, sync.override_fields)
        self.map_row = RowMapper(self.mapping)
        self.passes = row_filter(sync)
        self.filtered = 0  # rows the sync's filters left out (not counted as read)
        self.notes = []  # lines for the run's log
        self.counts = Counts()
        self.targeted = bool(execution.identities) or execution.retry_of_id is not None
        self.force = execution.resync or sync.sync_all_records or self.targeted
        self.wanted = self.normalized(execution.identities) if execution.identities else None
        self.skip_backfill = (
            getattr(sync, "skip_initial_backfill", False)
            and not self.force
            and not sync.executions.filter(status=ExecutionStatus.COMPLETED, dry_run=False).exists()
        )
        self.batch_size = max(1, getattr(writer, "batch_size", 0) or 100)
        self.failed_batches = 0
        self.checked_at = 0.0
        self.plan = {"samples": {"insert": [], "update": [], "remove": [], "invalid": []}}

    def normalized(self, identities) -> set:
        keys = (identity_key(i, "", self.mapping.case_insensitive)[0] for i in identities)
        return {k for k in keys if k}

    @property
    def removes_vanished(self) -> bool:
        return self.mode in MODES_REMOVING_VANISHED and not self.targeted

    def execute(self) -> Counts:
        if self.mode in MODES_NEEDING_IDENTITY and not self.mapping.identity_source:
            raise RunFailed(f"Mode '{self.mode}' matches records on an identity; this sync has none.")
        baseline = RecordState.objects.filter(sync=self.sync).exclude(fingerprint="").count()
        for batch in self.rows:
            self.check_canceled(force=True)
            if batch:
                self.process(batch)
        if self.skip_backfill:
            self.notes.append("First run skipping the initial backfill: rows were recorded, not sent.")
        if self.filtered:
            self.notes.append(f"{self.filtered} rows did not pass the sync's filters and were left out.")
        if self.removes_vanished:
            self.remove_vanished(baseline)
        self.save_counts()
        return self.counts

    # ---- one batch of rows --------------------------------------------------

    def process(self, rows: list[dict]):
        if self.passes:
            kept = [row for row in rows if self.passes(row)]
            self.filtered += len(rows) - len(kept)
            rows = kept
        mapped = [self.map_row(row) for row in rows]
        mapped = self.in_scope(mapped)
        self.counts.queried += len(mapped)
        invalid = [(m, m.problem) for m in mapped if m.problem]
        first = {}
        for m in mapped:
            if m.problem:
                continue
            if m.key in first:
                invalid.append((m, duplicate_message(self.mapping)))
            else:
                first[m.key] = m
        fresh = staging.first_sightings(self.execution.pk, list(first))
        for key in [k for k in first if k not in fresh]:
            invalid.append((first.pop(key), duplicate_message(self.mapping)))
        self.set_aside(invalid)
        if self.skip_backfill:
            self.adopt(first)
            return
        states = staging.accepted_states(self.sync.pk, list(first))
        planned = []
        for key, m in first.items():
            action = self.decide(m.fingerprint, states.get(key))
            if action:
                fields = m.record.fields
                if action == "update":
                    fields = without_create_only(fields, self.mapping.create_only)
                state = states.get(key)
                record = OutgoingRecord(
                    identity=m.record.identity,
                    fields=fields,
                    target_id=(state[2] or None) if state else None,
                )
                planned.append(Planned(key, record, m.fingerprint, action))
        for start in range(0, len(planned), self.batch_size):
            try:
                self.send(planned[start : start + self.batch_size])
            except RunStopped:
                # Rows of this batch that were never sent are not counted as read,
                # so the counts of a stopped run still add up.
                self.counts.queried -= max(0, len(planned) - start - self.batch_size)
                raise
        self.save_counts()

    def adopt(self, mapped: dict):
        """First run of a sync that skips the initial backfill: remember the rows as they
        are, send nothing; later runs send what changes."""
        self.counts.unchanged += len(mapped)
        if self.dry_run:
            return
        RecordState.objects.bulk_create(
            [
                RecordState(sync=self.sync, identity=key, fingerprint=m.fingerprint,
                            last_execution_id=self.execution.id, last_action="unchanged")
                for key, m in mapped.items()
            ],
            update_conflicts=True,
            unique_fields=["sync", "identity"],
            update_fields=["fingerprint", "last_execution_id", "last_action", "updated_at"],
        )
        self.save_counts()

    def in_scope(self, mapped):
        """A targeted run (API `identities`, or retrying a run's failed records) skips the rest."""
        if self.wanted is not None:
            return [m for m in mapped if m.key in self.wanted]
        if self.execution.retry_of_id:
            keys = [m.key for m in mapped if m.key]
            failed = set(
                RecordError.objects.filter(execution_id=self.execution.retry_of_id, identity__in=keys)
                .values_list("identity", flat=True)
            )
            return [m for m in mapped if m.key in failed]
        return mapped

    def decide(self, fingerprint: str, state) -> str | None:
        """insert, update or remove; None when nothing is sent (and the row is counted here)."""
        mine = state is not None and state[3] == self.execution.id
        if self.mode == "remove":
            if state is not None and state[1] == "" and state[4] == "removed" and (mine or not self.force):
                self.count("removed" if mine else "unchanged")
                return None
            return "remove"
        written = state is not None and state[1] != ""
        if not written:
            return "update" if self.mode == "update" else "insert"
        if state[1] == fingerprint and (mine or not self.force):
            # A resumed run counts what its earlier attempt already wrote.
            self.count(state[4] if mine and state[4] in OUTCOME_ACTIONS else "unchanged")
            return None
        if self.mode == "create":  # never modifies what exists
            self.count("unchanged")
            return None
        return "update"

    def set_aside(self, invalid):
        if not invalid:
            return
        self.counts.invalid += len(invalid)
        for m, reason in invalid[: SAMPLES - len(self.plan["samples"]["invalid"])]:
            self.plan["samples"]["invalid"].append(
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
                    payload=m.record.fields,
                )
                for m, reason in invalid
            ]
        )

    # ---- writing -------------------------------------------------------------

    def send(self, chunk: list[Planned]):
        if not chunk:
            return
        if self.dry_run:
            for p in chunk:
                self.count(DONE[p.action])
                samples = self.plan["samples"][p.action]
                if len(samples) < SAMPLES:
                    samples.append({"identity": p.key, "fields": p.record.fields})
            return
        records = [p.record for p in chunk]
        try:
            if chunk[0].action == "remove":
                outcomes = self.writer.remove(records)
            else:
                outcomes = self.writer.write(records)
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
                        payload=outcome.payload or p.record.fields,
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
        # One commit per chunk: what the target accepted, what it refused, the counts.
        with transaction.atomic():
            staging.save_states(self.sync.pk, states)
            if errors:
                RecordError.objects.bulk_create(errors)
            saved = self.save_counts(check=False)
        if not saved:
            raise LostClaim()
        self.check_canceled()

    # ---- records gone from the model -----------------------------------------

    def remove_vanished(self, baseline: int):
        seen = RunIdentity.objects.filter(execution=self.execution, identity=OuterRef("identity"))
        gone = RecordState.objects.filter(sync=self.sync).exclude(Exists(seen))
        resumed = gone.filter(
            fingerprint="", last_action="removed", last_execution_id=self.execution.id
        ).count()
        self.counts.removed += resumed
        self.counts.vanished += resumed
        to_remove = gone.exclude(fingerprint="")
        count = to_remove.count()
        if not count:
            return
        if (
            not self.execution.allow_mass_removal
            and baseline >= setting("ENGINE_WIPE_GUARD_MIN")
            and count > baseline * setting("ENGINE_WIPE_GUARD_RATIO")
        ):
            message = wipe_guard_message(self.counts.queried, count, baseline)
            if self.dry_run:
                self.plan["removal_blocked"] = message
                return
            raise RunFailed(message)
        last_pk = 0
        while True:
            self.check_canceled()
            rows = list(
                to_remove.filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", "identity", "target_id")[: self.batch_size]
            )
            if not rows:
                break
            last_pk = rows[-1][0]
            self.counts.vanished += len(rows)
            self.send(
                [
                    Planned(key, OutgoingRecord(identity=key, fields={}, target_id=target_id or None), "", "remove")
                    for _, key, target_id in rows
                ]
            )

    # ---- bookkeeping ---------------------------------------------------------

    def count(self, what: str):
        setattr(self.counts, what, getattr(self.counts, what) + 1)

    def save_counts(self, check: bool = True) -> bool:
        saved = Execution.objects.filter(pk=self.execution.pk, claim=self.claim).update(
            **asdict(self.counts)
        )
        if check and not saved:
            raise LostClaim()
        return bool(saved)

    def check_canceled(self, force: bool = False):
        now = time.monotonic()
        if not force and now - self.checked_at < CANCEL_CHECK_SECONDS:
            return
        self.checked_at = now
        status = Execution.objects.filter(pk=self.execution.pk).values_list("status", flat=True).first()
        if status == ExecutionStatus.CANCELING:
            raise Canceled()

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
            **self.plan,
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
