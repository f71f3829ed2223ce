"""Shared fixtures. The suite runs on real PostgreSQL and Redis; it says how to start them."""

import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from outreach.models import Organization, Role
from outreach.services.organizations import member_add, organization_create

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
