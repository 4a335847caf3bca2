import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_health_reports_database_and_redis_and_missing_worker(settings):
    response = Client().get("/api/health")
    checks = response.json()["data"]["checks"]
    assert checks["database"]["ok"] is True
    assert checks["redis"]["ok"] is True
    if not checks["worker"]["ok"]:
        assert response.status_code == 503
        assert checks["worker"]["detail"] == "no worker answered"


def test_health_reports_redis_down(settings):
    from console.celery import app

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = Client().get("/api/health")
    assert response.status_code == 503
    data = response.json()["data"]
    assert data["ok"] is False
    assert data["checks"]["redis"]["ok"] is False
    assert data["checks"]["worker"]["detail"] == "Redis is down"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_health_sees_a_real_worker(celery_worker_process, client, org_admin):
    response = Client().get("/api/health")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["ok"] is True
    assert data["checks"]["worker"]["workers"]
    client.force_login(org_admin)
    page = client.get("/status")
    assert page.status_code == 200
    assert page.content.count(b"badge ok") == 3
