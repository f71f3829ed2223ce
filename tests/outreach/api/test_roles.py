"""Members see only their organization, and each role does only what it may."""

import pytest
from rest_framework.test import APIClient

from outreach.models import Membership, Role
from outreach.services.subscribers import subscriber_for_address

pytestmark = pytest.mark.django_db


def test_a_funder_of_one_organization_cannot_read_another_organizations_members(
    organization, other_organization, member_client
):
    funder = member_client(organization, Role.FUNDER)

    response = funder.get("/api/v1/members/", HTTP_X_ORGANIZATION=other_organization.slug)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "organization_not_found"


def test_an_admin_cannot_reach_a_member_of_another_organization_by_id(
    organization, other_organization, admin_client_of
):
    stranger = Membership.objects.filter(organization=other_organization).first()

    response = admin_client_of(organization).get(f"/api/v1/members/{stranger.pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_member_list_shows_only_the_callers_organization(
    organization, other_organization, admin_client_of
):
    response = admin_client_of(organization).get("/api/v1/members/")

    usernames = {member["username"] for member in response.json()["results"]}
    assert "pyk-admin" in usernames
    assert "sya-admin" not in usernames


def test_a_funder_cannot_write(organization, member_client):
    funder = member_client(organization, Role.FUNDER)

    response = funder.patch("/api/v1/organization/", {"name": "Renamed"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    organization.refresh_from_db()
    assert organization.name == "Peace Youth Kenya"


def test_a_funder_cannot_read_staff_endpoints(organization, member_client):
    funder = member_client(organization, Role.FUNDER)

    assert funder.get("/api/v1/organization/").status_code == 403
    assert funder.get("/api/v1/members/").status_code == 403


def test_a_manager_cannot_change_roles(organization, member_client):
    manager = member_client(organization, Role.MANAGER)
    reviewer = member_client(organization, Role.REVIEWER).membership

    response = manager.patch(f"/api/v1/members/{reviewer.pk}/", {"role": "admin"})

    assert response.status_code == 403
    assert "admin" in response.json()["error"]["message"]
    reviewer.refresh_from_db()
    assert reviewer.role == Role.REVIEWER


def test_a_manager_cannot_add_members(organization, member_client):
    manager = member_client(organization, Role.MANAGER)

    response = manager.post("/api/v1/members/", {"username": "eve", "role": "admin"})

    assert response.status_code == 403
    assert not Membership.objects.filter(user__username="eve").exists()


def test_a_reviewer_reads_the_organization_but_cannot_list_members(organization, member_client):
    reviewer = member_client(organization, Role.REVIEWER)

    assert reviewer.get("/api/v1/organization/").status_code == 200
    assert reviewer.get("/api/v1/members/").status_code == 403


def test_an_admin_adds_a_member_who_can_then_use_the_returned_token(organization, admin_client_of):
    response = admin_client_of(organization).post(
        "/api/v1/members/", {"username": "wanjiru", "email": "w@example.org", "role": "reviewer"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["role"] == "reviewer"
    newcomer = APIClient()
    newcomer.credentials(HTTP_AUTHORIZATION=f"Token {body['api_token']}")
    me = newcomer.get("/api/v1/me/").json()
    assert me["memberships"] == [
        {
            "organization": organization.slug,
            "organization_name": organization.name,
            "role": "reviewer",
        }
    ]


def test_an_admin_changes_a_role(organization, admin_client_of, member_client):
    manager = member_client(organization, Role.MANAGER).membership

    response = admin_client_of(organization).patch(
        f"/api/v1/members/{manager.pk}/", {"role": "reviewer"}
    )

    assert response.status_code == 200
    manager.refresh_from_db()
    assert manager.role == Role.REVIEWER


def test_the_last_admin_cannot_be_demoted(organization):
    (only_admin,) = Membership.objects.filter(organization=organization, role=Role.ADMIN)
    client = APIClient()
    client.force_authenticate(only_admin.user)

    response = client.patch(f"/api/v1/members/{only_admin.pk}/", {"role": "manager"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "role": ["An organization must keep at least one admin."]
    }
    only_admin.refresh_from_db()
    assert only_admin.role == Role.ADMIN


def test_an_admin_removes_a_member_but_not_themselves(organization, admin_client_of, member_client):
    admin = admin_client_of(organization)
    manager = member_client(organization, Role.MANAGER).membership

    assert admin.delete(f"/api/v1/members/{manager.pk}/").status_code == 204
    assert admin.delete(f"/api/v1/members/{admin.membership.pk}/").status_code == 403
    assert not Membership.objects.filter(pk=manager.pk).exists()
    assert Membership.objects.filter(pk=admin.membership.pk).exists()


def test_a_member_of_two_organizations_must_name_one(
    organization, other_organization, member_client
):
    client = member_client(organization, Role.MANAGER)
    Membership.objects.create(
        user=client.membership.user, organization=other_organization, role=Role.REVIEWER
    )

    without_header = client.get("/api/v1/organization/")
    with_header = client.get("/api/v1/organization/", HTTP_X_ORGANIZATION=other_organization.slug)

    assert without_header.status_code == 400
    assert list(without_header.json()["error"]["fields"]) == ["X-Organization"]
    assert with_header.status_code == 200
    assert with_header.json()["slug"] == other_organization.slug


def test_a_user_without_organization_is_told_so(django_user_model):
    loner = django_user_model.objects.create_user("loner")
    client = APIClient()
    client.force_authenticate(loner)

    response = client.get("/api/v1/organization/")

    assert response.status_code == 403
    assert "not a member" in response.json()["error"]["message"]


def test_the_browser_session_authenticates_too(organization, client):
    admin = Membership.objects.get(organization=organization, role=Role.ADMIN).user
    client.force_login(admin)

    response = client.get("/api/v1/organization/")

    assert response.status_code == 200


def test_a_reviewer_cannot_unmask_a_number_by_looking_it_up(
    organization, member_client, console_channel
):
    subscriber_for_address(channel=console_channel, address="+254711000001")
    reviewer = member_client(organization, Role.REVIEWER)

    by_query = reviewer.get("/api/v1/subscribers/", {"number": "+254711000001"})
    by_lookup = reviewer.post("/api/v1/subscribers/lookup/", {"number": "+254711000001"})

    assert by_query.status_code == 400
    assert by_lookup.status_code == 403
    for response in (by_query, by_lookup):
        assert "254711000001" not in response.content.decode()


def test_managers_and_admins_look_people_up_by_number(organization, member_client, console_channel):
    subscriber_for_address(channel=console_channel, address="+254711000001")

    for role in (Role.ADMIN, Role.MANAGER):
        response = member_client(organization, role).post(
            "/api/v1/subscribers/lookup/", {"number": "0711000001"}
        )

        assert response.status_code == 200
        assert response.json()["results"][0]["address"] == "+254711000001"
