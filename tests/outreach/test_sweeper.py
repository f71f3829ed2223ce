"""What a lost broker message leaves behind is found again in the database."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from outreach.models import InboundMessage, OutboundMessage, OutboundStatus
from outreach.services.inbound import inbound_receive
from outreach.services.outbound import reply_queue
from outreach.services.subscribers import subscriber_for_address
from outreach.tasks import sweep

pytestmark = pytest.mark.django_db


def test_an_inbound_message_never_routed_is_routed_by_the_sweep(console_channel):
    # No on_commit capture: as if the task never reached the broker.
    inbound, _ = inbound_receive(
        channel=console_channel,
        provider_message_id="console-1",
        from_address="+254712345678",
        body="JOIN",
        received_at=timezone.now(),
    )

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        counts = sweep()

    inbound.refresh_from_db()
    assert counts["inbound"] == 1
    assert inbound.handled_at is not None
    assert inbound.intent == "join"


def test_a_fresh_inbound_message_is_left_to_the_normal_path(console_channel):
    inbound_receive(
        channel=console_channel,
        provider_message_id="console-2",
        from_address="+254712345678",
        body="JOIN",
        received_at=timezone.now(),
    )

    assert sweep() == {"inbound": 0, "replies": 0, "released": 0}
    assert InboundMessage.objects.get().handled_at is None


def test_a_reply_stuck_in_the_queue_is_sent_by_the_sweep(console_channel):
    person = subscriber_for_address(channel=console_channel, address="+254712345678")
    message = reply_queue(subscriber=person, body="Hello", reply_key="help", language="en")

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        counts = sweep()

    assert counts["replies"] == 1
    assert OutboundMessage.objects.get(pk=message.pk).status == OutboundStatus.SENT
