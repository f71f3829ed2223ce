"""The official Twilio SDK client, sent to `settings.TWILIO_BASE_URL` instead of Twilio if set."""

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests import Session
from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

DEFAULT_TIMEOUT_SECONDS = 10.0


def twilio_client(account_sid: str, auth_token: str) -> Client:
    """An SDK client for one account, with a timeout, pooled connections and no SDK retries.

    When the setting TWILIO_BASE_URL is set (e.g. "http://127.0.0.1:4010"), every request the
    client makes, on any Twilio domain, goes to that server instead, path and query kept.
    Clients are shared per (account, token, base URL, timeout), so each keeps its pool.
    """
    if not account_sid or not auth_token:
        # The SDK would silently fall back to TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN from the env.
        raise ValueError("A Twilio client needs an account SID and an auth token.")
    base_url = (getattr(settings, "TWILIO_BASE_URL", "") or "").rstrip("/")
    timeout = float(getattr(settings, "TWILIO_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    return _cached_client(account_sid, auth_token, base_url, timeout)


class RedirectingHttpClient(TwilioHttpClient):
    """A TwilioHttpClient that sends every request to `base_url` instead of Twilio's host."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(pool_connections=True, timeout=timeout)
        base = urlsplit(base_url)
        if base.scheme not in ("http", "https") or not base.netloc:
            raise ImproperlyConfigured(f"TWILIO_BASE_URL must be an http(s) URL, not {base_url!r}.")
        self._scheme, self._netloc, self._prefix = base.scheme, base.netloc, base.path.rstrip("/")
        _size_pool(self)
        # The base URL names the server to talk to: no proxy from the environment in between.
        self.session.trust_env = False

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        """Send the request the SDK built to the same path and query on the base URL."""
        return super().request(method, self.redirect(url), *args, **kwargs)

    def redirect(self, url: str) -> str:
        """`url` with Twilio's scheme and host replaced by the base URL's (and its path prefix)."""
        parts = urlsplit(url)
        return urlunsplit(
            (self._scheme, self._netloc, self._prefix + parts.path, parts.query, parts.fragment)
        )


@lru_cache(maxsize=64)
def _cached_client(account_sid: str, auth_token: str, base_url: str, timeout: float) -> Client:
    if base_url:
        http_client = RedirectingHttpClient(base_url, timeout=timeout)
    else:
        http_client = TwilioHttpClient(pool_connections=True, timeout=timeout)
        _size_pool(http_client)
    return Client(account_sid, auth_token, http_client=http_client)


def _size_pool(http_client: TwilioHttpClient) -> None:
    # One pooled connection per dispatching thread: the SDK's default (cores + 4) would make
    # threads open, and for HTTPS handshake, a new connection on almost every call.
    size = max(10, int(getattr(settings, "DISPATCH_CONCURRENCY", 16)))
    session = http_client.session or Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, HTTPAdapter(pool_connections=4, pool_maxsize=size))
    http_client.session = session
