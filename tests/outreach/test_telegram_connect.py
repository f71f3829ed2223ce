"""Connecting a bot: a secret kept encrypted, the bot's id, and the webhook Telegram is told."""

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from outreach.channels.base import TransportError
from outreach.errors import InvalidInput
from outreach.models import Channel, ChannelKind, InboundMessage, Organization
from outreach.services.telegram_setup import telegram_connect
from tests.support.telegram_api import (
    BOT_ID,
    BOT_TOKEN,
    SECRET_HEADER,
    FakeTelegramApi,
    message_update,
    running_telegram_api,
)

PUBLIC = "https://amani.example.org"


@pytest.fixture
def telegram_api(settings) -> Iterator[FakeTelegramApi]:
    with running_telegram_api() as api:
        settings.TELEGRAM_API_BASE_URL = api.base_url
        settings.PUBLIC_BASE_URL = PUBLIC
        yield api


@pytest.fixture
def bot(organization: Organization) -> Channel:
    return Channel.objects.create(
        organization=organization,
        name="Amani bot",
        kind=ChannelKind.TELEGRAM,
        country="KE",
        access_token=BOT_TOKEN,
    )


def webhook_of(api: FakeTelegramApi):
    return api.bots[BOT_TOKEN]


@pytest.mark.django_db
def test_connecting_tells_telegram_the_channels_url_and_a_new_secret(telegram_api, bot):
    url = telegram_connect(bot)

    bot.refresh_from_db()
    expected = PUBLIC + reverse("telegram-update", args=[bot.uuid])
    assert url == expected
    [call] = telegram_api.calls_of("setWebhook")
    assert call.params == {
        "url": expected,
        "secret_token": bot.webhook_secret,
        "allowed_updates": ["message", "my_chat_member"],
        "drop_pending_updates": False,
    }
    assert len(bot.webhook_secret) >= 32
    assert webhook_of(telegram_api).secret_token == bot.webhook_secret


@pytest.mark.django_db
def test_connecting_records_the_bots_id_as_the_channels_external_id(telegram_api, bot):
    telegram_connect(bot)

    bot.refresh_from_db()
    assert bot.external_id == str(BOT_ID)
    assert telegram_api.calls_of("getMe")


@pytest.mark.django_db
def test_the_secret_is_kept_encrypted(telegram_api, bot):
    telegram_connect(bot)

    bot.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_secret FROM outreach_channel WHERE id = %s", [bot.pk])
        [stored] = cursor.fetchone()
    assert stored
    assert bot.webhook_secret not in stored


@pytest.mark.django_db
def test_connecting_again_keeps_the_secret(telegram_api, bot):
    telegram_connect(bot)
    bot.refresh_from_db()
    first = bot.webhook_secret

    telegram_connect(bot)

    bot.refresh_from_db()
    assert bot.webhook_secret == first
    assert [call.params["secret_token"] for call in telegram_api.calls_of("setWebhook")] == [
        first,
        first,
    ]


@pytest.mark.django_db
def test_an_update_signed_with_the_secret_telegram_was_given_is_taken(telegram_api, bot, client):
    telegram_connect(bot)
    secret = webhook_of(telegram_api).secret_token

    response = client.post(
        reverse("telegram-update", args=[bot.uuid]),
        message_update(421337001, "Habari", update_id=1),
        content_type="application/json",
        headers={SECRET_HEADER: secret},
    )

    assert response.status_code == 200
    assert InboundMessage.objects.get().body == "Habari"


@pytest.mark.django_db
def test_telegram_refuses_a_plain_http_webhook(telegram_api, bot, settings):
    settings.PUBLIC_BASE_URL = "http://amani.example.org"

    with pytest.raises(TransportError) as raised:
        telegram_connect(bot)

    assert raised.value.permanent
    assert "HTTPS url must be provided" in str(raised.value)
    assert not webhook_of(telegram_api).webhook_url


@pytest.mark.django_db
def test_a_wrong_token_sets_no_webhook(telegram_api, bot):
    bot.access_token = "7000000001:not-the-token"
    bot.save(update_fields=["access_token"])

    with pytest.raises(TransportError) as raised:
        telegram_connect(bot)

    assert raised.value.provider_code == "401"
    assert not telegram_api.calls_of("setWebhook")
    bot.refresh_from_db()
    assert bot.external_id == ""


@pytest.mark.django_db
def test_only_a_telegram_channel_with_a_token_is_connected(telegram_api, bot, twilio_channel):
    with pytest.raises(InvalidInput) as not_telegram:
        telegram_connect(twilio_channel)
    bot.access_token = ""
    with pytest.raises(InvalidInput) as no_token:
        telegram_connect(bot)

    assert not_telegram.value.field == "kind"
    assert no_token.value.field == "access_token"
    assert not telegram_api.calls


@pytest.mark.django_db
def test_the_command_says_what_it_did_without_the_token_or_the_secret(telegram_api, bot):
    out = StringIO()

    call_command("telegram_connect", str(bot.uuid), stdout=out)

    bot.refresh_from_db()
    printed = out.getvalue()
    assert str(BOT_ID) in printed
    assert PUBLIC + reverse("telegram-update", args=[bot.uuid]) in printed
    assert "new webhook secret" in printed
    assert BOT_TOKEN.split(":", 1)[1] not in printed
    assert bot.webhook_secret not in printed


@pytest.mark.django_db
def test_the_command_names_what_went_wrong(telegram_api, bot, settings):
    with pytest.raises(CommandError, match="No channel"):
        call_command("telegram_connect", "00000000-0000-0000-0000-000000000000")
    settings.PUBLIC_BASE_URL = "http://amani.example.org"
    with pytest.raises(CommandError, match="Telegram refused: Telegram 400"):
        call_command("telegram_connect", str(bot.uuid))


@pytest.mark.django_db(transaction=True)
def test_a_connected_bots_updates_reach_the_channel_over_http(live_server, settings, bot):
    with running_telegram_api(require_https=False) as api:
        settings.TELEGRAM_API_BASE_URL = api.base_url
        settings.PUBLIC_BASE_URL = live_server.url
        telegram_connect(bot)

        taken = api.post_update(message_update(421337001, "JIUNGE", update_id=42))
        forged = api.post_update(message_update(421337001, "STOP", update_id=43), secret="x")

        assert (taken, forged) == (200, 403)
        assert InboundMessage.objects.get().provider_message_id == "update:42"
        # Routed in the server's request: the welcome went back to the person's chat.
        assert api.sent_to(421337001)
