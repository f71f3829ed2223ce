"""The demo's console channels: a conversation on each through simulate-inbound, with no
account anywhere. What the seed holds (one channel per kind, a wave over WhatsApp then SMS)
is read in test_demo_channels_seeded.py, from a demo seeded once for its module."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from outreach.models import (
    Channel,
    ChannelKind,
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
