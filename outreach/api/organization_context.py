"""Which organization a request is about.

A member of one organization needs nothing more than a token. A member of
several names one with the `X-Organization` header (its slug). Asking for an
organization one does not belong to gets the same 404 as one that does not exist.
"""

import re

from rest_framework.request import Request

from outreach.errors import InvalidInput, NotAllowed, NotFound
from outreach.models import Membership, Organization
from outreach.selectors.organizations import memberships_of

ORGANIZATION_HEADER = "X-Organization"
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,80}$")


def resolve_membership(request: Request) -> Membership:
    """The caller's membership in the request's organization; cached on the request."""
    cached = getattr(request, "membership", None)
    if cached is not None:
        return cached
    slug = request.headers.get(ORGANIZATION_HEADER, "").strip()
    memberships = memberships_of(request.user)
    if slug:
        membership = (
            memberships.filter(organization__slug=slug).first() if _SLUG.match(slug) else None
        )
        if membership is None:
            raise NotFound("No such organization among yours.", code="organization_not_found")
    else:
        first_two = list(memberships[:2])
        if not first_two:
            raise NotAllowed("You are not a member of any organization.")
        if len(first_two) > 1:
            raise InvalidInput(
                "You belong to several organizations; name one by its slug in this header.",
                field=ORGANIZATION_HEADER,
            )
        membership = first_two[0]
    request.membership = membership
    request.organization = membership.organization
    return membership


def current_organization(request: Request) -> Organization:
    return resolve_membership(request).organization
