"""Dispatchers that meet: two prefork workers on one channel, a slow provider, a lease shorter
than a batch, STOPs arriving mid-batch, answers the provider never gave. Whatever the timing,
the provider is asked once per (wave, subscriber), and never after a STOP reached the ledger.

Every assertion reads the provider's call log (the local Twilio API's `sent`, with the time
each request arrived); our own tables only say when a STOP was acknowledged. The beat's
tasks run from a fast beat (tests/integration/beat.py) so leases that expire are taken back
within a second, as production's beat would within its own period.
"""

import os
import time

import pytest
from django.conf import settings
from django.test import Client

from outreach.models import OutboundMessage, OutboundStatus
from tests.integration.conftest import wait_until_answering
from tests.integration.delivery import (
    DispatcherWatch,
    due_waves,
    fanned_out,
    opt_outs,
    sms_channel,
    start_sending,
    subscribers,
    text_stop,
    unfinished,
    wait_until,
    wave_calls,
)

pytestmark = pytest.mark.integration

LEASE_SECONDS = 2
# Dispatchers one channel may have at once, whatever the number of fan-outs and workers.
MOST_DISPATCHERS_PER_CHANNEL = 2
WAVES = ("Wave 1:", "Wave 2:", "Wave 3:")


@pytest.fixture
def worker_env(twilio_api_for_workers):
    twilio_api_for_workers.reset()
    return {
        "TWILIO_BASE_URL": twilio_api_for_workers.base_url,
        "TWILIO_TIMEOUT_SECONDS": "1",
        "DISPATCH_LEASE_SECONDS": str(LEASE_SECONDS),
        "DISPATCH_CONCURRENCY": "4",
    }


@pytest.fixture
def two_prefork_workers(start_worker, start_beat):
    workers = [start_worker(pool="prefork", concurrency=2, wait=False) for _ in range(2)]
    wait_until_answering(*workers)  # booted side by side
    start_beat()
    return workers


def test_a_stop_mid_batch_stops_every_later_send_and_no_one_gets_a_wave_twice(
    organization, start_worker, two_prefork_workers, twilio_api_for_workers
):
    api = twilio_api_for_workers
    api.latency = 0.3
    # 4 messages a second: a claimed batch waits for tokens far longer than its 2 s lease.
    channel = sms_channel(organization, messages_per_second=4)
    addresses = subscribers(organization, channel, 20)
    waves = due_waves(organization, channel, [f"{prefix} vote calmly." for prefix in WAVES])

    start_sending(waves)
    assert fanned_out(channel, len(addresses) * len(waves))
    assert wait_until(lambda: sum(wave_calls(api, "Wave ").values()) >= 6, timeout=60)
    stopped = claimed_but_not_sent(channel, api, count=4)
    assert len(stopped) == 4
    client = Client()
    for address in stopped:
        text_stop(client, channel, address)
        time.sleep(0.3)
    assert wait_until(lambda: len(opt_outs(stopped)) == len(stopped), timeout=30)
    assert wait_until(lambda: unfinished(channel) == 0, timeout=120)
    time.sleep(2 * LEASE_SECONDS)  # a second holder of an expired lease would send by now

    calls = {prefix: wave_calls(api, prefix) for prefix in WAVES}
    twice = {(prefix, to): n for prefix, count in calls.items() for to, n in count.items() if n > 1}
    assert twice == {}
    not_reached = [
        (prefix, to)
        for prefix in WAVES
        for to in addresses
        if to not in stopped and calls[prefix][to] != 1
    ]
    assert not_reached == []
    acknowledged = opt_outs(stopped)
    # A call may reach the provider after the STOP only if its message was marked in flight
    # (consent read, under the lock the STOP takes first) before the STOP was recorded.
    marked = {
        (to, body[:7]): in_flight_at
        for to, body, in_flight_at in OutboundMessage.objects.filter(
            channel=channel, to_address__in=stopped, wave_id__isnull=False
        ).values_list("to_address", "body", "in_flight_at")
    }

    def marked_before_the_stop(message) -> bool:
        at = marked[(message.to, message.body[:7])]
        return at is not None and at < acknowledged[message.to]

    after_stop = [
        (message.to, message.body[:7])
        for message in list(api.sent)
        if message.to in acknowledged
        and message.body.startswith("Wave ")
        and message.received_at > acknowledged[message.to]
        and not marked_before_the_stop(message)
    ]
    assert after_stop == []
    # Not vacuous: the STOPs came while some of their messages were still to be sent.
    assert sum(calls[prefix][to] for prefix in WAVES for to in stopped) < len(WAVES) * len(stopped)


def test_a_send_whose_answer_was_lost_is_reconciled_with_the_provider_not_sent_again(
    organization, start_worker, two_prefork_workers, twilio_api_for_workers
):
    api = twilio_api_for_workers
    api.latency = 0.05
    channel = sms_channel(organization, messages_per_second=20)
    addresses = subscribers(organization, channel, 12)
    [wave] = due_waves(organization, channel, ["Wave 1: vote calmly."])
    # Twilio takes the first two and answers too late (a read timeout), then takes two more
    # and closes the connection without answering.
    api.time_out_after_accepting(count=2, seconds=3)
    api.drop_after_accepting(count=2)

    start_sending([wave])
    assert fanned_out(channel, len(addresses))
    assert wait_until(lambda: unfinished(channel) == 0, timeout=90)
    time.sleep(2 * LEASE_SECONDS)

    calls = wave_calls(api, "Wave 1:")
    assert {to: calls[to] for to in addresses if calls[to] != 1} == {}
    recorded = dict(
        OutboundMessage.objects.filter(wave_id=wave.pk).values_list(
            "to_address", "provider_message_id"
        )
    )
    held_by_twilio = {to: api.sent_to(to)[0].sid for to in addresses}
    assert {to: sid for to, sid in recorded.items() if sid != held_by_twilio[to]} == {}


def test_dispatchers_per_channel_stay_bounded_and_their_queue_drains(
    organization, start_worker, two_prefork_workers, twilio_api_for_workers
):
    api = twilio_api_for_workers
    api.latency = 0.2
    channel = sms_channel(organization, messages_per_second=10)
    addresses = subscribers(organization, channel, 30)
    # Three fan-outs on one channel, each starting dispatch; four pool processes to run them.
    waves = due_waves(organization, channel, [f"{prefix} vote calmly." for prefix in WAVES])
    hostnames = f"integration-{os.getpid()}-"

    with DispatcherWatch(channel.pk, hostnames, settings.CELERY_BROKER_URL) as watch:
        start_sending(waves)
        assert fanned_out(channel, len(addresses) * len(waves))
        assert wait_until(lambda: unfinished(channel) == 0, timeout=120)
        finished_at = time.monotonic()
        drained = wait_until(lambda: watch.waiting_now() == 0, timeout=10)
        drained_after = time.monotonic() - finished_at

    assert max(watch.running) >= 1  # the watch did see the wave being dispatched
    assert max(watch.running) <= MOST_DISPATCHERS_PER_CHANNEL
    assert max(watch.waiting) <= MOST_DISPATCHERS_PER_CHANNEL + len(waves)
    assert drained, f"dispatch tasks still queued {drained_after:.1f}s after the wave ended"
    assert OutboundMessage.objects.filter(status=OutboundStatus.QUEUED).count() == 0


def claimed_but_not_sent(channel, api, *, count: int) -> list[str]:
    """Subscribers with a wave message a dispatcher holds but has not sent: a STOP now lands
    mid-batch. The last claimed go last, so their STOP has the longest wait to race with."""
    asked = {message.to for message in list(api.sent)}
    found: list[str] = []
    for status in (OutboundStatus.SENDING, OutboundStatus.QUEUED):
        for to in (
            OutboundMessage.objects.filter(channel=channel, status=status, provider_message_id="")
            .order_by("-id")
            .values_list("to_address", flat=True)
        ):
            if to not in asked and to not in found:
                found.append(to)
            if len(found) == count:
                return found
    return found
