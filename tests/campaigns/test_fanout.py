"""Fan-out: one message per subscriber, in their language, exactly once, caps respected."""

import datetime as dt

import pytest
import time_machine

from campaigns.models import WaveStatus
from campaigns.services import waves as services
from campaigns.services.fanout import fanout_wave
from outreach.models import (
    ConsentStatus,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    Region,
    Subscriber,
)
from tests.campaigns.conftest import NOW

pytestmark = pytest.mark.django_db

EAT = dt.timezone(dt.timedelta(hours=3))
DUE = dt.datetime(2027, 8, 3, 10, 0, tzinfo=EAT)


@pytest.fixture(autouse=True)
def _before_polling_day():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def sending_wave(campaign, audience, author, reviewer, console_channel, organization):
    kisumu = Region.objects.create(organization=organization, name="Kisumu")
    Subscriber.objects.filter(language="sw").update(region=kisumu)
    wave = services.wave_create(
        campaign=campaign,
        created_by=author.membership.user,
        name="E-7",
        send_at_relative="E-7d 10:00",
        segment=audience,
        channels=[console_channel],
        variants=[
            {"language": "en", "body": "Peace in {region}, from {campaign}."},
            {"language": "sw", "body": "Amani {region}."},
        ],
    )
    services.wave_submit(wave=wave, by=wave.created_by)
    services.wave_approve(wave=wave, by=reviewer.membership.user)
    services.wave_schedule(wave=wave, by=None)
    assert services.waves_tick(now=DUE) == [wave.pk]
    return wave


def test_each_subscriber_gets_one_message_in_their_language_or_the_default(sending_wave):
    audience = fanout_wave(wave_id=sending_wave.pk)

    bodies = dict(OutboundMessage.objects.values_list("subscriber__language", "body"))
    assert audience == {"targeted": 4, "fatigue_capped": 0, "queued": 4}
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
    assert audience == {"targeted": 4, "fatigue_capped": 2, "queued": 2}
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


def test_the_demos_python_writer_makes_the_same_messages_as_the_sql_one(sending_wave, monkeypatch):
    from campaigns.services import fanout

    fanout_wave(wave_id=sending_wave.pk)
    by_sql = sorted(OutboundMessage.objects.values_list("subscriber_id", "body", "segments"))
    OutboundMessage.objects.all().delete()
    monkeypatch.setattr(fanout.connection, "vendor", "sqlite")

    fanout_wave(wave_id=sending_wave.pk)

    by_python = sorted(OutboundMessage.objects.values_list("subscriber_id", "body", "segments"))
    assert by_python == by_sql


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
