"""Is each part of the running system there? Database, Redis, Celery workers."""

from django.conf import settings
from django.db import connection

import redis

from console.celery import app as celery_app


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "detail": connection.vendor}
    except Exception as error:  # noqa: BLE001 - reported, not raised
        return {"ok": False, "detail": type(error).__name__}


def check_redis() -> dict:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        return {"ok": True, "detail": "ping ok"}
    except redis.RedisError as error:
        return {"ok": False, "detail": type(error).__name__}


def check_workers() -> dict:
    try:
        replies = celery_app.control.ping(timeout=1.0) or []
    except Exception as error:  # noqa: BLE001 - broker down shows as no workers
        return {"ok": False, "detail": type(error).__name__, "workers": []}
    workers = sorted(name for reply in replies for name in reply)
    detail = f"{len(workers)} worker(s) answered" if workers else "no worker answered"
    return {"ok": bool(workers), "detail": detail, "workers": workers}


def system_health() -> dict:
    checks = {"database": check_database(), "redis": check_redis()}
    checks["worker"] = (
        check_workers() if checks["redis"]["ok"] else {"ok": False, "detail": "Redis is down", "workers": []}
    )
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}
