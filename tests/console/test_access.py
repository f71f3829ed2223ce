"""The console's door: sign-in, the session's organization, and the role table."""

import pytest
from django.test import Client

from console.membership import SESSION_KEY
from outreach.access import ALLOWED, Action, may
from outreach.models import Role
from tests.console.conftest import PASSWORD


def test_every_action_names_its_roles() -> None:
    assert set(ALLOWED) == set(Action)


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.FUNDER, Action.SEE_REPORTS, True),
        (Role.FUNDER, Action.SEE_AUDIENCE, False),
        (Role.FUNDER, Action.SEE_CAMPAIGNS, False),
        (Role.REVIEWER, Action.REVIEW, True),
        (Role.REVIEWER, Action.COMPOSE, False),
        (Role.MANAGER, Action.REVIEW, False),
        (Role.MANAGER, Action.SETUP, False),
        (Role.ADMIN, Action.APPROVE_BLACKOUT, True),
        (None, Action.SEE_REPORTS, False),
    ],
)
def test_may_answers_from_the_one_table(role: str | None, action: Action, allowed: bool) -> None:
    assert may(role, action) is allowed


def test_a_stranger_is_sent_to_sign_in(db: None) -> None:
    response = Client().get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/sign-in/?next=/console/")


def test_signing_in_with_the_password_opens_the_home_page(organization, make_member) -> None:
    membership = make_member(organization, Role.MANAGER)
    client = Client()
    response = client.post(
        "/console/sign-in/", {"username": membership.user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Peace Youth Kenya" in page.content.decode()


def test_a_wrong_password_is_refused_on_the_form(organization, make_member) -> None:
    membership = make_member(organization, Role.MANAGER)
    response = Client().post(
        "/console/sign-in/", {"username": membership.user.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_a_funder_lands_on_the_reports(organization, console_as) -> None:
    response = console_as(organization, Role.FUNDER).get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/console/reports/"


def test_switching_organization_keeps_it_in_the_session(
    organization, other_organization, make_member
) -> None:
    membership = make_member(organization, Role.MANAGER)
    other_organization.memberships.create(user=membership.user, role=Role.REVIEWER)
    client = Client()
    client.force_login(membership.user)
    client.post("/console/organization/", {"organization": other_organization.slug})
    assert client.session[SESSION_KEY] == other_organization.slug
    page = client.get("/console/").content.decode()
    assert 'data-role="reviewer"' in page


def test_switching_to_an_organization_not_ones_own_changes_nothing(
    organization, other_organization, console_as
) -> None:
    client = console_as(organization, Role.MANAGER)
    client.get("/console/")
    client.post("/console/organization/", {"organization": other_organization.slug})
    assert client.session[SESSION_KEY] == organization.slug


def test_the_menu_shows_only_what_the_role_opens(organization, console_as) -> None:
    page = console_as(organization, Role.REVIEWER).get("/console/").content.decode()
    assert ">Review<" in page
    assert ">Setup<" not in page
    assert ">Simulator<" not in page
