"""A loopback server that speaks Telegram's Bot API, for tests and benchmarks.

The adapter is pointed at it (setting TELEGRAM_API_BASE_URL), so tests exercise the real
HTTP client and never reach the internet. Served, under `/bot<token>/`, by GET or POST with
the parameters in the query string, a form or a JSON body, as Telegram takes them:

- `sendMessage`: the sent Message (recorded in `sent`), message ids counting per chat;
- `getMe`: the bot as a User; `setWebhook` / `getWebhookInfo`: the bot's webhook.

Every answer is Telegram's envelope: {"ok": true, "result": …} or {"ok": false,
"error_code", "description"[, "parameters"]}. An unknown token gets 401 "Unauthorized", an
unknown method 404 "Not Found". Besides failures for one chat (`block_chat`,
`deactivate_chat`, `lose_chat`) or the next calls (`rate_limit_next`, `fail_next`) and a
per-request `latency`, the server can take a message and then not answer in time
(`time_out_after_accepting`). `post_update` delivers an update to the bot's webhook as
Telegram does, with the secret-token header.
"""

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import parse_qs

from tests.support.servers import LoopbackApi, Reply

# A bot every running_telegram_api() knows unless told otherwise; a token is "<bot id>:<secret>".
BOT_ID = 7000000001
BOT_TOKEN = f"{BOT_ID}:AAHtest-token-0123456789abcdefABCDEF"
BOT_USERNAME = "amani_peace_bot"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT_LENGTH = 4096
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")


@dataclass
class FakeBot:
    token: str
    id: int
    username: str
    first_name: str = "Amani"
    webhook_url: str = ""
    secret_token: str = ""
    allowed_updates: list[str] | None = None


@dataclass
class Call:
    """One request the server received, whatever it answered."""

    http_method: str
    method: str  # the Bot API method, as asked for (e.g. "sendMessage")
    token: str
    params: dict[str, Any]
    received_at: datetime


@dataclass
class SentMessage:
    """A message the server accepted, as it was asked for."""

    bot_id: int
    chat_id: str
    text: str
    message_id: int
    params: dict[str, Any]
    date: int = field(default_factory=lambda: int(time.time()))


@dataclass
class _Failure:
    error_code: int
    description: str
    parameters: dict[str, Any] | None = None


BLOCKED = _Failure(403, "Forbidden: bot was blocked by the user")
DEACTIVATED = _Failure(403, "Forbidden: user is deactivated")
CHAT_NOT_FOUND = _Failure(400, "Bad Request: chat not found")
UNAUTHORIZED = _Failure(401, "Unauthorized")
NOT_FOUND = _Failure(404, "Not Found")
_DESCRIPTIONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class FakeTelegramApi(LoopbackApi):
    """A Bot API on 127.0.0.1 that records calls and answers the failures it is told to.

    It starts serving on construction; `close()` stops it. Safe to use from many threads.
    With `require_https` (Telegram's own rule), setWebhook refuses a plain-HTTP URL.
    """

    thread_name = "fake-telegram-api"

    def __init__(self, bots: list[FakeBot] | None = None, *, require_https: bool = True) -> None:
        self.bots: dict[str, FakeBot] = {bot.token: bot for bot in bots or []}
        self.require_https = require_https
        self.sent: list[SentMessage] = []
        self.calls: list[Call] = []
        # Seconds every request waits before it is handled; read per request.
        self.latency: float = 0.0
        self._lock = threading.Lock()
        self._failing_chats: dict[str, _Failure] = {}
        self._failing_next: list[_Failure] = []
        self._holds: list[float] = []
        self._message_ids: dict[tuple[int, str], int] = {}
        self._start_serving()

    # --- what tests tell it ------------------------------------------------------------

    def block_chat(self, chat_id: str | int) -> None:
        """The person blocked the bot: every send to them gets 403 "bot was blocked"."""
        self._fail_chat(chat_id, BLOCKED)

    def deactivate_chat(self, chat_id: str | int) -> None:
        """The person deleted their account: 403 "user is deactivated"."""
        self._fail_chat(chat_id, DEACTIVATED)

    def lose_chat(self, chat_id: str | int) -> None:
        """The bot never met this chat: 400 "chat not found"."""
        self._fail_chat(chat_id, CHAT_NOT_FOUND)

    def rate_limit_next(self, retry_after: int, count: int = 1) -> None:
        """Answer the next `count` authenticated calls with 429 and this retry_after."""
        failure = _Failure(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )
        with self._lock:
            self._failing_next.extend(failure for _ in range(count))

    def fail_next(self, status: int = 500, count: int = 1, description: str = "") -> None:
        """Answer the next `count` authenticated calls with this error, then normally again."""
        failure = _Failure(status, description or _DESCRIPTIONS.get(status, f"Error {status}"))
        with self._lock:
            self._failing_next.extend(failure for _ in range(count))

    def time_out_after_accepting(self, seconds: float = 30.0, count: int = 1) -> None:
        """Take the next `count` messages (recorded in `sent`), then hold each answer
        `seconds`: with more than the client's timeout, a message it did not see go."""
        with self._lock:
            self._holds.extend(seconds for _ in range(count))

    def add_bot(self, token: str, username: str) -> FakeBot:
        """Know the bot of `token` (its id is the token's part before the colon)."""
        bot = FakeBot(token=token, id=int(token.split(":", 1)[0]), username=username)
        with self._lock:
            self.bots[token] = bot
        return bot

    # --- what tests read ---------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method.lower() == method.lower()]

    def sent_to(self, chat_id: str | int) -> list[SentMessage]:
        with self._lock:
            return [message for message in self.sent if message.chat_id == str(chat_id)]

    # --- what Telegram does on its own -------------------------------------------------

    def post_update(
        self, update: dict[str, Any], *, token: str = BOT_TOKEN, secret: str | None = None
    ) -> int:
        """POST `update` to the bot's webhook as Telegram does; returns the HTTP status.

        The header carries the secret_token given in setWebhook, or `secret` if given.
        """
        bot = self.bots[token]
        if not bot.webhook_url:
            raise RuntimeError("The bot has no webhook: call setWebhook first.")
        headers = {"Content-Type": "application/json"}
        secret = bot.secret_token if secret is None else secret
        if secret:
            headers[SECRET_HEADER] = secret
        request = urllib.request.Request(  # noqa: S310 (the URL setWebhook was given)
            bot.webhook_url, data=json.dumps(update).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    # --- serving -----------------------------------------------------------------------

    def reset(self) -> None:
        """Forget what was sent and asked, every failure to come and the latency."""
        with self._lock:
            self.sent.clear()
            self.calls.clear()
            self._failing_chats.clear()
            self._failing_next.clear()
            self._holds.clear()
            self.latency = 0.0

    def reply(self, method: str, target: str, headers: Message, body: bytes) -> Reply:
        params = _params(target, headers.get("Content-Type") or "", body)
        if params is None:
            status, answer, hold = _error(_Failure(400, "Bad Request: can't parse JSON"))
        else:
            status, answer, hold = self.answer(method, target, params)
        return Reply(status, answer, hold=hold)

    def answer(
        self, http_method: str, path: str, params: dict[str, Any]
    ) -> tuple[int, dict, float]:
        """(HTTP status, body, seconds to hold it) for one request (the handler's thread)."""
        route, _, _ = path.partition("?")
        match = _PATH.match(route)
        with self._lock:
            self.calls.append(
                Call(
                    http_method,
                    match["method"] if match else "",
                    match["token"] if match else "",
                    params,
                    datetime.now(UTC),
                )
            )
        if self.latency > 0:
            time.sleep(self.latency)
        if match is None:
            return _error(NOT_FOUND)
        with self._lock:
            bot = self.bots.get(match["token"])
        if bot is None:
            return _error(UNAUTHORIZED)
        with self._lock:
            # Flood control and Telegram's own trouble come before anything is looked at.
            if self._failing_next:
                return _error(self._failing_next.pop(0))
        method = match["method"].lower()
        if method == "getme":
            return _ok(_user(bot))
        if method == "sendmessage":
            return self._send_message(bot, params)
        if method == "setwebhook":
            return self._set_webhook(bot, params)
        if method == "getwebhookinfo":
            return _ok(_webhook_info(bot))
        return _error(NOT_FOUND)

    def _fail_chat(self, chat_id: str | int, failure: _Failure) -> None:
        with self._lock:
            self._failing_chats[str(chat_id)] = failure

    def _send_message(self, bot: FakeBot, params: dict[str, Any]) -> tuple[int, dict, float]:
        chat_id = str(params.get("chat_id") or "")
        text = str(params.get("text") or "")
        if not chat_id:
            return _error(_Failure(400, "Bad Request: chat_id is empty"))
        if not text.strip():
            return _error(_Failure(400, "Bad Request: message text is empty"))
        if len(text) > MAX_TEXT_LENGTH:
            return _error(_Failure(400, "Bad Request: message is too long"))
        with self._lock:
            failure = self._failing_chats.get(chat_id)
            if failure is not None:
                return _error(failure)
            key = (bot.id, chat_id)
            self._message_ids[key] = self._message_ids.get(key, 0) + 1
            message = SentMessage(bot.id, chat_id, text, self._message_ids[key], dict(params))
            self.sent.append(message)
            hold = self._holds.pop(0) if self._holds else 0.0
        status, body, _ = _ok(
            {
                "message_id": message.message_id,
                "from": _user(bot, full=False),
                "chat": {"id": _as_int(chat_id), "type": "private"},
                "date": message.date,
                "text": text,
            }
        )
        return status, body, hold

    def _set_webhook(self, bot: FakeBot, params: dict[str, Any]) -> tuple[int, dict, float]:
        url = str(params.get("url") or "")
        secret = str(params.get("secret_token") or "")
        if url and self.require_https and not url.startswith("https://"):
            return _error(_Failure(400, "Bad Request: bad webhook: HTTPS url must be provided"))
        if secret and not _SECRET_TOKEN.match(secret):
            return _error(_Failure(400, "Bad Request: secret token contains unallowed characters"))
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):  # a form or query sends it JSON-serialized
            allowed = json.loads(allowed)
        with self._lock:
            bot.webhook_url, bot.secret_token = url, secret
            bot.allowed_updates = list(allowed) if allowed is not None else None
        return _ok(True, description="Webhook was set" if url else "Webhook was deleted")


@contextmanager
def running_telegram_api(*, require_https: bool = True) -> Iterator[FakeTelegramApi]:
    """A FakeTelegramApi on a free port of 127.0.0.1 that knows the bot of BOT_TOKEN."""
    api = FakeTelegramApi(
        [FakeBot(token=BOT_TOKEN, id=BOT_ID, username=BOT_USERNAME)], require_https=require_https
    )
    try:
        yield api
    finally:
        api.close()


def message_update(
    chat_id: int, text: str, *, update_id: int, chat_type: str = "private"
) -> dict[str, Any]:
    """An Update carrying a text message from a person, in the Bot API's documented shape."""
    person = {"id": chat_id, "is_bot": False, "first_name": "Amina", "username": "amina_k"}
    chat = {"id": chat_id, "first_name": "Amina", "username": "amina_k", "type": chat_type}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {**person, "language_code": "sw"},
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        },
    }


def _params(path: str, content_type: str, body: bytes) -> dict[str, Any] | None:
    """The call's parameters from its query string and its body (JSON or a form)."""
    _, _, query = path.partition("?")
    params: dict[str, Any] = {name: values[0] for name, values in parse_qs(query).items()}
    if body and content_type.startswith("application/json"):
        try:
            decoded = json.loads(body)
        except ValueError:
            return None
        if not isinstance(decoded, dict):
            return None
        params.update(decoded)
    elif body:
        form = parse_qs(body.decode(errors="replace"), keep_blank_values=True)
        params.update({name: values[0] for name, values in form.items()})
    return params


def _user(bot: FakeBot, *, full: bool = True) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": bot.id,
        "is_bot": True,
        "first_name": bot.first_name,
        "username": bot.username,
    }
    if full:  # getMe says what the bot may do, too
        user.update(
            can_join_groups=True, can_read_all_group_messages=False, supports_inline_queries=False
        )
    return user


def _webhook_info(bot: FakeBot) -> dict[str, Any]:
    info: dict[str, Any] = {
        "url": bot.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": 0,
    }
    if bot.webhook_url:
        info["max_connections"] = 40
    if bot.allowed_updates is not None:
        info["allowed_updates"] = bot.allowed_updates
    return info


def _ok(result: Any, description: str = "") -> tuple[int, dict, float]:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return 200, body, 0.0


def _error(failure: _Failure) -> tuple[int, dict, float]:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": failure.error_code,
        "description": failure.description,
    }
    if failure.parameters:
        body["parameters"] = failure.parameters
    return failure.error_code, body, 0.0


def _as_int(chat_id: str) -> int | str:
    try:
        return int(chat_id)
    except ValueError:
        return chat_id  # a channel's @username
