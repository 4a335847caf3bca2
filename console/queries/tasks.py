from celery import shared_task

from . import services


@shared_task(name="queries.run", ignore_result=True)
def run(query_id: str):
    services.run(query_id)


@shared_task(name="queries.expire", ignore_result=True)
def expire():
    services.expire()
