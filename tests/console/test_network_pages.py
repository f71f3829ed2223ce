"""The network page: members and focal points, invitations accepted or declined, naming the
focal point, leaving, starting a network; admins act, other staff read; notices marked read."""

import pytest
from django.test import Client

from campaigns.models import MemberStatus, Network, NetworkMember, NetworkNotice
from campaigns.services import network as network_services
from outreach.models import Role
from outreach.services.organizations import member_add, organization_create
from tests.support.network import make_network_world, proposed_version

pytestmark = pytest.mark.django_db
NETWORK = "/console/network/"


@pytest.fixture
def world():
    return make_network_world()


@pytest.fixture
def guest():
    """An organization outside the network, with its admin."""
    created = organization_create(
        name="Amani Tanzania", admin_username="at-admin", languages=["en", "sw"], country="TZ"
    )
    return created.membership


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(response) -> str:
    return response.content.decode()


def place_of(network, organization) -> NetworkMember:
    return NetworkMember.objects.get(network=network, organization=organization)


def test_a_member_sees_the_networks_members_and_their_focal_points(world):
    body = page(signed_in(world.second.manager).get(NETWORK))

    assert "East Africa Peace Network" in body
    for name in ("Peace Youth Kenya", "Sauti ya Amani", "Vijana wa Amani"):
        assert name in body
    assert "sya-admin" in body  # the second member's focal point
    assert "Invite" not in body  # a manager reads; admins act


def test_an_admin_invites_an_organization_which_accepts(world, guest):
    invited = signed_in(world.author.admin).post(
        f"{NETWORK}{world.network.pk}/invite/", {"organization": guest.organization.slug}
    )
    assert invited.status_code == 302
    client = signed_in(guest.user)
    before = page(client.get(NETWORK))
    assert f'data-testid="place-{world.network.pk}">Invited<' in before
    assert "invites you to join the network East Africa Peace Network" in before

    accepted = client.post(f"{NETWORK}{world.network.pk}/accept/", follow=True)

    assert f'data-testid="place-{world.network.pk}">Member<' in page(accepted)
    place = place_of(world.network, guest.organization)
    assert place.status == MemberStatus.ACTIVE
    assert place.focal_point == guest.user


def test_an_invited_organization_declines(world, guest):
    network_services.network_invite(
        network=world.network,
        organization=world.author.organization,
        by=world.author.admin,
        invitee=guest.organization.slug,
    )

    signed_in(guest.user).post(f"{NETWORK}{world.network.pk}/leave/")

    assert place_of(world.network, guest.organization).status == MemberStatus.LEFT


def test_inviting_an_unknown_slug_is_refused_next_to_the_field(world):
    before = NetworkMember.objects.count()

    response = signed_in(world.author.admin).post(
        f"{NETWORK}{world.network.pk}/invite/", {"organization": "no-such-organization"}
    )

    assert response.status_code == 400
    assert 'data-field="organization"' in page(response)
    assert "No organization has that slug on this server." in page(response)
    assert NetworkMember.objects.count() == before


def test_an_admin_names_another_focal_point(world):
    reviewer = member_add(
        organization=world.second.organization, username="sya-reviewer", role=Role.REVIEWER
    ).membership.user

    signed_in(world.second.admin).post(
        f"{NETWORK}{world.network.pk}/focal-point/", {"focal_point": reviewer.pk}
    )

    assert place_of(world.network, world.second.organization).focal_point == reviewer


def test_a_funder_cannot_be_the_focal_point(world):
    funder = member_add(
        organization=world.second.organization, username="sya-funder", role=Role.FUNDER
    ).membership.user

    response = signed_in(world.second.admin).post(
        f"{NETWORK}{world.network.pk}/focal-point/", {"focal_point": funder.pk}
    )

    assert response.status_code == 400
    assert 'data-field="focal_point"' in page(response)
    assert place_of(world.network, world.second.organization).focal_point == world.second.admin


def test_a_manager_may_not_act_for_the_organization(world, guest):
    client = signed_in(world.author.manager)

    invited = client.post(
        f"{NETWORK}{world.network.pk}/invite/", {"organization": guest.organization.slug}
    )
    left = client.post(f"{NETWORK}{world.network.pk}/leave/")

    assert invited.status_code == 403
    assert left.status_code == 403
    assert not NetworkMember.objects.filter(organization=guest.organization).exists()
    assert place_of(world.network, world.author.organization).status == MemberStatus.ACTIVE


def test_leaving_keeps_the_place_as_left_and_says_so(world):
    response = signed_in(world.third.admin).post(f"{NETWORK}{world.network.pk}/leave/", follow=True)

    assert "out of the network" in page(response)
    assert f'data-testid="place-{world.network.pk}">Left<' in page(response)


def test_an_admin_starts_a_network_and_is_its_focal_point(guest):
    response = signed_in(guest.user).post(
        f"{NETWORK}new/", {"name": "Great Lakes Peace", "min_cell_size": "12"}, follow=True
    )

    network = Network.objects.get(name="Great Lakes Peace")
    assert network.min_cell_size == 12
    assert "Great Lakes Peace" in page(response)
    assert place_of(network, guest.organization).focal_point == guest.user


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "min_cell_size": "10"}, "name", "This field is required."),
        ({"name": "X", "min_cell_size": "3"}, "min_cell_size", "greater than or equal to 5"),
        ({"name": "X", "min_cell_size": "ten"}, "min_cell_size", "Enter a whole number."),
        (
            {"name": "east africa peace network", "min_cell_size": "10"},
            "name",
            "A network of that name exists already.",
        ),
    ],
)
def test_a_refused_network_shows_the_fields_error_and_creates_nothing(
    world, guest, data, field, message
):
    before = Network.objects.count()

    response = signed_in(guest.user).post(f"{NETWORK}new/", data)

    assert response.status_code == 400
    assert f'data-field="{field}"' in page(response)
    assert message in page(response)
    assert Network.objects.count() == before


def test_a_notice_is_marked_read_with_htmx_and_the_fragment_says_read(world):
    proposed_version(world)  # the other members are asked for a review
    notice = NetworkNotice.objects.get(organization=world.second.organization, kind="review_wanted")
    client = signed_in(world.second.manager)
    assert "Mark read" in page(client.get(NETWORK))

    response = client.post(f"{NETWORK}notices/{notice.pk}/read/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    fragment = page(response)
    assert fragment.startswith(f'<li id="notice-{notice.pk}" class="notice review_wanted read"')
    assert "Mark read" not in fragment
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_another_organizations_notice_is_not_found(world):
    proposed_version(world)
    notice = NetworkNotice.objects.get(organization=world.second.organization, kind="review_wanted")

    response = signed_in(world.third.manager).post(f"{NETWORK}notices/{notice.pk}/read/")

    assert response.status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None
