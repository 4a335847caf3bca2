import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_without_workers(redis_url):
    """The Celery broker moved to a Redis database no worker listens on."""
    from console.celery import app

    def use(url):
        app.conf.broker_url = url
        app._after_fork()  # forgets the pooled broker connections, as a forked child does

    use(redis_url.rsplit("/", 1)[0] + "/15")
    yield
    use(redis_url)


def test_health_reports_database_and_redis_and_missing_worker(broker_without_workers):
    response = Client().get("/api/health")
    checks = response.json()["data"]["checks"]
    assert checks["database"]["ok"] is True
    assert checks["redis"]["ok"] is True
    assert checks["worker"]["ok"] is False
    assert checks["worker"]["detail"] == "no worker answered"
    assert response.status_code == 503


def test_health_reports_redis_down(settings):

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
