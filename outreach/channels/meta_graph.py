"""What Meta's Graph API channels share: one pooled client, errors read as data, and the
webhook's signature check and verification handshake.

WhatsApp Cloud API numbers and Facebook Pages (Messenger, Page posts) are both reached
through graph.facebook.com (`settings.META_GRAPH_BASE_URL`), with the channel's access
token as a bearer token. The client never retries: retries are the dispatcher's job, told
by a TransportError whether one could help.
"""

import hashlib
import hmac
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from outreach.channels.base import TransportError
from outreach.models import Channel
from outreach.privacy import mask_numbers_in_provider_text

SIGNATURE_PREFIX = "sha256="
CHALLENGE_MAX_LENGTH = 256  # Meta's hub.challenge is a short number; anything longer is not it
TRANSIENT_HTTP_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Our provider-id columns hold 64 characters; Messenger's mids run to 90 and more.
STORED_ID_MAX_LENGTH = 64
DIGEST_PREFIX = "sha256:"


@dataclass(frozen=True)
class ErrorKind:
    """What a Graph error code means for the message: could trying again help, and when."""

    permanent: bool
    unsubscribed: bool = False
    retry_after: float | None = None


PERMANENT = ErrorKind(permanent=True)
TRANSIENT = ErrorKind(permanent=False)


def throttled(seconds: float) -> ErrorKind:
    return ErrorKind(permanent=False, retry_after=seconds)


# (code, error_subcode) → kind; a (code, None) row holds for every subcode of that code.
ErrorTable = Mapping[tuple[int, int | None], ErrorKind]


def graph_request(
    channel: Channel,
    method: str,
    path: str,
    *,
    errors: ErrorTable,
    json: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One Graph API call with the channel's token: its JSON answer, or TransportError.

    A connection never made is transient and certainly not sent; a request that may have
    reached Meta without our seeing the answer (a read timeout, a cut connection, a
    success we cannot read) has an unknown outcome.
    """
    if not channel.access_token:
        raise TransportError("The channel has no Meta access token.", permanent=True)
    url = f"{settings.META_GRAPH_BASE_URL.rstrip('/')}/{path.lstrip('/')}"
    timeout = float(getattr(settings, "PROVIDER_TIMEOUT_SECONDS", 10.0))
    try:
        response = graph_client().request(
            method,
            url,
            json=json,
            params=params,
            headers={"Authorization": f"Bearer {channel.access_token}"},
            timeout=timeout,
        )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        raise TransportError(
            f"Meta unreachable: {type(error).__name__}", permanent=False
        ) from error
    except httpx.HTTPError as error:
        raise TransportError(
            f"Meta's answer was lost: {type(error).__name__}", permanent=False, outcome_unknown=True
        ) from error
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success and isinstance(body, dict) and "error" not in body:
        return body
    if response.is_success:
        raise TransportError(
            "Meta answered with a body we cannot read.", permanent=False, outcome_unknown=True
        )
    raise graph_error(response.status_code, body, errors, response.headers.get("Retry-After"))


def graph_error(
    http_status: int, body: object, errors: ErrorTable, retry_after_header: str | None = None
) -> TransportError:
    """A Graph error body ({"error": {"message", "type", "code", "error_subcode",
    "fbtrace_id"}}) as a TransportError, classified by `errors`, then by the HTTP status."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = _integer(error.get("code"))
    subcode = _integer(error.get("error_subcode"))
    kind = None
    if code is not None:
        kind = errors.get((code, subcode)) or errors.get((code, None))
    if kind is None:
        transient = http_status in TRANSIENT_HTTP_STATUSES or error.get("is_transient") is True
        kind = TRANSIENT if transient else PERMANENT
    provider_code = str(code if code is not None else http_status)
    if code is not None and subcode is not None:
        provider_code = f"{code}/{subcode}"
    return TransportError(
        _error_text(provider_code, error),
        permanent=kind.permanent,
        provider_code=provider_code[:16],
        unsubscribed=kind.unsubscribed,
        retry_after=_seconds(retry_after_header) or kind.retry_after,
    )


def stored_id(provider_id: str) -> str:
    """A Meta message id as we store it: itself when it fits our columns, else its digest,
    so a send's record and the webhooks reporting on it still name it alike."""
    if len(provider_id) <= STORED_ID_MAX_LENGTH:
        return provider_id
    digest = hashlib.sha256(provider_id.encode()).hexdigest()
    return (DIGEST_PREFIX + digest)[:STORED_ID_MAX_LENGTH]


def signature_valid(raw_body: bytes, header: str, app_secret: str) -> bool:
    """Whether `header` (X-Hub-Signature-256: "sha256=<hex>") is the HMAC-SHA256 of the raw
    body with the app secret. Compared in constant time; no secret never verifies."""
    if not app_secret or not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    given = header[len(SIGNATURE_PREFIX) :].strip().lower()
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def handshake_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The hub.challenge to echo when Meta's GET verification is right (hub.mode is
    "subscribe" and hub.verify_token is the channel's, compared in constant time); else None."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token") or ""
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    challenge = params.get("hub.challenge") or ""
    if not challenge or len(challenge) > CHALLENGE_MAX_LENGTH or not challenge.isprintable():
        return None
    return challenge


_client: httpx.Client | None = None
_client_pid = 0
_client_lock = threading.Lock()


def graph_client() -> httpx.Client:
    """The process's pooled client (created on first use, and again in a forked child)."""
    global _client, _client_pid
    with _client_lock:
        if _client is None or _client_pid != os.getpid():
            size = max(10, int(getattr(settings, "DISPATCH_CONCURRENCY", 16)))
            _client = httpx.Client(
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                follow_redirects=False,
            )
            _client_pid = os.getpid()
        return _client


def _error_text(provider_code: str, error: Mapping[str, Any]) -> str:
    # Meta's texts may name the number refused: masked here, so no log line shows it.
    message = str(error.get("message") or "Graph API error")
    details = error.get("error_data", {})
    if isinstance(details, dict) and details.get("details"):
        message = f"{message} ({details['details']})"
    trace = f" [fbtrace_id {error['fbtrace_id']}]" if error.get("fbtrace_id") else ""
    return f"Meta {provider_code}: {mask_numbers_in_provider_text(message)}{trace}"


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def answered_id(value: object, what: str) -> str:
    """The id Meta's answer gives (a message's, a post's); Meta said yes without saying to
    what when it is missing, and may well have taken it: the outcome is unknown."""
    if not isinstance(value, str) or not value:
        raise TransportError(
            f"Meta answered without a {what} id.", permanent=False, outcome_unknown=True
        )
    return value
