"""Thin Celery tasks: ids in, services out."""

from celery import shared_task

from . import notifications, services
from .lifecycle import register_tasks
from .models import Event, Execution

run_execution, sweep, dispatch_due_syncs = register_tasks(services.sync_runs)


@shared_task(name="engine.deliver_event", bind=True, max_retries=notifications.DELIVERY_ATTEMPTS - 1)
def deliver_event(self, event_id: str):
    event = Event.objects.filter(pk=event_id).first()
    delivery = event and notifications.deliver(event)
    if delivery is not None and not delivery.success:
        raise self.retry(countdown=4 * 2**self.request.retries)


@shared_task(name="engine.send_failure_email", ignore_result=True)
def send_failure_email(execution_id: str):
    execution = Execution.objects.select_related("sync__organization").get(pk=execution_id)
    notifications.send_failure_email(execution)
