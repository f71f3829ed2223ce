"""One young person across channels (issue 13): consent per address, STOP there and STOPALL
everywhere, SMS and WhatsApp joined by their number, other links only on proof (LINK codes),
one profile, and erasure of the whole person. Each message goes in as the console channels'
inbound path takes it (the same routing as every provider's webhook)."""

import datetime as dt
import re
import uuid

import pytest
import time_machine
from django.utils import timezone

from outreach.models import (
    ConsentEvent,
    ConsentStatus,
    Contact,
    InboundIntent,
    InboundMessage,
    MessageStatusEvent,
    OutboundMessage,
    Subscriber,
)
from outreach.services.channels import channel_create
from outreach.services.contacts import LINK_CODE_TTL
from outreach.services.inbound import inbound_receive
from outreach.services.subscribers import subscriber_erase

pytestmark = pytest.mark.django_db

NUMBER = "+254712345678"
CHAT = "5550001"


@pytest.fixture
def channels(organization):
    def make(kind):
        return channel_create(organization=organization, name=kind, kind=kind, country="KE")

    return {
        "sms": make("console"),
        "whatsapp": make("console_whatsapp"),
        "telegram": make("console_telegram"),
    }


@pytest.fixture
def says(django_capture_on_commit_callbacks):
    """Text `body` from `address` on `channel`; returns what was understood and the replies."""

    def say(channel, address, body):
        with django_capture_on_commit_callbacks(execute=True):
            inbound, _ = inbound_receive(
                channel=channel,
                provider_message_id=f"console-{uuid.uuid4().hex}",
                from_address=address,
                body=body,
                received_at=timezone.now(),
            )
        inbound.refresh_from_db()
        replies = list(
            OutboundMessage.objects.filter(in_reply_to=inbound).values_list("body", flat=True)
        )
        return inbound.intent, replies

    return say


def address(scheme, value):
    return Subscriber.objects.get(scheme=scheme, address=value)


def test_the_same_number_on_sms_and_whatsapp_is_one_person_with_consent_on_each(channels, says):
    says(channels["sms"], NUMBER, "JOIN")
    says(channels["whatsapp"], NUMBER, "hello")

    sms, whatsapp = address("tel", NUMBER), address("whatsapp", NUMBER)
    assert sms.contact_id == whatsapp.contact_id
    assert Contact.objects.count() == 1
    # Joining by SMS is not consent to WhatsApp.
    assert (sms.consent_status, whatsapp.consent_status) == (
        ConsentStatus.OPTED_IN,
        ConsentStatus.NONE,
    )


def test_a_telegram_chat_is_another_person_until_they_prove_both_ends(channels, says):
    says(channels["sms"], NUMBER, "JOIN")
    says(channels["telegram"], CHAT, "/start")

    assert address("tel", NUMBER).contact_id != address("telegram", CHAT).contact_id


def test_a_link_code_typed_on_the_other_channel_joins_the_two(channels, says):
    says(channels["sms"], NUMBER, "JOIN")
    says(channels["telegram"], CHAT, "/start")

    intent, (sent,) = says(channels["sms"], NUMBER, "LINK")
    code = re.search(r"\b(\d{8})\b", sent).group(1)
    intent, (answer,) = says(channels["telegram"], CHAT, f"LINK {code}")

    assert intent == InboundIntent.LINK
    assert "Done" in answer
    assert address("tel", NUMBER).contact_id == address("telegram", CHAT).contact_id
    assert Contact.objects.count() == 1
    # A code works once.
    says(channels["whatsapp"], "+254700999888", "hello")
    _, (again,) = says(channels["whatsapp"], "+254700999888", f"LINK {code}")
    assert "did not work" in again


def test_a_link_code_does_not_work_late_or_on_the_address_it_was_sent_to(channels, says):
    says(channels["sms"], NUMBER, "JOIN")
    says(channels["telegram"], CHAT, "/start")
    _, (sent,) = says(channels["sms"], NUMBER, "LINK")
    code = re.search(r"\b(\d{8})\b", sent).group(1)

    _, (own,) = says(channels["sms"], NUMBER, f"LINK {code}")
    with time_machine.travel(timezone.now() + LINK_CODE_TTL + dt.timedelta(seconds=1)):
        _, (late,) = says(channels["telegram"], CHAT, f"LINK {code}")

    assert "did not work" in own
    assert "did not work" in late
    assert address("tel", NUMBER).contact_id != address("telegram", CHAT).contact_id


def test_stop_stops_the_channel_it_came_on_and_stopall_stops_every_channel(channels, says):
    says(channels["sms"], NUMBER, "JOIN")
    says(channels["whatsapp"], NUMBER, "JOIN")
    says(channels["whatsapp"], NUMBER, "STOP")

    assert address("tel", NUMBER).consent_status == ConsentStatus.OPTED_IN
    assert address("whatsapp", NUMBER).consent_status == ConsentStatus.OPTED_OUT

    says(channels["whatsapp"], NUMBER, "JOIN")
    intent, (goodbye,) = says(channels["whatsapp"], NUMBER, "stop all")

    assert intent == InboundIntent.STOP_ALL
    assert "any app or number" in goodbye
    assert {s.consent_status for s in Subscriber.objects.all()} == {ConsentStatus.OPTED_OUT}
    # The ledger says which address each opt-out was for.
    last = ConsentEvent.objects.filter(kind="opt_out").order_by("-id")[:2]
    assert {event.scheme for event in last} == {"tel", "whatsapp"}


def test_the_profile_is_the_persons_whichever_channel_answered(channels, says):
    says(channels["sms"], NUMBER, "JOIN")
    says(channels["sms"], NUMBER, "23")  # the onboarding's age question, answered by SMS
    says(channels["whatsapp"], NUMBER, "hello")

    assert address("whatsapp", NUMBER).age_band == address("tel", NUMBER).age_band == "18_24"


def test_erasure_forgets_the_person_on_every_channel(channels, says):
    says(channels["sms"], NUMBER, "JOIN")
    says(channels["whatsapp"], NUMBER, "JOIN")

    subscriber_erase(subscriber=address("tel", NUMBER))

    assert not Subscriber.objects.exists()
    assert not Contact.objects.exists()
    assert ConsentEvent.objects.filter(subscriber__isnull=True).count() == 2  # the ledger stays
    assert not OutboundMessage.objects.exclude(contact_id=None).exists()
    # Provider ids may carry the person (a Telegram chat, a WhatsApp number): digests only.
    ids = [
        *OutboundMessage.objects.values_list("provider_message_id", flat=True),
        *InboundMessage.objects.values_list("provider_message_id", flat=True),
        *MessageStatusEvent.objects.values_list("provider_message_id", flat=True),
    ]
    assert ids
    assert all(i.startswith("erased:") for i in ids if i)
    assert not MessageStatusEvent.objects.exclude(raw=None).exists()


def test_stop_all_inside_a_sentence_stops_this_channel_only(channels, says):
    says(channels["sms"], NUMBER, "JOIN")
    says(channels["whatsapp"], NUMBER, "JOIN")

    intent, _ = says(channels["whatsapp"], NUMBER, "We must stop all violence")

    assert intent == InboundIntent.STOP
    assert address("tel", NUMBER).consent_status == ConsentStatus.OPTED_IN


def test_the_webhook_records_stopall_on_every_address_at_once(channels):
    from outreach.services.subscribers import subscriber_for_address
    from tests.support.people import opted_in

    sms = opted_in(subscriber_for_address(channel=channels["sms"], address=NUMBER))
    opted_in(subscriber_for_address(channel=channels["whatsapp"], address=NUMBER))

    # No routing task runs (nothing is committed here): only the webhook's own step.
    inbound_receive(
        channel=channels["sms"],
        provider_message_id="SMstopall",
        from_address=NUMBER,
        body="STOPALL",
        received_at=timezone.now(),
    )

    assert {s.consent_status for s in Subscriber.objects.filter(contact_id=sms.contact_id)} == {
        ConsentStatus.OPTED_OUT
    }
    channel_of = dict(
        ConsentEvent.objects.filter(kind="opt_out").values_list("scheme", "channel_id")
    )
    assert channel_of == {"tel": channels["sms"].pk, "whatsapp": channels["whatsapp"].pk}


def test_link_in_a_sentence_asks_for_no_code(channels, says):
    says(channels["sms"], NUMBER, "JOIN")

    intent, replies = says(channels["sms"], NUMBER, "link is broken in your message")

    assert intent != InboundIntent.LINK
    assert not any("code" in reply for reply in replies)


def test_an_address_that_types_wrong_codes_is_not_heard_for_an_hour(channels, says):
    says(channels["sms"], NUMBER, "JOIN")
    says(channels["telegram"], CHAT, "/start")
    _, (sent,) = says(channels["sms"], NUMBER, "LINK")
    code = re.search(r"\b(\d{8})\b", sent).group(1)

    for wrong in range(5):
        says(channels["telegram"], CHAT, f"LINK {wrong:08d}")
    _, (answer,) = says(channels["telegram"], CHAT, f"LINK {code}")

    assert "did not work" in answer
    assert address("tel", NUMBER).contact_id != address("telegram", CHAT).contact_id
