"""Inbox: what subscribers texted, the free replies needing a look, and a reply from the
console through the channel they wrote on."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from outreach.models import ConsentKind, ConsentSource, OutboundMessage, OutboundStatus, Role
from outreach.privacy import mask_phone_number
from outreach.services.consent import consent_record
from outreach.services.inbound import inbound_handle, inbound_receive
from outreach.services.outbound import message_send
from outreach.services.subscribers import subscriber_for_address
from tests.support.people import opted_in

NUMBER = "+254712345678"
SENDING_HOURS = "2026-12-01 09:00:00+03:00"


@pytest.fixture
def person(console_channel):
    return opted_in(subscriber_for_address(channel=console_channel, address=NUMBER))


@pytest.fixture
def free_reply(console_channel, person):
    inbound, _ = inbound_receive(
        channel=console_channel,
        provider_message_id="in-1",
        from_address=NUMBER,
        body="Where can we talk about the rumours at school?",
        received_at=dt.datetime.now(tz=dt.UTC),
    )
    inbound_handle(inbound_id=inbound.pk)
    inbound.refresh_from_db()
    return inbound


def test_the_inbox_shows_replies_with_numbers_masked_for_a_reviewer(
    organization, free_reply, console_as
):
    page = console_as(organization, Role.REVIEWER).get(reverse("console:inbox"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "rumours at school" in html
    assert "Free reply" in html
    assert mask_phone_number(NUMBER) in html
    assert NUMBER not in html
    assert reverse("console:inbox-reply", args=[free_reply.pk]) not in html


def test_needing_a_look_keeps_only_free_replies(organization, console_channel, person, console_as):
    for n, body in enumerate(["HELP", "Is it true about the vote?"]):
        inbound, _ = inbound_receive(
            channel=console_channel,
            provider_message_id=f"in-{n}",
            from_address=NUMBER,
            body=body,
            received_at=dt.datetime.now(tz=dt.UTC),
        )
        inbound_handle(inbound_id=inbound.pk)

    page = console_as(organization, Role.MANAGER).get(reverse("console:inbox"), {"look": "1"})

    html = page.content.decode()
    assert "Is it true about the vote?" in html
    assert '<td class="inbox-body">HELP</td>' not in html


def test_a_reply_from_the_console_goes_out_through_the_console_channel(
    organization, console_channel, free_reply, console_as, caplog
):
    client = console_as(organization, Role.MANAGER)

    with time_machine.travel(SENDING_HOURS, tick=True):
        answer = client.post(
            reverse("console:inbox-reply", args=[free_reply.pk]),
            {"body": "Come to the youth centre on Saturday."},
        )
        assert answer.status_code == 302
        reply = OutboundMessage.objects.get(in_reply_to=free_reply, reply_key="staff_reply")
        with caplog.at_level("INFO", logger="amani.console"):
            outcome = message_send(message_id=reply.pk)

    assert reply.channel_id == console_channel.pk
    assert reply.to_address == NUMBER
    assert outcome.status == OutboundStatus.SENT
    assert "Come to the youth centre on Saturday." in caplog.text
    assert NUMBER not in caplog.text


def test_no_reply_goes_to_an_opted_out_address(organization, person, free_reply, console_as):
    consent_record(subscriber=person, kind=ConsentKind.OPT_OUT, source=ConsentSource.KEYWORD)

    answer = console_as(organization, Role.MANAGER).post(
        reverse("console:inbox-reply", args=[free_reply.pk]), {"body": "Hello again"}
    )

    assert answer.status_code == 400
    assert "opted out" in answer.content.decode()
    assert not OutboundMessage.objects.filter(reply_key="staff_reply").exists()


def test_an_empty_reply_is_refused_next_to_the_field(organization, free_reply, console_as):
    answer = console_as(organization, Role.MANAGER).post(
        reverse("console:inbox-reply", args=[free_reply.pk]), {"body": ""}
    )

    assert answer.status_code == 400
    assert not OutboundMessage.objects.filter(reply_key="staff_reply").exists()


def test_a_reviewer_cannot_reply(organization, free_reply, console_as):
    answer = console_as(organization, Role.REVIEWER).post(
        reverse("console:inbox-reply", args=[free_reply.pk]), {"body": "Hi"}
    )

    assert answer.status_code == 403
    assert not OutboundMessage.objects.filter(reply_key="staff_reply").exists()


def test_another_organizations_message_is_not_found(other_organization, free_reply, console_as):
    answer = console_as(other_organization, Role.ADMIN).post(
        reverse("console:inbox-reply", args=[free_reply.pk]), {"body": "Hi"}
    )

    assert answer.status_code == 404
    assert not OutboundMessage.objects.filter(reply_key="staff_reply").exists()


@pytest.mark.parametrize(("name", "args"), [("console:inbox", []), ("console:inbox-reply", [1])])
def test_a_funder_gets_403(organization, console_as, name, args):
    answer = console_as(organization, Role.FUNDER).get(reverse(name, args=args))

    assert answer.status_code == 403
