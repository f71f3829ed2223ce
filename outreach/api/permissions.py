"""Who may do what: a member's role in the organization the request is about.

Views declare `read_roles` and `write_roles` (or `roles_by_action` for finer
cases). Funders are left out unless a view names them: they see aggregate
reports only.
"""

from collections.abc import Collection
from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from outreach.api.organization_context import resolve_membership
from outreach.errors import NotAllowed
from outreach.models import Role
from outreach.models.organizations import STAFF_ROLES

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.views import APIView

DEFAULT_READ_ROLES: frozenset[str] = STAFF_ROLES
DEFAULT_WRITE_ROLES: frozenset[str] = frozenset({Role.ADMIN, Role.MANAGER})


class HasOrganizationRole(BasePermission):
    """Resolves the request's organization and checks the caller's role in it."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # DRF answers 401 with the token challenge
        membership = resolve_membership(request)
        allowed = allowed_roles(view, request)
        if membership.role not in allowed:
            raise NotAllowed(
                f"Your role ({membership.role}) may not {_verb(request)} here; "
                f"this needs {_roles(allowed)}."
            )
        return True


def allowed_roles(view: "APIView", request: Request) -> Collection[str]:
    action = getattr(view, "action", None)
    by_action: dict[str, Collection[str]] = getattr(view, "roles_by_action", {})
    if action in by_action:
        return by_action[action]
    if request.method in SAFE_METHODS:
        return getattr(view, "read_roles", DEFAULT_READ_ROLES)
    return getattr(view, "write_roles", DEFAULT_WRITE_ROLES)


def _verb(request: Request) -> str:
    return "read" if request.method in SAFE_METHODS else "make changes"


def _roles(roles: Collection[str]) -> str:
    ordered = [role for role in Role.values if role in roles]
    return " or ".join(ordered) if ordered else "a role no one has"
