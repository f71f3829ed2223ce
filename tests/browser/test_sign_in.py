"""Signing in through the browser."""

from outreach.models import Role


def test_a_manager_signs_in_and_sees_their_organization(organization, make_member, sign_in):
    membership = make_member(organization, Role.MANAGER)
    page = sign_in(membership.user.username)
    assert page.url.endswith("/console/")
    assert page.get_by_role("heading", name="Peace Youth Kenya").is_visible()
