"""Dispatch: batches claimed once across workers, sent concurrently, leases that come back."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from outreach.models import (
    ConsentStatus,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    Subscriber,
)
from outreach.services.dispatch import claim_batch, claimed_messages, dispatch_channel
from outreach.services.outbound import MAX_ATTEMPTS, messages_take_in_flight, transmit
from outreach.services.sweeper import release_expired_leases
from tests.support.people import with_contacts

# The dispatcher's threads use their own connections: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(twilio_channel):
    def make(count: int, *, priority: int = 2, status: str = ConsentStatus.OPTED_IN) -> list[int]:
        people = Subscriber.objects.bulk_create(
            with_contacts(
                Subscriber(
                    organization_id=twilio_channel.organization_id,
                    channel=twilio_channel,
                    address=f"+2547{30_000_000 + Subscriber.objects.count() + i:08d}",
                    language="en",
                    consent_status=status,
                )
                for i in range(count)
            )
        )
        messages = OutboundMessage.objects.bulk_create(
            OutboundMessage(
                organization_id=twilio_channel.organization_id,
                channel=twilio_channel,
                subscriber=person,
                to_address=person.address,
                kind=OutboundKind.WAVE,
                body="Amani",
                wave_id=1,
                priority=priority,
            )
            for person in people
        )
        return [m.pk for m in messages]

    return make


def test_every_queued_message_is_sent_exactly_once(twilio_channel, twilio_api, queued):
    ids = queued(60)

    report = dispatch_channel(channel_id=twilio_channel.pk)

    assert report.claimed == 60
    assert len(twilio_api.sent) == 60
    assert len({m.to for m in twilio_api.sent}) == 60
    assert set(OutboundMessage.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        OutboundStatus.SENDING
    }  # Twilio holds them; its callbacks move them on
    assert not OutboundMessage.objects.filter(provider_message_id="").exists()


def test_concurrent_claims_never_overlap(twilio_channel, queued):
    queued(200)
    claims: list[list[int]] = []

    def claim() -> None:
        try:
            claims.append(claim_batch(channel_id=twilio_channel.pk, limit=40).ids)
        finally:
            connection.close()  # this thread's own

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    taken = [message_id for batch in claims for message_id in batch]
    assert len(taken) == len(set(taken)) == 200


def test_replies_go_before_urgent_waves_before_the_rest(twilio_channel, queued):
    normal, urgent, reply = queued(3, priority=2), queued(3, priority=1), queued(3, priority=0)

    assert claim_batch(channel_id=twilio_channel.pk, limit=9).ids == reply + urgent + normal


def test_someone_who_stopped_after_fan_out_is_not_sent_to(twilio_channel, twilio_api, queued):
    ids = queued(3)
    stopped = OutboundMessage.objects.get(pk=ids[1]).subscriber
    Subscriber.objects.filter(pk=stopped.pk).update(consent_status=ConsentStatus.OPTED_OUT)

    dispatch_channel(channel_id=twilio_channel.pk)

    assert len(twilio_api.sent) == 2
    assert stopped.address not in {m.to for m in twilio_api.sent}
    assert OutboundMessage.objects.get(pk=ids[1]).status == OutboundStatus.CANCELED


def test_a_transient_error_is_retried_later_not_at_once(twilio_channel, twilio_api, queued):
    (message_id,) = queued(1)
    twilio_api.fail_next(1, code=20429, status=429)

    dispatch_channel(channel_id=twilio_channel.pk, seconds=1)

    message = OutboundMessage.objects.get(pk=message_id)
    assert message.status == OutboundStatus.QUEUED
    assert message.error_code == "20429"
    assert message.lease_expires_at > timezone.now() - timedelta(seconds=1)


def test_a_dead_workers_lease_comes_back_to_the_queue(twilio_channel, queued):
    ids = queued(5)
    claim_batch(channel_id=twilio_channel.pk, limit=5)
    OutboundMessage.objects.filter(pk__in=ids).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert release_expired_leases() == 5
    assert claim_batch(channel_id=twilio_channel.pk, limit=10).ids == ids


def test_a_message_the_dead_worker_did_send_is_not_sent_again(twilio_channel, twilio_api, queued):
    ids = queued(3)
    claim = claim_batch(channel_id=twilio_channel.pk, limit=3)
    # The worker marked the first message in flight, handed it to Twilio, then died.
    (first,) = messages_take_in_flight(claimed_messages(twilio_channel, claim)[:1])
    transmit(first)
    OutboundMessage.objects.filter(pk__in=ids).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    release_expired_leases()

    dispatch_channel(channel_id=twilio_channel.pk)

    assert [m.to for m in twilio_api.sent].count(first.to_address) == 1
    assert len(twilio_api.sent) == 3
    first.refresh_from_db()
    assert first.provider_message_id == twilio_api.sent[0].sid


def test_a_slow_channel_sends_in_small_groups_and_keeps_its_rate(
    twilio_channel, twilio_api, queued
):
    import time

    from outreach.services.channels import channel_update

    channel_update(channel=twilio_channel, messages_per_second=20)
    queued(30)  # 20 go at once from the full bucket, 10 more take half a second

    started = time.monotonic()
    dispatch_channel(channel_id=twilio_channel.pk)

    assert len(twilio_api.sent) == 30
    assert time.monotonic() - started >= 0.4


def test_a_message_the_provider_refuses_does_not_stop_the_batch(twilio_channel, twilio_api, queued):
    ids = queued(3)
    twilio_api.fail_next(1, code=21211, status=400)  # not a valid number

    report = dispatch_channel(channel_id=twilio_channel.pk)

    assert report.claimed == 3
    assert len(twilio_api.sent) == 2
    statuses = list(OutboundMessage.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert sorted(statuses) == [
        OutboundStatus.FAILED,
        OutboundStatus.SENDING,
        OutboundStatus.SENDING,
    ]


def ready_now(*ids: int) -> None:
    """Skip a retry's backoff: the message may be claimed at once."""
    OutboundMessage.objects.filter(pk__in=ids, status=OutboundStatus.QUEUED).update(
        lease_expires_at=None
    )


@pytest.fixture
def short_timeout(settings):
    settings.TWILIO_TIMEOUT_SECONDS = 0.5


def test_a_read_timeout_after_the_provider_took_it_is_reconciled_not_sent_again(
    twilio_channel, twilio_api, queued, short_timeout
):
    (message_id,) = queued(1)
    twilio_api.time_out_after_accepting(1, seconds=2)

    dispatch_channel(channel_id=twilio_channel.pk)
    in_doubt = OutboundMessage.objects.get(pk=message_id)
    ready_now(message_id)
    dispatch_channel(channel_id=twilio_channel.pk)

    assert in_doubt.status == OutboundStatus.QUEUED
    assert in_doubt.outcome_unknown_since is not None
    assert len(twilio_api.sent) == 1
    message = OutboundMessage.objects.get(pk=message_id)
    assert message.provider_message_id == twilio_api.sent[0].sid
    assert message.outcome_unknown_since is None


def test_a_connection_cut_after_the_provider_took_it_is_reconciled_not_sent_again(
    twilio_channel, twilio_api, queued
):
    (message_id,) = queued(1)
    twilio_api.drop_after_accepting(1)

    dispatch_channel(channel_id=twilio_channel.pk)
    ready_now(message_id)
    dispatch_channel(channel_id=twilio_channel.pk)

    assert len(twilio_api.sent) == 1
    message = OutboundMessage.objects.get(pk=message_id)
    assert message.provider_message_id == twilio_api.sent[0].sid


def test_a_failed_lookup_leaves_the_outcome_unknown_and_asks_again(
    twilio_channel, twilio_api, queued, short_timeout
):
    (message_id,) = queued(1)
    twilio_api.time_out_after_accepting(1, seconds=2)
    dispatch_channel(channel_id=twilio_channel.pk)
    twilio_api.latency = 1.0  # the lookup times out too
    ready_now(message_id)

    dispatch_channel(channel_id=twilio_channel.pk)
    still_in_doubt = OutboundMessage.objects.get(pk=message_id)
    twilio_api.latency = 0.0
    ready_now(message_id)
    dispatch_channel(channel_id=twilio_channel.pk)

    assert still_in_doubt.status == OutboundStatus.QUEUED
    assert still_in_doubt.outcome_unknown_since is not None
    assert len(twilio_api.sent) == 1
    assert OutboundMessage.objects.get(pk=message_id).provider_message_id == twilio_api.sent[0].sid


def test_an_identical_earlier_message_is_not_taken_for_the_one_in_doubt(
    twilio_channel, twilio_api, queued
):
    (message_id,) = queued(1)
    OutboundMessage.objects.filter(pk=message_id).update(
        created_at=timezone.now() - timedelta(minutes=3)  # fanned out a while ago
    )
    message = OutboundMessage.objects.get(pk=message_id)
    # The same words reached this number two minutes ago (another wave, say).
    earlier = transmit(message)
    twilio_api.sent[0].created_at -= timedelta(minutes=2)
    # A worker marks the message in flight and dies before its call leaves.
    claim = claim_batch(channel_id=twilio_channel.pk, limit=1)
    messages_take_in_flight(claimed_messages(twilio_channel, claim))
    OutboundMessage.objects.filter(pk=message_id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    release_expired_leases()

    dispatch_channel(channel_id=twilio_channel.pk)

    assert len(twilio_api.sent) == 2
    recorded = OutboundMessage.objects.get(pk=message_id).provider_message_id
    assert recorded == twilio_api.sent[1].sid != earlier.provider_message_id


def test_a_live_workers_lease_never_lapses_while_it_waits_for_tokens(
    twilio_channel, twilio_api, queued, settings
):
    from outreach.services.channels import channel_update

    settings.DISPATCH_LEASE_SECONDS = 1
    channel_update(channel=twilio_channel, messages_per_second=10)
    ids = queued(10)
    three_segments = "Amani " * 70  # 420 GSM-7 characters: 3 segments
    OutboundMessage.objects.filter(pk__in=ids).update(body=three_segments, segments=3)
    sweeping = threading.Event()

    def sweep_and_dispatch() -> None:
        # Another worker: takes back expired leases and dispatches what comes back.
        try:
            while not sweeping.is_set():
                release_expired_leases()
                dispatch_channel(channel_id=twilio_channel.pk, seconds=0.2)
        finally:
            connection.close()

    other = threading.Thread(target=sweep_and_dispatch)
    other.start()
    try:
        dispatch_channel(channel_id=twilio_channel.pk)  # 30 segments at 10/s: 2 s, lease 1 s
    finally:
        sweeping.set()
        other.join()

    recipients = [m.to for m in twilio_api.sent]
    assert len(recipients) == len(set(recipients)) == 10
    assert set(OutboundMessage.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}


def test_a_worker_whose_claim_was_taken_back_neither_sends_nor_records(
    twilio_channel, twilio_api, queued
):
    from outreach.channels.base import SendResult
    from outreach.services.outbound import messages_record_sent

    ids = queued(3)
    stale = claimed_messages(twilio_channel, claim_batch(channel_id=twilio_channel.pk, limit=3))
    OutboundMessage.objects.filter(pk__in=ids).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    release_expired_leases()
    dispatch_channel(channel_id=twilio_channel.pk)  # the new holder sends them

    assert messages_take_in_flight(stale) == []
    messages_record_sent([(stale[0], SendResult("SMstale", OutboundStatus.SENDING))])
    assert len(twilio_api.sent) == 3
    first = OutboundMessage.objects.get(pk=ids[0])
    (provider_copy,) = twilio_api.sent_to(first.to_address)
    assert first.provider_message_id == provider_copy.sid


def test_a_stop_during_a_claimed_batch_is_not_sent(twilio_channel, twilio_api, queued):
    from outreach.models import ConsentKind, ConsentSource
    from outreach.services.channels import channel_update
    from outreach.services.consent import consent_record

    channel_update(channel=twilio_channel, messages_per_second=10)
    ids = queued(16)  # one batch; 10 go from the full bucket, then one every 0.1 s
    last = OutboundMessage.objects.get(pk=ids[-1]).subscriber

    def stop_at_half_a_second() -> None:
        try:
            time.sleep(0.5)
            consent_record(subscriber=last, kind=ConsentKind.OPT_OUT, source=ConsentSource.KEYWORD)
        finally:
            connection.close()

    stopper = threading.Thread(target=stop_at_half_a_second)
    stopper.start()
    report = dispatch_channel(channel_id=twilio_channel.pk)
    stopper.join()

    assert report.claimed == 16
    assert twilio_api.sent_to(last.address) == []
    assert len(twilio_api.sent) == 15
    assert OutboundMessage.objects.get(pk=ids[-1]).status == OutboundStatus.CANCELED


def test_a_message_whose_worker_keeps_dying_ends_failed(twilio_channel, twilio_api, queued):
    (message_id,) = queued(1)

    for _ in range(MAX_ATTEMPTS):
        claim_batch(channel_id=twilio_channel.pk, limit=1)
        OutboundMessage.objects.filter(pk=message_id).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
        release_expired_leases()

    message = OutboundMessage.objects.get(pk=message_id)
    assert message.status == OutboundStatus.FAILED
    assert f"after {MAX_ATTEMPTS} attempts" in message.error_message
    assert twilio_api.sent == []


def test_a_lookup_that_keeps_failing_ends_failed_and_never_sends_twice(
    twilio_channel, twilio_api, queued, short_timeout
):
    (message_id,) = queued(1)
    twilio_api.time_out_after_accepting(1, seconds=2)
    dispatch_channel(channel_id=twilio_channel.pk)
    twilio_api.latency = 1.0  # every lookup times out from now on

    for _ in range(MAX_ATTEMPTS):
        ready_now(message_id)
        dispatch_channel(channel_id=twilio_channel.pk)

    message = OutboundMessage.objects.get(pk=message_id)
    assert message.status == OutboundStatus.FAILED
    assert message.error_code == "unknown"
    assert len(twilio_api.sent) == 1


def test_a_channel_never_has_more_dispatchers_than_its_slots(
    twilio_channel, twilio_api, queued, settings
):
    from outreach.dispatchers import dispatcher_slot, dispatchers_active
    from outreach.tasks import dispatch

    settings.DISPATCHERS_PER_CHANNEL = 2
    queued(3)

    with dispatcher_slot(twilio_channel.pk), dispatcher_slot(twilio_channel.pk):
        assert dispatchers_active(twilio_channel.pk) == 2
        busy = dispatch(twilio_channel.pk)  # in-process, as the worker runs it
        assert twilio_api.sent == []
    done = dispatch(twilio_channel.pk)  # in-process, as the worker runs it

    assert busy == {"busy": 1}
    assert done == {OutboundStatus.SENDING: 3}
    assert dispatchers_active(twilio_channel.pk) == 0


def test_someone_erased_while_their_message_is_claimed_is_not_sent_to(
    twilio_channel, twilio_api, queued
):
    from outreach.services.subscribers import subscriber_erase

    ids = queued(2)
    claimed = claimed_messages(twilio_channel, claim_batch(channel_id=twilio_channel.pk, limit=2))
    erased = OutboundMessage.objects.get(pk=ids[0]).subscriber
    address = erased.address
    subscriber_erase(subscriber=erased)

    sendable = messages_take_in_flight(claimed)

    assert [message.pk for message in sendable] == [ids[1]]
    assert twilio_api.sent_to(address) == []
    assert OutboundMessage.objects.get(pk=ids[0]).status == OutboundStatus.CANCELED


def test_a_batch_is_no_more_than_half_a_lease_of_the_channels_rate_in_segments(
    twilio_channel, settings
):
    from outreach.services.channels import channel_update
    from outreach.services.dispatch import batch_size

    settings.DISPATCH_LEASE_SECONDS = 120
    channel_update(channel=twilio_channel, messages_per_second=1)

    assert batch_size(twilio_channel, 16) == 60
    assert batch_size(twilio_channel, 16, segments_per_message=3) == 20
