# ruff: noqa: F811 - the campaign fixtures are imported by name
"""The engine's figures, read once for /metrics and the console: recent sends by channel kind
and by wave from a real fan-out and dispatch through a console channel, webhook latency from
real signed callbacks, and a verdict whose thresholds name what is behind."""

import datetime as dt

import pytest
import time_machine

from campaigns.services import waves as services
from campaigns.services.fanout import fanout_wave
from config.celery import app as celery_app
from outreach.models import ChannelKind, ConsentStatus, OutboundMessage, OutboundStatus
from outreach.redis_client import redis_client
from outreach.selectors import engine
from outreach.services.channels import channel_create
from outreach.services.dispatch import dispatch_channel
from outreach.services.status import status_receive
from tests.campaigns.conftest import DUE, audience, author, campaign, reviewer  # noqa: F401
from tests.support.people import make_subscriber


@pytest.fixture(autouse=True)
def _fresh_counters(empty_engine_counters: None) -> None:
    """Counters and queues of Redis start empty in each test."""


@pytest.fixture
def second_channel(organization):
    return channel_create(
        organization=organization, name="Console two", kind=ChannelKind.CONSOLE, country="KE"
    )


@pytest.fixture
def wave_over_two_channels(
    organization, campaign, audience, author, reviewer, console_channel, second_channel
):
    """Four subscribers on the first channel and two on the second; fanned out at DUE."""
    for index in range(2):
        make_subscriber(
            organization=organization,
            channel=second_channel,
            address=f"+25472234560{index}",
            language="en",
            consent_status=ConsentStatus.OPTED_IN,
        )
    with time_machine.travel(DUE - dt.timedelta(days=1), tick=False):
        wave = services.wave_create(
            campaign=campaign,
            created_by=author.membership.user,
            name="E-7",
            send_at_relative="E-7d 10:00",
            segment=audience,
            channels=[console_channel, second_channel],
            variants=[{"language": "en", "body": "Peace in {campaign}."}],
        )
        services.wave_submit(wave=wave, by=wave.created_by)
        services.wave_approve(wave=wave, by=reviewer.membership.user)
        services.wave_schedule(wave=wave, by=None)
    with time_machine.travel(DUE, tick=False):
        assert services.waves_tick(now=DUE) == [wave.pk]
        fanout_wave(wave_id=wave.pk)
    return wave


@pytest.mark.django_db
def test_sends_through_one_channel_count_in_the_last_minute_and_hour_and_for_their_wave(
    wave_over_two_channels, console_channel
):
    with time_machine.travel(DUE, tick=False):
        dispatch_channel(channel_id=console_channel.pk)
        now = engine.recent_sends()
        wave_now = engine.wave_sends_last_minute(wave_over_two_channels.pk)
    with time_machine.travel(DUE + dt.timedelta(minutes=2), tick=False):
        later = engine.recent_sends()
        wave_later = engine.wave_sends_last_minute(wave_over_two_channels.pk)
    with time_machine.travel(DUE + dt.timedelta(minutes=62), tick=False):
        much_later = engine.recent_sends()

    handed_over = OutboundMessage.objects.filter(
        wave_id=wave_over_two_channels.pk, channel=console_channel
    ).exclude(provider_message_id="")
    assert handed_over.count() == 4
    assert (now.last_minute, now.last_hour, wave_now) == ({"console": 4}, {"console": 4}, 4)
    assert (later.last_minute, later.last_hour, wave_later) == ({"console": 0}, {"console": 4}, 0)
    assert much_later.last_hour == {}
    assert engine.event_counters().sent == {"console": 4}


@pytest.mark.django_db
def test_another_waves_sends_do_not_count_for_this_one(wave_over_two_channels, console_channel):
    with time_machine.travel(DUE, tick=False):
        dispatch_channel(channel_id=console_channel.pk)

        assert engine.wave_sends_last_minute(wave_over_two_channels.pk + 1) == 0


def test_webhook_latency_p50_and_p99_are_interpolated_in_their_buckets():
    # 100 requests: 90 within 5 ms, 9 within 10 ms, 1 within 1 s.
    latency = engine.WebhookLatency(
        webhook="twilio-status",
        buckets=[("0.005", 90), ("0.01", 99), ("0.025", 99), ("1.0", 100), ("+Inf", 100)],
        sum_seconds=0.6,
    )

    assert latency.count == 100
    assert latency.quantile(0.5) == pytest.approx(0.005 * 50 / 90)
    assert latency.quantile(0.99) == pytest.approx(0.01)
    assert latency.quantile(0.999) == pytest.approx(0.025 + (1.0 - 0.025) * 0.9)


def test_a_latency_past_the_last_bound_reads_as_that_bound_and_none_without_requests():
    past = engine.WebhookLatency(
        webhook="meta", buckets=[("0.005", 0), ("5.0", 0), ("+Inf", 3)], sum_seconds=30.0
    )
    empty = engine.WebhookLatency(webhook="meta", buckets=[("+Inf", 0)], sum_seconds=0.0)

    assert past.quantile(0.5) == 5.0
    assert empty.quantile(0.99) is None


@pytest.mark.django_db
def test_signed_status_callbacks_show_in_the_webhooks_latency(
    twilio_post, twilio_channel, django_capture_on_commit_callbacks
):
    for sid in ("SM" + "1" * 32, "SM" + "2" * 32):
        response = twilio_post(
            twilio_channel, {"MessageSid": sid, "MessageStatus": "delivered"}, hook="status"
        )
        assert response.status_code == 200

    (latency,) = engine.event_counters().webhooks

    assert latency.webhook == "twilio-status"
    assert latency.count == 2
    assert 0 < latency.quantile(0.5) <= latency.quantile(0.99) <= 5.0


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:task_always_eager has no effect on send_task")
def test_a_bulk_task_waiting_four_minutes_is_the_verdicts_problem():
    with time_machine.travel(DUE, tick=False):
        celery_app.send_task("outreach.tasks.sweep", queue="bulk")
    with time_machine.travel(DUE + dt.timedelta(minutes=4), tick=False):
        health = engine.engine_health()

    (problem,) = health.problems
    assert (problem.kind, problem.subject, problem.limit) == (
        "queue_age",
        "bulk",
        engine.BULK_QUEUE_MAX_AGE,
    )
    assert problem.seconds == pytest.approx(240, abs=2)
    assert not health.healthy


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:task_always_eager has no effect on send_task")
def test_a_minute_old_bulk_task_and_an_empty_inbox_are_healthy():
    with time_machine.travel(DUE, tick=False):
        celery_app.send_task("outreach.tasks.sweep", queue="bulk")
    with time_machine.travel(DUE + dt.timedelta(minutes=1), tick=False):
        health = engine.engine_health()

    assert health.healthy
    assert {q.name: q.depth for q in health.queues.queues} == {"bulk": 1, "priority": 0}


@pytest.mark.django_db
def test_a_status_report_waiting_two_minutes_is_named_as_the_inbox_lag(twilio_channel):
    with time_machine.travel(DUE, tick=False):
        status_receive(  # its apply waits for a commit that this test never makes
            channel=twilio_channel,
            provider_message_id="SM" + "0" * 32,
            provider_status="delivered",
            status=OutboundStatus.DELIVERED,
        )
    with time_machine.travel(DUE + dt.timedelta(minutes=2), tick=False):
        health = engine.engine_health()

    assert health.inbox.waiting == 1
    assert [(p.kind, round(p.seconds)) for p in health.problems] == [("inbox_lag", 120)]


@pytest.mark.django_db
def test_without_redis_nothing_is_counted_and_that_is_no_problem(settings):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "memory://"  # as the demo runs: tasks in-process
    redis_client.cache_clear()
    try:
        health = engine.engine_health()
        rate = engine.wave_sends_last_minute(1)
    finally:
        redis_client.cache_clear()  # the next test's client reads its restored settings

    assert (health.counters.up, health.counters.configured, health.recent.up) == (
        False,
        False,
        False,
    )
    assert rate is None
    assert health.queues.queues == []
    assert health.healthy
