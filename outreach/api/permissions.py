"""Who may do what: a member's role in the organization the request is about.

Views name the actions of `outreach.access` they serve: `read_action` for reads,
`write_action` for writes (None: no one writes here), and `actions_by_action`
for a viewset's actions that need another. The roles come from access.py's one
table, so the API, the console and the services agree. Funders are left out
unless an action names them: they see aggregate reports only.
"""

from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from outreach.access import Action, roles_for
from outreach.api.organization_context import resolve_membership
from outreach.errors import NotAllowed
from outreach.models import Role

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.views import APIView


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


def required_action(view: "APIView", request: Request) -> Action | None:
    """The action a request to `view` needs; None when no one may (a view that only reads)."""
    by_action: dict[str, Action] = getattr(view, "actions_by_action", {})
    action = getattr(view, "action", None)
    if action in by_action:
        return by_action[action]
    if request.method in SAFE_METHODS:
        return getattr(view, "read_action", None)
    return getattr(view, "write_action", None)


def allowed_roles(view: "APIView", request: Request) -> frozenset[str]:
    """The roles that may make this request: those access.py allows its action."""
    action = required_action(view, request)
    return roles_for(action) if action is not None else frozenset()


def _verb(request: Request) -> str:
    return "read" if request.method in SAFE_METHODS else "make changes"


def _roles(roles: frozenset[str]) -> str:
    ordered = [role for role in Role.values if role in roles]
    return " or ".join(ordered) if ordered else "a role no one has"
