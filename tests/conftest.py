"""Shared fixtures. The suite runs on real PostgreSQL and Redis; it says how to start them."""

import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from outreach import metrics
from outreach.models import Channel, ChannelKind, Organization, Role
from outreach.redis_client import redis_client
from outreach.selectors.channels import forget_webhook_channels
from outreach.selectors.conversation import forget_webhook_keywords
from outreach.services.channels import channel_create
from outreach.services.organizations import member_add, organization_create
from tests.support import quick_flush
from tests.support.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FakeTwilioApi,
    running_twilio_api,
    twilio_signature,
)

HOW_TO_START = """
Start them with Docker:
    docker compose up -d postgres redis     (then export DATABASE_URL=postgres://amani:$POSTGRES_PASSWORD@127.0.0.1:5432/amani)
or on Debian/Ubuntu:
    sudo apt-get install -y postgresql redis-server
    sudo pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
    redis-server --daemonize yes --port 6379 --save "" --appendonly no
or point the suite elsewhere with DATABASE_URL=postgres://... and REDIS_URL=redis://...
"""


def pytest_sessionstart(session: pytest.Session) -> None:
    database = settings.DATABASES["default"]
    down = []
    if not _reachable(database.get("HOST") or "127.0.0.1", int(database.get("PORT") or 5432)):
        down.append(f"PostgreSQL at {database.get('HOST')}:{database.get('PORT') or 5432}")
    redis_url = urlsplit(settings.REDIS_URL)
    if not _reachable(redis_url.hostname or "127.0.0.1", redis_url.port or 6379):
        down.append(f"Redis at {redis_url.hostname}:{redis_url.port or 6379}")
    if down:
        pytest.exit(f"The test suite needs {' and '.join(down)}, not reachable.\n{HOW_TO_START}", 2)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """The test database as pytest-django sets it up; each transactional test then ends by
    emptying only the tables it filled (tests/support/quick_flush.py)."""
    with django_db_blocker.unblock():
        quick_flush.record_baseline()


quick_flush.install()


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def make_organization(db: None) -> Callable[..., Organization]:
    def make(name: str = "Peace Youth Kenya", admin: str | None = None) -> Organization:
        admin_username = admin or f"{name.split()[0].lower()}-admin"
        return organization_create(
            name=name, admin_username=admin_username, languages=["en", "sw"]
        ).membership.organization

    return make


@pytest.fixture
def organization(make_organization: Callable[..., Organization]) -> Organization:
    return make_organization("Peace Youth Kenya", admin="pyk-admin")


@pytest.fixture
def other_organization(make_organization: Callable[..., Organization]) -> Organization:
    return make_organization("Sauti ya Amani", admin="sya-admin")


@pytest.fixture
def member_client() -> Callable[..., APIClient]:
    """An API client authenticated as a new member of `organization` with `role`."""
    counter = iter(range(10_000))

    def make(organization: Organization, role: str = Role.MANAGER) -> APIClient:
        new_member = member_add(
            organization=organization,
            username=f"{role}-{organization.slug}-{next(counter)}",
            role=role,
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {new_member.api_token}")
        client.membership = new_member.membership  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def admin_client_of(member_client: Callable[..., APIClient]) -> Callable[[Organization], APIClient]:
    return lambda organization: member_client(organization, Role.ADMIN)


@pytest.fixture
def twilio_api(settings: Any) -> Iterator[FakeTwilioApi]:
    """A local server speaking Twilio's REST API; the official SDK is pointed at it."""
    with running_twilio_api() as api:
        settings.TWILIO_BASE_URL = api.base_url
        yield api


@pytest.fixture
def twilio_channel(organization: Organization) -> Channel:
    return channel_create(
        organization=organization,
        name="Safaricom shortcode",
        kind=ChannelKind.TWILIO_SMS,
        country="KE",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+254700000100",
        messages_per_second=50,
    )


# Twilio's WhatsApp sandbox sender.
WHATSAPP_SENDER = "+14155238886"


@pytest.fixture
def twilio_whatsapp_channel(organization: Organization) -> Channel:
    return channel_create(
        organization=organization,
        name="Amani WhatsApp",
        kind=ChannelKind.TWILIO_WHATSAPP,
        country="KE",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=WHATSAPP_SENDER,
    )


@pytest.fixture
def console_channel(organization: Organization) -> Channel:
    return channel_create(
        organization=organization, name="Console", kind=ChannelKind.CONSOLE, country="KE"
    )


@pytest.fixture
def empty_engine_counters() -> Iterator[None]:
    """The engine's counters (/metrics, the Engine page) and Celery's queues in Redis,
    empty before the test and after it."""
    client = redis_client()

    def empty() -> None:
        metrics.webhook_observations_write()  # what this process kept goes, with the rest
        for pattern in ("amani:metrics:*", "priority*", "bulk*"):
            for key in client.scan_iter(pattern):
                client.delete(key)

    empty()
    yield
    empty()


@pytest.fixture(autouse=True)
def _no_kept_channels() -> None:
    """Webhooks find channels afresh in each test (rows of earlier tests are gone)."""
    forget_webhook_channels()
    forget_webhook_keywords()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Each test starts with full token buckets (and no wrong link codes counted)."""
    yield
    client = redis_client()
    if client is not None:
        for pattern in ("amani:bucket:*", "amani:link:*"):
            for key in client.scan_iter(pattern):
                client.delete(key)
        client.delete("amani:waves:changed")


@pytest.fixture
def twilio_post(client: Any, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Posts a form to a channel's webhook signed as Twilio would sign it.

    As in production, what the request queued after commit (routing, replies) runs before
    this returns; tasks run in-process in the test settings.
    """

    def post(channel: Channel, form: dict, *, hook: str = "inbound", token: str = AUTH_TOKEN):
        path = reverse(f"twilio-{hook}", args=[channel.uuid])
        signature = twilio_signature(token, settings.PUBLIC_BASE_URL + path, form)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)

    return post
