"""Writes on organizations and their members."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from rest_framework.authtoken.models import Token

from outreach.errors import InvalidInput, NotAllowed
from outreach.models import Membership, Organization, Role, User
from outreach.models.organizations import STAFF_ROLES

ORGANIZATION_SETTINGS = (
    "name",
    "country",
    "timezone",
    "default_language",
    "languages",
    "report_min_cell_size",
    "reply_attribution_hours",
)


@dataclass(frozen=True)
class NewMember:
    membership: Membership
    api_token: str


@transaction.atomic
def organization_create(
    *,
    name: str,
    admin_username: str,
    admin_email: str = "",
    country: str = "KE",
    timezone: str = "Africa/Nairobi",
    default_language: str = "en",
    languages: list[str] | None = None,
) -> NewMember:
    """Create an organization with its first admin (a new user, or an existing one added)."""
    name = name.strip()
    if not name:
        raise InvalidInput("An organization needs a name.", field="name")
    if Organization.objects.filter(name__iexact=name).exists():
        raise InvalidInput(f"An organization named '{name}' already exists.", field="name")
    organization = Organization(
        name=name,
        slug=_unique_slug(name),
        country=country,
        timezone=timezone,
        default_language=default_language,
        languages=languages or [default_language],
    )
    _full_clean(organization)
    organization.save()
    user = User.objects.filter(username=admin_username).first()
    if user is None:
        return member_add(
            organization=organization, username=admin_username, email=admin_email, role=Role.ADMIN
        )
    membership = Membership.objects.create(user=user, organization=organization, role=Role.ADMIN)
    token, _ = Token.objects.get_or_create(user=user)
    return NewMember(membership=membership, api_token=token.key)


@transaction.atomic
def organization_update(*, organization: Organization, **changes: object) -> Organization:
    """Change an organization's settings; all or nothing."""
    unknown = set(changes) - set(ORGANIZATION_SETTINGS)
    if unknown:
        raise InvalidInput(f"'{sorted(unknown)[0]}' cannot be changed.", field=sorted(unknown)[0])
    for field, value in changes.items():
        setattr(organization, field, value)
    _full_clean(organization)
    organization.save(update_fields=[*changes])
    return organization


@transaction.atomic
def member_add(
    *,
    organization: Organization,
    username: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
) -> NewMember:
    """Create a user as a member of `organization` and return their API token (shown once)."""
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput(f"The username '{username}' is taken.", field="username")
    _check_role(role)
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        # Marks staff roles (funders only read reports); the admin opens to superusers only.
        is_staff=role in STAFF_ROLES,
    )
    if password:
        _check_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    _full_clean(user, exclude=["password"])
    user.save()
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    token = Token.objects.create(user=user)
    return NewMember(membership=membership, api_token=token.key)


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str) -> Membership:
    """Change a member's role; an organization always keeps at least one admin."""
    _check_role(role)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        _keep_one_admin(membership, field="role")
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    User.objects.filter(pk=membership.user_id, is_superuser=False).update(
        is_staff=_is_staff_anywhere(membership.user_id)
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, acting_user: User) -> None:
    """Remove a member from an organization (their user and other memberships stay)."""
    if membership.user_id == acting_user.pk:
        raise NotAllowed("You cannot remove yourself; ask another admin.")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.ADMIN:
        _keep_one_admin(membership, field="role")
    user_id = membership.user_id
    membership.delete()
    User.objects.filter(pk=user_id, is_superuser=False).update(is_staff=_is_staff_anywhere(user_id))


def _keep_one_admin(membership: Membership, *, field: str) -> None:
    # Lock every admin row of the organization so two concurrent demotions cannot both pass.
    admins = list(
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if admins == [membership.pk]:
        raise InvalidInput("An organization must keep at least one admin.", field=field)


def _is_staff_anywhere(user_id: int) -> bool:
    return Membership.objects.filter(user_id=user_id, role__in=STAFF_ROLES).exists()


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise InvalidInput(
            f"'{role}' is not a role; choose one of {', '.join(Role.values)}.", field="role"
        )


def _check_password(password: str, user: User) -> None:
    from django.contrib.auth.password_validation import validate_password

    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), field="password") from error


def _full_clean(instance: object, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False)  # type: ignore[attr-defined]
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        field_name = None if field == "__all__" else field
        raise InvalidInput(" ".join(messages), field=field_name) from error


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "organization"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug
