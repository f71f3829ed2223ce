"""GET /api/v1/presets/ and /api/v1/presets/{country}/: the country presets this server holds.

Read-only, for staff of any organization (presets are shared data, not an organization's).
They are written by `manage.py presets_load` (the shipped ones) and by bundle imports.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from outreach.access import Action
from outreach.api.views import ORGANIZATION_PARAMETER
from outreach.errors import NotFound
from outreach.models import CountryPreset
from outreach.selectors.presets import preset_as_data, preset_for, presets


class PresetSummarySerializer(serializers.ModelSerializer):
    languages = serializers.ListField(
        child=serializers.CharField(), source="data.languages", read_only=True
    )
    timezone = serializers.CharField(source="data.timezone", read_only=True)

    class Meta:
        model = CountryPreset
        fields = ["country", "name", "languages", "timezone", "content_hash", "updated_at"]
        read_only_fields = fields


class PresetSerializer(serializers.ModelSerializer):
    data = serializers.SerializerMethodField(
        help_text='The whole document as held ("format": "amani.preset"); content_hash is the '
        "sha256 of its canonical JSON."
    )

    class Meta:
        model = CountryPreset
        fields = ["country", "name", "content_hash", "origin", "updated_at", "data"]
        read_only_fields = fields

    def get_data(self, preset: CountryPreset) -> dict:
        return preset_as_data(preset)


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class PresetViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Country presets: languages, time zone, sending window, elections and their silence,
    regions, keywords and disclaimers, as campaigns and region lists take them."""

    serializer_class = PresetSummarySerializer
    filter_backends: list = []  # a handful of countries, by country
    lookup_field = "country"
    lookup_value_regex = "[^/]+"
    read_action = Action.SEE_PRESETS
    write_action = None

    def get_queryset(self) -> QuerySet[CountryPreset]:
        return presets()

    @extend_schema(
        parameters=[OpenApiParameter("country", str, OpenApiParameter.PATH, description="KE")],
        responses=PresetSerializer,
    )
    def retrieve(self, request: Request, country: str) -> Response:
        preset = preset_for(country)
        if preset is None:
            raise NotFound("This server holds no preset for that country.", field="country")
        return Response(PresetSerializer(preset).data)
