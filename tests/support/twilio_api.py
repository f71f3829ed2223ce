"""A loopback server that speaks Twilio's Messages and Content APIs, for tests and benchmarks.

The official SDK is pointed at it (setting TWILIO_BASE_URL: every Twilio domain, path and
query kept), so tests exercise the real SDK and never reach the internet. Served, under
`/2010-04-01/Accounts/{AccountSid}/`:

- `POST Messages.json`: send (201, recorded in `sent`);
- `GET Messages.json`: the account's sent messages, newest first, filtered by `To`, `From`,
  `DateSent`, `DateSent<` and `DateSent>` and paged by `PageSize` and `Page`;
- `GET Messages/{MessageSid}.json`: one message, or 404 with Twilio's error 20404;

and, from content.twilio.com, `GET /v1/ContentAndApprovals`: the account's Content
templates with their WhatsApp approval (`add_content`), paged by `PageSize` and `PageToken`
with Twilio's `meta` block, whose `next_page_url` names content.twilio.com as Twilio's does.

WhatsApp: `To` and `From` written `whatsapp:+254…` (both, or neither: 63007 otherwise); a
template goes as `ContentSid` (one of `add_content`'s, else 21655) with `ContentVariables`
(a JSON object, else 21656) instead of `Body`, and is recorded with its text filled in, as
Twilio lists it. `outside_window(number)` closes a person's 24-hour window: free text to
them is refused with 63016 while a template goes. Twilio in fact accepts such a message and
fails it a moment later (a status callback with ErrorCode 63016); the fake answers the REST
call with 63016 instead, so the dispatcher sees the refusal at once.

Answers follow Twilio's OpenAPI description (bodies shaped like its `create` example) and
Twilio's error bodies: {"code", "message", "more_info", "status"}. A message here never moves
past "queued", and counts as sent (for the `DateSent` filters) when it was accepted.

Besides failures (`fail_number`, `fail_next`; Twilio's own wording, e.g. 21211's naming the
number refused) and a per-request `latency`, the server can
accept a send and then not answer in time (`time_out_after_accepting`) or at all
(`drop_after_accepting`): the outcome a client did not see, which it must reconcile.
"""

import base64
import binascii
import json
import multiprocessing
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import Message
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from twilio.request_validator import RequestValidator

from outreach.sms_encoding import sms_length
from tests.support.servers import LoopbackApi, Reply

# An account every running_twilio_api() accepts unless told otherwise.
ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "test-auth-token-0123456789abcdef"

# Twilio's error codes (https://www.twilio.com/docs/api/errors) for what the server checks.
AUTHENTICATE = 20003  # 401: wrong or missing credentials, or another account's path
NOT_FOUND = 20404  # 404: the requested resource was not found
TOO_MANY_REQUESTS = 20429  # 429: rate limited
INTERNAL_ERROR = 20500  # 500: internal server error
BODY_REQUIRED = 21602  # 400: Body (or MediaUrl / ContentSid) is required
FROM_REQUIRED = 21603  # 400: a From or a MessagingServiceSid is required
TO_REQUIRED = 21604  # 400: To is required
INVALID_TO = 21211  # 400: "The 'To' number +254… is not a valid phone number."
INVALID_CONTENT_SID = 21655  # 400: the ContentSid is not one of the account's
INVALID_CONTENT_VARIABLES = 21656  # 400: ContentVariables is not a JSON object of strings
CHANNEL_NOT_FOUND = 63007  # 400: no channel for the From address (e.g. SMS From, WhatsApp To)
OUTSIDE_WINDOW = 63016  # free text to WhatsApp more than 24 hours after the person wrote
WHATSAPP = "whatsapp:"

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account_sid>AC[0-9A-Za-z]+)/Messages\.json$")
MESSAGE_PATH = re.compile(
    r"^/2010-04-01/Accounts/(?P<account_sid>AC[0-9A-Za-z]+)/Messages/(?P<sid>(SM|MM)[0-9a-f]{32})\.json$"
)
CONTENT_AND_APPROVALS_PATH = "/v1/ContentAndApprovals"
CONTENT_BASE_URL = "https://content.twilio.com"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass
class SentMessage:
    """A message the server accepted (answered 201), as it was asked for."""

    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    sid: str
    params: dict[str, str]
    # When the request arrived, before any latency; `created_at` is when it was recorded.
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Call:
    """One request the server received, whatever it answered (the lookups included)."""

    method: str
    path: str
    query: dict[str, str]
    received_at: datetime


@dataclass
class _Failure:
    code: int
    status: int
    # None: Twilio's own wording for `code`, which may name the number asked for.
    message: str | None = None


_Answer = Reply


@dataclass
class _AfterAccepting:
    hold: float = 0.0
    drop: bool = False


class FakeTwilioApi(LoopbackApi):
    """A Twilio REST API on 127.0.0.1 that records sends and answers the failures it is told to.

    It starts serving on construction; `close()` stops it. Safe to use from many threads.
    """

    thread_name = "fake-twilio-api"

    def __init__(self, accounts: Mapping[str, str] | None = None, port: int = 0) -> None:
        self.accounts: dict[str, str] = dict(accounts or {})
        self.sent: list[SentMessage] = []
        self.calls: list[Call] = []
        # Seconds every request waits before it is handled; read per request, so a test may
        # change it while requests are in flight (each is served on its own thread).
        self.latency: float = 0.0
        self._lock = threading.Lock()
        self._failing_numbers: dict[str, _Failure] = {}
        self._failing_next: list[_Failure] = []
        self._after_accepting: list[_AfterAccepting] = []
        self._outside_window: set[str] = set()
        # Content templates as the Content API lists them (`add_content`), oldest first.
        self.contents: list[dict[str, Any]] = []
        self._start_serving(port=port)

    def fail_number(
        self, to: str, code: int, status: int = 400, message: str | None = None
    ) -> None:
        """Answer every send to `to` with Twilio's error `code` and HTTP `status`."""
        with self._lock:
            self._failing_numbers[to] = _Failure(code, status, message)

    def fail_next(self, count: int, code: int = TOO_MANY_REQUESTS, status: int = 429) -> None:
        """Answer the next `count` authenticated sends with this error, then normally again."""
        with self._lock:
            self._failing_next.extend(_Failure(code, status) for _ in range(count))

    def time_out_after_accepting(self, count: int = 1, seconds: float = 30.0) -> None:
        """Accept the next `count` sends (recorded, listed), then hold each answer `seconds`.

        With `seconds` above the client's timeout, the SDK raises `requests.ReadTimeout` for
        a message Twilio did take.
        """
        with self._lock:
            self._after_accepting.extend(_AfterAccepting(hold=seconds) for _ in range(count))

    def drop_after_accepting(self, count: int = 1) -> None:
        """Accept the next `count` sends (recorded, listed), then close without an answer.

        The SDK raises `requests.ConnectionError` (the server disconnected) for a message
        Twilio did take.
        """
        with self._lock:
            self._after_accepting.extend(_AfterAccepting(drop=True) for _ in range(count))

    def outside_window(self, number: str) -> None:
        """Close `number`'s 24-hour WhatsApp window: free text to whatsapp:`number` is
        refused with 63016 from now on (a template still goes)."""
        with self._lock:
            self._outside_window.add(number.removeprefix(WHATSAPP))

    def add_content(
        self,
        friendly_name: str,
        *,
        language: str = "en",
        body: str = "",
        status: str = "approved",
        category: str = "UTILITY",
        account_sid: str = ACCOUNT_SID,
        types: dict[str, Any] | None = None,
    ) -> str:
        """Add a Content template of `account_sid`, its WhatsApp approval `status` (approved,
        pending, rejected, paused, unsubmitted …); returns its ContentSid (HX…)."""
        sid = "HX" + uuid.uuid4().hex
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        record = {
            "date_created": now,
            "date_updated": now,
            "sid": sid,
            "account_sid": account_sid,
            "friendly_name": friendly_name,
            "language": language,
            "variables": {},
            "types": types if types is not None else {"twilio/text": {"body": body}},
            "approval_requests": {
                "name": friendly_name,
                "category": category,
                "content_type": "twilio/text",
                "status": status,
                "rejection_reason": "",
                "allow_category_change": True,
            },
        }
        with self._lock:
            self.contents.append(record)
        return sid

    def sent_to(self, to: str) -> list[SentMessage]:
        """The accepted sends to `to`, oldest first."""
        with self._lock:
            return [message for message in self.sent if message.to == to]

    def add_account(self, account_sid: str, auth_token: str) -> None:
        """Accept `account_sid` with `auth_token` from now on."""
        with self._lock:
            self.accounts[account_sid] = auth_token

    def reset(self) -> None:
        """Forget what was sent and asked, every failure to come, the closed windows and the
        latency (accounts and Content templates stay)."""
        with self._lock:
            self.sent.clear()
            self.calls.clear()
            self._failing_numbers.clear()
            self._failing_next.clear()
            self._after_accepting.clear()
            self._outside_window.clear()
            self.latency = 0.0

    def reply(self, method: str, target: str, headers: Message, body: bytes) -> Reply:
        return self.answer(method, target, headers.get("Authorization"), body)

    def answer(self, method: str, path: str, authorization: str | None, body: bytes) -> _Answer:
        """The answer to one request (called by the handler thread)."""
        received_at = datetime.now(UTC)
        route, _, query_string = path.partition("?")
        query = {name: values[0] for name, values in parse_qs(query_string).items()}
        with self._lock:
            self.calls.append(Call(method, route, query, received_at))
        latency = self.latency
        if latency > 0:
            time.sleep(latency)
        if route == CONTENT_AND_APPROVALS_PATH and method == "GET":
            return self._contents(authorization, query)
        many, one = MESSAGES_PATH.match(route), MESSAGE_PATH.match(route)
        match = many if method in ("POST", "GET") else None
        match = match or (one if method == "GET" else None)
        if match is None:
            return _error(_Failure(NOT_FOUND, 404, f"The requested resource {route} was not found"))
        account_sid = match["account_sid"]
        if not self._authenticated(account_sid, authorization):
            return _error(
                _Failure(AUTHENTICATE, 401, "Authenticate"),
                {"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )
        if one is not None:
            return self._fetch(account_sid, route, one["sid"])
        if method == "GET":
            return self._list(account_sid, route, query)
        params = {
            name: values[0]
            for name, values in parse_qs(
                body.decode(errors="replace"), keep_blank_values=True
            ).items()
        }
        with self._lock:
            # Injected failures come first, like Twilio's rate limiter in front of the API.
            if self._failing_next:
                return _error(self._failing_next.pop(0), to=params.get("To", ""))
        problem = _invalid(params)
        if problem is not None:
            return _error(problem)
        with self._lock:
            failure = self._failing_numbers.get(params["To"])
            if failure is not None:
                return _error(failure, to=params["To"])
            content, problem = self._content_for(account_sid, params)
            if problem is not None:
                return _error(problem)
            if (
                content is None
                and params["To"].startswith(WHATSAPP)
                and params["To"].removeprefix(WHATSAPP) in self._outside_window
            ):
                return _error(_Failure(OUTSIDE_WINDOW, 400))
            message = _sent_message(account_sid, params, received_at, content)
            self.sent.append(message)
            after = self._after_accepting.pop(0) if self._after_accepting else _AfterAccepting()
        return _Answer(201, _resource(message, params), hold=after.hold, drop=after.drop)

    def _fetch(self, account_sid: str, route: str, sid: str) -> _Answer:
        """GET Messages/{MessageSid}.json: the message, or Twilio's 20404."""
        with self._lock:
            found = [m for m in self.sent if m.sid == sid and m.account_sid == account_sid]
        if not found:
            return _error(_Failure(NOT_FOUND, 404, f"The requested resource {route} was not found"))
        return _Answer(200, _resource(found[0], found[0].params))

    def _list(self, account_sid: str, route: str, query: Mapping[str, str]) -> _Answer:
        """GET Messages.json: the account's messages that match the filters, newest first."""
        size = min(max(int(query.get("PageSize", DEFAULT_PAGE_SIZE)), 1), MAX_PAGE_SIZE)
        page = max(int(query.get("Page", 0)), 0)
        with self._lock:
            found = [
                m
                for m in reversed(self.sent)
                if m.account_sid == account_sid and _matches(m, query)
            ]
        shown = found[page * size : (page + 1) * size]
        filters = {name: value for name, value in query.items() if name not in ("Page",)}

        def page_uri(number: int) -> str:
            return f"{route}?{urlencode({**filters, 'PageSize': size, 'Page': number})}"

        more = len(found) > (page + 1) * size
        return _Answer(
            200,
            {
                "messages": [_resource(m, m.params) for m in shown],
                "end": page * size + max(len(shown) - 1, 0),
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if more else None,
                "page": page,
                "page_size": size,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "start": page * size,
                "uri": page_uri(page),
            },
        )

    def _contents(self, authorization: str | None, query: Mapping[str, str]) -> _Answer:
        """GET /v1/ContentAndApprovals: the account's templates, oldest first, a page at a time."""
        account_sid = self._account_of(authorization)
        if account_sid is None:
            return _error(
                _Failure(AUTHENTICATE, 401, "Authenticate"),
                {"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )
        try:
            size = min(max(int(query.get("PageSize", DEFAULT_PAGE_SIZE)), 1), MAX_PAGE_SIZE)
            start = int(query["PageToken"].removeprefix("PA")) if "PageToken" in query else 0
            page = int(query.get("Page", 0))
        except ValueError:
            return _error(_Failure(20001, 400, "Invalid PageSize, Page or PageToken"))
        with self._lock:
            found = [c for c in self.contents if c["account_sid"] == account_sid]
        shown = found[start : start + size]

        def page_url(number: int, token: str | None) -> str:
            params = {"PageSize": size, "Page": number, **({"PageToken": token} if token else {})}
            return f"{CONTENT_BASE_URL}{CONTENT_AND_APPROVALS_PATH}?{urlencode(params)}"

        more = len(found) > start + size
        return _Answer(
            200,
            {
                "contents": shown,
                "meta": {
                    "page": page,
                    "page_size": size,
                    "first_page_url": page_url(0, None),
                    "previous_page_url": (
                        page_url(page - 1, f"PA{max(start - size, 0)}") if start > 0 else None
                    ),
                    "url": page_url(page, f"PA{start}" if start else None),
                    "next_page_url": page_url(page + 1, f"PA{start + size}") if more else None,
                    "key": "contents",
                },
            },
        )

    def _content_for(
        self, account_sid: str, params: Mapping[str, str]
    ) -> tuple[dict[str, Any] | None, _Failure | None]:
        """The template a send names (ContentSid) and its variables checked; call locked."""
        sid = params.get("ContentSid")
        if not sid:
            return None, None
        content = next(
            (c for c in self.contents if c["sid"] == sid and c["account_sid"] == account_sid),
            None,
        )
        if content is None:
            return None, _Failure(INVALID_CONTENT_SID, 400, "The ContentSid is Invalid")
        try:
            variables = json.loads(params.get("ContentVariables") or "{}")
        except ValueError:
            variables = None
        if not isinstance(variables, dict) or not all(
            isinstance(value, str) for value in variables.values()
        ):
            return None, _Failure(
                INVALID_CONTENT_VARIABLES, 400, "The ContentVariables Parameter is invalid"
            )
        return content, None

    def _authenticated(self, account_sid: str, authorization: str | None) -> bool:
        return self._account_of(authorization) == account_sid

    def _account_of(self, authorization: str | None) -> str | None:
        """The account whose SID and auth token the Basic credentials are, or None."""
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, token = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        with self._lock:
            expected = self.accounts.get(user)
        return user if expected is not None and token == expected else None


@contextmanager
def running_twilio_api(accounts: Mapping[str, str] | None = None) -> Iterator[FakeTwilioApi]:
    """A FakeTwilioApi on a free port of 127.0.0.1, accepting `accounts` (sid -> auth token).

    Without `accounts`, it accepts ACCOUNT_SID with AUTH_TOKEN.
    """
    api = FakeTwilioApi({ACCOUNT_SID: AUTH_TOKEN} if accounts is None else accounts)
    try:
        yield api
    finally:
        api.close()


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The X-Twilio-Signature Twilio would send with a webhook POST of `params` to `url`."""
    return RequestValidator(auth_token).compute_signature(url, params)


def _invalid(params: Mapping[str, str]) -> _Failure | None:
    if not params.get("To"):
        return _Failure(TO_REQUIRED, 400, "A 'To' phone number is required.")
    if not params.get("From") and not params.get("MessagingServiceSid"):
        return _Failure(FROM_REQUIRED, 400, "A 'From' phone number is required.")
    if not any(params.get(name) for name in ("Body", "MediaUrl", "ContentSid")):
        return _Failure(BODY_REQUIRED, 400, "Message body is required.")
    sender = params.get("From")
    if sender and sender.startswith(WHATSAPP) != params["To"].startswith(WHATSAPP):
        message = "Twilio could not find a Channel with the specified From address"
        return _Failure(CHANNEL_NOT_FOUND, 400, message)
    return None


def _matches(message: SentMessage, query: Mapping[str, str]) -> bool:
    """Whether `message` passes the list's filters (a message here is sent when accepted)."""
    if message.to != query.get("To", message.to):
        return False
    if (message.from_ or "") != query.get("From", message.from_ or ""):
        return False
    sent = message.created_at
    for name, keep in (
        ("DateSent", lambda moment, bound: moment == bound),
        ("DateSent<", lambda moment, bound: moment <= bound),
        ("DateSent>", lambda moment, bound: moment >= bound),
    ):
        if name in query:
            bound = _moment(query[name])
            # A bare date compares with the day the message was sent, a datetime to the second.
            moment = sent.date() if type(bound) is date else sent.replace(microsecond=0)
            if not keep(moment, bound):
                return False
    return True


def _moment(value: str) -> date | datetime:
    """A `DateSent` filter's value: `YYYY-MM-DD` or ISO 8601 `YYYY-MM-DDTHH:MM:SSZ`."""
    if "T" not in value:
        return date.fromisoformat(value)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sent_message(
    account_sid: str,
    params: Mapping[str, str],
    received_at: datetime,
    content: Mapping[str, Any] | None = None,
) -> SentMessage:
    return SentMessage(
        account_sid=account_sid,
        to=params["To"],
        from_=params.get("From") or None,
        messaging_service_sid=params.get("MessagingServiceSid") or None,
        body=_filled_in(content, params) if content else params.get("Body", ""),
        status_callback=params.get("StatusCallback") or None,
        sid="SM" + uuid.uuid4().hex,
        params=dict(params),
        received_at=received_at,
    )


def _resource(message: SentMessage, params: Mapping[str, str]) -> dict[str, Any]:
    """The Message resource as Twilio's `create` example shapes it, every key included."""
    now = format_datetime(message.created_at)
    uri = f"/2010-04-01/Accounts/{message.account_sid}/Messages/{message.sid}"
    return {
        "account_sid": message.account_sid,
        "api_version": "2010-04-01",
        "body": message.body,
        "date_created": now,
        "date_sent": None,  # not sent yet: it was only queued
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": message.from_,
        "num_media": "1" if params.get("MediaUrl") else "0",
        "num_segments": str(_segments(message.body)),
        "price": None,
        "price_unit": "USD",
        "messaging_service_sid": message.messaging_service_sid,
        "sid": message.sid,
        # A Messaging Service first accepts the message, then picks a sender and queues it.
        "status": "accepted" if message.messaging_service_sid else "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": message.to,
        "uri": f"{uri}.json",
    }


def _filled_in(content: Mapping[str, Any], params: Mapping[str, str]) -> str:
    """A template's text with its {{1}}-style placeholders filled from ContentVariables."""
    text = str((content["types"].get("twilio/text") or {}).get("body", ""))
    variables = json.loads(params.get("ContentVariables") or "{}")
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: variables.get(m.group(1), m.group(0)), text)


def _segments(body: str) -> int:
    return sms_length(body).segments


def _message_for(code: int, to: str = "") -> str:
    """Twilio's wording of error `code` for a send to `to` (21211's names the number)."""
    known = {
        TOO_MANY_REQUESTS: "Too Many Requests",
        INTERNAL_ERROR: "Internal Server Error",
        INVALID_TO: f"The 'To' number {to} is not a valid phone number.",
        21610: "Attempt to send to unsubscribed recipient",
        21614: "'To' number is not a valid mobile number",
        OUTSIDE_WINDOW: (
            "Failed to send freeform message because you are outside the allowed window. "
            "If you are using WhatsApp, please use a Message Template."
        ),
    }
    return known.get(code, f"Twilio error {code}")


def _error(failure: _Failure, headers: dict[str, str] | None = None, *, to: str = "") -> _Answer:
    body = {
        "code": failure.code,
        "message": failure.message or _message_for(failure.code, to),
        "more_info": f"https://www.twilio.com/docs/errors/{failure.code}",
        "status": failure.status,
    }
    return _Answer(failure.status, body, headers or {})


def serve_in_another_process(latency: float = 0.0) -> tuple[str, "Callable[[], None]"]:
    """A fake Twilio API in its own process (benchmarks: it must not share our GIL).

    Returns its base URL and a function that stops it.
    """
    ready: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve, args=(latency, ready), daemon=True)
    process.start()
    base_url = ready.get(timeout=30)
    return base_url, process.terminate


def _serve(latency: float, ready: multiprocessing.Queue) -> None:
    api = FakeTwilioApi({ACCOUNT_SID: AUTH_TOKEN})
    api.latency = latency
    ready.put(api.base_url)
    while True:
        time.sleep(3600)
        api.reset()  # a long benchmark must not grow `sent` and `calls` without end
