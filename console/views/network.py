"""The organization's networks: their members and focal points, invitations, notices.

Staff see the networks their organization has a place in (invited, a member, or gone),
each member with its focal point, and the notices the network sent it (a review wanted,
a version approved or withdrawn), which they mark read. Admins act for the organization
(Action.MANAGE_NETWORK): create a network, invite an organization by its slug, accept or
decline an invitation, name the focal point, leave. Every change goes through
campaigns.services.network, the services the API calls.
"""

from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.models import MemberStatus, Network
from campaigns.selectors.library import network_for, network_members, networks_of, notices_for
from campaigns.services import network as services
from campaigns.services.library import notice_read
from console.forms import through_service
from console.forms_library import FocalPointForm, InviteForm, NetworkForm
from console.guard import member_view
from outreach.access import Action, may
from outreach.models.organizations import STAFF_ROLES
from outreach.selectors.organizations import members_of

Failed = tuple[int | None, str, forms.Form]


@member_view(Action.SEE_LIBRARY)
def index(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@member_view(Action.MANAGE_NETWORK)
def network_new(request: HttpRequest) -> HttpResponse:
    """Start a network: the organization is its first member, the admin its focal point."""
    form = NetworkForm(request.POST)
    if form.is_valid():
        call = partial(services.network_create, organization=request.organization, by=request.user)
        network = through_service(form, lambda: call(**form.cleaned_data))
        if network is not None:
            messages.success(request, _("The network %(name)s is started.") % {"name": network})
            return redirect("console:network")
    return _page(request, failed=(None, "new", form), status=400)


@require_POST
@member_view(Action.MANAGE_NETWORK)
def network_invite(request: HttpRequest, pk: int) -> HttpResponse:
    network = _own_network(request, pk)
    form = InviteForm(request.POST)
    return _act(
        request,
        network,
        "invite",
        form,
        lambda: services.network_invite(
            network=network,
            organization=request.organization,
            by=request.user,
            invitee=form.cleaned_data["organization"],
        ),
        _("Invited: an admin of that organization accepts or declines."),
    )


@require_POST
@member_view(Action.MANAGE_NETWORK)
def network_accept(request: HttpRequest, pk: int) -> HttpResponse:
    network = _own_network(request, pk)
    return _act(
        request,
        network,
        "accept",
        forms.Form(request.POST),
        lambda: services.network_accept(
            network=network, organization=request.organization, by=request.user
        ),
        _("Your organization is a member now, and you its focal point."),
    )


@require_POST
@member_view(Action.MANAGE_NETWORK)
def network_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """Leave the network, or decline its invitation; adopted texts stay in their waves."""
    network = _own_network(request, pk)
    return _act(
        request,
        network,
        "leave",
        forms.Form(request.POST),
        lambda: services.network_leave(
            network=network, organization=request.organization, by=request.user
        ),
        _("Your organization is out of the network; what it adopted stays in its waves."),
    )


@require_POST
@member_view(Action.MANAGE_NETWORK)
def network_focal_point(request: HttpRequest, pk: int) -> HttpResponse:
    network = _own_network(request, pk)
    form = FocalPointForm(request.POST, people=_people(request))
    return _act(
        request,
        network,
        "focal_point",
        form,
        lambda: services.network_set_focal_point(
            network=network,
            organization=request.organization,
            by=request.user,
            user_id=form.cleaned_data["focal_point"],
        ),
        _("The focal point is named: they review for your organization in this network."),
    )


@require_POST
@member_view(Action.SEE_LIBRARY)
def notice_mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notice read; htmx swaps the notice, a plain form comes back to the page."""
    organization = request.organization
    if not notices_for(organization).filter(pk=pk).exists():
        raise Http404(_("No such notice."))
    notice = notice_read(organization=organization, notice_id=pk)
    if request.htmx:
        return render(request, "console/network/_notice.html", {"notice": notice})
    return redirect("console:network")


# --- helpers -----------------------------------------------------------------------------


def _own_network(request: HttpRequest, pk: int) -> Network:
    """A network the organization has a place in; any other is not found (404)."""
    network = network_for(request.organization, pk)
    if network is None:
        raise Http404(_("No such network."))
    return network


def _people(request: HttpRequest) -> list[tuple[int, str]]:
    """Who may be the organization's focal point: its admins, managers and reviewers."""
    return [
        (m.user.pk, f"{m.user.get_full_name() or m.user.username} ({m.get_role_display()})")
        for m in members_of(request.organization).order_by("user__username")
        if m.role in STAFF_ROLES
    ]


def _act(
    request: HttpRequest,
    network: Network,
    name: str,
    form: forms.Form,
    call: Callable[[], object],
    done: str,
) -> HttpResponse:
    if form.is_valid() and through_service(form, call) is not None:
        messages.success(request, done)
        return redirect("console:network")
    return _page(request, failed=(network.pk, name, form), status=400)


def _page(request: HttpRequest, *, failed: Failed | None = None, status: int = 200) -> HttpResponse:
    organization = request.organization
    manage = may(request.membership.role, Action.MANAGE_NETWORK)
    people = _people(request) if manage else []
    places = []
    for place in networks_of(organization):
        refused = failed[1:] if failed and failed[0] == place.network_id else None
        bound = {refused[0]: refused[1]} if refused else {}
        places.append(
            {
                "place": place,
                "network": place.network,
                "members": list(network_members(place.network)),
                "active": place.status == MemberStatus.ACTIVE,
                "invited": place.status == MemberStatus.INVITED,
                "refused": refused[1] if refused else None,
                "invite": bound.get("invite") or InviteForm(auto_id=f"invite-{place.pk}-%s"),
                "focal": bound.get("focal_point")
                or FocalPointForm(
                    people=people,
                    initial={"focal_point": place.focal_point_id},
                    auto_id=f"focal-{place.pk}-%s",
                ),
            }
        )
    new = failed[2] if failed and failed[1] == "new" else NetworkForm(auto_id="network-%s")
    context: dict[str, Any] = {
        "places": places,
        "manage": manage,
        "new_form": new,
        "notices": list(
            notices_for(organization).order_by(F("read_at").asc(nulls_first=True), "-created_at")[
                :50
            ]
        ),
    }
    return render(request, "console/network/index.html", context, status=status)


urlpatterns = [
    path("network/", index, name="network"),
    path("network/new/", network_new, name="network-new"),
    path("network/<int:pk>/invite/", network_invite, name="network-invite"),
    path("network/<int:pk>/accept/", network_accept, name="network-accept"),
    path("network/<int:pk>/leave/", network_leave, name="network-leave"),
    path("network/<int:pk>/focal-point/", network_focal_point, name="network-focal-point"),
    path("network/notices/<int:pk>/read/", notice_mark_read, name="notice-read"),
]
