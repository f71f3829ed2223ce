"""GET /api/v1/safeguarding/: the organization's safeguarding figures, for staff only.

Under-age sign-ups refused, erasures and opt-outs (the carrier's apart), as totals and a
series by ISO week or day. Counts, never a person; funders get 403 (their door is the
suppressed reports).
"""

import re
from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from outreach.access import Action
from outreach.api.organization_context import current_organization
from outreach.api.views import ORGANIZATION_PARAMETER
from outreach.errors import InvalidInput
from outreach.models import ConsentSource
from outreach.selectors.safeguarding import SERIES_STEPS, safeguarding_figures

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SAFEGUARDING_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (UTC), included."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (UTC), included."),
    OpenApiParameter(
        "by", str, enum=list(SERIES_STEPS), description="The series' step (default: week)."
    ),
]


class SafeguardingCountsSerializer(serializers.Serializer):
    underage_refused = serializers.IntegerField(
        help_text="Under-age sign-ups refused (the person deleted, one count kept)."
    )
    erased = serializers.IntegerField(help_text="Subscribers erased on request.")
    carrier_opt_outs = serializers.IntegerField(
        help_text="Opt-outs the carrier reported (e.g. Twilio 21610)."
    )
    opt_outs = serializers.IntegerField(help_text="Opt-outs from every source.")


class SeriesPeriodSerializer(SafeguardingCountsSerializer):
    key = serializers.CharField(help_text='"2026-W10" (ISO week) or "2026-03-02" (day).')
    start = serializers.DateField()
    end = serializers.DateField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()  # the inherited counts come first: put the period first
        return {name: fields.pop(name) for name in ("key", "start", "end")} | fields


class OptOutSourceSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=ConsentSource.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()


class PeriodSerializer(serializers.Serializer):
    """The period asked for: `from` and `to` (null when open)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": serializers.DateField(source="date_from", allow_null=True),
            "to": serializers.DateField(source="date_to", allow_null=True),
        }


class SafeguardingSerializer(serializers.Serializer):
    period = PeriodSerializer(source="*")
    by = serializers.ChoiceField(choices=list(SERIES_STEPS))
    totals = SafeguardingCountsSerializer()
    opt_outs_by_source = OptOutSourceSerializer(many=True)
    series = SeriesPeriodSerializer(many=True, help_text="Every period, zeros included.")


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class SafeguardingView(APIView):
    """Safeguarding figures: under-age sign-ups refused, erasures, opt-outs by source."""

    read_action = Action.SEE_AUDIENCE  # counts of the audience only
    write_action = None

    @extend_schema(parameters=SAFEGUARDING_PARAMETERS, responses=SafeguardingSerializer)
    def get(self, request: Request) -> Response:
        figures = safeguarding_figures(
            organization_id=current_organization(request).pk,
            date_from=_date(request, "from"),
            date_to=_date(request, "to"),
            by=request.query_params.get("by", "").strip() or "week",
        )
        return Response(SafeguardingSerializer(figures).data)


def _date(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        if not _ISO_DATE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("Give a date as YYYY-MM-DD.", field=name) from None
