"""Dispatch: batches claimed once across workers, sent concurrently, leases that come back."""

import threading
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
from outreach.services.dispatch import claim_batch, dispatch_channel
from outreach.services.sweeper import release_expired_leases

# The dispatcher's threads use their own connections: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(twilio_channel):
    def make(count: int, *, priority: int = 2, status: str = ConsentStatus.OPTED_IN) -> list[int]:
        people = Subscriber.objects.bulk_create(
            Subscriber(
                organization_id=twilio_channel.organization_id,
                channel=twilio_channel,
                address=f"+2547{30_000_000 + Subscriber.objects.count() + i:08d}",
                language="en",
                consent_status=status,
            )
            for i in range(count)
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
    from outreach.channels.registry import adapter_for

    ids = queued(3)
    claim_batch(channel_id=twilio_channel.pk, limit=3)
    # The worker handed the first message to Twilio, then died before recording it.
    first = OutboundMessage.objects.get(pk=ids[0])
    adapter_for(twilio_channel).send(
        twilio_channel, to=first.to_address, body=first.body, status_callback="http://x/status/"
    )
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
