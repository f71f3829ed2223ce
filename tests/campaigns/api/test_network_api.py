"""Networks through the API: start one, invite by slug, accept, name a focal point, leave."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from outreach.models import Role, User
from outreach.services.organizations import member_add
from tests.support.network import make_member

pytestmark = pytest.mark.django_db


def client_of(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def founder():
    return make_member("Peace Youth Kenya", "pyk")


@pytest.fixture
def guest():
    return make_member("Sauti ya Amani", "sya")


@pytest.fixture
def stranger():
    return make_member("Vijana wa Amani", "vwa")


def start_network(member, name="East Africa Peace Network") -> int:
    response = client_of(member.admin).post(
        "/api/v1/networks/", {"name": name, "min_cell_size": 12}
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def joined(founder, guest) -> int:
    network = start_network(founder)
    invited = client_of(founder.admin).post(
        f"/api/v1/networks/{network}/invite/", {"organization": guest.organization.slug}
    )
    assert invited.status_code == 201, invited.json()
    accepted = client_of(guest.admin).post(f"/api/v1/networks/{network}/accept/", {})
    assert accepted.status_code == 200, accepted.json()
    return network


def test_an_admin_starts_a_network_and_is_its_first_members_focal_point(founder):
    response = client_of(founder.admin).post(
        "/api/v1/networks/", {"name": "East Africa Peace Network", "description": "Kenya first."}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["slug"], body["min_cell_size"]) == (
        "East Africa Peace Network",
        "east-africa-peace-network",
        10,
    )
    assert body["your_status"] == "active"
    (member,) = body["members"]
    assert member["organization"] == founder.organization.slug
    assert member["focal_point_name"] == "pyk-admin"


def test_an_invited_organization_sees_the_invitation_and_joins_with_its_focal_point(founder, guest):
    network = start_network(founder)
    reviewer = member_add(
        organization=guest.organization, username="sya-reviewer", role=Role.REVIEWER
    ).membership.user

    invited = client_of(founder.admin).post(
        f"/api/v1/networks/{network}/invite/", {"organization": guest.organization.slug}
    )
    places = client_of(guest.admin).get("/api/v1/networks/").json()["results"]
    notices = client_of(guest.manager).get("/api/v1/library/notices/?unread=true").json()
    accepted = client_of(guest.admin).post(
        f"/api/v1/networks/{network}/accept/", {"focal_point": reviewer.pk}
    )

    assert invited.status_code == 201, invited.json()
    assert invited.json()["status"] == "invited"
    assert [(p["id"], p["status"]) for p in places] == [(network, "invited")]
    assert [n["kind"] for n in notices["results"]] == ["invited"]
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "active"
    assert accepted.json()["focal_point"] == reviewer.pk
    detail = client_of(founder.manager).get(f"/api/v1/networks/{network}/").json()
    assert {m["organization_name"]: m["focal_point_name"] for m in detail["members"]} == {
        "Peace Youth Kenya": "pyk-admin",
        "Sauti ya Amani": "sya-reviewer",
    }


def test_a_members_detail_names_organizations_and_focal_points_and_nothing_of_people(
    founder, guest
):
    network = joined(founder, guest)

    detail = client_of(guest.manager).get(f"/api/v1/networks/{network}/").json()

    for member in detail["members"]:
        assert set(member) == {
            "organization",
            "organization_name",
            "status",
            "focal_point_name",
            "invited_at",
            "joined_at",
            "left_at",
        }


def test_an_admin_names_another_focal_point_and_the_field_is_named_when_it_cannot_be(
    founder, guest
):
    network = joined(founder, guest)
    client = client_of(founder.admin)

    named = client.post(f"/api/v1/networks/{network}/focal-point/", {"user": founder.manager.pk})
    outsider = client.post(f"/api/v1/networks/{network}/focal-point/", {"user": guest.admin.pk})

    assert named.status_code == 200, named.json()
    assert named.json()["focal_point_name"] == "pyk-manager"
    assert outsider.status_code == 400
    assert list(outsider.json()["error"]["fields"]) == ["user"]


def test_an_organization_that_leaves_sees_its_place_as_left_and_the_network_no_more(founder, guest):
    network = joined(founder, guest)

    left = client_of(guest.admin).post(f"/api/v1/networks/{network}/leave/")
    detail = client_of(guest.admin).get(f"/api/v1/networks/{network}/")
    places = client_of(guest.admin).get("/api/v1/networks/").json()["results"]

    assert left.status_code == 200, left.json()
    assert left.json()["status"] == "left"
    assert detail.status_code == 404
    assert [p["status"] for p in places] == ["left"]
    founders_view = client_of(founder.admin).get(f"/api/v1/networks/{network}/").json()
    assert {m["organization_name"]: m["status"] for m in founders_view["members"]} == {
        "Peace Youth Kenya": "active",
        "Sauti ya Amani": "left",
    }


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/networks/", {}, "name"),
        ("/api/v1/networks/", {"name": ["a list"]}, "name"),
        ("/api/v1/networks/", {"name": "N", "min_cell_size": 3}, "min_cell_size"),
        ("/api/v1/networks/", {"name": "N", "min_cell_size": "ten"}, "min_cell_size"),
        ("/api/v1/networks/", {"name": "N", "colour": "red"}, "colour"),
        ("/api/v1/networks/", {"name": "East Africa Peace Network"}, "name"),
        ("/api/v1/networks/{id}/invite/", {}, "organization"),
        ("/api/v1/networks/{id}/invite/", {"organization": "no-such-org"}, "organization"),
        ("/api/v1/networks/{id}/invite/", {"organization": 12}, "organization"),
        ("/api/v1/networks/{id}/focal-point/", {}, "user"),
        ("/api/v1/networks/{id}/focal-point/", {"user": "me"}, "user"),
        ("/api/v1/networks/{id}/focal-point/", {"user": 10**30}, "user"),
        ("/api/v1/networks/{id}/focal-point/", {"user": 999999}, "user"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(founder, path, body, field):
    network = start_network(founder)

    response = client_of(founder.admin).post(path.format(id=network), body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"], response.json()


@pytest.mark.parametrize(
    "body",
    [{"focal_point": "me"}, {"focal_point": 999999}, {"focal_point": -1}, {"colour": 1}],
)
def test_accepting_with_a_bad_focal_point_is_a_400_and_leaves_the_invitation_open(
    founder, guest, body
):
    network = start_network(founder)
    client_of(founder.admin).post(
        f"/api/v1/networks/{network}/invite/", {"organization": guest.organization.slug}
    )

    response = client_of(guest.admin).post(f"/api/v1/networks/{network}/accept/", body)

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) <= {"focal_point", "colour"}
    places = client_of(guest.admin).get("/api/v1/networks/").json()["results"]
    assert [p["status"] for p in places] == ["invited"]


def test_only_admins_act_for_the_organization_and_funders_see_no_network(founder, guest):
    network = joined(founder, guest)
    funder = member_add(organization=founder.organization, username="pyk-funder", role=Role.FUNDER)
    funder_client = APIClient()
    funder_client.credentials(HTTP_AUTHORIZATION=f"Token {funder.api_token}")

    by_manager = client_of(founder.manager).post("/api/v1/networks/", {"name": "Another"})
    leave_by_manager = client_of(guest.manager).post(f"/api/v1/networks/{network}/leave/")

    assert by_manager.status_code == 403
    assert leave_by_manager.status_code == 403
    assert funder_client.get("/api/v1/networks/").status_code == 403
    assert funder_client.get(f"/api/v1/networks/{network}/").status_code == 403
    assert client_of(founder.manager).get(f"/api/v1/networks/{network}/").status_code == 200


def test_a_network_the_organization_has_no_place_in_is_a_404(founder, guest, stranger):
    network = joined(founder, guest)
    client = client_of(stranger.admin)

    assert client.get(f"/api/v1/networks/{network}/").status_code == 404
    assert client.post(f"/api/v1/networks/{network}/accept/", {}).status_code == 404
    assert client.post(f"/api/v1/networks/{network}/leave/").status_code == 404
    invite = client.post(
        f"/api/v1/networks/{network}/invite/", {"organization": stranger.organization.slug}
    )
    assert invite.status_code == 404
    assert client.get("/api/v1/networks/").json()["results"] == []
    assert client.get("/api/v1/networks/99999999999999999999/").status_code == 404
