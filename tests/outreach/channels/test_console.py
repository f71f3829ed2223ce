"""The console channel reports back like a provider: sent, then delivered or undelivered."""

from collections import Counter

import pytest

from outreach.channels.console import UNREACHABLE
from outreach.models import ConsentKind, ConsentSource, MessageStatusEvent, OutboundStatus
from outreach.services.consent import consent_record
from outreach.services.outbound import message_send, reply_queue
from outreach.services.status import status_reports_apply_all
from outreach.services.subscribers import subscriber_for_address

pytestmark = pytest.mark.django_db


def send_to(channel, address: str):
    person = subscriber_for_address(channel=channel, address=address)
    consent_record(subscriber=person, kind=ConsentKind.OPT_IN, source=ConsentSource.STAFF)
    message = reply_queue(
        subscriber=person, body="Amani: vote in peace.", reply_key="help", language="en"
    )
    message_send(message_id=message.pk)
    return message


def test_a_console_message_is_reported_sent_then_delivered_through_the_status_inbox(
    console_channel,
):
    message = send_to(console_channel, "+254712000001")

    status_reports_apply_all()  # the inbox waits for the record, then applies the reports

    message.refresh_from_db()
    reported = list(
        MessageStatusEvent.objects.filter(message=message).values_list("status", flat=True)
    )
    assert reported[0] == OutboundStatus.SENT
    assert message.status in (OutboundStatus.DELIVERED, OutboundStatus.UNDELIVERED)
    assert reported[-1] == message.status


def test_a_realistic_few_console_messages_are_undelivered_with_twilios_code(console_channel):
    console_channel.messages_per_second = 10_000  # no waiting for tokens here
    console_channel.save()
    messages = [send_to(console_channel, f"+2547120{index:05d}") for index in range(300)]

    status_reports_apply_all()

    outcomes = Counter()
    for message in messages:
        message.refresh_from_db()
        outcomes[(message.status, message.error_code)] += 1
    undelivered = outcomes[(OutboundStatus.UNDELIVERED, UNREACHABLE)]
    assert outcomes[(OutboundStatus.DELIVERED, "")] + undelivered == 300
    assert 3 <= undelivered <= 30  # about 4%
