from celery import shared_task

from . import services


@shared_task(name="schemas.refresh", ignore_result=True)
def refresh(connection_id: str):
    services.refresh(connection_id)
