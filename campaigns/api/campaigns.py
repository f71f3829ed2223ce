"""Campaigns through the API: managers create and change them; times in local and UTC."""

from zoneinfo import ZoneInfo

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.models import BlackoutWindow, Campaign
from campaigns.services.campaigns import campaign_create, campaign_share, campaign_update
from outreach.access import Action
from outreach.api.serializers import LocalDateTimeField, LocalTimeField, StrictInputSerializer
from outreach.api.views import ORGANIZATION_PARAMETER
from outreach.api.viewsets import OrganizationScopedViewSet


class BlackoutSerializer(serializers.ModelSerializer):
    starts_at_local = serializers.SerializerMethodField()
    ends_at_local = serializers.SerializerMethodField()

    class Meta:
        model = BlackoutWindow
        fields = ["id", "starts_at", "ends_at", "starts_at_local", "ends_at_local", "reason"]
        read_only_fields = fields

    def get_starts_at_local(self, window: BlackoutWindow) -> str:
        return window.starts_at.astimezone(ZoneInfo(window.campaign.timezone)).isoformat()

    def get_ends_at_local(self, window: BlackoutWindow) -> str:
        return window.ends_at.astimezone(ZoneInfo(window.campaign.timezone)).isoformat()


class CampaignSerializer(serializers.ModelSerializer):
    blackouts = BlackoutSerializer(many=True, read_only=True)
    quiet_start = LocalTimeField(read_only=True, help_text="Campaign-local; sending stops.")
    quiet_end = LocalTimeField(read_only=True, help_text="Campaign-local; sending resumes.")

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "country",
            "election_date",
            "timezone",
            "default_language",
            "languages",
            "target_regions",
            "quiet_start",
            "quiet_end",
            "blackouts",
            "sensitive_terms",
            "fatigue_cap_per_week",
            "opt_out_footer_every",
            "funders",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class BlackoutInputSerializer(StrictInputSerializer):
    starts_at = LocalDateTimeField(help_text="Campaign-local unless it carries an offset.")
    ends_at = LocalDateTimeField(default_timezone=None)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class CampaignInputSerializer(StrictInputSerializer):
    preset = serializers.CharField(
        max_length=2,
        required=False,
        help_text="A country preset this server holds (GET /api/v1/presets/); shipped: KE "
        "(08:00-18:00 EAT, en + sw) and MX (09:00-21:00 America/Mexico_City, es). It also "
        "gives the next election day and its silence as a blackout, unless election_date is "
        "given. On create only.",
    )
    name = serializers.CharField(max_length=120)
    country = serializers.CharField(max_length=2, required=False)
    election_date = serializers.DateField(required=False, allow_null=True)
    timezone = serializers.CharField(max_length=64, required=False)
    default_language = serializers.CharField(max_length=3, required=False)
    languages = serializers.ListField(child=serializers.CharField(max_length=3), required=False)
    target_regions = serializers.ListField(child=serializers.IntegerField(), required=False)
    quiet_start = LocalTimeField(required=False, help_text="Campaign-local; sending stops.")
    quiet_end = LocalTimeField(required=False, help_text="Campaign-local; sending resumes.")
    blackouts = BlackoutInputSerializer(many=True, required=False)
    sensitive_terms = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=200
    )
    fatigue_cap_per_week = serializers.IntegerField(
        min_value=1, max_value=50, required=False, allow_null=True
    )
    opt_out_footer_every = serializers.IntegerField(min_value=0, max_value=100, required=False)


class FundersInputSerializer(StrictInputSerializer):
    funders = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=100,
        help_text="User ids of the members with the funder role who may read the reports.",
    )


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationScopedViewSet):
    """Campaigns around an election: time zone, quiet hours, blackout windows, caps."""

    queryset = Campaign.objects.prefetch_related("blackouts", "target_regions")
    serializer_class = CampaignSerializer
    search_fields = ["name"]
    filterset_fields = ["country"]
    read_action = Action.SEE_CAMPAIGNS
    write_action = Action.COMPOSE  # create, edit, share with funders

    @extend_schema(request=CampaignInputSerializer, responses={201: CampaignSerializer})
    def create(self, request: Request) -> Response:
        payload = CampaignInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        campaign = campaign_create(
            organization=self.organization, created_by=request.user, **payload.validated_data
        )
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CampaignInputSerializer, responses=CampaignSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        payload = CampaignInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        changes = dict(payload.validated_data)
        if "preset" in changes:
            changes.pop("preset")
        campaign = campaign_update(campaign=self.get_object(), by=request.user, **changes)
        campaign.refresh_from_db()
        return Response(CampaignSerializer(campaign).data)

    @extend_schema(request=FundersInputSerializer, responses=CampaignSerializer)
    @action(detail=True, methods=["put"])
    def funders(self, request: Request, pk: str) -> Response:
        """Share the campaign's reports with these funders (replacing the list)."""
        payload = FundersInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        campaign = self.get_object()
        campaign_share(campaign=campaign, funder_ids=payload.validated_data["funders"])
        return Response(CampaignSerializer(campaign).data)
