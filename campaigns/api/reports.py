"""Funder reports: aggregate figures of a campaign or a wave, as JSON, CSV, HTML or PDF.

The only endpoints a funder may reach, and only for the campaigns shared with them. No
subscriber, number or text a subscriber wrote is ever part of a report; small cells are
suppressed (see campaigns.selectors.reports). Staff may ask for unsuppressed figures with
`suppress=false`; a funder may not.
"""

import csv
import io
from typing import Any

from django.http import HttpResponse
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.api.report_schema import CampaignReportBodySerializer
from campaigns.models import Campaign, Wave
from campaigns.printable import report_html, report_pdf
from campaigns.selectors.reports import (
    DIMENSIONS,
    ReportScope,
    campaign_report,
    reportable_campaigns,
)
from config.db_router import reading_from_replica
from outreach.access import Action
from outreach.api.views import ORGANIZATION_PARAMETER
from outreach.api.viewsets import OrganizationScopedViewSet
from outreach.errors import InvalidInput, NotAllowed
from outreach.models import Role

REPORT_PARAMETERS = [
    ORGANIZATION_PARAMETER,
    OpenApiParameter("by", str, enum=sorted(DIMENSIONS), description="One breakdown."),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (campaign time)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (campaign time)."),
    OpenApiParameter("wave", int, description="Only this wave of the campaign."),
    OpenApiParameter("suppress", bool, description="Staff only: false shows small cells."),
]


class ReportQuerySerializer(serializers.Serializer):
    """The query string: `by`, `from`, `to`, `wave`, `suppress` (errors name these)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "by": serializers.ChoiceField(choices=sorted(DIMENSIONS), required=False),
            "from": serializers.DateField(required=False),
            "to": serializers.DateField(required=False),
            "wave": serializers.IntegerField(required=False, min_value=1),
            "suppress": serializers.BooleanField(required=False, default=True),
        }

    def validate(self, values: dict[str, Any]) -> dict[str, Any]:
        start, end = values.get("from"), values.get("to")
        if start and end and end < start:
            raise InvalidInput("The period ends before it starts.", field="to")
        return values


class CampaignReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name", "country", "election_date"]
        read_only_fields = fields


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class CampaignReportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationScopedViewSet
):
    """Reports of a campaign: reach, delivery, engagement and cost, aggregate only."""

    queryset = Campaign.objects.select_related("organization")
    serializer_class = CampaignReportSerializer
    read_action = Action.SEE_REPORTS
    write_action = None
    search_fields = ["name"]

    def get_queryset(self) -> Any:
        membership = self.request.membership  # type: ignore[attr-defined]
        funder = self.request.user.pk if membership.role == Role.FUNDER else None
        return reportable_campaigns(self.organization.pk, funder_id=funder).select_related(
            "organization"
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with reading_from_replica():
            return super().list(request, *args, **kwargs)

    @extend_schema(parameters=REPORT_PARAMETERS, responses=CampaignReportBodySerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self._report())

    @extend_schema(parameters=REPORT_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], url_path="csv")
    def csv(self, request: Request, pk: str) -> HttpResponse:
        report = self._report()
        response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_filename(report)}.csv"'
        return response

    @extend_schema(parameters=REPORT_PARAMETERS, responses={(200, "text/html"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], url_path="print")
    def printable(self, request: Request, pk: str) -> HttpResponse:
        return HttpResponse(report_html(self._report()), content_type="text/html; charset=utf-8")

    @extend_schema(
        parameters=REPORT_PARAMETERS, responses={(200, "application/pdf"): OpenApiTypes.BINARY}
    )
    @action(detail=True, methods=["get"], url_path="pdf")
    def pdf(self, request: Request, pk: str) -> HttpResponse:
        report = self._report()
        response = HttpResponse(report_pdf(report), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{_filename(report)}.pdf"'
        return response

    @reading_from_replica()
    def _report(self) -> dict[str, Any]:
        campaign = self.get_object()
        query = ReportQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        membership = self.request.membership  # type: ignore[attr-defined]
        if not values["suppress"] and membership.role == Role.FUNDER:
            raise NotAllowed("Funders see suppressed reports only.")
        wave = None
        if "wave" in values:
            wave = Wave.objects.filter(campaign=campaign, pk=values["wave"]).first()
            if wave is None:
                raise InvalidInput("No such wave in this campaign.", field="wave")
        scope = ReportScope(
            campaign=campaign,
            wave=wave,
            date_from=values.get("from"),
            date_to=values.get("to"),
            dimension=values.get("by"),
        )
        return campaign_report(scope, suppress=values["suppress"])


def report_csv(report: dict[str, Any]) -> str:
    """One table: a row per figure set (totals, breakdown cells, days, waves, errors, polls)."""
    metrics = [name for name in report["totals"] if name not in ("currency",)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "dimension", "key", "suppressed", *metrics])
    writer.writerow(["totals", "", "all", "false", *[report["totals"].get(m) for m in metrics]])
    breakdown = report.get("breakdown")
    sections = [("breakdown", breakdown["dimension"], breakdown["rows"])] if breakdown else []
    sections += [("series", "day", report["series"])]
    sections += [("waves", "wave", [{**w, "key": w["name"]} for w in report["waves"]])]
    for section, dimension, rows in sections:
        for row in rows:
            figures = row["figures"]
            writer.writerow(
                [
                    section,
                    dimension,
                    row["key"],
                    str(row["suppressed"]).lower(),
                    *[_cell(figures.get(m)) for m in metrics],
                ]
            )
    for error in report["errors"]:
        writer.writerow(
            [
                "errors",
                error["status"],
                error["error_code"],
                str(error["suppressed"]).lower(),
                _cell(error["messages"]),
            ]
        )
    for poll in report["polls"]:
        for option in poll["options"]:
            writer.writerow(
                [
                    "poll",
                    poll["wave"],
                    f"{option['number']}. {option['name']}",
                    str(option["suppressed"]).lower(),
                    _cell(option["answers"]),
                ]
            )
    return out.getvalue()


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _filename(report: dict[str, Any]) -> str:
    wave = report.get("wave")
    name = report["campaign"]["name"] + (f" {wave['name']}" if wave else "")
    return slugify(f"amani report {name}") or "amani-report"
