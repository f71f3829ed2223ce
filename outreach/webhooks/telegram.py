"""Telegram's webhook: one URL per bot, carrying the updates Telegram posts as JSON.

The URL names the channel by UUID; the `X-Telegram-Bot-Api-Secret-Token` header must then
hold the secret Amani gave Telegram in setWebhook (telegram_setup), compared in constant
time. Only updates in private chats are ours: a text message becomes an inbound message
(stored once per update_id, which Telegram keeps when it retries) and a my_chat_member
update saying the bot was blocked becomes the person's opt-out. Everything else (groups,
edited messages, stickers, update types we did not ask for) gets 200 and is forgotten, so
Telegram does not retry it. A deep link (t.me/<bot>?start=JIUNGE) arrives as
"/start JIUNGE" and is read as its keyword.
"""

import hmac
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from outreach.errors import InvalidInput
from outreach.models import Channel, ChannelKind
from outreach.privacy import without_personal
from outreach.selectors.channels import webhook_channel
from outreach.services.consent import consent_opt_out_reported
from outreach.services.inbound import inbound_receive
from outreach.webhooks.base import WebhookView

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, not a secret)
TEXT_MAX_LENGTH = 4096  # Telegram's limit for one message
# Fields of an Update that name or locate the person (the chat id is kept as the address).
PERSONAL_KEYS = frozenset(
    {
        "from",
        "chat",
        "sender_chat",
        "user",
        "first_name",
        "last_name",
        "username",
        "phone_number",
        "contact",
        "location",
        "venue",
        "forward_from",
        "forward_sender_name",
        "forward_origin",
        "new_chat_members",
        "left_chat_member",
        "invite_link",
    }
)
# The bot's new status in a my_chat_member update that means the person left it.
LEFT_THE_BOT = frozenset({"kicked"})
# "/start" or "/start@our_bot", then an optional deep-link payload.
_START = re.compile(r"^/start(?:@\w+)?(?:\s+(?P<payload>\S.*))?$", re.DOTALL)


class TelegramUpdateView(WebhookView):
    provider = "telegram"

    def load(self, request: HttpRequest, **kwargs: object) -> Channel:
        channel = webhook_channel(channel_uuid=kwargs["channel_uuid"], kind=ChannelKind.TELEGRAM)
        if channel is None:
            logger.warning("telegram update for an unknown channel refused")
            raise Http404("No such channel.")
        return channel

    def is_authentic(self, request: HttpRequest, context: object) -> bool:
        channel: Channel = context  # type: ignore[assignment]
        given = request.headers.get(SECRET_HEADER, "")
        if not given:
            return False
        if _holds_secret(channel, given):
            return True
        # The kept channel may be a few seconds old: its secret may just have been set.
        fresh = webhook_channel(channel_uuid=channel.uuid, kind=channel.kind, fresh=True)
        return fresh is not None and _holds_secret(fresh, given)

    def handle(self, request: HttpRequest, context: object) -> HttpResponse:
        channel: Channel = context  # type: ignore[assignment]
        update = _update(request.body)
        update_id = _integer(update.get("update_id"), "update_id")
        if isinstance(update.get("message"), dict):
            _message(channel, update_id, update)
        elif isinstance(update.get("my_chat_member"), dict):
            _chat_member(channel, update_id, update)
        return HttpResponse(status=200)


def _message(channel: Channel, update_id: int, update: dict[str, Any]) -> None:
    """A text from a person in a private chat is an inbound message; anything else is not."""
    message = update["message"]
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("type") != "private":
        return
    text = message.get("text")
    if text is None:
        return  # a sticker, a photo, a voice note: nothing we can read
    if not isinstance(text, str):
        raise InvalidInput("Must be a string.", field="message.text")
    text = text.replace("\x00", "")
    if len(text) > TEXT_MAX_LENGTH:
        raise InvalidInput(f"At most {TEXT_MAX_LENGTH} characters.", field="message.text")
    chat_id = _integer(chat.get("id"), "message.chat.id")
    received_at = _moment(message.get("date"), "message.date")
    inbound_receive(
        channel=channel,
        provider_message_id=f"update:{update_id}",
        from_address=str(chat_id),
        body=_as_keyword(text),
        received_at=received_at,
        raw=_kept(update),
    )


def _chat_member(channel: Channel, update_id: int, update: dict[str, Any]) -> None:
    """The person blocked the bot in their private chat: their opt-out, recorded once."""
    change = update["my_chat_member"]
    chat = change.get("chat")
    new_member = change.get("new_chat_member")
    if not isinstance(chat, dict) or chat.get("type") != "private":
        return
    if not isinstance(new_member, dict) or new_member.get("status") not in LEFT_THE_BOT:
        return  # unblocked ("member"): they rejoin by sending /start again
    chat_id = _integer(chat.get("id"), "my_chat_member.chat.id")
    occurred_at = _moment(change.get("date"), "my_chat_member.date")
    # A retried update finds them no longer subscribed: nothing more is recorded.
    consent_opt_out_reported(
        channel=channel,
        address=str(chat_id),
        reason="telegram_blocked",
        occurred_at=occurred_at,
        evidence={
            "update_id": update_id,
            "update": _kept(update),
        },
    )


def _as_keyword(text: str) -> str:
    """'/start JIUNGE' (a deep link) reads as 'JIUNGE'; a bare '/start' stays itself."""
    match = _START.match(text.strip())
    if match is None:
        return text
    return match["payload"].strip() if match["payload"] else "/start"


def _kept(update: dict[str, Any]) -> Any:
    """The update as it may be kept: nothing naming the person, no NUL (JSONB refuses it)."""
    return _without_nul(without_personal(update, PERSONAL_KEYS))


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def _update(body: bytes) -> dict[str, Any]:
    try:
        update = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise InvalidInput("Not JSON.", field="body") from error
    if not isinstance(update, dict):
        raise InvalidInput("Must be a JSON object (a Telegram Update).", field="body")
    return update


def _integer(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("Required, an integer.", field=field)
    return value


def _moment(value: object, field: str) -> datetime:
    seconds = _integer(value, field)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise InvalidInput("Not a Unix time.", field=field) from error


def _holds_secret(channel: Channel, given: str) -> bool:
    if not channel.webhook_secret:
        return False
    return hmac.compare_digest(channel.webhook_secret.encode(), given.encode())
