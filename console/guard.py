"""The console's door: signed in, a member of the session's organization, allowed the action.

Every console view is wrapped in `member_view(Action.…)`; the answer to "may
this role do it" comes from `outreach.access`, the table the API uses too.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console.membership import console_membership
from outreach.access import Action, may

View = Callable[..., HttpResponse]


def member_view(action: Action) -> Callable[[View], View]:
    """Wrap a view: anonymous users go to sign-in, others need `action` in their organization."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = console_membership(request)
            if membership is None:
                return forbidden(request, reason="You are not a member of any organization yet.")
            if not may(membership.role, action):
                return forbidden(request, reason=None)
            return view(request, *args, **kwargs)

        guarded.console_action = action  # type: ignore[attr-defined]
        return guarded

    return decorate


def forbidden(request: HttpRequest, *, reason: str | None) -> HttpResponse:
    """The console's 403 page: says what the role may not do, in words."""
    return render(request, "console/forbidden.html", {"reason": reason}, status=403)
