"""create_org and seed_demo, the two ways organizations come to be outside the API."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from outreach.models import Membership, Organization, Role

pytestmark = pytest.mark.django_db


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_org_prints_the_admins_token_on_its_last_line():
    lines = run("create_org", "--name", "Amani Kisumu", "--admin", "otieno")

    token = Token.objects.get(key=lines[-1])
    assert token.user.username == "otieno"
    membership = Membership.objects.get(user=token.user)
    assert membership.role == Role.ADMIN
    assert membership.organization.slug == "amani-kisumu"


def test_create_org_refuses_a_name_already_taken():
    run("create_org", "--name", "Amani Kisumu", "--admin", "otieno")

    with pytest.raises(CommandError, match="--name"):
        run("create_org", "--name", "amani kisumu", "--admin", "akinyi")
    assert Organization.objects.count() == 1


def test_create_org_refuses_an_unknown_time_zone_and_creates_nothing():
    with pytest.raises(CommandError, match="--timezone"):
        run("create_org", "--name", "X", "--admin", "x", "--timezone", "Nairobi")

    assert not Organization.objects.exists()


def test_create_org_adds_an_existing_user_as_admin_of_a_second_organization():
    run("create_org", "--name", "First", "--admin", "amina")

    lines = run("create_org", "--name", "Second", "--admin", "amina")

    assert Membership.objects.filter(user__username="amina", role=Role.ADMIN).count() == 2
    assert Token.objects.get(key=lines[-1]).user.username == "amina"


def test_seed_demo_creates_one_member_per_role_and_can_run_twice():
    first = "\n".join(run("seed_demo"))
    second = "\n".join(run("seed_demo"))

    organization = Organization.objects.get(name="Amani Demo")
    roles = sorted(
        Membership.objects.filter(organization=organization).values_list("role", flat=True)
    )
    assert roles == sorted(Role.values)
    for username in ("demo-admin", "demo-manager", "demo-reviewer", "demo-funder"):
        assert username in first
        assert username in second
    assert first != second  # fresh passwords on each run
    assert "Console:   http://127.0.0.1:8000/console/  (every login below, the funder" in first
    assert "Admin:     http://127.0.0.1:8000/admin/  (superusers only" in first
