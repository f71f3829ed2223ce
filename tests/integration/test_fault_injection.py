"""Faults in one run, mid-wave: a worker SIGKILLed, Redis restarted, PostgreSQL restarted, and a
storm of 429s and 500s from Twilio. Afterwards no one is lost and no one is sent twice (the
provider's call log has one call per subscriber), and every message has ended, within a bound.

The workers, the fast beat and this test use a private `redis-server` and a private PostgreSQL
cluster (tests/support/servers.py), both restarted for real: the shared servers other
processes use are never touched. The PostgreSQL cluster is started with initdb into a
temporary directory (as the `postgres` OS user when the tests run as root) and holds a copy
of the test database, so the restart is the server's own: every backend ends at once
(`pg_ctl stop -m immediate`, as a crash would), connections are refused while it is down, and
what was not committed is rolled back. This process is switched to the same two servers for
the test and switched back after; it reads the database through `database_says`, which
answers "not yet" while PostgreSQL is away.
"""

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import override_settings
from kombu import pools as kombu_pools

from config.celery import app as celery_app
from outreach.models import OutboundMessage, OutboundStatus
from outreach.redis_client import redis_client
from tests.integration.conftest import kill_worker
from tests.integration.delivery import (
    database_says,
    due_waves,
    fanned_out,
    sms_channel,
    start_sending,
    subscribers,
    unfinished,
    wait_until,
    wave_calls,
)
from tests.support.servers import PrivatePostgres, PrivateRedis, private_postgres, private_redis
from tests.support.twilio_api import INTERNAL_ERROR

pytestmark = pytest.mark.integration

SUBSCRIBERS = 3_000
LEASE_SECONDS = 3
# After the last fault, every message has ended within this long (attempts are bounded, and
# the longest backoff of a transient failure is well inside it).
RECOVERY_SECONDS = 120
ENDED = {OutboundStatus.SENDING, OutboundStatus.SENT, OutboundStatus.DELIVERED}


@dataclass
class PrivateServices:
    redis: PrivateRedis
    postgres: PrivatePostgres


@pytest.fixture
def private_services(transactional_db, tmp_path) -> Iterator[PrivateServices]:
    """A private Redis and PostgreSQL (a copy of the test database) for workers and this test."""
    database = connection.settings_dict
    (tmp_path / "redis").mkdir()
    with private_redis(tmp_path / "redis") as redis_server, private_postgres() as postgres:
        postgres.copy_database(
            host=database["HOST"] or "127.0.0.1",
            port=int(database["PORT"] or 5432),
            user=database["USER"],
            name=database["NAME"],
        )
        shared = {name: database[name] for name in ("HOST", "PORT", "USER", "PASSWORD")}
        shared_broker = celery_app.conf.broker_url
        connection.close()
        database.update(HOST="127.0.0.1", PORT=str(postgres.port), USER="postgres", PASSWORD="")
        url = redis_server.url
        caches = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        }
        try:
            with override_settings(REDIS_URL=url, CELERY_BROKER_URL=url, CACHES=caches):
                _use_broker(url)
                redis_client.cache_clear()
                yield PrivateServices(redis_server, postgres)
        finally:
            connection.close()
            database.update(shared)
            _use_broker(shared_broker)
            redis_client.cache_clear()


@pytest.fixture
def worker_env(private_services, twilio_api_for_workers):
    twilio_api_for_workers.reset()
    return {
        "TWILIO_BASE_URL": twilio_api_for_workers.base_url,
        "TWILIO_TIMEOUT_SECONDS": "2",
        "DISPATCH_LEASE_SECONDS": str(LEASE_SECONDS),
        "DISPATCH_CONCURRENCY": "8",
    }


def test_a_wave_survives_a_killed_worker_restarted_redis_and_postgres_and_a_429_storm(
    private_services, make_organization, start_worker, start_beat, twilio_api_for_workers
):
    api = twilio_api_for_workers
    api.latency = 0.02
    organization = make_organization("Peace Youth Kenya", admin="pyk-admin")
    channel = sms_channel(organization, messages_per_second=150)
    addresses = subscribers(organization, channel, SUBSCRIBERS)
    [wave] = due_waves(organization, channel, ["Wave 1: vote calmly."])
    workers = Supervisor(start_worker)
    first = workers.run()
    workers.run()
    start_beat()

    start_sending([wave])
    assert fanned_out(channel, SUBSCRIBERS)
    faults = []

    assert reached(api, 0.15, workers)
    kill_worker(first)
    workers.tend()  # its supervisor starts another
    faults.append(("worker SIGKILLed", len(api.sent)))

    assert reached(api, 0.35, workers)
    private_services.redis.restart(down_for=1)
    faults.append(("Redis restarted", len(api.sent)))

    assert reached(api, 0.55, workers)
    private_services.postgres.restart(down_for=2)
    faults.append(("PostgreSQL restarted", len(api.sent)))

    assert reached(api, 0.7, workers)
    api.fail_next(200)  # 429 Too Many Requests
    api.fail_next(100, code=INTERNAL_ERROR, status=500)
    faults.append(("429/500 storm", len(api.sent)))
    last_fault = time.monotonic()

    def finished() -> bool:
        workers.tend()
        return database_says(lambda: unfinished(channel) == 0)()

    ended = wait_until(finished, timeout=RECOVERY_SECONDS)
    took = time.monotonic() - last_fault
    time.sleep(2 * LEASE_SECONDS)  # a late second send would arrive by now

    assert all(sent < SUBSCRIBERS for _, sent in faults), faults  # every fault was mid-wave
    assert ended, f"messages still unfinished {took:.0f}s after the last fault"
    calls = wave_calls(api, "Wave 1:")
    assert {to: n for to, n in calls.items() if n > 1} == {}
    assert [to for to in addresses if calls[to] == 0] == []
    statuses = Counter(
        OutboundMessage.objects.filter(wave_id=wave.pk).values_list("status", flat=True)
    )
    assert sum(statuses.values()) == SUBSCRIBERS
    assert set(statuses) <= ENDED, statuses
    assert not OutboundMessage.objects.filter(wave_id=wave.pk, provider_message_id="").exists()


class Supervisor:
    """Starts prefork workers and restarts one that exits, as their deployment does
    (docker-compose's `restart: unless-stopped`): a worker may die of the broker going away
    (kombu's Redis transport can raise "'NoneType' object has no attribute 'hostname'"
    while it reconnects, an unrecoverable error for Celery)."""

    def __init__(self, start_worker) -> None:
        self.start_worker, self.workers, self.restarted = start_worker, [], 0

    def run(self):
        worker = self.start_worker(pool="prefork", concurrency=2)
        self.workers.append(worker)
        return worker

    def tend(self) -> None:
        for worker in [worker for worker in self.workers if worker.poll() is not None]:
            self.workers.remove(worker)
            self.restarted += 1
            self.run()


def reached(api, fraction: float, workers: Supervisor) -> bool:
    """Wait until the provider has taken `fraction` of the wave, tending the workers."""

    def far_enough() -> bool:
        workers.tend()
        return len(api.sent) >= fraction * SUBSCRIBERS

    return wait_until(far_enough, timeout=90)


def _use_broker(url: str) -> None:
    """Publish and broadcast from this process through the broker at `url` from now on."""
    celery_app.conf.broker_url = url
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    producers = celery_app.amqp._producer_pool
    if producers is not None:
        producers.force_close_all()
        celery_app.amqp._producer_pool = None
    # kombu keeps producer pools per broker URL in a registry of its own: the closed ones
    # must not be handed out again when this process switches back to the shared broker.
    kombu_pools.reset()
