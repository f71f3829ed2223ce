"""/metrics: Prometheus's scrape, behind a bearer token, with no one's number in it.

Rows come the way Amani makes them: a wave fanned out by campaigns' services, sent through
the official Twilio SDK to the local Twilio server, a signed status callback; the scrape is
read with prometheus_client's own parser.
"""

import datetime as dt
import time

import pytest
import time_machine
from django.db.models import Count
from prometheus_client.parser import text_string_to_metric_families

from campaigns.services import waves as wave_services
from campaigns.services.campaigns import campaign_create
from campaigns.services.fanout import fanout_wave
from campaigns.services.segments import segment_create
from config.celery import app as celery_app
from outreach import metrics
from outreach.models import ConsentStatus, OutboundMessage, OutboundStatus, Role
from outreach.redis_client import redis_client
from outreach.services.status import status_receive
from tests.support.people import make_subscriber
from tests.support.twilio_api import INVALID_TO

TOKEN = "metrics-token-0123456789abcdef"
EAT = dt.timezone(dt.timedelta(hours=3))
DUE = dt.datetime(2027, 8, 3, 10, 0, tzinfo=EAT)  # inside Kenya's 08:00-18:00 window
NUMBERS = [f"+25471234560{i}" for i in range(4)]


@pytest.fixture(autouse=True)
def _fresh_counters(settings, empty_engine_counters) -> None:
    """Counters and queues of Redis start empty in each test."""
    settings.AMANI_METRICS_TOKEN = TOKEN


@pytest.fixture
def wave_on_sms(organization, twilio_channel, member_client):
    """A wave to four subscribers on a Twilio SMS channel, started by the tick at DUE."""
    for number in NUMBERS:
        make_subscriber(
            organization=organization,
            channel=twilio_channel,
            address=number,
            language="en",
            consent_status=ConsentStatus.OPTED_IN,
        )
    campaign = campaign_create(
        organization=organization,
        created_by=None,
        preset="KE",
        name="Amani 2027",
        election_date=dt.date(2027, 8, 10),
    )
    author = member_client(organization, Role.MANAGER).membership.user
    reviewer = member_client(organization, Role.REVIEWER).membership.user
    with time_machine.travel(DUE - dt.timedelta(days=1), tick=False):
        wave = wave_services.wave_create(
            campaign=campaign,
            created_by=author,
            name="E-7",
            send_at_relative="E-7d 10:00",
            segment=segment_create(organization=organization, created_by=None, name="All"),
            channels=[twilio_channel],
            variants=[{"language": "en", "body": "Peace in {campaign}."}],
        )
        wave_services.wave_submit(wave=wave, by=author)
        wave_services.wave_approve(wave=wave, by=reviewer)
        wave_services.wave_schedule(wave=wave, by=None)
    return wave


def scrape(client, token: str | None = TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return client.get("/metrics", **headers)


def samples(response) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the scrape: (name, sorted labels) -> value."""
    assert response.status_code == 200, response.content
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(scraped, name: str, **labels: str) -> float:
    return scraped[(name, tuple(sorted(labels.items())))]


@pytest.mark.django_db
def test_without_a_token_configured_there_is_no_metrics_endpoint(client, settings):
    settings.AMANI_METRICS_TOKEN = ""

    assert scrape(client).status_code == 404
    assert scrape(client, token=None).status_code == 404


@pytest.mark.django_db
def test_a_wrong_token_is_refused_and_no_token_is_asked_for(client):
    assert scrape(client, token="not-the-token").status_code == 403
    asked = scrape(client, token=None)
    assert asked.status_code == 401
    assert asked["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 401


@pytest.mark.django_db
def test_a_fanned_out_wave_shows_its_messages_queued_on_their_channel_kind(client, wave_on_sms):
    with time_machine.travel(DUE, tick=False):
        assert wave_services.waves_tick(now=DUE) == [wave_on_sms.pk]
        fanout_wave(wave_id=wave_on_sms.pk)
        response = scrape(client)

    scraped = samples(response)
    assert value(scraped, "amani_messages", channel_kind="twilio_sms", status="queued") == 4
    assert value(scraped, "amani_messages", channel_kind="twilio_sms", status="sent") == 0
    assert "text/plain" in response["Content-Type"]
    assert not any(number[1:] in response.content.decode() for number in NUMBERS)


def test_failures_count_by_code_with_none_for_no_code_and_never_a_number(client, wave_on_sms):
    with time_machine.travel(DUE, tick=False):
        assert wave_services.waves_tick(now=DUE) == [wave_on_sms.pk]
        fanout_wave(wave_id=wave_on_sms.pk)
    first, second, third, _ = OutboundMessage.objects.filter(wave_id=wave_on_sms.pk).order_by("pk")
    OutboundMessage.objects.filter(pk=first.pk).update(status=OutboundStatus.FAILED)
    OutboundMessage.objects.filter(pk=second.pk).update(
        status=OutboundStatus.UNDELIVERED,
        error_code="0712345",  # a provider echoing a number
    )
    OutboundMessage.objects.filter(pk=third.pk).update(
        status=OutboundStatus.FAILED, error_code="30003"
    )

    response = scrape(client)

    scraped = samples(response)
    failed = {labels: n for (name, labels), n in scraped.items() if name == "amani_messages_failed"}
    assert failed == {
        (("channel_kind", "twilio_sms"), ("code", "none"), ("status", "failed")): 1,
        (("channel_kind", "twilio_sms"), ("code", "other"), ("status", "undelivered")): 1,
        (("channel_kind", "twilio_sms"), ("code", "30003"), ("status", "failed")): 1,
    }
    assert "712345" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_sends_errors_and_callbacks_are_counted_with_no_number_in_the_scrape(
    client, wave_on_sms, twilio_api, twilio_post, twilio_channel
):
    twilio_api.fail_number(NUMBERS[3], INVALID_TO)  # Twilio's 21211 names the number

    with time_machine.travel(DUE, tick=False):
        wave_services.waves_tick(now=DUE)  # committed: fan-out and dispatch run at once
        sent = OutboundMessage.objects.filter(wave_id=wave_on_sms.pk).exclude(
            provider_message_id=""
        )
        delivered = sent.first()
        callback = twilio_post(
            twilio_channel,
            {"MessageSid": delivered.provider_message_id, "MessageStatus": "delivered"},
            hook="status",
        )
        response = scrape(client)

    assert callback.status_code == 200
    assert len(twilio_api.sent) == 3
    scraped = samples(response)
    by_status = dict(
        OutboundMessage.objects.filter(wave_id=wave_on_sms.pk)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    assert by_status == {OutboundStatus.SENDING: 2, OutboundStatus.DELIVERED: 1, "failed": 1}
    for status, n in by_status.items():
        assert value(scraped, "amani_messages", channel_kind="twilio_sms", status=status) == n
    assert value(scraped, "amani_messages", channel_kind="twilio_sms", status="queued") == 0
    assert value(scraped, "amani_messages_sent_total", channel_kind="twilio_sms") == 3
    assert (
        value(scraped, "amani_provider_errors_total", channel_kind="twilio_sms", code="21211") == 1
    )
    failed = {"channel_kind": "twilio_sms", "status": "failed", "code": "21211"}
    assert value(scraped, "amani_messages_failed", **failed) == 1
    assert value(scraped, "amani_webhook_duration_seconds_count", webhook="twilio-status") == 1
    assert (
        value(scraped, "amani_webhook_duration_seconds_bucket", webhook="twilio-status", le="+Inf")
        == 1
    )
    assert value(scraped, "amani_event_counters_up") == 1
    text = response.content.decode()
    for number in [*NUMBERS, twilio_channel.from_number]:
        assert number[1:] not in text  # not even without its "+"
        assert number[-9:] not in text
    assert "organization" not in text


@pytest.mark.django_db
def test_the_status_inbox_shows_how_long_its_oldest_report_has_waited(client, twilio_channel):
    with time_machine.travel(DUE, tick=False):
        status_receive(  # its apply waits for a commit that this test never makes
            channel=twilio_channel,
            provider_message_id="SM" + "0" * 32,
            provider_status="delivered",
            status=OutboundStatus.DELIVERED,
        )
    with time_machine.travel(DUE + dt.timedelta(seconds=45), tick=False):
        scraped = samples(scrape(client))

    assert value(scraped, "amani_status_inbox_reports") == 1
    assert value(scraped, "amani_status_inbox_lag_seconds") == pytest.approx(45, abs=1)


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:task_always_eager has no effect on send_task")
def test_each_celery_queue_shows_its_depth_and_the_age_of_its_oldest_task(client):
    with time_machine.travel(DUE, tick=False):
        celery_app.send_task("outreach.tasks.sweep", queue="bulk")
        celery_app.send_task("outreach.tasks.sweep", queue="bulk", priority=0)
    with time_machine.travel(DUE + dt.timedelta(seconds=90), tick=False):
        celery_app.send_task("outreach.tasks.sweep", queue="bulk")
        scraped = samples(scrape(client))

    assert value(scraped, "amani_queue_depth", queue="bulk") == 3
    assert value(scraped, "amani_queue_depth", queue="priority") == 0
    assert value(scraped, "amani_queue_oldest_task_age_seconds", queue="bulk") == pytest.approx(
        90, abs=2
    )
    assert value(scraped, "amani_queue_oldest_task_age_seconds", queue="priority") == 0


@pytest.mark.django_db(transaction=True)
def test_a_dispatcher_waiting_for_tokens_is_counted_on_its_channel(
    client, wave_on_sms, twilio_api, twilio_channel
):
    twilio_channel.messages_per_second = 1  # four messages: three waits for tokens
    twilio_channel.save(update_fields=["messages_per_second"])
    started = time.monotonic()

    with time_machine.travel(DUE, tick=False):
        wave_services.waves_tick(now=DUE)
        scraped = samples(scrape(client))

    assert len(twilio_api.sent) == 4
    channel = str(twilio_channel.pk)
    assert value(scraped, "amani_rate_limit_refusals_total", channel_id=channel) >= 1
    waited = value(scraped, "amani_rate_limit_wait_seconds_total", channel_id=channel)
    assert 1.5 <= waited <= time.monotonic() - started


def test_webhook_latencies_are_kept_in_the_process_and_written_within_a_second():
    redis = redis_client()
    for seconds in (0.002, 0.003, 0.2):
        metrics.webhook_handled(webhook="twilio-status", seconds=seconds)

    kept = redis.hgetall(metrics.WEBHOOK_KEY)  # nothing yet: one write a second, at most
    deadline = time.monotonic() + 5
    while not redis.hgetall(metrics.WEBHOOK_KEY) and time.monotonic() < deadline:
        time.sleep(0.05)
    written = {k.decode(): float(v) for k, v in redis.hgetall(metrics.WEBHOOK_KEY).items()}

    assert kept == {}
    assert written["twilio-status|count"] == 3
    assert written["twilio-status|0.005"] == 2
    assert written["twilio-status|0.25"] == 1
    assert written["twilio-status|sum"] == pytest.approx(0.205)


@pytest.mark.django_db
def test_a_scrape_shows_the_webhook_latencies_its_own_process_still_keeps(client):
    metrics.webhook_handled(webhook="telegram-update", seconds=0.004)

    scraped = samples(scrape(client))

    assert value(scraped, "amani_webhook_duration_seconds_count", webhook="telegram-update") == 1
