"""Campaign pages: the list, a campaign's settings and its waves on a timeline, create and edit.

Times are shown twice, in the campaign's local clock and in UTC. Writes go through
campaigns.services.campaigns, the API's own services.
"""

import datetime as dt
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign, WaveStatus
from campaigns.selectors.composer import campaign_timeline, campaigns_for_console
from campaigns.services.campaigns import campaign_create, campaign_update
from campaigns.services.waves import EDITABLE
from console.forms import through_service
from console.forms_waves import (
    BLANK_BLACKOUT_ROWS,
    CampaignForm,
    campaign_initial,
    language_name,
    renamed,
)
from console.guard import member_view
from outreach.access import Action, may


@member_view(Action.SEE_CAMPAIGNS)
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/campaigns/list.html",
        {"campaigns": campaigns_for_console(request.organization), "today": timezone.localdate()},
    )


@member_view(Action.SEE_CAMPAIGNS)
def campaign_page(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = own_campaign(request, pk)
    zone = ZoneInfo(campaign.timezone)
    return render(
        request,
        "console/campaigns/campaign.html",
        {
            "campaign": campaign,
            "languages": [(code, language_name(code)) for code in campaign.languages],
            "election": _election(campaign, zone),
            "window": _window(campaign, zone),
            "blackouts": [
                {
                    "local_start": b.starts_at.astimezone(zone),
                    "local_end": b.ends_at.astimezone(zone),
                    "utc_start": b.starts_at.astimezone(dt.UTC),
                    "utc_end": b.ends_at.astimezone(dt.UTC),
                    "reason": b.reason,
                }
                for b in campaign.blackouts.order_by("starts_at")
            ],
            "timeline": campaign_timeline(campaign),
            "editable": EDITABLE,
            "draft": WaveStatus.DRAFT,
            "may_compose": may(request.membership.role, Action.COMPOSE),
        },
    )


@member_view(Action.COMPOSE)
def campaign_new(request: HttpRequest) -> HttpResponse:
    return _form(request, None)


@member_view(Action.COMPOSE)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form(request, own_campaign(request, pk))


def own_campaign(request: HttpRequest, pk: int) -> Campaign:
    """The session organization's campaign `pk`; another organization's is not found (404)."""
    campaign = Campaign.objects.filter(organization=request.organization, pk=pk).first()
    if campaign is None:
        raise Http404(_("No such campaign."))
    return campaign


def _form(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    organization = request.organization
    existing = campaign.blackouts.count() if campaign else 0
    rows = existing + BLANK_BLACKOUT_ROWS
    if request.method == "POST":
        rows = max(rows, _posted_rows(request))
        form = CampaignForm(request.POST, organization=organization, blackout_rows=rows)
        if form.is_valid():
            saved = through_service(form, lambda: _save(request, form, campaign))
            if saved is not None:
                return redirect("console:campaign", pk=saved.pk)
        status = 400
    else:
        form = CampaignForm(
            initial=campaign_initial(campaign, organization),
            organization=organization,
            blackout_rows=rows,
        )
        status = 200
    return render(
        request, "console/campaigns/form.html", {"form": form, "campaign": campaign}, status=status
    )


def _save(request: HttpRequest, form: CampaignForm, campaign: Campaign | None) -> Campaign:
    values = form.values()
    windows, names = form.blackouts()
    if campaign is None:
        call = partial(
            campaign_create,
            organization=request.organization,
            created_by=request.user,
            blackouts=windows,
            **values,
        )
    else:
        call = partial(
            campaign_update, campaign=campaign, by=request.user, blackouts=windows, **values
        )
    return renamed(call, names)()


def _posted_rows(request: HttpRequest) -> int:
    indexes = [
        int(key.split(".")[1])
        for key in request.POST
        if key.startswith("blackouts.") and key.split(".")[1].isdigit()
    ]
    return min(max(indexes, default=-1) + 1, 50)


def _election(campaign: Campaign, zone: ZoneInfo) -> dict[str, Any] | None:
    if campaign.election_date is None:
        return None
    starts = dt.datetime.combine(campaign.election_date, dt.time(0, 0), tzinfo=zone)
    return {"date": campaign.election_date, "local": starts, "utc": starts.astimezone(dt.UTC)}


def _window(campaign: Campaign, zone: ZoneInfo) -> dict[str, Any]:
    """The daily sending window (quiet hours' end to start), local and in UTC on election day."""
    day = campaign.election_date or dt.date.today()
    opens = dt.datetime.combine(day, campaign.quiet_end, tzinfo=zone)
    closes = dt.datetime.combine(day, campaign.quiet_start, tzinfo=zone)
    return {
        "opens": campaign.quiet_end,
        "closes": campaign.quiet_start,
        "opens_utc": opens.astimezone(dt.UTC),
        "closes_utc": closes.astimezone(dt.UTC),
    }


urlpatterns = [
    path("campaigns/", index, name="campaigns"),
    path("campaigns/new/", campaign_new, name="campaign-new"),
    path("campaigns/<int:pk>/", campaign_page, name="campaign"),
    path("campaigns/<int:pk>/edit/", campaign_edit, name="campaign-edit"),
]
