"""The demo's console channels: one per kind, a wave over WhatsApp then SMS, and a
conversation on each through simulate-inbound, with no account anywhere."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from campaigns.models import Wave
from campaigns.selectors.recipients import wave_channels
from outreach.models import (
    Channel,
    ChannelKind,
    ConsentEvent,
    Contact,
    OutboundMessage,
    Subscriber,
    User,
)

# simulate-inbound commits the text as a webhook would: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

CONSOLES = {
    "Console SMS": ChannelKind.CONSOLE,
    "Console WhatsApp": ChannelKind.CONSOLE_WHATSAPP,
    "Console Telegram": ChannelKind.CONSOLE_TELEGRAM,
    "Console Messenger": ChannelKind.CONSOLE_MESSENGER,
}


@pytest.fixture
def demo() -> None:
    call_command("seed_demo", stdout=_Quiet())
    call_command("seed_demo_campaign", stdout=_Quiet())


@pytest.fixture
def manager(demo: None) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(username="demo-manager"))
    return client


def _text(manager: APIClient, kind: str, sender: str, body: str) -> dict:
    channel = Channel.objects.get(kind=kind)
    response = manager.post(
        f"/api/v1/channels/{channel.pk}/simulate-inbound/",
        {"sender": sender, "body": body},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_the_demo_has_a_console_channel_of_each_kind_and_sms_is_the_first(demo):
    channels = dict(Channel.objects.order_by("pk").values_list("name", "kind"))

    assert channels == CONSOLES
    assert list(channels) == list(CONSOLES)  # a fresh demo's SMS console is channel 1


def test_seeding_again_adds_no_channel_and_renames_the_old_sms_console(demo):
    Channel.objects.filter(kind=ChannelKind.CONSOLE).update(name="Demo console")

    call_command("seed_demo", stdout=_Quiet())

    assert dict(Channel.objects.values_list("name", "kind")) == CONSOLES


def test_the_demo_wave_goes_over_whatsapp_then_sms_once_per_person(demo):
    wave = Wave.objects.get()

    assert [c.kind for c in wave_channels(wave)] == [
        ChannelKind.CONSOLE_WHATSAPP,
        ChannelKind.CONSOLE,
    ]
    messages = OutboundMessage.objects.filter(wave_id=wave.pk)
    assert messages.count() == Contact.objects.count() == 120
    on_whatsapp = messages.filter(channel__kind=ChannelKind.CONSOLE_WHATSAPP)
    # Everyone with a WhatsApp address got it there, and nobody got it twice.
    assert on_whatsapp.count() == Subscriber.objects.filter(scheme="whatsapp").count() == 40
    assert not messages.filter(
        channel__kind=ChannelKind.CONSOLE, contact_id__in=on_whatsapp.values("contact_id")
    ).exists()
    # Each address has its own consent, as a real sign-up would.
    assert ConsentEvent.objects.count() == Subscriber.objects.count() == 160


def test_a_whatsapp_address_of_an_sms_number_is_the_same_person(demo):
    sms = Subscriber.objects.get(scheme="tel", address="+254700900000")
    whatsapp = Subscriber.objects.get(scheme="whatsapp", address="+254700900000")

    assert whatsapp.contact_id == sms.contact_id
    assert (whatsapp.language, whatsapp.region_id) == (sms.language, sms.region_id)


def test_a_telegram_start_gets_the_welcome_and_onboarding_on_telegram(manager):
    joined = _text(manager, ChannelKind.CONSOLE_TELEGRAM, "123456789", "/start")
    answered = _text(manager, ChannelKind.CONSOLE_TELEGRAM, "123456789", "22")

    assert joined["inbound"]["intent"] == "join"
    [welcome] = joined["replies"]
    assert welcome["body"].startswith("Welcome to Amani Demo")
    assert "How old are you?" in welcome["body"]
    assert answered["inbound"]["intent"] == "onboarding"
    assert "county" in answered["replies"][0]["body"]
    subscriber = Subscriber.objects.get(address="123456789")
    assert subscriber.scheme == "telegram"
    assert {m.channel.kind for m in OutboundMessage.objects.filter(subscriber=subscriber)} == {
        ChannelKind.CONSOLE_TELEGRAM
    }


def test_a_demo_person_answers_the_wave_poll_on_whatsapp_and_is_thanked_there(manager):
    exchange = _text(manager, ChannelKind.CONSOLE_WHATSAPP, "+254700900000", "1")

    assert exchange["inbound"]["intent"] == "poll_answer"
    [thanks] = exchange["replies"]
    assert "Pledge a peaceful vote" in thanks["body"]
    reply = OutboundMessage.objects.get(pk=thanks["id"])
    assert reply.channel.kind == ChannelKind.CONSOLE_WHATSAPP


def test_a_whatsapp_join_is_answered_on_whatsapp_in_the_keyword_language(manager):
    exchange = _text(manager, ChannelKind.CONSOLE_WHATSAPP, "0712345678", "JIUNGE")

    assert exchange["inbound"]["intent"] == "join"
    assert exchange["replies"][0]["language"] == "sw"
    assert "ACHA" in exchange["replies"][0]["body"]  # how to stop, in Kiswahili
    subscriber = Subscriber.objects.get(scheme="whatsapp", address="+254712345678")
    assert OutboundMessage.objects.filter(
        subscriber=subscriber, channel__kind=ChannelKind.CONSOLE_WHATSAPP
    ).exists()


def test_a_messenger_join_is_answered_on_messenger(manager):
    exchange = _text(manager, ChannelKind.CONSOLE_MESSENGER, "6021458379124567", "JOIN")

    assert exchange["inbound"]["intent"] == "join"
    assert exchange["replies"][0]["language"] == "en"


def test_a_telegram_chat_id_that_is_not_digits_is_refused_naming_the_sender(manager):
    channel = Channel.objects.get(kind=ChannelKind.CONSOLE_TELEGRAM)

    response = manager.post(
        f"/api/v1/channels/{channel.pk}/simulate-inbound/",
        {"sender": "@amina", "body": "/start"},
        format="json",
    )

    assert response.status_code == 400
    assert "sender" in response.json()["error"]["fields"]


class _Quiet:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass
