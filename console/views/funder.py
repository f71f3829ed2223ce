"""Console pages: the funder dashboard, a campaign's report, its CSV and PDF.

Aggregates only, and exactly what the report API gives: each page asks
`campaign_report` for the scope the API's CampaignReportViewSet builds from the same
query (`by`, `from`, `to`, `wave`), always suppressed; the charts are the printable
report's own (`campaigns.printable.build_charts`), inlined as SVG, so the page and the
PDF draw the same bars. Funders see only the campaigns shared with them; staff see all of
the organization's.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_lazy

from campaigns.api.reports import report_csv
from campaigns.models import Campaign, Wave
from campaigns.printable import (
    BREAKDOWN,
    SERIES,
    TOTALS,
    WAVES,
    build_charts,
    fmt,
    privacy_note,
    report_pdf,
    to_svg,
)
from campaigns.selectors.reports import (
    DIMENSIONS,
    ReportScope,
    campaign_report,
    reportable_campaigns,
)
from config.db_router import reading_from_replica
from console.guard import member_view
from outreach.access import Action
from outreach.models import Role

Report = dict[str, Any]

DEFAULT_DIMENSION = "region"
DIMENSION_LABELS = {
    "region": gettext_lazy("Region"),
    "language": gettext_lazy("Language"),
    "age_band": gettext_lazy("Age band"),
    "gender": gettext_lazy("Gender"),
    "channel": gettext_lazy("Channel"),
    "day": gettext_lazy("Day"),
}
FIGURE_LABELS = {
    "targeted": gettext_lazy("Targeted"),
    "fatigue_capped": gettext_lazy("Held back by the fatigue cap"),
    "canceled": gettext_lazy("Canceled"),
    "sent": gettext_lazy("Sent"),
    "delivered": gettext_lazy("Delivered"),
    "failed": gettext_lazy("Failed"),
    "undelivered": gettext_lazy("Undelivered"),
    "delivery_rate": gettext_lazy("Delivery rate"),
    "segments": gettext_lazy("SMS segments"),
    "replies": gettext_lazy("Replies"),
    "reply_rate": gettext_lazy("Reply rate"),
    "opt_outs": gettext_lazy("Opt-outs"),
    "opt_out_rate": gettext_lazy("Opt-out rate"),
    "clicks": gettext_lazy("Link clicks"),
    "click_rate": gettext_lazy("Click rate"),
    "poll_answers": gettext_lazy("Poll answers"),
}
# The figures at the top of a campaign's page; the totals table below has them all.
HEADLINE = [
    "targeted",
    "delivered",
    "delivery_rate",
    "replies",
    "reply_rate",
    "opt_outs",
    "clicks",
    "poll_answers",
]


@member_view(Action.SEE_REPORTS)
@reading_from_replica()
def index(request: HttpRequest) -> HttpResponse:
    """The campaigns whose reports the member may read."""
    campaigns = _campaigns(request).select_related("organization")
    return render(request, "console/funder/home.html", {"campaigns": campaigns})


@member_view(Action.SEE_REPORTS)
@reading_from_replica()
def campaign_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One campaign's report: figures, charts, breakdown, polls, the privacy note, downloads."""
    query = _asked(request, pk, _with_default_dimension(request.GET))
    if isinstance(query, HttpResponse):
        return query
    report = campaign_report(query.scope(), suppress=True)
    context = {
        "campaign": query.campaign,
        "query": query,
        "page": report_page(report),
        "download_query": query.query_string(),
    }
    if request.htmx and request.htmx.target == "breakdown-figures":
        return render(request, "console/funder/_breakdown_swap.html", context)
    return render(request, "console/funder/campaign.html", context)


@member_view(Action.SEE_REPORTS)
@reading_from_replica()
def campaign_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The report as the API's CSV (report_csv), for the same query as the page."""
    report = _download(request, pk)
    if isinstance(report, HttpResponse):
        return report
    response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report)}.csv"'
    return response


@member_view(Action.SEE_REPORTS)
@reading_from_replica()
def campaign_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The report as the API's A4 PDF (campaigns.printable.report_pdf)."""
    report = _download(request, pk)
    if isinstance(report, HttpResponse):
        return report
    response = HttpResponse(report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report)}.pdf"'
    return response


urlpatterns = [
    path("reports/", index, name="funder-home"),
    path("reports/campaigns/<int:pk>/", campaign_page, name="funder-campaign"),
    path("reports/campaigns/<int:pk>/csv/", campaign_csv, name="funder-campaign-csv"),
    path("reports/campaigns/<int:pk>/pdf/", campaign_pdf, name="funder-campaign-pdf"),
]


class ReportQueryForm(forms.Form):
    """The report API's query (`by`, `from`, `to`, `wave`), as a form on the page."""

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["wave"] = forms.ModelChoiceField(
            queryset=Wave.objects.filter(campaign=campaign).order_by("scheduled_for", "pk"),
            required=False,
            empty_label=gettext_lazy("All waves"),
            label=gettext_lazy("Wave"),
        )
        self.fields["from"] = forms.DateField(
            required=False,
            label=gettext_lazy("From"),
            widget=forms.DateInput(attrs={"type": "date"}),
        )
        self.fields["to"] = forms.DateField(
            required=False, label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"})
        )
        self.fields["by"] = forms.ChoiceField(
            choices=[("", gettext_lazy("No breakdown"))]
            + [(name, DIMENSION_LABELS.get(name, name)) for name in sorted(DIMENSIONS)],
            required=False,
            label=gettext_lazy("Break down by"),
        )

    def clean(self) -> dict[str, Any]:
        values = super().clean()
        start, end = values.get("from"), values.get("to")
        if start and end and end < start:
            self.add_error("to", gettext("The period ends before it starts."))
        return values

    def scope(self) -> ReportScope:
        """The scope the report API builds from the same query."""
        values = self.cleaned_data
        return ReportScope(
            campaign=self.campaign,
            wave=values.get("wave"),
            date_from=values.get("from"),
            date_to=values.get("to"),
            dimension=values.get("by") or None,
        )

    def query_string(self) -> str:
        """The valid query again, for the download links and the breakdown's own form."""
        values = self.cleaned_data
        pairs = {
            "wave": values["wave"].pk if values.get("wave") else "",
            "from": values["from"].isoformat() if values.get("from") else "",
            "to": values["to"].isoformat() if values.get("to") else "",
            "by": values.get("by") or "",
        }
        query = QueryDict(mutable=True)
        query.update({name: value for name, value in pairs.items() if value != ""})
        return query.urlencode()


@dataclass(frozen=True)
class Grid:
    """A table of the report as the page shows it: column heads, rows of text."""

    head: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)  # label, cells, suppressed


def report_page(report: Report) -> dict[str, Any]:
    """What the campaign page shows of a report, every figure formatted as the PDF prints it."""
    charts = build_charts(report)
    totals = report["totals"]
    breakdown = report.get("breakdown")
    dimension = (breakdown or {}).get("dimension") or ""
    dimension_label = DIMENSION_LABELS.get(dimension, dimension.replace("_", " "))
    return {
        "report": report,
        "headline": [
            {"name": name, "label": _label(name), "value": fmt(name, totals.get(name))}
            for name in HEADLINE
        ],
        "totals": [
            {"name": name, "label": _label(name), "value": fmt(name, totals.get(name))}
            for name, _ in TOTALS
        ],
        "cost": _money(totals.get("cost"), totals.get("currency")),
        "cost_per_delivered": _money(totals.get("cost_per_delivered"), totals.get("currency")),
        "privacy_note": privacy_note(report, translated=True),
        "daily_chart": to_svg(
            charts.daily, "daily", gettext("Delivered and failed messages per day")
        ),
        "engagement_chart": to_svg(
            charts.engagement, "engagement", gettext("Replies and opt-outs per day")
        ),
        "breakdown_chart": to_svg(
            charts.breakdown,
            "breakdown",
            gettext("Delivered messages by %(dimension)s") % {"dimension": dimension_label},
        ),
        "dimension": dimension,
        "dimension_label": dimension_label,
        "breakdown": None
        if breakdown is None
        else _grid(
            dimension_label, BREAKDOWN, breakdown["rows"], _day if dimension == "day" else _key
        ),
        "series": _grid(gettext("Day"), SERIES, report["series"], _day),
        "waves": _grid(gettext("Wave"), WAVES, report["waves"], _key),
        "errors": report["errors"],
        "polls": report["polls"],
        "page_posts": report.get("page_posts") or [],
    }


def _campaigns(request: HttpRequest) -> QuerySet[Campaign]:
    """The campaigns the report API lists for this member: shared ones only, for a funder."""
    membership = request.membership  # type: ignore[attr-defined]
    funder = request.user.pk if membership.role == Role.FUNDER else None
    return reportable_campaigns(request.organization.pk, funder_id=funder)  # type: ignore[attr-defined]


def _with_default_dimension(data: Any) -> Any:
    """A first visit breaks the figures down by region; `by=` (empty) asks for none."""
    if "by" in data:
        return data
    data = data.copy()
    data["by"] = DEFAULT_DIMENSION
    return data


def _asked(request: HttpRequest, pk: int, data: Any) -> "ReportQueryForm | HttpResponse":
    """The valid query of one of the member's campaigns; else the page with its errors (400).

    Another organization's campaign, or one not shared with this funder, is not found.
    """
    campaign = get_object_or_404(_campaigns(request), pk=pk)
    query = ReportQueryForm(data, campaign=campaign)
    if query.is_valid():
        return query
    context = {"campaign": campaign, "query": query, "page": None}
    return render(request, "console/funder/campaign.html", context, status=400)


def _download(request: HttpRequest, pk: int) -> Report | HttpResponse:
    """The report for a download's query (no breakdown unless `by` asks, as in the API)."""
    query = _asked(request, pk, request.GET)
    if isinstance(query, HttpResponse):
        return query
    return campaign_report(query.scope(), suppress=True)


def _grid(first: str, columns: list[tuple[str, str]], rows: list[dict], label: Any) -> Grid:
    return Grid(
        head=[first] + [str(_label(name)) for name, _ in columns],
        rows=[
            {
                "label": label(row.get("name") or row.get("key")),
                "suppressed": row.get("suppressed"),
                "cells": [
                    fmt(name, None if row.get("suppressed") else row["figures"].get(name))
                    for name, _ in columns
                ],
            }
            for row in rows
        ],
    )


def _label(name: str) -> str:
    return FIGURE_LABELS.get(name) or name.replace("_", " ").capitalize()


def _key(value: Any) -> str:
    return str(value or gettext("unknown"))


def _day(value: Any) -> str:
    """A day key in the console's language ("Tue 3 Aug 2027"); the key itself if not a date."""
    try:
        return date_format(dt.date.fromisoformat(str(value)), "D j M Y")
    except ValueError:
        return str(value or gettext("unknown"))


def _money(value: str | None, currency: str | None) -> str:
    return fmt("cost", None if value is None else f"{value} {currency or ''}".strip())


def _filename(report: Report) -> str:
    wave = report.get("wave")
    name = report["campaign"]["name"] + (f" {wave['name']}" if wave else "")
    return slugify(f"amani report {name}") or "amani-report"
