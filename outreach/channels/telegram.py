"""Telegram bots through the Bot API, over one pooled httpx client per process.

A channel is one bot; its token (channel.access_token) is part of every URL,
{TELEGRAM_API_BASE_URL}/bot<token>/<method>, so it never appears in a log line we write, and
the httpx logger's request lines have it replaced (`HideBotTokens`).

Telegram says whether it took a message and nothing after: a bot gets no delivery or read
receipts, so a message Telegram accepted is "sent" and stays so. Nor can a bot list what it
sent: `find_sent` answers NO_LOOKUP, and an attempt in doubt ends failed, never sent twice.

Limits, as Telegram states them: about 30 messages a second per bot (channel_kinds'
default_rate) and one a second per chat. A wave sends one message per chat, so the per-chat
limit only matters for replies; when Telegram answers 429 its `retry_after` rides on the
TransportError and the dispatcher waits that long. Errors are classified as data below.
"""

import logging
import os
import re
import threading
from datetime import datetime
from typing import Any

import httpx
from django.conf import settings

from outreach.channels.base import SendResult, TemplateCall, TransportError, no_lookup
from outreach.models import Channel, OutboundStatus
from outreach.privacy import mask_numbers_in_provider_text

# What a successful call means in our words: Telegram reports nothing after "ok".
STATUS_OF_TELEGRAM = {"ok": OutboundStatus.SENT}

# 403 descriptions that mean the person left the bot: recorded as their opt-out.
LEFT_THE_BOT = ("bot was blocked by the user", "user is deactivated", "bot was kicked")
# Answers a later try may change (Telegram's flood control, its own trouble); the rest,
# 400 "chat not found" and 401 "Unauthorized" among them, are permanent.
TRANSIENT_ERROR_CODES = frozenset({408, 429, 500, 502, 503, 504})
# Failures before the request left this process: Telegram cannot have taken the message.
NEVER_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)
ALLOWED_UPDATES = ["message", "my_chat_member"]


class TelegramAdapter:
    def send(
        self,
        channel: Channel,
        *,
        to: str,
        body: str,
        status_callback: str,
        template: TemplateCall | None = None,
    ) -> SendResult:
        """Send `body` to the chat `to`. Telegram has no templates and no window, so `body`
        always goes; it reports nothing back, so `status_callback` is not used."""
        message = bot_call(channel, "sendMessage", {"chat_id": to, "text": body})
        message_id = message.get("message_id") if isinstance(message, dict) else None
        if message_id is None:
            raise TransportError(
                "Telegram answered ok without a message id.", permanent=False, outcome_unknown=True
            )
        # Message ids count per chat: the chat id makes ours unique per channel.
        return SendResult(provider_message_id=f"{to}:{message_id}", status=STATUS_OF_TELEGRAM["ok"])

    def find_sent(
        self, channel: Channel, *, to: str, body: str, since: datetime
    ) -> SendResult | None:
        """A bot cannot list what it sent: an attempt in doubt cannot be reconciled."""
        raise no_lookup("Telegram")


def set_webhook(channel: Channel, url: str) -> None:
    """Tell Telegram to post the bot's updates to `url`, signed with the channel's secret."""
    bot_call(
        channel,
        "setWebhook",
        {
            "url": url,
            "secret_token": channel.webhook_secret,
            "allowed_updates": ALLOWED_UPDATES,
            "drop_pending_updates": False,
        },
    )


def get_me(channel: Channel) -> tuple[str, str]:
    """The bot's id and username, as Telegram knows the channel's token."""
    bot = bot_call(channel, "getMe", {})
    if not isinstance(bot, dict) or "id" not in bot:
        raise TransportError("Telegram's getMe answered without the bot's id.", permanent=False)
    return str(bot["id"]), str(bot.get("username") or "")


def bot_call(channel: Channel, method: str, params: dict[str, Any]) -> Any:
    """Call one Bot API method and return its `result`, or raise TransportError."""
    if not channel.access_token:
        raise TransportError("The channel has no Telegram bot token.", permanent=True)
    base_url = settings.TELEGRAM_API_BASE_URL.rstrip("/")
    try:
        response = http_client().post(
            f"{base_url}/bot{channel.access_token}/{method}",
            json=params,
            timeout=float(settings.PROVIDER_TIMEOUT_SECONDS),
        )
    except httpx.HTTPError as error:
        raise unreachable(error) from error
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        # Not the Bot API speaking (a proxy's error page), or an answer cut short.
        raise TransportError(
            f"Telegram answered HTTP {response.status_code} without its JSON.",
            permanent=False,
            provider_code=str(response.status_code),
            outcome_unknown=response.is_success,
        )
    if answer.get("ok") is True:
        return answer.get("result")
    raise classify(answer, response.status_code)


def classify(answer: dict[str, Any], http_status: int) -> TransportError:
    """Permanent or transient, from Telegram's error_code and description."""
    code = answer.get("error_code")
    code = code if isinstance(code, int) else http_status
    description = str(answer.get("description") or "")
    parameters = answer.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    left = code == 403 and any(reason in description.lower() for reason in LEFT_THE_BOT)
    return TransportError(
        # A description could quote a chat id: masked, so no log line shows it.
        f"Telegram {code}: {mask_numbers_in_provider_text(description)}",
        permanent=code not in TRANSIENT_ERROR_CODES and code < 500,
        provider_code=str(code),
        unsubscribed=left,
        retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
    )


def unreachable(error: httpx.HTTPError) -> TransportError:
    """A network failure: "not sent" only if the request never left (no connection made)."""
    return TransportError(
        f"Telegram unreachable: {type(error).__name__}",
        permanent=False,
        outcome_unknown=not isinstance(error, NEVER_SENT),
    )


_client: tuple[int, httpx.Client] | None = None
_client_lock = threading.Lock()


def http_client() -> httpx.Client:
    """This process's pooled client, made on first use (and again in a forked worker).

    No retries here: trying again is the dispatcher's decision. The timeout is given per
    request, from PROVIDER_TIMEOUT_SECONDS.
    """
    global _client
    with _client_lock:
        if _client is None or _client[0] != os.getpid():
            size = max(10, int(getattr(settings, "DISPATCH_CONCURRENCY", 16)))
            client = httpx.Client(
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                transport=httpx.HTTPTransport(retries=0),
                # The base URL names the server to talk to: no proxy from the environment.
                trust_env=False,
            )
            _client = (os.getpid(), client)
        return _client[1]


_BOT_TOKEN_IN_URL = re.compile(r"/bot[^/\s]+/")


class HideBotTokens(logging.Filter):
    """Replaces a bot token in a URL (httpx logs each request's URL at INFO) by `<token>`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/bot" in message:
            record.msg = _BOT_TOKEN_IN_URL.sub("/bot<token>/", message)
            record.args = None
        return True


logging.getLogger("httpx").addFilter(HideBotTokens())
