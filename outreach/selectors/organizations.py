"""Reads on organizations and their members."""

from django.db.models import QuerySet

from outreach.models import Membership, Organization, Role, User


def memberships_of(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name")
    )


def organization_ids_of(user: User) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))


def members_of(organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user")


def role_in(user: User, organization_id: int) -> str | None:
    return (
        Membership.objects.filter(user=user, organization_id=organization_id)
        .values_list("role", flat=True)
        .first()
    )


def is_last_admin(membership: Membership) -> bool:
    """Whether removing this membership's admin role would leave its organization without one."""
    if membership.role != Role.ADMIN:
        return False
    return not (
        Membership.objects.filter(organization_id=membership.organization_id, role=Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    )
