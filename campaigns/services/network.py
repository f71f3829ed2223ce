"""Writes on networks: create one, invite an organization, join, leave, name a focal point.

Joining is by invitation and acceptance; an organization that leaves keeps what it adopted
but shares, reviews and adopts no more. Every write is by an admin of the acting organization.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from campaigns.models import MemberStatus, Network, NetworkMember, NetworkNotice, NoticeKind
from outreach.access import Action, may
from outreach.errors import InvalidInput, NotAllowed, NotFound
from outreach.models import Organization, User
from outreach.models.organizations import STAFF_ROLES
from outreach.selectors.organizations import role_in


@transaction.atomic
def network_create(
    *,
    organization: Organization,
    by: User,
    name: str,
    description: str = "",
    min_cell_size: int = 10,
) -> Network:
    """Start a network; the founding organization is its first member, `by` its focal point."""
    _admin(by, organization)
    name = str(name or "").strip()
    if not name:
        raise InvalidInput("A network needs a name.", field="name")
    if not isinstance(min_cell_size, int) or not 5 <= min_cell_size <= 100:
        raise InvalidInput("k is a whole number from 5 to 100.", field="min_cell_size")
    slug = slugify(name)[:80] or "network"
    if Network.objects.filter(name__iexact=name).exists() or Network.objects.filter(slug=slug):
        raise InvalidInput("A network of that name exists already.", field="name")
    try:
        with transaction.atomic():
            network = Network.objects.create(
                name=name[:200],
                slug=slug,
                description=str(description or ""),
                min_cell_size=min_cell_size,
                created_by=by,
            )
    except IntegrityError as error:
        raise InvalidInput("A network of that name exists already.", field="name") from error
    NetworkMember.objects.create(
        network=network,
        organization=organization,
        status=MemberStatus.ACTIVE,
        focal_point=by,
        invited_by=by,
        joined_at=timezone.now(),
    )
    return network


@transaction.atomic
def network_invite(
    *, network: Network, organization: Organization, by: User, invitee: str
) -> NetworkMember:
    """Invite another organization (by its slug); it joins when one of its admins accepts."""
    _admin(by, organization)
    active_member(network, organization)
    guest = Organization.objects.filter(slug=str(invitee or "").strip()).first()
    if guest is None:
        raise InvalidInput("No organization has that slug on this server.", field="organization")
    place = NetworkMember.objects.select_for_update().filter(network=network, organization=guest)
    existing = place.first()
    if existing is not None and existing.status == MemberStatus.ACTIVE:
        raise InvalidInput("That organization is a member already.", field="organization")
    if existing is not None and existing.status == MemberStatus.INVITED:
        return existing
    if existing is None:
        existing = NetworkMember(network=network, organization=guest)
    existing.status, existing.invited_by, existing.left_at = MemberStatus.INVITED, by, None
    existing.save()
    NetworkNotice.objects.create(
        network=network,
        organization=guest,
        kind=NoticeKind.INVITED,
        text=f"{organization.name} invites you to join the network {network.name}.",
    )
    return existing


@transaction.atomic
def network_accept(
    *, network: Network, organization: Organization, by: User, focal_point: User | None = None
) -> NetworkMember:
    """Accept an invitation; the focal point defaults to the admin who accepts."""
    _admin(by, organization)
    place = _place(network, organization)
    if place.status != MemberStatus.INVITED:
        raise InvalidInput("There is no open invitation to accept.", field="network")
    reviewer = focal_point or by
    _check_focal_point(reviewer, organization)
    place.status, place.focal_point, place.joined_at = MemberStatus.ACTIVE, reviewer, timezone.now()
    place.save(update_fields=["status", "focal_point", "joined_at"])
    return place


@transaction.atomic
def network_leave(*, network: Network, organization: Organization, by: User) -> NetworkMember:
    """Leave (or decline an invitation); adopted versions stay in the organization's waves."""
    _admin(by, organization)
    place = _place(network, organization)
    if place.status == MemberStatus.LEFT:
        raise InvalidInput("The organization has left this network already.", field="network")
    place.status, place.left_at = MemberStatus.LEFT, timezone.now()
    place.save(update_fields=["status", "left_at"])
    return place


@transaction.atomic
def network_set_focal_point(
    *, network: Network, organization: Organization, by: User, user_id: object
) -> NetworkMember:
    """Name the member who reviews for the organization in this network."""
    _admin(by, organization)
    place = active_member(network, organization)
    try:
        reviewer = User.objects.filter(pk=int(str(user_id))).first()
    except ValueError:
        reviewer = None
    if reviewer is None:
        raise InvalidInput("No such member.", field="focal_point")
    _check_focal_point(reviewer, organization)
    place.focal_point = reviewer
    place.save(update_fields=["focal_point"])
    return place


def active_member(network: Network, organization: Organization) -> NetworkMember:
    """The organization's place in the network, which must be a current membership."""
    place = NetworkMember.objects.filter(
        network=network, organization=organization, status=MemberStatus.ACTIVE
    ).first()
    if place is None:
        raise NotAllowed("Your organization is not a member of this network.")
    return place


def _place(network: Network, organization: Organization) -> NetworkMember:
    place = (
        NetworkMember.objects.select_for_update()
        .filter(network=network, organization=organization)
        .first()
    )
    if place is None:
        raise NotFound("Your organization has no place in this network.")
    return place


def _check_focal_point(user: User, organization: Organization) -> None:
    if role_in(user, organization.pk) not in STAFF_ROLES:
        raise InvalidInput(
            "The focal point must be an admin, manager or reviewer of the organization.",
            field="focal_point",
        )


def _admin(user: User, organization: Organization) -> None:
    if not may(role_in(user, organization.pk), Action.MANAGE_NETWORK):
        raise NotAllowed("Only an admin of the organization acts for it in a network.")


__all__ = [
    "active_member",
    "network_accept",
    "network_create",
    "network_invite",
    "network_leave",
    "network_set_focal_point",
]
