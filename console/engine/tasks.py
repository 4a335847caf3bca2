"""Thin Celery tasks: ids in, services out."""

from celery import shared_task

from . import notifications, schedule, services
from .models import Event


@shared_task(name="engine.run_execution", acks_late=True, reject_on_worker_lost=True)
def run_execution(execution_id: str):
    services.run_execution(execution_id)


@shared_task(name="engine.sweep", ignore_result=True)
def sweep():
    return services.sweep()


@shared_task(name="engine.dispatch_due_syncs", ignore_result=True)
def dispatch_due_syncs():
    return schedule.dispatch_due()


@shared_task(name="engine.deliver_event", bind=True, max_retries=notifications.DELIVERY_ATTEMPTS - 1)
def deliver_event(self, event_id: str):
    event = Event.objects.filter(pk=event_id).first()
    delivery = event and notifications.deliver(event)
    if delivery is not None and not delivery.success:
        raise self.retry(countdown=4 * 2**self.request.retries)


@shared_task(name="engine.send_failure_email", ignore_result=True)
def send_failure_email(execution_id: str):
    execution = services.Execution.objects.select_related("sync__organization").get(pk=execution_id)
    notifications.send_failure_email(execution)
