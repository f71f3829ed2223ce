"""What every console page knows: the member, their organizations, the menu their role opens."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_noop as _

from console.membership import console_membership
from outreach.access import Action, allowed_actions
from outreach.selectors.organizations import memberships_of

# (label, URL name, the action that opens it); labels are marked here, translated in the template.
MENU: list[tuple[str, str, Action]] = [
    (_("Home"), "console:home", Action.SEE_CAMPAIGNS),
    (_("Campaigns"), "console:campaigns", Action.SEE_CAMPAIGNS),
    (_("Review"), "console:review-queue", Action.REVIEW),
    (_("Audience"), "console:audience", Action.SEE_AUDIENCE),
    (_("Inbox"), "console:inbox", Action.SEE_INBOX),
    (_("Simulator"), "console:simulator", Action.SIMULATE),
    (_("Library"), "console:library", Action.SEE_LIBRARY),
    (_("Network"), "console:network", Action.SEE_LIBRARY),
    (_("Setup"), "console:setup", Action.SEE_CHANNELS),
    (_("Reports"), "console:funder-home", Action.SEE_REPORTS),
]


def console(request: HttpRequest) -> dict[str, Any]:
    if not request.path.startswith("/console/") or not request.user.is_authenticated:
        return {}
    membership = console_membership(request)
    if membership is None:
        return {"menu": [], "memberships": []}
    can = allowed_actions(membership.role)
    return {
        "membership": membership,
        "organization": membership.organization,
        "can": {action.name: True for action in can},
        "memberships": list(memberships_of(request.user)),
        "menu": [
            {"label": label, "url": reverse(name), "current": request.path == reverse(name)}
            for label, name, action in MENU
            if action in can
        ],
        "offered_languages": offered_languages(membership.organization.languages),
    }


def offered_languages(organization_languages: list[str]) -> list[tuple[str, str]]:
    """The console's languages the organization writes in; English always."""
    wanted = {"en", *organization_languages}
    return [(code, name) for code, name in settings.LANGUAGES if code in wanted]
