"""Dispatch keeps the waves' holds at the provider's door: a wave still sending at Kenya's
18:00 cut-off sends nothing more until 08:00, and a cancelled wave's message that a dead
worker left behind comes back cancelled, never queued (issue 10, items 6 and 8)."""

import datetime as dt
import logging

import pytest
import time_machine
from django.utils import timezone

from campaigns.services import waves as services
from campaigns.services.fanout import fanout_wave
from outreach.models import OutboundMessage, OutboundStatus
from outreach.services.dispatch import claim_batch, claimed_messages, dispatch_channel
from outreach.services.outbound import messages_take_in_flight
from outreach.services.sweeper import release_expired_leases
from tests.campaigns.conftest import DUE, EAT

# Dispatch sends on threads with connections of their own: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

EVENING = dt.datetime(2027, 8, 3, 18, 5, tzinfo=EAT)
NEXT_MORNING = dt.datetime(2027, 8, 4, 8, 0, tzinfo=EAT)
BEFORE_OPENING = dt.datetime(2027, 8, 3, 7, 0, tzinfo=EAT)


@pytest.fixture(autouse=True)
def _fixtures_built_before_the_morning_opening():
    """The wave's fixtures commit, so its fan-out and dispatch run at once, on the clock:
    at 07:00 in Nairobi they hold every message, whatever hour the suite runs at."""
    with time_machine.travel(BEFORE_OPENING, tick=False):
        yield


def console_lines(caplog) -> list[str]:
    """What the console channel (the demo's provider) was handed."""
    return [r.getMessage() for r in caplog.records if r.name == "amani.console"]


def test_a_wave_still_sending_at_the_cut_off_sends_nothing_until_the_morning(
    sending_wave, console_channel, caplog
):
    caplog.set_level(logging.INFO, logger="amani.console")
    with time_machine.travel(DUE, tick=False):
        fanout_wave(wave_id=sending_wave.pk)

    with time_machine.travel(EVENING, tick=False):
        report = dispatch_channel(channel_id=console_channel.pk)
    evening = console_lines(caplog)
    with time_machine.travel(NEXT_MORNING + dt.timedelta(minutes=1), tick=False):
        dispatch_channel(channel_id=console_channel.pk)

    messages = OutboundMessage.objects.filter(wave_id=sending_wave.pk)
    assert report.claimed == messages.count() > 0
    assert evening == []
    assert len(console_lines(caplog)) == messages.count()
    assert set(messages.values_list("attempts", flat=True)) == {1}  # a hold is not an attempt


def test_a_cancelled_waves_message_left_by_a_dead_worker_comes_back_cancelled(
    sending_wave, console_channel, caplog
):
    caplog.set_level(logging.INFO, logger="amani.console")
    with time_machine.travel(DUE, tick=False):
        fanout_wave(wave_id=sending_wave.pk)
        claim = claim_batch(channel_id=console_channel.pk, limit=1)
        messages_take_in_flight(claimed_messages(console_channel, claim))  # then it died
        services.wave_cancel(wave=sending_wave, by=sending_wave.created_by)
    OutboundMessage.objects.filter(pk__in=claim.ids).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    with time_machine.travel(DUE + dt.timedelta(minutes=10), tick=False):
        release_expired_leases()
        dispatch_channel(channel_id=console_channel.pk)

    (left_behind,) = OutboundMessage.objects.filter(pk__in=claim.ids)
    assert left_behind.status == OutboundStatus.CANCELED
    assert console_lines(caplog) == []
