import os

from celery import Celery

from console.engine.conf import setting

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")


def route(name, args, kwargs, options, task=None, **extra):
    """Long runs go to ENGINE_QUEUE, every other task to ENGINE_SHORT_QUEUE, so a burst of
    big runs never holds back a webhook, a discovery refresh or a schedule tick."""
    return {"queue": setting("ENGINE_QUEUE" if name.endswith(".run_execution") else "ENGINE_SHORT_QUEUE")}


app = Celery("console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_routes = (route,)
app.autodiscover_tasks()
