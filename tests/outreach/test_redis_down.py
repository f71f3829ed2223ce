"""Redis holds no data: with it down the API and the webhooks keep answering.

Nothing is faked: the settings point at a port where nothing listens, and every cached
client (the cache, our Redis client, Celery's broker pool) is dropped before and after.
"""

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from config.celery import app as celery_app
from outreach import outage_log
from outreach.models import ConsentEvent, ConsentStatus, InboundMessage, Role, Subscriber
from outreach.redis_client import redis_client
from outreach.services.consent import consent_record
from outreach.services.subscribers import subscriber_for_address
from tests.support.twilio_api import AUTH_TOKEN, twilio_signature
from tests.support.webhooks import twilio_form

pytestmark = pytest.mark.django_db

NOTHING_LISTENS = "redis://127.0.0.1:1/0"
NUMBER = "+254712345678"


def throttled(settings: Any, rate: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": rate,
        },
    }


def forget_clients() -> None:
    """Clients are built again on first use, from the settings then in force."""
    redis_client.cache_clear()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    outage_log._last_logged.clear()  # each test's outage is reported afresh


@pytest.fixture
def redis_down(settings: Any) -> Iterator[None]:
    forget_clients()
    settings.REDIS_URL = NOTHING_LISTENS
    settings.CELERY_BROKER_URL = NOTHING_LISTENS
    settings.CELERY_TASK_ALWAYS_EAGER = False  # enqueue for real, to a broker that is gone
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": NOTHING_LISTENS,
        }
    }
    throttled(settings, "6000/hour")
    yield
    forget_clients()


@pytest.fixture
def post_signed(client, twilio_channel):
    def post(body: str):
        path = reverse("twilio-inbound", args=[twilio_channel.uuid])
        form = twilio_form(body, sender=NUMBER)
        signature = twilio_signature(AUTH_TOKEN, settings.PUBLIC_BASE_URL + path, form)
        return client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)

    return post


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.exc_info]


def test_the_api_answers_with_throttling_on_while_redis_is_down(
    organization, member_client, redis_down, caplog
):
    manager = member_client(organization, Role.MANAGER)

    first = manager.get("/api/v1/subscribers/")
    second = manager.get("/api/v1/subscribers/")

    assert first.status_code == 200
    assert second.status_code == 200
    assert tracebacks(caplog) == []
    warnings = [r for r in caplog.records if "throttl" in r.getMessage().lower()]
    assert len(warnings) == 1


def test_a_signed_join_is_stored_for_the_sweeper_while_redis_is_down(
    post_signed, redis_down, caplog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed("JOIN")

    assert response.status_code == 200
    (inbound,) = InboundMessage.objects.all()
    assert inbound.handled_at is None  # the sweeper routes it once the broker is back
    assert tracebacks(caplog) == []
    assert NUMBER not in caplog.text


def test_a_signed_stop_reaches_the_ledger_while_redis_is_down(
    twilio_channel, post_signed, redis_down, caplog, django_capture_on_commit_callbacks
):
    person = subscriber_for_address(channel=twilio_channel, address=NUMBER)
    consent_record(subscriber=person, kind="opt_in", source="keyword")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed("STOP")

    assert response.status_code == 200
    assert Subscriber.objects.get(pk=person.pk).consent_status == ConsentStatus.OPTED_OUT
    assert ConsentEvent.objects.filter(kind="opt_out").count() == 1
    assert tracebacks(caplog) == []


def test_readyz_says_redis_is_down(client, redis_down):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["components"]["redis"]["status"] == "down"


def test_the_api_still_throttles_while_redis_is_up(organization, member_client, settings):
    cache.clear()
    throttled(settings, "2/minute")
    manager = member_client(organization, Role.MANAGER)

    statuses = [manager.get("/api/v1/subscribers/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_with_redis_down_a_webhook_keeps_its_metric_and_the_write_then_pauses_counting(
    post_signed, redis_down, monkeypatch
):
    """A webhook never waits on Redis for a metric: its time is kept in the process, and the
    write that finds Redis down (a timer's, a second later) pauses counting for a while."""
    from outreach import metrics
    from outreach.metrics import counting_paused

    monkeypatch.setattr(metrics, "WEBHOOK_WRITE_EVERY", 60.0)  # the test writes, not the timer

    assert post_signed("Habari").status_code == 200
    assert not counting_paused(redis_client())  # the request did not try Redis for it

    metrics.webhook_observations_write()

    assert counting_paused(redis_client())  # the next writes skip Redis for a while
