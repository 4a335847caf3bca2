"""The run lifecycle shared by model syncs and bulk syncs: start, enqueue, claim,
heartbeat, cancel, sweep and dispatch-due of one kind of execution.

A Lifecycle subclass names its execution model (an AbstractExecution) and its runner,
a class made with (execution, claim) whose run() does the work and whose results()
are the fields the execution keeps; its hooks add what that kind of run does around
the work (logs, events, the runs that follow).

Every change of status is a conditional update, so two workers or two beats never
both act on one execution: a worker claims a queued execution, beats while it works,
and the sweeper re-queues it when the beat stops.
"""

import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from celery import shared_task
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.clock import SYSTEM_CLOCK, StoppableClock

from . import schedule
from .conf import setting
from .models import ACTIVE_STATUSES, RUNNING_STATUSES, WAITING_STATUSES, ExecutionStatus
from .queue import send_on_commit

logger = logging.getLogger(__name__)

CANCEL_POLL_SECONDS = 0.25  # how often a running execution looks for a cancel
INTERNAL_ERROR = "The run stopped on an internal error ({}); the worker log has the details."
SWEPT_LOG_LEVELS = {"canceled": "info", "failed": "error", "requeued": "warning"}


class AlreadyRunning(Exception):
    def __init__(self, execution):
        super().__init__("This sync already has an execution in progress.")
        self.execution = execution


class NotCancelable(Exception):
    pass


class Canceled(Exception):
    """The run was canceled; it stops here."""


class LostClaim(Exception):
    """Another worker took this execution over (the sweeper thought this one dead)."""


@dataclass
class Outcome:
    status: str | None  # None: the claim was lost, and whoever holds it now finishes the run
    message: str = ""
    fields: dict = field(default_factory=dict)  # what else the execution keeps (the runner's results)


class Heartbeat:
    """Touches heartbeat_at in a side thread while the run works, so the sweeper can
    tell a long batch from a dead worker, and watches for a cancel: once one is asked for,
    the run's waits (rate budgets, Retry-After, job polls) on `clock` end at once."""

    def __init__(self, model, execution_id, claim):
        self.model = model
        self.execution_id = execution_id
        self.claim = claim
        self.stop = threading.Event()
        self.canceled = threading.Event()
        self.clock = StoppableClock(self.canceled, Canceled)
        self.thread = threading.Thread(target=self.beat, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def beat(self):
        interval = setting("ENGINE_HEARTBEAT_SECONDS")
        next_beat = time.monotonic() + interval
        try:
            while not self.stop.wait(CANCEL_POLL_SECONDS):
                try:
                    if not self.canceled.is_set() and self.cancel_requested():
                        self.canceled.set()
                    now = time.monotonic()
                    if now >= next_beat:
                        next_beat = now + interval
                        self.model.objects.filter(pk=self.execution_id, claim=self.claim).update(
                            heartbeat_at=timezone.now())
                except Exception:  # noqa: BLE001 - a missed beat is retried on the next tick
                    logger.warning("Heartbeat of %s failed", self.execution_id, exc_info=True)
                    close_old_connections()
        finally:
            connection.close()

    def cancel_requested(self) -> bool:
        return self.model.objects.filter(pk=self.execution_id, status=ExecutionStatus.CANCELING).exists()


def reconnect_if_dropped():
    """A run whose database connection dropped still records how it ended: Django
    reconnects on the next query once the dead connection is closed."""
    if connection.connection is not None and not connection.is_usable():
        connection.close()


class Lifecycle:
    model = None  # the execution model, an AbstractExecution
    runner = None  # runner(execution, claim): run() does the work, results() the fields kept
    name = ""  # the prefix of its Celery tasks' names (tasks.py registers them)
    related = ()  # what is loaded with the execution it runs
    canceled = (Canceled,)  # what the runner raises when the run was canceled
    lost = (LostClaim,)  # ... when another worker holds the execution now
    failures = ()  # ... when the run fails, with a message meant for the user
    kept_when_given_up = ""  # what a run the sweeper gives up on leaves behind, for its message
    heartbeat = Heartbeat

    @property
    def syncs(self):
        """The sync model whose executions these are."""
        return self.model._meta.get_field("sync").related_model

    # ---- what each kind of run adds ----

    def note(self, execution, message: str, level: str = "info"):
        """A line for the run's log."""

    def queued(self, execution):
        """The execution was created and is about to be sent to a worker."""

    def started(self, execution):
        """A worker claimed the execution (attempt 1) or took it up again (later attempts)."""

    def finished(self, execution, runner):
        """The worker recorded how the run ended."""

    def ended(self, execution):
        """The run is over, whoever ended it: events, and the runs that follow."""

    def interrupted(self, execution, now):
        """The sweeper found the execution's worker gone."""

    # ---- starting and canceling ----

    def start(self, sync, *, trigger: str = "manual", **fields):
        """Create a queued execution and send it to a worker once the transaction commits.
        Raises AlreadyRunning when the sync has an active execution (the database's
        one-active-execution constraint decides; trial runs do not count)."""
        try:
            with transaction.atomic():
                execution = self.model.objects.create(
                    sync=sync, status=ExecutionStatus.QUEUED, trigger=trigger, **fields)
        except IntegrityError:
            raise AlreadyRunning(self.active(sync)) from None
        self.queued(execution)
        self.enqueue(execution)
        return execution

    def enqueue(self, execution):
        send_on_commit(f"{self.name}.run_execution", str(execution.pk))  # to ENGINE_QUEUE (console/celery.py)

    def active(self, sync):
        counted = {self.model.TRIAL_FLAG: False}
        return self.model.objects.filter(sync=sync, status__in=ACTIVE_STATUSES, **counted).order_by(
            "-created_at").first()

    def cancel(self, execution) -> str:
        """Queued runs end now; running ones stop after the batch in flight."""
        if self.model.objects.filter(pk=execution.pk, status__in=WAITING_STATUSES).update(
                status=ExecutionStatus.CANCELED, completed_at=timezone.now()):
            self.note(execution, "Canceled before it started.")
            execution.refresh_from_db()
            self.ended(execution)
            return "Execution canceled."
        execution.refresh_from_db()
        if execution.status in (ExecutionStatus.RUNNING, ExecutionStatus.PROCESSING, ExecutionStatus.WAITING):
            self.model.objects.filter(pk=execution.pk, status=execution.status).update(
                status=ExecutionStatus.CANCELING)
            self.note(execution, "Cancel requested; the run stops after the batch in flight.")
            return "Execution is being canceled."
        if execution.status == ExecutionStatus.CANCELING:
            return "Execution is being canceled."
        raise NotCancelable(f"This execution is {execution.status}; only a queued or running one can be canceled.")

    def cancel_sync(self, sync) -> str:
        execution = self.active(sync)
        return self.cancel(execution) if execution else "No execution is running."

    # ---- running ----

    def run(self, execution_id):
        """Claim a queued execution and run it. A no-op if another worker has it or it ended."""
        claim = uuid.uuid4().hex
        now = timezone.now()
        claimed = self.model.objects.filter(pk=execution_id, status__in=WAITING_STATUSES).update(
            status=ExecutionStatus.RUNNING, claim=claim, attempt=F("attempt") + 1, heartbeat_at=now,
            worker=socket.gethostname()[:200])
        if not claimed:
            return None
        self.model.objects.filter(pk=execution_id, started_at__isnull=True).update(started_at=now)
        execution = self.model.objects.select_related(*self.related).get(pk=execution_id)
        self.started(execution)
        with self.heartbeat(self.model, execution.pk, claim) as beat:
            execution.clock = getattr(beat, "clock", SYSTEM_CLOCK)  # the run's waits: a cancel cuts them short
            outcome, runner = self.perform(execution, claim)
        if outcome.status is None:
            return None
        reconnect_if_dropped()
        self.finish(execution, claim, outcome, runner)
        return execution

    def perform(self, execution, claim: str):
        """(outcome, runner): how the runner's work ended."""
        runner = None
        try:
            runner = self.runner(execution, claim)
            runner.run()
            status, message = ExecutionStatus.COMPLETED, ""
        except (*self.canceled, Canceled):
            status, message = ExecutionStatus.CANCELED, ""
        except self.lost:
            logger.warning("Execution %s was taken over by another worker", execution.pk)
            return Outcome(None), runner
        except self.failures as error:
            status, message = ExecutionStatus.FAILED, str(error) or type(error).__name__
        except Exception as error:  # noqa: BLE001 - the run fails with a safe message; the log has the rest
            logger.exception("Execution %s stopped on an internal error", execution.pk)
            status, message = ExecutionStatus.FAILED, INTERNAL_ERROR.format(type(error).__name__)
        return Outcome(status, message, runner.results() if runner else {}), runner

    def finish(self, execution, claim: str, outcome: Outcome, runner):
        ended = self.model.objects.filter(pk=execution.pk, claim=claim).update(
            status=outcome.status, completed_at=timezone.now(), claim="",
            **{self.model.MESSAGE_FIELD: outcome.message[:5000]}, **outcome.fields)
        if not ended:
            return
        execution.refresh_from_db()
        self.finished(execution, runner)
        self.ended(execution)

    # ---- schedules and recovery ----

    def dispatch_due(self, now=None) -> int:
        """Start every sync whose time has come."""
        started = 0
        for sync in schedule.due(self.syncs, now or timezone.now(), busy=lambda s: self.active(s) is not None):
            try:
                self.start(sync, trigger="schedule")
                started += 1
            except AlreadyRunning:
                logger.info("Sync %s is due but still running; skipped this time", sync.pk)
        return started

    def plan_next_run(self, execution):
        """A continuous sync runs again a pause after this run started. Returns the sync."""
        sync = self.syncs.objects.get(pk=execution.sync_id)
        if sync.active and (sync.schedule or {}).get("frequency") == "continuous":
            self.syncs.objects.filter(pk=sync.pk).update(next_run_at=schedule.next_continuous_run(execution))
        return sync

    def sweep(self, now=None) -> dict:
        """Re-queue executions whose worker stopped beating; re-send queued ones whose
        message was lost. Safe to run from several beats at once."""
        now = now or timezone.now()
        stale_before = now - timedelta(seconds=setting("ENGINE_STALE_SECONDS"))
        done = {"requeued": 0, "failed": 0, "canceled": 0, "resent": 0}
        stale = self.model.objects.filter(status__in=RUNNING_STATUSES).filter(
            Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True))
        for execution in stale.select_related("sync"):
            outcome, changes, message = self.after_worker_lost(execution, now)
            unchanged = self.model.objects.filter(
                pk=execution.pk, status=execution.status, heartbeat_at=execution.heartbeat_at)
            if not unchanged.update(**changes):
                continue
            done[outcome] += 1
            self.interrupted(execution, now)
            self.note(execution, message, level=SWEPT_LOG_LEVELS[outcome])
            execution.refresh_from_db()
            if outcome == "requeued":
                self.enqueue(execution)
            else:
                self.ended(execution)
        resend_before = now - timedelta(seconds=setting("ENGINE_QUEUED_RESEND_SECONDS"))
        lost = self.model.objects.filter(status=ExecutionStatus.QUEUED).filter(
            Q(heartbeat_at__lt=resend_before) | Q(heartbeat_at__isnull=True, created_at__lt=resend_before))
        for execution in lost:
            if self.model.objects.filter(pk=execution.pk, status=ExecutionStatus.QUEUED,
                                         heartbeat_at=execution.heartbeat_at).update(heartbeat_at=now):
                self.enqueue(execution)
                done["resent"] += 1
        return done

    def after_worker_lost(self, execution, now) -> tuple[str, dict, str]:
        """(what the sweeper does, the changes it makes, the line for the log) for a stale execution."""
        if execution.status == ExecutionStatus.CANCELING:
            return "canceled", {"status": ExecutionStatus.CANCELED, "completed_at": now, "claim": ""}, \
                "Canceled (its worker had stopped)."
        if execution.attempt >= setting("ENGINE_MAX_ATTEMPTS"):
            message = (f"The worker running this execution stopped responding {execution.attempt} times; "
                       f"giving up. {self.kept_when_given_up}")
            return "failed", {"status": ExecutionStatus.FAILED, "completed_at": now, "claim": "",
                              self.model.MESSAGE_FIELD: message}, message
        return "requeued", {"status": ExecutionStatus.QUEUED, "claim": "", "heartbeat_at": now}, \
            "Its worker stopped responding; queued again to resume."


def register_tasks(runs: Lifecycle) -> tuple:
    """The Celery tasks of a kind of run, named after it: run an execution by its id,
    sweep, and start the syncs that are due (the beat schedule names the last two)."""

    @shared_task(name=f"{runs.name}.run_execution", acks_late=True, reject_on_worker_lost=True)
    def run_execution(execution_id: str):
        runs.run(execution_id)

    @shared_task(name=f"{runs.name}.sweep", ignore_result=True)
    def sweep():
        return runs.sweep()

    @shared_task(name=f"{runs.name}.dispatch_due_syncs", ignore_result=True)
    def dispatch_due_syncs():
        return runs.dispatch_due()

    return run_execution, sweep, dispatch_due_syncs
