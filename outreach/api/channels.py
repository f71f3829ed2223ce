"""Channels (admins manage them) and regions (the organization's own list of areas)."""

import uuid

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from outreach.access import Action
from outreach.api.serializers import StrictInputSerializer
from outreach.api.viewsets import OrganizationScopedViewSet
from outreach.channel_kinds import TWILIO_KINDS
from outreach.errors import InvalidInput
from outreach.models import Channel, ChannelKind, Region
from outreach.selectors.inbound import inbound_replies
from outreach.services.channels import channel_create, channel_update, regions_load_preset
from outreach.services.inbound import inbound_receive
from outreach.simulation import simulated_sender
from outreach.validators import validate_country_code


class ChannelSerializer(serializers.ModelSerializer):
    inbound_url = serializers.SerializerMethodField(
        help_text='Twilio kinds: the URL for incoming messages ("A message comes in").'
    )
    status_url = serializers.SerializerMethodField(
        help_text="Twilio kinds: the status callback URL (Amani also sends it per message)."
    )
    webhook_url = serializers.SerializerMethodField(
        help_text="WhatsApp Cloud API, Messenger and Telegram: the one webhook URL to give the "
        "provider (Telegram's is set by `manage.py telegram_connect`)."
    )
    has_auth_token = serializers.SerializerMethodField()
    has_access_token = serializers.SerializerMethodField()
    has_webhook_secret = serializers.SerializerMethodField()
    has_verify_token = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = [
            "id",
            "uuid",
            "name",
            "kind",
            "country",
            "account_sid",
            "has_auth_token",
            "from_number",
            "messaging_service_sid",
            "external_id",
            "has_access_token",
            "has_webhook_secret",
            "has_verify_token",
            "messages_per_second",
            "is_active",
            "inbound_url",
            "status_url",
            "webhook_url",
            "created_at",
        ]
        read_only_fields = fields

    def get_inbound_url(self, channel: Channel) -> str | None:
        return _webhook_url("twilio-inbound", channel)

    def get_status_url(self, channel: Channel) -> str | None:
        return _webhook_url("twilio-status", channel)

    def get_webhook_url(self, channel: Channel) -> str | None:
        name = WEBHOOK_OF_KIND.get(channel.kind)
        return settings.PUBLIC_BASE_URL + reverse(name, args=[channel.uuid]) if name else None

    def get_has_auth_token(self, channel: Channel) -> bool:
        return bool(channel.auth_token)

    def get_has_access_token(self, channel: Channel) -> bool:
        return bool(channel.access_token)

    def get_has_webhook_secret(self, channel: Channel) -> bool:
        return bool(channel.webhook_secret)

    def get_has_verify_token(self, channel: Channel) -> bool:
        return bool(channel.verify_token)


# The kinds whose provider posts to one webhook URL per channel (not per message).
WEBHOOK_OF_KIND = {
    ChannelKind.WHATSAPP_CLOUD: "whatsapp-cloud-webhook",
    ChannelKind.MESSENGER: "messenger-webhook",
    ChannelKind.TELEGRAM: "telegram-update",
}


class ChannelInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    country = serializers.CharField(max_length=2, validators=[validate_country_code])
    account_sid = serializers.CharField(max_length=64, required=False, allow_blank=True)
    auth_token = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Stored encrypted; never returned.",
    )
    from_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    messaging_service_sid = serializers.CharField(max_length=64, required=False, allow_blank=True)
    external_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="WhatsApp Cloud API: the phone-number id; Messenger: the Page id; Telegram: "
        "the bot's id (filled by telegram_connect).",
    )
    access_token = serializers.CharField(
        max_length=1024,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Meta's access token (a system user's, or the Page's), or the Telegram bot "
        "token. Stored encrypted; never returned.",
    )
    webhook_secret = serializers.CharField(
        max_length=256,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Meta's app secret, which signs its webhooks (X-Hub-Signature-256). "
        "Telegram's is made by telegram_connect. Stored encrypted; never returned.",
    )
    verify_token = serializers.CharField(
        max_length=256,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Meta: the verify token you type in the app's webhook settings (the GET "
        "handshake). Stored encrypted; never returned.",
    )
    messages_per_second = serializers.IntegerField(
        min_value=1,
        max_value=1000,
        required=False,
        help_text="Default: the provider's own limit for the kind (SMS 10, WhatsApp 80, "
        "Telegram 30, Messenger 40).",
    )
    is_active = serializers.BooleanField(required=False)


class SimulatedInboundSerializer(StrictInputSerializer):
    sender = serializers.CharField(
        max_length=32,
        help_text="The subscriber's number (SMS, WhatsApp), or their chat id (Telegram, "
        "Messenger: digits).",
    )
    body = serializers.CharField(max_length=1600, allow_blank=True)


SIMULATED_REPLY_WAIT = 5.0  # seconds the answer waits for workers to route and reply


class SimulatedInboundResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    intent = serializers.CharField(help_text="How it was understood (empty until routed).")
    handled = serializers.SerializerMethodField()

    def get_handled(self, inbound: object) -> bool:
        return getattr(inbound, "handled_at", None) is not None


class SimulatedReplySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    body = serializers.CharField(help_text="What the subscriber's phone shows.")
    language = serializers.CharField()
    segments = serializers.IntegerField()
    status = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)


class SimulatedExchangeSerializer(serializers.Serializer):
    inbound = SimulatedInboundResultSerializer()
    replies = SimulatedReplySerializer(many=True)


class ChannelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationScopedViewSet):
    """Ways to reach subscribers. Admins create and change them; the auth token is write-only."""

    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    read_action = Action.SEE_CHANNELS
    write_action = Action.SETUP
    actions_by_action = {"simulate_inbound": Action.SIMULATE}
    filterset_fields = ["kind", "is_active"]
    search_fields = ["name"]

    @extend_schema(request=ChannelInputSerializer, responses={201: ChannelSerializer})
    def create(self, request: Request) -> Response:
        payload = ChannelInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        channel = channel_create(organization=self.organization, **payload.validated_data)
        return Response(ChannelSerializer(channel).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ChannelInputSerializer, responses=ChannelSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        payload = ChannelInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        channel = channel_update(channel=self.get_object(), **payload.validated_data)
        return Response(ChannelSerializer(channel).data)

    @extend_schema(request=SimulatedInboundSerializer, responses={200: SimulatedExchangeSerializer})
    @action(detail=True, methods=["post"], url_path="simulate-inbound")
    def simulate_inbound(self, request: Request, pk: str) -> Response:
        """Console channels only: text as a subscriber, and see the replies they would get.

        The message goes through the real inbound path (routing, consent, onboarding, poll
        answers, STOP); the answer holds how it was understood and the replies once sent
        (waiting a few seconds for the workers when tasks do not run in-process).
        """
        channel = self.get_object()
        if not channel.spec.console:
            raise InvalidInput("Only console channels take simulated messages.", field="channel")
        payload = SimulatedInboundSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        sender = simulated_sender(channel, payload.validated_data["sender"])
        inbound, _ = inbound_receive(
            channel=channel,
            provider_message_id=f"console-{uuid.uuid4().hex}",
            from_address=sender,
            body=payload.validated_data["body"],
            received_at=timezone.now(),
        )
        inbound, replies = inbound_replies(inbound, wait=SIMULATED_REPLY_WAIT)
        return Response(
            SimulatedExchangeSerializer({"inbound": inbound, "replies": replies}).data,
            status=status.HTTP_200_OK,
        )


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "name", "kind", "parent", "aliases"]

    def validate_parent(self, parent: Region | None) -> Region | None:
        organization = self.context["organization"]
        if parent is not None and parent.organization_id != organization.pk:
            raise serializers.ValidationError("No such region in this organization.")
        return parent

    def validate_aliases(self, aliases: list) -> list[str]:
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise serializers.ValidationError("A list of names.")
        return [alias.strip() for alias in aliases if alias.strip()]

    def validate_name(self, name: str) -> str:
        organization = self.context["organization"]
        clash = Region.objects.filter(organization=organization, name__iexact=name.strip())
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("A region of that name exists already.")
        return name.strip()


class RegionPresetSerializer(StrictInputSerializer):
    preset = serializers.CharField(
        max_length=40,
        help_text="A region list from a country preset this server holds; shipped: "
        "KE-counties (Kenya's 47 counties) and MX-states (Mexico's 31 states and Mexico City).",
    )


class RegionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrganizationScopedViewSet,
):
    """The organization's counties, wards or other areas, used in onboarding and segments."""

    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_fields = ["kind", "parent"]
    search_fields = ["name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    read_action = Action.SEE_AUDIENCE
    write_action = Action.CHANGE_AUDIENCE

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "organization": self.organization}

    def perform_create(self, serializer: RegionSerializer) -> None:
        serializer.save(organization=self.organization)

    def perform_destroy(self, instance: Region) -> None:
        if instance.children.exists():
            raise InvalidInput("Remove or move this region's sub-regions first.", field="region")
        instance.delete()

    @extend_schema(request=RegionPresetSerializer, responses={201: None})
    @action(detail=False, methods=["post"], url_path="load-preset")
    def load_preset(self, request: Request) -> Response:
        payload = RegionPresetSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        added = regions_load_preset(
            organization=self.organization, preset=payload.validated_data["preset"]
        )
        return Response({"added": added}, status=status.HTTP_201_CREATED)


def _webhook_url(name: str, channel: Channel) -> str | None:
    if channel.kind not in TWILIO_KINDS:
        return None
    return settings.PUBLIC_BASE_URL + reverse(name, args=[channel.uuid])
