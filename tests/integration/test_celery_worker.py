"""A task sent through Redis is run by a real worker and its effect lands in PostgreSQL."""

import time

import pytest

from outreach.models import ServiceHeartbeat
from outreach.tasks import record_heartbeat

pytestmark = pytest.mark.integration


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_runs_a_task_and_its_effect_lands_in_postgres(celery_worker_process):
    assert not ServiceHeartbeat.objects.filter(name="integration").exists()

    record_heartbeat.delay("integration")

    assert wait_for(ServiceHeartbeat.objects.filter(name="integration").exists)
    assert celery_worker_process.poll() is None


def test_readyz_sees_the_worker(celery_worker_process, client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json()["components"]["celery"]["status"] == "ok"
