"""A loopback server that speaks Meta's Graph API, for the WhatsApp Cloud and Messenger tests.

The adapters are pointed at it (setting META_GRAPH_BASE_URL), so tests exercise the real
httpx client and never reach the internet. Served, each with a bearer token checked against
the object in the path:

- `POST /{phone-number-id}/messages`: a WhatsApp text or template (the Cloud API's shapes);
- `GET /{waba-id}/message_templates`: the templates set in `templates`, paged by `limit`
  and the `after` cursor, with `paging.next` while there is more;
- `POST /me/messages` and `POST /{page-id}/messages`: a Messenger message (Send API);
- `POST /{page-id}/feed`: a Page post, published or scheduled (10 minutes to 30 days);
- `GET /{post-id}?fields=…`: a post's reactions, comments and shares.

Errors come in Graph's shape, {"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}: a wrong token is 190, an unknown object 100/33, and the failures tests
ask for (`fail_next`, `outside_window`, `stopped_marketing`, `deny_engagement`).
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import parse_qs

from tests.support.servers import LoopbackApi, Reply

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
WHATSAPP_TOKEN = "EAAwhatsapp-system-user-token"
PAGE_ID = "104910598712345"
PAGE_TOKEN = "EAApage-access-token"
APP_SECRET = "meta-app-secret-0123456789abcdef"

# Meta's codes for what the server checks by itself.
INVALID_TOKEN = 190
INVALID_PARAMETER = 100
NO_SUCH_OBJECT_SUBCODE = 33
REENGAGEMENT = 131047
MARKETING_STOPPED = 131050
NO_PERMISSION = 10
SCHEDULE_AT_LEAST_SECONDS = 10 * 60
SCHEDULE_AT_MOST_SECONDS = 30 * 24 * 3600

_WORDING = {
    REENGAGEMENT: "Re-engagement message",
    MARKETING_STOPPED: "Unable to deliver the message. This recipient has chosen to stop"
    " receiving marketing messages on WhatsApp from your business.",
    131049: "This message was not delivered to maintain healthy ecosystem engagement.",
    130429: "Rate limit hit",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    131026: "Message Undeliverable.",
    131000: "Something went wrong",
    190: "Error validating access token: Session has expired.",
    551: "This person isn't available right now.",
    613: "Calls to this api have exceeded the rate limit.",
    4: "Application request limit reached",
    32: "Page request limit reached",
    10: "(#10) This message is sent outside of allowed window.",
    200: "(#200) Permissions error",
}


@dataclass
class Call:
    """One request the server received, whatever it answered."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Post:
    id: str
    page_id: str
    message: str
    published: bool
    scheduled_publish_time: int | None


@dataclass
class _Failure:
    code: int
    http_status: int = 400
    subcode: int | None = None
    message: str | None = None


_Answer = Reply


class FakeMetaApi(LoopbackApi):
    """Graph API on 127.0.0.1: records what it is sent and answers the failures it is told to.

    It starts serving on construction; `close()` stops it. Safe to use from many threads.
    """

    thread_name = "fake-meta-api"

    def __init__(self) -> None:
        self.phone_numbers: dict[str, str] = {PHONE_NUMBER_ID: WHATSAPP_TOKEN}
        self.business_accounts: dict[str, str] = {WABA_ID: WHATSAPP_TOKEN}
        self.pages: dict[str, str] = {PAGE_ID: PAGE_TOKEN}
        self.calls: list[Call] = []
        self.posts: list[Post] = []
        # The mids of the Messenger messages it took, as it answered them.
        self.messenger_mids: list[str] = []
        # Templates GET /{waba-id}/message_templates lists, as Meta shapes them.
        self.templates: list[dict[str, Any]] = []
        # Post id → {"reactions": n, "comments": n, "shares": n}.
        self.engagement: dict[str, dict[str, int]] = {}
        self.latency: float = 0.0
        self._lock = threading.Lock()
        self._failing_next: list[_Failure] = []
        self._outside_window: set[str] = set()
        self._stopped_marketing: set[str] = set()
        self._engagement_denied = False
        self._hold_next: list[float] = []
        self._start_serving(path="/v21.0")

    # --- what tests tell it ------------------------------------------------------------------

    def fail_next(
        self,
        code: int,
        *,
        subcode: int | None = None,
        http_status: int = 400,
        message: str | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next `count` authenticated calls with this Graph error."""
        with self._lock:
            self._failing_next.extend(
                _Failure(code, http_status, subcode, message) for _ in range(count)
            )

    def outside_window(self, to: str) -> None:
        """The person at `to` (digits, as the Cloud API writes it) last wrote over 24 hours
        ago: a text to them fails with 131047, a template still goes."""
        with self._lock:
            self._outside_window.add(to.removeprefix("+"))

    def stopped_marketing(self, to: str) -> None:
        """The person at `to` stopped marketing messages: a send to them fails with 131050."""
        with self._lock:
            self._stopped_marketing.add(to.removeprefix("+"))

    def deny_engagement(self) -> None:
        """Answer reads of a post's counts as a token without pages_read_engagement."""
        self._engagement_denied = True

    def time_out_next(self, seconds: float) -> None:
        """Accept the next call (recorded), then hold its answer `seconds`."""
        with self._lock:
            self._hold_next.append(seconds)

    # --- what tests read --------------------------------------------------------------------

    def calls_to(self, method: str, path: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and c.path == path]

    def reply(self, method: str, target: str, headers: Message, body: bytes) -> Reply:
        return self.answer(method, target, headers.get("Authorization") or "", body)

    # --- serving ----------------------------------------------------------------------------

    def answer(self, method: str, target: str, authorization: str, raw: bytes) -> _Answer:
        route, _, query_string = target.partition("?")
        query = {name: values[0] for name, values in parse_qs(query_string).items()}
        body = _parse_body(raw)
        with self._lock:
            self.calls.append(Call(method, route, query, body, authorization))
            hold = self._hold_next.pop(0) if self._hold_next else 0.0
        if self.latency > 0:
            time.sleep(self.latency)
        parts = route.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "v21.0":
            return _error(_Failure(INVALID_PARAMETER, 400, None, "Unknown path components"))
        object_id, edge = parts[1], "/".join(parts[2:])
        token = authorization.removeprefix("Bearer ")
        owner = self._owner(object_id, edge, token)
        if owner is None:
            return _unknown_object(object_id)
        if owner != token:
            return _error(_Failure(INVALID_TOKEN, 401, None, "Invalid OAuth access token."))
        with self._lock:
            failure = self._failing_next.pop(0) if self._failing_next else None
        if failure is not None:
            return _error(failure)
        answer = self._route(method, object_id, edge, query, body, token)
        answer.hold = hold
        return answer

    def _owner(self, object_id: str, edge: str, token: str) -> str | None:
        """The token that may use `object_id`, or None when there is no such object."""
        if object_id == "me":
            return token if token in self.pages.values() else None
        for table in (self.phone_numbers, self.business_accounts, self.pages):
            if object_id in table:
                return table[object_id]
        page_id, _, _ = object_id.partition("_")
        if not edge and page_id in self.pages:
            return self.pages[page_id]  # a post, named "{page-id}_{post-id}"
        return None

    def _route(
        self, method: str, object_id: str, edge: str, query: dict, body: Any, token: str
    ) -> _Answer:
        if method == "POST" and edge == "messages" and object_id in self.phone_numbers:
            return self._whatsapp_message(body)
        if method == "GET" and edge == "message_templates" and object_id in self.business_accounts:
            return self._templates(query)
        if method == "POST" and edge == "messages":
            return self._messenger_message(body)
        if method == "POST" and edge == "feed" and object_id in self.pages:
            return self._post(object_id, body)
        if method == "GET" and not edge:
            return self._engagement(object_id, query)
        return _error(_Failure(INVALID_PARAMETER, 400, None, f"Unsupported {method} request."))

    def _whatsapp_message(self, body: Any) -> _Answer:
        problem = _whatsapp_problem(body)
        if problem:
            return _error(_Failure(INVALID_PARAMETER, 400, None, problem))
        to = body["to"]
        with self._lock:
            if to in self._stopped_marketing:
                return _error(_Failure(MARKETING_STOPPED))
            if body["type"] != "template" and to in self._outside_window:
                return _error(_Failure(REENGAGEMENT))
        wamid = "wamid." + base64.b64encode(uuid.uuid4().bytes).decode()
        return _Answer(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid, "message_status": "accepted"}],
            },
        )

    def _templates(self, query: Mapping[str, str]) -> _Answer:
        limit = max(1, min(int(query.get("limit", 25)), 1000))
        start = int(base64.b64decode(query["after"]).decode()) if "after" in query else 0
        shown = self.templates[start : start + limit]
        end = start + len(shown)
        paging: dict[str, Any] = {
            "cursors": {
                "before": base64.b64encode(str(start).encode()).decode(),
                "after": base64.b64encode(str(end).encode()).decode(),
            }
        }
        if end < len(self.templates):
            paging["next"] = f"{self.base_url}/{WABA_ID}/message_templates?after=…"
        return _Answer(200, {"data": shown, "paging": paging})

    def _messenger_message(self, body: Any) -> _Answer:
        recipient = (body or {}).get("recipient", {}).get("id") if isinstance(body, dict) else None
        text = (body.get("message") or {}).get("text") if isinstance(body, dict) else None
        if not recipient:
            return _error(_Failure(INVALID_PARAMETER, 400, None, "(#100) Param recipient required"))
        if not text or body.get("messaging_type") not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            return _error(_Failure(INVALID_PARAMETER, 400, None, "(#100) Invalid message"))
        # Messenger's mids are long (about 90 characters): longer than our id columns.
        mid = "m_" + base64.urlsafe_b64encode(uuid.uuid4().bytes * 4).decode().rstrip("=")
        with self._lock:
            self.messenger_mids.append(mid)
        return _Answer(200, {"recipient_id": recipient, "message_id": mid})

    def _post(self, page_id: str, body: Any) -> _Answer:
        if not isinstance(body, dict) or not body.get("message"):
            return _error(_Failure(INVALID_PARAMETER, 400, None, "(#100) Missing message"))
        published = body.get("published", True) not in (False, "false")
        scheduled = body.get("scheduled_publish_time")
        if not published:
            ahead = int(scheduled or 0) - time.time()
            if not SCHEDULE_AT_LEAST_SECONDS <= ahead + 5 <= SCHEDULE_AT_MOST_SECONDS + 5:
                return _error(
                    _Failure(
                        INVALID_PARAMETER,
                        400,
                        None,
                        "(#100) The specified scheduled publish time is invalid.",
                    )
                )
        post = Post(
            id=f"{page_id}_{uuid.uuid4().int % 10**15}",
            page_id=page_id,
            message=body["message"],
            published=published,
            scheduled_publish_time=int(scheduled) if scheduled is not None else None,
        )
        with self._lock:
            self.posts.append(post)
        return _Answer(200, {"id": post.id})

    def _engagement(self, post_id: str, query: Mapping[str, str]) -> _Answer:
        if self._engagement_denied:
            return _error(
                _Failure(
                    NO_PERMISSION,
                    403,
                    None,
                    "(#10) This endpoint requires the 'pages_read_engagement' permission.",
                )
            )
        counts = self.engagement.get(post_id)
        if counts is None:
            return _unknown_object(post_id)
        fields = query.get("fields", "")
        answer: dict[str, Any] = {"id": post_id}
        if "reactions" in fields:
            answer["reactions"] = {
                "data": [],
                "summary": {"total_count": counts.get("reactions", 0), "viewer_reaction": "NONE"},
            }
        if "comments" in fields:
            answer["comments"] = {
                "data": [],
                "summary": {"order": "ranked", "total_count": counts.get("comments", 0)},
            }
        if "shares" in fields and counts.get("shares"):
            answer["shares"] = {"count": counts["shares"]}
        return _Answer(200, answer)


@contextmanager
def running_meta_api() -> Iterator[FakeMetaApi]:
    api = FakeMetaApi()
    try:
        yield api
    finally:
        api.close()


def hub_signature(body: bytes, app_secret: str = APP_SECRET) -> str:
    """The X-Hub-Signature-256 Meta sends with a webhook delivery of `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signed_delivery(payload: Any, app_secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    """A webhook delivery as Meta posts it: the JSON body and the headers that sign it."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, {"HTTP_X_HUB_SIGNATURE_256": hub_signature(body, app_secret)}


def _whatsapp_problem(body: Any) -> str:
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return "(#100) The parameter messaging_product is required."
    to = body.get("to")
    if not isinstance(to, str) or not to.isdigit():
        return "(#100) Invalid parameter: to"
    if body.get("type") == "text":
        if not (body.get("text") or {}).get("body"):
            return "(#100) The parameter text['body'] is required."
        return ""
    if body.get("type") == "template":
        template = body.get("template") or {}
        if not template.get("name") or not (template.get("language") or {}).get("code"):
            return "(#100) The parameter template['name'] and ['language'] are required."
        return ""
    return "(#100) Invalid parameter: type"


def _parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return {name: values[0] for name, values in parse_qs(raw.decode()).items()}


def _error(failure: _Failure) -> _Answer:
    error: dict[str, Any] = {
        "message": failure.message or _WORDING.get(failure.code, f"Graph error {failure.code}"),
        "type": "OAuthException",
        "code": failure.code,
        "fbtrace_id": "A" + uuid.uuid4().hex[:22],
    }
    if failure.subcode is not None:
        error["error_subcode"] = failure.subcode
    if failure.code >= 130000:
        error["error_data"] = {"messaging_product": "whatsapp", "details": error["message"]}
    return _Answer(failure.http_status, {"error": error})


def _unknown_object(object_id: str) -> _Answer:
    return _error(
        _Failure(
            INVALID_PARAMETER,
            400,
            NO_SUCH_OBJECT_SUBCODE,
            f"Unsupported request. Object with ID '{object_id}' does not exist.",
        )
    )


VERIFY_TOKEN = "amani-verify-token-42"


def whatsapp_channel_for(organization: Any, **fields: Any) -> Any:
    """A WhatsApp Cloud API channel this server knows (its number, account and token)."""
    from outreach.models import Channel, ChannelKind

    return Channel.objects.create(
        organization=organization,
        **{
            "name": "WhatsApp Cloud",
            "kind": ChannelKind.WHATSAPP_CLOUD,
            "country": "KE",
            "external_id": PHONE_NUMBER_ID,
            "account_sid": WABA_ID,
            "access_token": WHATSAPP_TOKEN,
            "webhook_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            **fields,
        },
    )


def messenger_channel_for(organization: Any, **fields: Any) -> Any:
    """A Messenger channel for the Page this server knows (its id and Page token)."""
    from outreach.models import Channel, ChannelKind

    return Channel.objects.create(
        organization=organization,
        **{
            "name": "Facebook Page",
            "kind": ChannelKind.MESSENGER,
            "country": "KE",
            "external_id": PAGE_ID,
            "access_token": PAGE_TOKEN,
            "webhook_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            **fields,
        },
    )
