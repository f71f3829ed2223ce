"""Fan-out: one message per subscriber, in their language, exactly once, caps respected."""

import datetime as dt
import threading
import uuid
from contextlib import contextmanager

import psycopg
import pytest
import time_machine
from django.db import connection

from campaigns.models import Variant, Wave, WaveStatus
from campaigns.services import waves as services
from campaigns.services.fanout import FANOUT_GRACE, FANOUT_LOCK, fanout_wave
from outreach.models import (
    ConsentStatus,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    Subscriber,
)
from tests.campaigns.conftest import DUE, NOW

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _before_polling_day():
    with time_machine.travel(NOW, tick=False):
        yield


def test_each_subscriber_gets_one_message_in_their_language_or_the_default(sending_wave):
    audience = fanout_wave(wave_id=sending_wave.pk)

    bodies = dict(OutboundMessage.objects.values_list("subscriber__language", "body"))
    assert audience == {"targeted": 4, "fatigue_capped": 0, "queued": 4, "no_open_channel": 0}
    assert bodies["sw"] == "Amani Kisumu. Jibu STOP kujiondoa."
    assert bodies["en"] == "Peace in , from Amani 2027. Reply STOP to opt out."
    assert bodies["fr"] == bodies["en"]  # no French variant: the campaign default
    assert set(OutboundMessage.objects.values_list("kind", "status", "priority")) == {
        (OutboundKind.WAVE, OutboundStatus.QUEUED, 2)
    }


def test_running_fan_out_again_creates_nothing(sending_wave):
    fanout_wave(wave_id=sending_wave.pk)
    again = fanout_wave(wave_id=sending_wave.pk)

    assert again["queued"] == 4
    assert OutboundMessage.objects.count() == 4


def test_opted_out_subscribers_get_nothing(sending_wave):
    Subscriber.objects.filter(language="fr").update(consent_status=ConsentStatus.OPTED_OUT)

    fanout_wave(wave_id=sending_wave.pk)

    assert not OutboundMessage.objects.filter(subscriber__language="fr").exists()


def test_the_fatigue_cap_skips_and_counts_the_capped(sending_wave, console_channel):
    sending_wave.campaign.fatigue_cap_per_week = 1
    sending_wave.campaign.save()
    tired = Subscriber.objects.get(language="en")
    OutboundMessage.objects.create(
        organization_id=tired.organization_id,
        channel=console_channel,
        subscriber=tired,
        kind=OutboundKind.WAVE,
        body="earlier",
        wave_id=999_999,
    )

    audience = fanout_wave(wave_id=sending_wave.pk)

    assert audience["fatigue_capped"] == 1
    assert not OutboundMessage.objects.filter(wave_id=sending_wave.pk, subscriber=tired).exists()


def test_the_fatigue_cap_holds_across_chunks(sending_wave, console_channel, monkeypatch):
    from campaigns.services import fanout

    monkeypatch.setattr(fanout, "CHUNK", 1)  # every subscriber in a chunk of their own
    sending_wave.campaign.fatigue_cap_per_week = 1
    sending_wave.campaign.save()
    tired = list(Subscriber.objects.order_by("pk")[1:3])
    for person in tired:
        OutboundMessage.objects.create(
            organization_id=person.organization_id,
            channel=console_channel,
            subscriber=person,
            kind=OutboundKind.WAVE,
            body="earlier",
            wave_id=999_999,
        )

    audience = fanout_wave(wave_id=sending_wave.pk)

    reached = set(
        OutboundMessage.objects.filter(wave_id=sending_wave.pk).values_list("subscriber", flat=True)
    )
    assert audience == {"targeted": 4, "fatigue_capped": 2, "queued": 2, "no_open_channel": 0}
    assert reached.isdisjoint({person.pk for person in tired})


def test_the_opt_out_footer_comes_on_the_first_message_and_every_nth(sending_wave):
    fanout_wave(wave_id=sending_wave.pk)
    first = OutboundMessage.objects.filter(wave_id=sending_wave.pk).first()

    assert first.body.endswith("STOP kujiondoa.") or first.body.endswith("opt out.")


def test_a_wave_paused_during_fan_out_holds_its_messages(sending_wave):
    services.wave_pause(wave=sending_wave, by=sending_wave.created_by)

    fanout_wave(wave_id=sending_wave.pk)

    assert not OutboundMessage.objects.exists()  # fan-out waits for a sending wave


def test_pausing_holds_queued_messages_and_resuming_releases_them(sending_wave):
    fanout_wave(wave_id=sending_wave.pk)

    services.wave_pause(wave=sending_wave, by=sending_wave.created_by)
    held = OutboundMessage.objects.filter(status=OutboundStatus.HELD).count()
    services.wave_resume(wave=sending_wave, by=sending_wave.created_by)

    assert held == 4
    assert OutboundMessage.objects.filter(status=OutboundStatus.QUEUED).count() == 4
    sending_wave.refresh_from_db()
    assert sending_wave.status == WaveStatus.SENDING


def test_cancelling_cancels_what_has_not_gone(sending_wave):
    fanout_wave(wave_id=sending_wave.pk)

    services.wave_cancel(wave=sending_wave, by=sending_wave.created_by)

    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"canceled"}


def test_a_wave_is_sent_once_every_message_has_left(sending_wave):
    fanout_wave(wave_id=sending_wave.pk)
    OutboundMessage.objects.update(status=OutboundStatus.SENT, provider_message_id="x")

    services.waves_tick(now=DUE)

    sending_wave.refresh_from_db()
    assert sending_wave.status == WaveStatus.SENT


def test_a_link_goes_out_as_one_tracked_short_link_per_language(sending_wave):
    from django.conf import settings

    from campaigns.models import TrackedLink

    sending_wave.variants.filter(language="en").update(
        body="Take the pledge: {link:https://peace.example/pledge}"
    )

    fanout_wave(wave_id=sending_wave.pk)

    link = TrackedLink.objects.get()
    short = f"{settings.PUBLIC_BASE_URL}/l/{link.code}"
    english = list(OutboundMessage.objects.filter(language="en").values_list("body", flat=True))
    assert (link.wave, link.language, link.url) == (
        sending_wave,
        "en",
        "https://peace.example/pledge",
    )
    assert english == [f"Take the pledge: {short} Reply STOP to opt out."] * 2  # en and fr


# --- cancel and pause are final, chunk by chunk (issue 10, item 6) ---------------------------


@pytest.fixture
def between_chunks(monkeypatch):
    """Run `action` once, right after fan-out wrote its first chunk (one subscriber each),
    in that chunk's transaction."""
    from campaigns.services import fanout

    monkeypatch.setattr(fanout, "CHUNK", 1)
    real_write = fanout._insert_select
    after_each: list[int] = []

    def arrange(action):
        def write(*args, **kwargs):
            real_write(*args, **kwargs)
            if not after_each:
                action()
            after_each.append(OutboundMessage.objects.filter(status=OutboundStatus.QUEUED).count())

        monkeypatch.setattr(fanout, "_insert_select", write)
        return after_each

    return arrange


def test_a_wave_paused_mid_fan_out_queues_no_later_chunk(sending_wave, between_chunks):
    queued_after_each_chunk = between_chunks(
        lambda: services.wave_pause(wave=sending_wave, by=sending_wave.created_by)
    )

    fanout_wave(wave_id=sending_wave.pk)

    assert queued_after_each_chunk == [0, 0, 0, 0]  # a dispatcher never finds one to claim
    assert OutboundMessage.objects.filter(status=OutboundStatus.HELD).count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_wave_fans_out_no_further_chunk(
    campaign, audience, console_channel, between_chunks
):
    # A sending wave built directly: with committed rows the tick would fan it out at once.
    wave = Wave.objects.create(
        organization=campaign.organization,
        campaign=campaign,
        name="E-7",
        segment=audience,
        status=WaveStatus.SENDING,
    )
    wave.channels.set([console_channel])
    Variant.objects.create(wave=wave, language="en", body="Amani.")
    cancelled, fanned_out = threading.Event(), threading.Event()
    queued_after_cancel: list[int] = []

    def cancel_as_a_manager_elsewhere() -> None:
        try:
            services.wave_cancel(wave=wave, by=None)
            cancelled.set()
            while not fanned_out.wait(0.005):
                queued = OutboundMessage.objects.filter(wave_id=wave.pk, status="queued")
                queued_after_cancel.append(queued.count())
        finally:
            connection.close()  # this thread's own

    manager = threading.Thread(target=cancel_as_a_manager_elsewhere)

    def cancel_before_the_first_chunk_commits() -> None:
        manager.start()
        assert cancelled.wait(5)

    between_chunks(cancel_before_the_first_chunk_commits)

    fanout_wave(wave_id=wave.pk)
    fanned_out.set()
    manager.join()

    assert not OutboundMessage.objects.filter(wave_id=wave.pk).exists()
    assert set(queued_after_cancel) <= {0}  # no dispatcher ever found one to claim


def _claim(message: OutboundMessage, *, in_flight: bool) -> None:
    """What a dispatcher does: claim (token, lease), and mark in flight right before the call."""
    now = dt.datetime.now(dt.UTC)
    message.status = OutboundStatus.SENDING
    message.claim_token = uuid.uuid4()
    message.lease_expires_at = now + dt.timedelta(minutes=2)
    message.in_flight_at = now if in_flight else None
    message.save()


def test_cancelling_takes_back_claimed_messages_not_yet_handed_to_the_provider(sending_wave):
    fanout_wave(wave_id=sending_wave.pk)
    waiting, in_flight = OutboundMessage.objects.order_by("pk")[:2]
    _claim(waiting, in_flight=False)
    _claim(in_flight, in_flight=True)

    services.wave_cancel(wave=sending_wave, by=sending_wave.created_by)

    waiting.refresh_from_db()
    in_flight.refresh_from_db()
    assert waiting.status == OutboundStatus.CANCELED
    assert waiting.claim_token is None  # the dispatcher's fence no longer matches
    assert waiting.lease_expires_at is None  # nor does the sweeper hand it out again
    assert in_flight.status == OutboundStatus.SENDING  # the provider has it: its outcome decides
    assert in_flight.claim_token is not None


def test_pausing_holds_claimed_messages_not_yet_handed_to_the_provider(sending_wave):
    fanout_wave(wave_id=sending_wave.pk)
    waiting, in_flight = OutboundMessage.objects.order_by("pk")[:2]
    _claim(waiting, in_flight=False)
    _claim(in_flight, in_flight=True)

    services.wave_pause(wave=sending_wave, by=sending_wave.created_by)
    waiting.refresh_from_db()
    held = (waiting.status, waiting.claim_token)
    services.wave_resume(wave=sending_wave, by=sending_wave.created_by)

    waiting.refresh_from_db()
    in_flight.refresh_from_db()
    assert held == (OutboundStatus.HELD, None)
    assert waiting.status == OutboundStatus.QUEUED  # resumed: claimed again like any other
    assert in_flight.status == OutboundStatus.SENDING


# --- a lost fan-out task is redone (issue 10, item 7) ----------------------------------------


def test_a_wave_whose_fan_out_task_was_lost_is_fanned_out_by_a_later_tick(
    sending_wave, django_capture_on_commit_callbacks
):
    # The tick moved the wave to sending; its fan-out task never ran (a Redis restart).
    with django_capture_on_commit_callbacks(execute=True):
        services.waves_tick(now=DUE + FANOUT_GRACE + dt.timedelta(seconds=5))

    sending_wave.refresh_from_db()
    assert sending_wave.audience == {
        "targeted": 4,
        "fatigue_capped": 0,
        "queued": 4,
        "no_open_channel": 0,
    }
    assert OutboundMessage.objects.filter(wave_id=sending_wave.pk).count() == 4
    assert sending_wave.fanned_out_at is not None


def test_a_fan_out_within_its_grace_period_is_not_started_again(
    sending_wave, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        services.waves_tick(now=DUE + FANOUT_GRACE - dt.timedelta(seconds=5))

    assert enqueued == []
    assert not OutboundMessage.objects.exists()


def test_a_redone_fan_out_is_not_redone_again_at_every_tick(
    sending_wave, django_capture_on_commit_callbacks
):
    later = DUE + FANOUT_GRACE + dt.timedelta(seconds=5)
    with django_capture_on_commit_callbacks(execute=False) as first:
        services.waves_tick(now=later)
    with django_capture_on_commit_callbacks(execute=False) as second:
        services.waves_tick(now=later + dt.timedelta(seconds=5))

    assert len(first) == 1  # the fan-out enqueued once per grace period, not every 5 seconds
    assert second == []


def test_a_fan_out_still_running_elsewhere_is_not_run_twice(sending_wave):
    with fanout_running_elsewhere(sending_wave.pk):
        audience = fanout_wave(wave_id=sending_wave.pk)

    assert audience == {}
    assert not OutboundMessage.objects.exists()


@contextmanager
def fanout_running_elsewhere(wave_id: int):
    """Another worker's fan-out of the wave, holding its lock on its own connection."""
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [FANOUT_LOCK, wave_id])
        yield
    finally:
        other.close()
