"""The home page: where a member lands after signing in.

Campaigns in progress, waves sending now (a fragment htmx reloads every few seconds),
waves waiting for my review, replies needing a look, and the audience's size over time
(an SVG drawn on the server by reportlab, as the printed report's charts are).
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors

from campaigns.printable import CHART_WIDTH, FONT, to_svg
from campaigns.selectors.progress import campaigns_in_progress, wave_names, waves_under_way
from campaigns.selectors.review import waves_awaiting_review_by
from console.guard import member_view
from outreach.access import Action, may
from outreach.selectors.audience_history import AudienceDay, audience_history
from outreach.selectors.replies_to_read import replies_to_read

SENDING_EVERY = "5s"
AUDIENCE_DAYS = 30
AUDIENCE_COLOUR = colors.HexColor("#0b6e4f")


@member_view(Action.SEE_REPORTS)  # every role lands here; funders go on to their dashboard
def home(request: HttpRequest) -> HttpResponse:
    role = request.membership.role
    if not may(role, Action.SEE_CAMPAIGNS):
        return redirect("console:funder-home")
    organization = request.organization
    history = audience_history(organization, days=AUDIENCE_DAYS)
    context = {
        "campaigns": list(campaigns_in_progress(organization, today=timezone.localdate())),
        "to_review": (
            list(waves_awaiting_review_by(organization, request.user))
            if may(role, Action.REVIEW)
            else None
        ),
        "history": history,
        "audience_now": history[-1].people if history else 0,
        "audience_chart": to_svg(
            audience_chart(history),
            "audience",
            _("People subscribed at the end of each day, over the last %(days)s days")
            % {"days": AUDIENCE_DAYS},
        ),
        **_sending(request),
    }
    if may(role, Action.SEE_INBOX):
        replies = replies_to_read(organization)
        context["replies"] = replies
        names = wave_names(organization, (r.wave_id for r in replies.latest))
        context["reply_rows"] = [(r, names.get(r.wave_id or 0)) for r in replies.latest]
    return render(request, "console/home.html", context)


@member_view(Action.SEE_CAMPAIGNS)
def home_sending(request: HttpRequest) -> HttpResponse:
    return render(request, "console/progress/home_sending.html", _sending(request))


def audience_chart(history: list[AudienceDay]) -> Drawing | None:
    """A line of the people subscribed each day, labelled about every week."""
    if not history:
        return None
    values = [day.people for day in history]
    step = max(1, len(history) // 6)
    drawing = Drawing(CHART_WIDTH, 170)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 45, 30, CHART_WIDTH - 65, 125
    chart.data = [values]
    chart.lines[0].strokeColor = AUDIENCE_COLOUR
    chart.lines[0].strokeWidth = 2
    chart.categoryAxis.categoryNames = [
        f"{day.day.day} {day.day:%b}" if i % step == 0 else "" for i, day in enumerate(history)
    ]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    if max(values) <= 0:
        chart.valueAxis.valueMax = 1
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    drawing.add(chart)
    return drawing


def _sending(request: HttpRequest) -> dict[str, object]:
    return {
        "under_way": waves_under_way(request.organization, now=timezone.now()),
        "sending_every": SENDING_EVERY,
    }


urlpatterns = [
    path("", home, name="home"),
    path("home/sending/", home_sending, name="home-sending"),
]
