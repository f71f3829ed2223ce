"""/healthz says the process is up; /readyz checks every dependency and says which is down."""

import pytest
from django.db import OperationalError, connection

from config.celery import app as celery_app
from outreach import health

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_database_and_redis_answer(client):
    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 200, body
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["database"]["vendor"] == "postgresql"
    assert body["components"]["redis"]["status"] == "ok"
    # The test settings run tasks in-process, so there is no worker to ask.
    assert body["components"]["celery"]["status"] == "skipped"


def test_readyz_is_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["components"]["redis"] == {
        "status": "down",
        "error": "ConnectionError",
        "latency_ms": body["components"]["redis"]["latency_ms"],
    }
    assert body["components"]["database"]["status"] == "ok"


def test_readyz_is_503_when_the_database_is_down(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 10.0.0.1 refused")

    monkeypatch.setattr(connection, "cursor", refuse)

    response = client.get("/readyz")

    assert response.status_code == 503
    database = response.json()["components"]["database"]
    assert database["status"] == "down"
    # The error's class only: its text could carry a connection string.
    assert database["error"] == "OperationalError"


def test_readyz_is_503_when_a_broker_is_configured_but_no_worker_answers(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.5
    assert celery_app.conf.broker_url.startswith("redis://")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["components"]["celery"]["status"] == "down"


def test_every_component_is_checked():
    assert set(health.CHECKS) == {"database", "redis", "celery"}
