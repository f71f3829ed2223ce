"""Which organization a console page is about: the one chosen in the session.

The API names it in a header; a browser keeps it in the session, set at sign-in
to the member's first organization and changed with the switcher in the header.
"""

from django.http import HttpRequest

from outreach.errors import NotFound
from outreach.models import Membership
from outreach.selectors.organizations import memberships_of

SESSION_KEY = "amani_organization"


def console_membership(request: HttpRequest) -> Membership | None:
    """The signed-in user's membership in the session's organization (None: a member of none)."""
    cached = getattr(request, "membership", None)
    if cached is not None:
        return cached
    memberships = memberships_of(request.user)
    slug = request.session.get(SESSION_KEY)
    membership = memberships.filter(organization__slug=slug).first() if slug else None
    if membership is None:
        membership = memberships.first()
        if membership is None:
            return None
        request.session[SESSION_KEY] = membership.organization.slug
    request.membership = membership  # type: ignore[attr-defined]
    request.organization = membership.organization  # type: ignore[attr-defined]
    return membership


def organization_switch(request: HttpRequest, *, slug: str) -> Membership:
    """Make `slug` the session's organization; one the user does not belong to is not found."""
    membership = memberships_of(request.user).filter(organization__slug=slug).first()
    if membership is None:
        raise NotFound("No such organization among yours.", field="organization")
    request.session[SESSION_KEY] = membership.organization.slug
    request.membership = membership  # type: ignore[attr-defined]
    request.organization = membership.organization  # type: ignore[attr-defined]
    return membership
