"""Console fixtures: members with a password, and a browser-like client signed in as one."""

from collections.abc import Callable
from itertools import count

import pytest
from django.test import Client

from outreach.models import Membership, Organization, Role
from outreach.services.organizations import member_add

PASSWORD = "a-long-test-password-42"
_numbers = count()


@pytest.fixture
def make_member(db: None) -> Callable[..., Membership]:
    """A new member of `organization` with `role`, whose password is PASSWORD."""

    def make(organization: Organization, role: str = Role.MANAGER) -> Membership:
        added = member_add(
            organization=organization,
            username=f"{role}-{organization.slug}-{next(_numbers)}",
            role=role,
        )
        user = added.membership.user
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        return added.membership

    return make


@pytest.fixture
def console_as(make_member: Callable[..., Membership]) -> Callable[..., Client]:
    """A test client signed in to the console as a new member with `role`."""

    def make(organization: Organization, role: str = Role.MANAGER) -> Client:
        membership = make_member(organization, role)
        client = Client()
        client.force_login(membership.user)
        client.membership = membership  # type: ignore[attr-defined]
        return client

    return make
