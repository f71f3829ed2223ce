"""staff_reply_send: a member's answer to what a subscriber texted."""

import datetime as dt

import pytest

from outreach.errors import InvalidInput
from outreach.models import ConsentKind, ConsentSource, OutboundKind, OutboundMessage
from outreach.services.consent import consent_record
from outreach.services.inbound import inbound_handle, inbound_receive
from outreach.services.staff_replies import STAFF_REPLY_KEY, staff_reply_send
from outreach.services.subscribers import subscriber_erase, subscriber_for_address
from tests.support.people import opted_in

NUMBER = "+254712345678"


@pytest.fixture
def person(console_channel):
    return opted_in(subscriber_for_address(channel=console_channel, address=NUMBER))


@pytest.fixture
def inbound(console_channel, person):
    message, _ = inbound_receive(
        channel=console_channel,
        provider_message_id="in-1",
        from_address=NUMBER,
        body="Asante, tutaongea lini?",
        received_at=dt.datetime.now(tz=dt.UTC),
    )
    inbound_handle(inbound_id=message.pk)
    message.refresh_from_db()
    return message


def test_it_queues_a_reply_to_the_address_through_the_channel_it_wrote_on(
    console_channel, person, inbound
):
    reply = staff_reply_send(inbound=inbound, body="  Jumamosi saa nne.  ", by=None)

    assert reply.kind == OutboundKind.REPLY
    assert (reply.channel_id, reply.subscriber_id, reply.to_address) == (
        console_channel.pk,
        person.pk,
        NUMBER,
    )
    assert reply.body == "Jumamosi saa nne."
    assert reply.in_reply_to_id == inbound.pk


def test_it_refuses_an_opted_out_address(person, inbound):
    consent_record(subscriber=person, kind=ConsentKind.OPT_OUT, source=ConsentSource.KEYWORD)

    with pytest.raises(InvalidInput) as refused:
        staff_reply_send(inbound=inbound, body="Hello", by=None)

    assert refused.value.field == "body"
    assert not OutboundMessage.objects.filter(reply_key=STAFF_REPLY_KEY).exists()


def test_it_refuses_an_erased_person(person, inbound):
    subscriber_erase(subscriber=person)
    inbound.refresh_from_db()

    with pytest.raises(InvalidInput):
        staff_reply_send(inbound=inbound, body="Hello", by=None)


def test_it_refuses_an_empty_body(inbound):
    with pytest.raises(InvalidInput) as refused:
        staff_reply_send(inbound=inbound, body="   ", by=None)

    assert refused.value.field == "body"
