"""A wave's live progress per channel: queued, sent, delivered, failed, held by the sending
window or by a pause — counted in one grouped query over the wave's messages."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.selectors.progress import wave_progress
from campaigns.services import waves as services
from campaigns.services.fanout import fanout_wave
from outreach.models import OutboundMessage, OutboundStatus
from outreach.services.dispatch import dispatch_channel
from tests.campaigns.conftest import DUE, EAT

EVENING = dt.datetime(2027, 8, 3, 18, 30, tzinfo=EAT)  # Kenya's sending window closed at 18:00


def counts_of(progress, channel):
    (line,) = [line for line in progress.channels if line.channel_id == channel.pk]
    return line.counts


@pytest.mark.django_db
def test_a_fanned_out_wave_shows_its_messages_queued_on_its_channel(sending_wave, console_channel):
    fanout_wave(wave_id=sending_wave.pk)

    with time_machine.travel(DUE, tick=False):
        progress = wave_progress(sending_wave, now=DUE)

    counts = counts_of(progress, console_channel)
    assert (counts.queued, counts.sent, counts.delivered, counts.held) == (4, 0, 0, 0)
    assert progress.totals.total == 4
    assert progress.hold is None
    assert counts.bar == [("queued", 100.0)]


@pytest.mark.django_db
def test_the_messages_are_read_in_one_grouped_query(sending_wave):
    fanout_wave(wave_id=sending_wave.pk)
    sending_wave.refresh_from_db()

    with CaptureQueriesContext(connection) as queries:
        wave_progress(sending_wave, now=DUE)

    on_messages = [q["sql"] for q in queries if '"outreach_outboundmessage"' in q["sql"]]
    assert len(on_messages) == 1
    assert "GROUP BY" in on_messages[0]


@pytest.mark.django_db
def test_after_the_evening_cut_off_the_queued_are_held_by_the_window_until_the_morning(
    sending_wave, console_channel
):
    fanout_wave(wave_id=sending_wave.pk)
    sending_wave.refresh_from_db()

    progress = wave_progress(sending_wave, now=EVENING)

    counts = counts_of(progress, console_channel)
    assert (counts.queued, counts.held_by_window, counts.held_paused) == (0, 4, 0)
    assert progress.hold is not None
    assert "quiet hours" in progress.hold.reason
    assert progress.hold.until_local == dt.datetime(2027, 8, 4, 8, 0, tzinfo=EAT)
    assert progress.hold.until_utc == dt.datetime(2027, 8, 4, 5, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_a_paused_waves_messages_are_held_until_resumed(sending_wave, console_channel):
    fanout_wave(wave_id=sending_wave.pk)
    services.wave_pause(wave=sending_wave, by=sending_wave.created_by)
    sending_wave.refresh_from_db()

    counts = counts_of(wave_progress(sending_wave, now=DUE), console_channel)

    assert (counts.queued, counts.held_paused, counts.held) == (0, 4, 4)


@pytest.mark.django_db
def test_a_wave_not_started_lists_its_channels_with_nothing_yet(sending_wave, console_channel):
    progress = wave_progress(sending_wave, now=DUE)  # its fan-out has not run

    assert [line.channel_id for line in progress.channels] == [console_channel.pk]
    assert progress.totals.total == 0
    assert counts_of(progress, console_channel).bar == []


@pytest.mark.django_db(transaction=True)
def test_once_dispatched_the_console_channels_receipts_show_as_delivered_or_failed(
    campaign, audience, console_channel, organization, author, reviewer
):
    with time_machine.travel(DUE - dt.timedelta(days=1), tick=False):
        wave = services.wave_create(
            campaign=campaign,
            created_by=author.membership.user,
            name="E-7",
            send_at_relative="E-7d 10:00",
            segment=audience,
            channels=[console_channel],
            variants=[{"language": "en", "body": "Peace in {campaign}."}],
        )
        services.wave_submit(wave=wave, by=wave.created_by)
        services.wave_approve(wave=wave, by=reviewer.membership.user)
        services.wave_schedule(wave=wave, by=None)
    with time_machine.travel(DUE, tick=False):
        services.waves_tick(now=DUE)  # committed rows: fan-out and dispatch run at once
        dispatch_channel(channel_id=console_channel.pk)
        wave.refresh_from_db()
        progress = wave_progress(wave, now=DUE)

    messages = OutboundMessage.objects.filter(wave_id=wave.pk)
    delivered = messages.filter(status=OutboundStatus.DELIVERED).count()
    undelivered = messages.filter(status=OutboundStatus.UNDELIVERED).count()
    counts = counts_of(progress, console_channel)
    assert (counts.delivered, counts.failed, counts.queued) == (delivered, undelivered, 0)
    assert counts.delivered + counts.failed == 4
