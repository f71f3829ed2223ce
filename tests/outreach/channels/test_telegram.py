"""The Telegram adapter against a loopback Bot API: what Telegram is sent, its errors as ours."""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from outreach.channels.base import NO_LOOKUP, TemplateCall, TransportError
from outreach.channels.registry import ADAPTERS
from outreach.channels.telegram import TelegramAdapter
from outreach.models import Channel, ChannelKind, OutboundStatus
from tests.support.servers import free_port
from tests.support.telegram_api import BOT_TOKEN, FakeTelegramApi, running_telegram_api

CHAT = "421337001"


@pytest.fixture
def telegram_api(settings) -> Iterator[FakeTelegramApi]:
    with running_telegram_api() as api:
        settings.TELEGRAM_API_BASE_URL = api.base_url
        yield api


@pytest.fixture
def bot() -> Channel:
    # The adapter reads the channel's kind and token only: no row is needed.
    return Channel(
        name="Amani bot", kind=ChannelKind.TELEGRAM, country="KE", access_token=BOT_TOKEN
    )


def send(channel: Channel, to: str = CHAT, body: str = "Amani iwe nawe.") -> object:
    return TelegramAdapter().send(channel, to=to, body=body, status_callback="")


def refusal(channel: Channel, to: str = CHAT) -> TransportError:
    with pytest.raises(TransportError) as raised:
        send(channel, to=to)
    return raised.value


def test_telegram_channels_are_sent_through_the_telegram_adapter():
    assert isinstance(ADAPTERS[ChannelKind.TELEGRAM], TelegramAdapter)


def test_a_message_goes_to_its_chat_as_sendmessage_and_counts_as_sent(telegram_api, bot):
    result = send(bot, body="Amani iwe nawe 🕊")

    [call] = telegram_api.calls_of("sendMessage")
    assert call.http_method == "POST"
    assert call.token == BOT_TOKEN
    assert call.params == {"chat_id": CHAT, "text": "Amani iwe nawe 🕊"}
    assert result.status == OutboundStatus.SENT
    assert result.provider_message_id == f"{CHAT}:1"


def test_message_ids_are_told_apart_across_chats(telegram_api, bot):
    first = send(bot, to=CHAT)
    other = send(bot, to="421337002")
    second = send(bot, to=CHAT)

    # Telegram counts message ids per chat: 1, 1, 2. Ours stay unique on the channel.
    assert [first.provider_message_id, other.provider_message_id, second.provider_message_id] == [
        f"{CHAT}:1",
        "421337002:1",
        f"{CHAT}:2",
    ]


def test_a_blocked_bot_is_an_opt_out(telegram_api, bot):
    telegram_api.block_chat(CHAT)

    error = refusal(bot)

    assert error.permanent
    assert error.unsubscribed
    assert error.provider_code == "403"
    assert "bot was blocked by the user" in str(error)
    assert not telegram_api.sent


def test_a_deleted_account_is_an_opt_out_too(telegram_api, bot):
    telegram_api.deactivate_chat(CHAT)

    error = refusal(bot)

    assert error.permanent
    assert error.unsubscribed


def test_a_429_is_transient_and_carries_telegrams_retry_after(telegram_api, bot):
    telegram_api.rate_limit_next(retry_after=7)

    error = refusal(bot)

    assert not error.permanent
    assert not error.unsubscribed
    assert error.retry_after == 7.0
    assert error.provider_code == "429"
    assert not error.outcome_unknown
    # Telegram took nothing; the next try goes through.
    assert send(bot).provider_message_id == f"{CHAT}:1"


def test_a_chat_telegram_does_not_know_is_permanent_and_no_opt_out(telegram_api, bot):
    telegram_api.lose_chat(CHAT)

    error = refusal(bot)

    assert error.permanent
    assert not error.unsubscribed
    assert error.provider_code == "400"
    assert "chat not found" in str(error)


def test_a_wrong_bot_token_is_permanent(telegram_api, bot):
    bot.access_token = "7000000001:not-the-token"

    error = refusal(bot)

    assert error.permanent
    assert error.provider_code == "401"
    assert not telegram_api.sent


def test_a_channel_without_a_token_is_permanent_and_telegram_is_not_called(telegram_api, bot):
    bot.access_token = ""

    assert refusal(bot).permanent
    assert not telegram_api.calls


@pytest.mark.parametrize("status", [500, 502, 503])
def test_telegrams_own_trouble_is_transient(telegram_api, bot, status):
    telegram_api.fail_next(status)

    error = refusal(bot)

    assert not error.permanent
    assert error.provider_code == str(status)


def test_a_text_over_telegrams_4096_characters_is_permanent(telegram_api, bot):
    with pytest.raises(TransportError) as raised:
        send(bot, body="a" * 4097)

    assert raised.value.permanent
    assert "message is too long" in str(raised.value)


def test_an_answer_that_never_comes_leaves_the_outcome_unknown(telegram_api, bot, settings):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.3
    telegram_api.time_out_after_accepting(seconds=5)

    error = refusal(bot)

    assert error.outcome_unknown
    assert not error.permanent
    assert len(telegram_api.sent) == 1  # Telegram did take it


def test_a_refused_connection_is_transient_and_known_not_sent(bot, settings):
    settings.TELEGRAM_API_BASE_URL = f"http://127.0.0.1:{free_port()}"

    error = refusal(bot)

    assert not error.permanent
    assert not error.outcome_unknown


def test_telegram_cannot_be_asked_whether_it_took_a_message(telegram_api, bot):
    with pytest.raises(TransportError) as raised:
        TelegramAdapter().find_sent(bot, to=CHAT, body="Amani", since=datetime.now(UTC))

    assert raised.value.permanent
    assert raised.value.provider_code == NO_LOOKUP
    assert not telegram_api.calls


def test_no_log_line_shows_the_bot_token_or_the_chat(telegram_api, bot, caplog):
    caplog.set_level(logging.DEBUG)
    # Quiet by default (LOGGING), but an operator may turn httpx's request lines on.
    caplog.set_level(logging.DEBUG, logger="httpx")
    telegram_api.block_chat("421337009")

    send(bot)
    with pytest.raises(TransportError):
        send(bot, to="421337009")

    assert caplog.records  # httpx logs each request: with the token hidden
    secret = BOT_TOKEN.split(":", 1)[1]
    for record in caplog.records:
        line = record.getMessage()
        assert secret not in line
        assert CHAT not in line
        assert "421337009" not in line


def test_telegram_has_no_templates_so_the_text_itself_goes(telegram_api, bot):
    template = TemplateCall(provider_template_id="", name="welcome", language="sw")

    TelegramAdapter().send(bot, to=CHAT, body="Karibu!", status_callback="", template=template)

    assert [message.text for message in telegram_api.sent_to(CHAT)] == ["Karibu!"]
