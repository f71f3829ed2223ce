"""A loopback server that speaks Twilio's Messages API, for tests and benchmarks.

The official SDK is pointed at it (setting TWILIO_BASE_URL), so tests exercise the real SDK
and never reach the internet. Only `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` is
served; answers follow Twilio's OpenAPI description (201 bodies shaped like its `create`
example) and Twilio's error bodies: {"code", "message", "more_info", "status"}.
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
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

from outreach.sms_encoding import sms_length

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

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account_sid>AC[0-9A-Za-z]+)/Messages\.json$")


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
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class _Failure:
    code: int
    status: int
    message: str


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeTwilioApi:
    """A Twilio REST API on 127.0.0.1 that records sends and answers the failures it is told to.

    It starts serving on construction; `close()` stops it. Safe to use from many threads.
    """

    def __init__(self, accounts: Mapping[str, str] | None = None, port: int = 0) -> None:
        self.accounts: dict[str, str] = dict(accounts or {})
        self.sent: list[SentMessage] = []
        self.latency: float = 0.0
        self._lock = threading.Lock()
        self._failing_numbers: dict[str, _Failure] = {}
        self._failing_next: list[_Failure] = []
        self._server = _Server(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        host, bound_port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{bound_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-twilio-api", daemon=True
        )
        self._thread.start()

    def fail_number(
        self, to: str, code: int, status: int = 400, message: str | None = None
    ) -> None:
        """Answer every send to `to` with Twilio's error `code` and HTTP `status`."""
        with self._lock:
            self._failing_numbers[to] = _Failure(code, status, message or _message_for(code))

    def fail_next(self, count: int, code: int = TOO_MANY_REQUESTS, status: int = 429) -> None:
        """Answer the next `count` authenticated sends with this error, then normally again."""
        with self._lock:
            self._failing_next.extend(
                _Failure(code, status, _message_for(code)) for _ in range(count)
            )

    def add_account(self, account_sid: str, auth_token: str) -> None:
        """Accept `account_sid` with `auth_token` from now on."""
        with self._lock:
            self.accounts[account_sid] = auth_token

    def reset(self) -> None:
        """Forget what was sent, every failure to come and the latency (accounts stay)."""
        with self._lock:
            self.sent.clear()
            self._failing_numbers.clear()
            self._failing_next.clear()
            self.latency = 0.0

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "FakeTwilioApi":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def answer(self, method: str, path: str, authorization: str | None, body: bytes) -> _Answer:
        """The answer to one request (called by the handler thread)."""
        if self.latency > 0:
            time.sleep(self.latency)
        match = MESSAGES_PATH.match(path.split("?", 1)[0])
        if method not in ("POST", "GET") or match is None:
            return _error(_Failure(NOT_FOUND, 404, f"The requested resource {path} was not found"))
        account_sid = match["account_sid"]
        if not self._authenticated(account_sid, authorization):
            return _error(
                _Failure(AUTHENTICATE, 401, "Authenticate"),
                {"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )
        if method == "GET":
            return self._list(account_sid, path)
        params = {
            name: values[0]
            for name, values in parse_qs(
                body.decode(errors="replace"), keep_blank_values=True
            ).items()
        }
        with self._lock:
            # Injected failures come first, like Twilio's rate limiter in front of the API.
            if self._failing_next:
                return _error(self._failing_next.pop(0))
        problem = _invalid(params)
        if problem is not None:
            return _error(problem)
        with self._lock:
            failure = self._failing_numbers.get(params["To"])
            if failure is not None:
                return _error(failure)
            message = _sent_message(account_sid, params)
            self.sent.append(message)
        return _Answer(201, _resource(message, params))

    def _list(self, account_sid: str, path: str) -> _Answer:
        """GET Messages.json?To=…: the account's messages to that number, newest first."""
        query = {k: v[0] for k, v in parse_qs(path.partition("?")[2]).items()}
        size = int(query.get("PageSize", 50))
        with self._lock:
            found = [
                m
                for m in reversed(self.sent)
                if m.account_sid == account_sid and m.to == query.get("To", m.to)
            ][:size]
        uri = path.split("?", 1)[0]
        return _Answer(
            200,
            {
                "messages": [_resource(m, m.params) for m in found],
                "end": max(len(found) - 1, 0),
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            },
        )

    def _authenticated(self, account_sid: str, authorization: str | None) -> bool:
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, token = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        with self._lock:
            expected = self.accounts.get(user)
        return user == account_sid and expected is not None and token == expected


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


class _Server(ThreadingHTTPServer):
    # Dispatchers open a connection per thread at once: the default backlog of 5 refuses some.
    request_queue_size = 256
    daemon_threads = True


def _handler_for(api: FakeTwilioApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 keeps the SDK's pooled connections open between requests.
        protocol_version = "HTTP/1.1"
        # Headers and body go out as separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every answer for ~40 ms.
        disable_nagle_algorithm = True
        # Idle keep-alive connections end after this, so their threads do too.
        timeout = 30

        def do_POST(self) -> None:
            self._serve()

        def do_GET(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_PATCH(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            answer = api.answer(self.command, self.path, self.headers.get("Authorization"), body)
            payload = json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # Quiet: tests and benchmarks read `sent`, not a log.

    return Handler


def _invalid(params: Mapping[str, str]) -> _Failure | None:
    if not params.get("To"):
        return _Failure(TO_REQUIRED, 400, "A 'To' phone number is required.")
    if not params.get("From") and not params.get("MessagingServiceSid"):
        return _Failure(FROM_REQUIRED, 400, "A 'From' phone number is required.")
    if not any(params.get(name) for name in ("Body", "MediaUrl", "ContentSid")):
        return _Failure(BODY_REQUIRED, 400, "Message body is required.")
    return None


def _sent_message(account_sid: str, params: Mapping[str, str]) -> SentMessage:
    return SentMessage(
        account_sid=account_sid,
        to=params["To"],
        from_=params.get("From") or None,
        messaging_service_sid=params.get("MessagingServiceSid") or None,
        body=params.get("Body", ""),
        status_callback=params.get("StatusCallback") or None,
        sid="SM" + uuid.uuid4().hex,
        params=dict(params),
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


def _segments(body: str) -> int:
    return sms_length(body).segments


def _message_for(code: int) -> str:
    known = {
        TOO_MANY_REQUESTS: "Too Many Requests",
        INTERNAL_ERROR: "Internal Server Error",
        21211: "Invalid 'To' Phone Number",
        21610: "Attempt to send to unsubscribed recipient",
        21614: "'To' number is not a valid mobile number",
    }
    return known.get(code, f"Twilio error {code}")


def _error(failure: _Failure, headers: dict[str, str] | None = None) -> _Answer:
    body = {
        "code": failure.code,
        "message": failure.message,
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
        api.reset()  # a long benchmark must not grow `sent` without end
