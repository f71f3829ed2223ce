"""Waves through the API: compose, review, schedule; every transition recorded and shown."""

from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.composition import variant_stats
from campaigns.models import (
    Campaign,
    PagePost,
    Poll,
    Variant,
    Wave,
    WaveComment,
    WaveStatus,
    WaveTransition,
)
from campaigns.selectors.composer import wave_adoption
from campaigns.selectors.library import inflaming_terms_in
from campaigns.selectors.recipients import wave_channels
from campaigns.selectors.send_gate import wave_window_hold
from campaigns.selectors.waves import (
    longest_region_name,
    variant_previews,
    wave_audience,
    wave_price,
)
from campaigns.services import waves as services
from campaigns.services.test_sends import wave_test_send
from outreach.access import Action
from outreach.api.serializers import LocalDateTimeField, StrictInputSerializer
from outreach.api.views import ORGANIZATION_PARAMETER
from outreach.api.viewsets import OrganizationScopedViewSet
from outreach.errors import InvalidInput
from outreach.models import Channel, MessageTemplate, TemplateStatus


class PollOptionInputSerializer(StrictInputSerializer):
    names = serializers.DictField(
        child=serializers.CharField(max_length=80),
        help_text='The option in each language: {"en": "Pledge a peaceful vote", "sw": "…"}.',
    )
    labels = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=20,
        help_text="More words that choose it (ahadi, pledge …).",
    )


class PollInputSerializer(StrictInputSerializer):
    options = PollOptionInputSerializer(many=True, min_length=2, max_length=9)


class VariantInputSerializer(StrictInputSerializer):
    language = serializers.CharField(max_length=3)
    body = serializers.CharField(max_length=2000, trim_whitespace=False)
    template = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="A WhatsApp message template's id (GET /channels/{id}/templates/), of one "
        "of the wave's WhatsApp channels, in this language: it goes instead of the text to "
        "people outside their 24-hour window there. Null: none; left out: unchanged.",
    )
    template_variables = serializers.ListField(
        child=serializers.CharField(max_length=1024, trim_whitespace=False),
        required=False,
        max_length=20,
        help_text="The template's {{1}}, {{2}} … in order.",
    )


class WaveInputSerializer(StrictInputSerializer):
    campaign = serializers.IntegerField()
    name = serializers.CharField(max_length=120)
    send_at = LocalDateTimeField(
        required=False,
        allow_null=True,
        default_timezone=None,
        help_text="Absolute; campaign-local unless it carries an offset.",
    )
    send_at_relative = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="E.g. E-7d 18:00, E+1d 09:00."
    )
    segment = serializers.IntegerField(required=False, allow_null=True)
    channels = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Channel ids in order of preference (first choice first).",
    )
    page_channel = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="A Facebook Page channel (Messenger) to publish the default-language text "
        "to, once, at the wave's time; null: no post.",
    )
    priority = serializers.ChoiceField(choices=["normal", "urgent"], required=False)
    variants = VariantInputSerializer(many=True, required=False)
    poll = PollInputSerializer(
        required=False,
        allow_null=True,
        help_text="Options subscribers answer by replying 1, 2, … (or a word); null: no poll.",
    )


class CommentInputSerializer(StrictInputSerializer):
    body = serializers.CharField(max_length=2000)


class BlackoutApprovalSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=300)


class TestSendSerializer(StrictInputSerializer):
    numbers = serializers.ListField(
        child=serializers.CharField(max_length=32), min_length=1, max_length=10
    )
    language = serializers.CharField(max_length=3, required=False)
    channel = serializers.IntegerField(required=False)


class TransitionSerializer(serializers.ModelSerializer):
    from_status = serializers.ChoiceField(
        choices=WaveStatus.choices, allow_blank=True, help_text="Blank for the wave's creation."
    )
    by = serializers.CharField(source="by.username", default=None, allow_null=True)

    class Meta:
        model = WaveTransition
        fields = ["from_status", "to_status", "by", "at", "note"]
        read_only_fields = fields


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", default=None, allow_null=True)

    class Meta:
        model = WaveComment
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = fields


class WaveHoldSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the wave's remaining messages wait.")
    until_utc = serializers.DateTimeField(help_text="The next opening, in UTC.")
    until_local = serializers.DateTimeField(help_text="The next opening, campaign-local.")
    timezone = serializers.CharField(help_text="The campaign's IANA time zone.")


class PagePostSerializer(serializers.ModelSerializer):
    class Meta:
        model = PagePost
        fields = ["status", "provider_post_id", "scheduled_for", "reactions", "comments", "shares"]
        read_only_fields = fields
        extra_kwargs = {
            "provider_post_id": {"help_text": "Meta's post id; blank until Meta has it."},
            "reactions": {"help_text": "The Page's public count; null until read or unreadable."},
        }


class PreviewLanguageSerializer(serializers.Serializer):
    subscribers = serializers.IntegerField(help_text="People who get this language's text.")
    fallback = serializers.IntegerField(
        help_text="Of them, people whose own language has no variant (the default's goes)."
    )


class PreviewChannelSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()
    people = serializers.IntegerField(help_text="People who get the wave on this channel.")
    as_template = serializers.IntegerField(
        help_text="Of them, outside their 24-hour window: they get the approved template."
    )


class WavePreviewSerializer(serializers.Serializer):
    """Who would get the wave now, counted from the recipients fan-out would write."""

    count = serializers.IntegerField(help_text="People the wave would reach now.")
    by_language = serializers.DictField(child=PreviewLanguageSerializer())
    by_region = serializers.DictField(
        child=serializers.IntegerField(), help_text='By region name; "unknown": none given.'
    )
    by_channel = serializers.DictField(
        child=PreviewChannelSerializer(),
        required=False,
        help_text="By channel id: each person on their first usable channel.",
    )
    fatigue_capped = serializers.IntegerField(help_text="People left out by the fatigue cap.")
    no_open_channel = serializers.IntegerField(
        required=False,
        help_text="People with no channel the wave may use now (a WhatsApp or Messenger "
        "window closed and no approved template).",
    )
    sms_segments = serializers.IntegerField(required=False)
    estimated_cost = serializers.CharField(
        allow_null=True, required=False, help_text="Decimal string; null when unpriced."
    )
    currency = serializers.CharField(allow_null=True, required=False)


class WaveAudienceSerializer(serializers.Serializer):
    """Counted by fan-out, in people (empty until the wave is fanned out)."""

    targeted = serializers.IntegerField(
        required=False, help_text="People in the segment on one of the wave's channels."
    )
    fatigue_capped = serializers.IntegerField(
        required=False, help_text="Left out by the weekly fatigue cap."
    )
    queued = serializers.IntegerField(required=False, help_text="Messages made: one a person.")
    no_open_channel = serializers.IntegerField(
        required=False,
        help_text="People with no address the wave could use then: a WhatsApp or Messenger "
        "window closed and no approved template.",
    )


class WaveLibraryChangeSerializer(serializers.Serializer):
    language = serializers.CharField()
    original = serializers.CharField()
    now = serializers.CharField()
    diff = serializers.CharField(help_text="A unified diff, original to now.")


class WaveLibrarySerializer(serializers.Serializer):
    """The library version the wave's texts came from (GET /library/versions/{id}/)."""

    version = serializers.IntegerField()
    template_name = serializers.CharField()
    number = serializers.IntegerField()
    forked = serializers.BooleanField(help_text="Its texts were edited: it is a fork now.")
    changes = WaveLibraryChangeSerializer(many=True, help_text="What the edits changed.")
    flagged = serializers.BooleanField(help_text="The version was withdrawn since.")
    flag_reason = serializers.CharField(help_text="Why it was withdrawn; blank when it was not.")


class WaveSerializer(serializers.ModelSerializer):
    times = serializers.SerializerMethodField()
    audience = WaveAudienceSerializer(read_only=True)
    hold = serializers.SerializerMethodField(
        help_text="A sending wave held by its sending window (quiet hours) or a blackout: "
        "its messages wait until the next opening, then go on. Null when nothing holds it."
    )
    variants = serializers.SerializerMethodField()
    library = serializers.SerializerMethodField(
        help_text="The network library version its texts came from; null when none."
    )
    transitions = TransitionSerializer(many=True, read_only=True)
    comments = CommentSerializer(many=True, read_only=True)
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    approved_by = serializers.CharField(
        source="approved_by.username", default=None, allow_null=True
    )
    blackout_approved_by = serializers.CharField(
        source="blackout_approved_by.username", default=None, allow_null=True
    )
    sensitive_terms = serializers.SerializerMethodField()
    poll = serializers.SerializerMethodField()
    page_post = serializers.SerializerMethodField(
        help_text="The wave's post on its Page (page_channel); null when it has none yet."
    )
    channels = serializers.SerializerMethodField(
        help_text="Channel ids in order of preference: each person gets the wave on the first "
        "where they have consent (and a window or an approved template), the next only after "
        "a known failure."
    )

    class Meta:
        model = Wave
        fields = [
            "id",
            "campaign",
            "name",
            "status",
            "priority",
            "send_at_absolute",
            "send_at_relative",
            "times",
            "audience",
            "hold",
            "segment",
            "channels",
            "page_channel",
            "page_post",
            "variants",
            "library",
            "poll",
            "sensitive_terms",
            "created_by",
            "approved_by",
            "approved_at",
            "blackout_approved_by",
            "blackout_approved_at",
            "blackout_approval_reason",
            "transitions",
            "comments",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_poll(self, wave: Wave) -> dict[str, Any] | None:
        poll = Poll.objects.filter(wave=wave).prefetch_related("options").first()
        if poll is None:
            return None
        return {
            "options": [
                {"number": o.number, "names": o.names, "labels": o.labels}
                for o in sorted(poll.options.all(), key=lambda o: o.number)
            ]
        }

    def get_times(self, wave: Wave) -> dict[str, Any]:
        view = services.wave_times(wave)
        return {
            "timezone": view.timezone,
            "requested_utc": view.requested_utc,
            "requested_local": view.requested_local,
            "scheduled_utc": view.scheduled_utc,
            "scheduled_local": view.scheduled_local,
        }

    @extend_schema_field(WaveHoldSerializer(allow_null=True))
    def get_hold(self, wave: Wave) -> dict[str, Any] | None:
        hold = wave_window_hold(wave, timezone.now())
        if hold is None or hold.until is None:
            return None
        zone = wave.campaign.timezone
        return {
            "reason": hold.reason,
            "until_utc": hold.until,
            "until_local": hold.until.astimezone(ZoneInfo(zone)),
            "timezone": zone,
        }

    @extend_schema_field(WaveLibrarySerializer(allow_null=True))
    def get_library(self, wave: Wave) -> dict[str, Any] | None:
        adoption = wave_adoption(wave)
        if adoption is None:
            return None
        return {
            "version": adoption.version_id,
            "template_name": adoption.version.template.name,
            "number": adoption.version.number,
            "forked": adoption.forked_at is not None,
            "changes": adoption.changes,
            "flagged": adoption.flagged_at is not None,
            "flag_reason": adoption.flag_reason,
        }

    def get_channels(self, wave: Wave) -> list[int]:
        return [channel.pk for channel in wave_channels(wave)]

    @extend_schema_field(PagePostSerializer(allow_null=True))
    def get_page_post(self, wave: Wave) -> dict[str, Any] | None:
        post = PagePost.objects.filter(wave=wave).first()
        return None if post is None else PagePostSerializer(post).data

    def get_variants(self, wave: Wave) -> list[dict[str, Any]]:
        channels = wave_channels(wave)
        price, currency = wave_price(wave)
        longest_region = longest_region_name(wave.organization_id)
        previews = variant_previews(wave, longest_region=longest_region)
        result = []
        for variant in wave.variants.select_related("template"):
            # As a subscriber's first message is sent (opt-out footer on), and as later ones are.
            stats, without_footer = (
                variant_stats(
                    variant.body,
                    declared_language=variant.language,
                    campaign_name=wave.campaign.name,
                    longest_region=longest_region,
                    price_per_segment=price,
                    currency=currency,
                    max_segments=services.MAX_SEGMENTS,
                    with_footer=footer,
                )
                for footer in (True, False)
            )
            result.append(
                {
                    "language": variant.language,
                    "body": variant.body,
                    "preview": previews[variant.language],
                    "encoding": stats.encoding,
                    "characters": stats.characters,
                    "segments": stats.segments,
                    "estimated_cost_per_message": _money(stats.cost_per_message),
                    "currency": stats.currency,
                    "without_footer": {
                        "encoding": without_footer.encoding,
                        "characters": without_footer.characters,
                        "segments": without_footer.segments,
                        "estimated_cost_per_message": _money(without_footer.cost_per_message),
                    },
                    "language_check": {
                        "detected": stats.language.detected,
                        "confidence": stats.language.confidence,
                        "matches": stats.language.matches,
                        "warning": stats.language.warning,
                    },
                    "template": _template(variant.template),
                    "template_variables": variant.template_variables,
                    "channel_warnings": _channel_warnings(variant, stats.characters, channels),
                    # Approved terms of the networks' lexicons (campaign's country, this language).
                    "lexicon_warnings": [
                        hit.as_dict()
                        for hit in inflaming_terms_in(
                            variant.body,
                            organization=wave.organization,
                            country=wave.campaign.country,
                            language=variant.language,
                        )
                    ],
                }
            )
        return result

    def get_sensitive_terms(self, wave: Wave) -> list[str]:
        return services.sensitive_terms_in(wave)


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class WaveViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationScopedViewSet):
    """Compose (managers), review (reviewers and admins, never the author), schedule, control."""

    queryset = Wave.objects.select_related(
        "campaign", "created_by", "approved_by"
    ).prefetch_related("variants", "transitions__by", "comments__author", "channels")
    serializer_class = WaveSerializer
    filterset_fields = ["campaign", "status", "priority"]
    search_fields = ["name"]
    ordering_fields = ["created_at", "scheduled_for"]
    read_action = Action.SEE_CAMPAIGNS
    write_action = Action.COMPOSE  # create, edit, submit, test-send
    actions_by_action = {
        "approve": Action.REVIEW,
        "request_changes": Action.REVIEW,
        "comment": Action.COMMENT,
        "approve_blackout": Action.APPROVE_BLACKOUT,
        "preview": Action.SEE_CAMPAIGNS,
        "schedule": Action.RUN_WAVES,
        "pause": Action.RUN_WAVES,
        "resume": Action.RUN_WAVES,
        "cancel": Action.RUN_WAVES,
    }

    @extend_schema(request=WaveInputSerializer, responses={201: WaveSerializer})
    def create(self, request: Request) -> Response:
        payload = WaveInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        campaign = self._campaign(data.pop("campaign"))
        wave = services.wave_create(campaign=campaign, created_by=request.user, **data)
        return Response(self._out(wave), status=status.HTTP_201_CREATED)

    @extend_schema(request=WaveInputSerializer, responses=WaveSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        payload = WaveInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if "campaign" in data:
            raise InvalidInput("A wave cannot move to another campaign.", field="campaign")
        wave = services.wave_update(wave=self.get_object(), by=request.user, **data)
        return Response(self._out(wave))

    @extend_schema(request=None, responses=WaveSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        return Response(self._out(services.wave_submit(wave=self.get_object(), by=request.user)))

    @extend_schema(request=None, responses=WaveSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return Response(self._out(services.wave_approve(wave=self.get_object(), by=request.user)))

    @extend_schema(request=CommentInputSerializer, responses=WaveSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request: Request, pk: str) -> Response:
        payload = CommentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        wave = services.wave_request_changes(
            wave=self.get_object(), by=request.user, comment=payload.validated_data["body"]
        )
        return Response(self._out(wave))

    @extend_schema(request=CommentInputSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str) -> Response:
        payload = CommentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        comment = services.wave_comment(
            wave=self.get_object(), by=request.user, body=payload.validated_data["body"]
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BlackoutApprovalSerializer, responses=WaveSerializer)
    @action(detail=True, methods=["post"], url_path="approve-blackout")
    def approve_blackout(self, request: Request, pk: str) -> Response:
        payload = BlackoutApprovalSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        wave = services.wave_approve_blackout(
            wave=self.get_object(), by=request.user, reason=payload.validated_data["reason"]
        )
        return Response(self._out(wave))

    @extend_schema(request=None, responses=WaveSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, pk: str) -> Response:
        return Response(self._out(services.wave_schedule(wave=self.get_object(), by=request.user)))

    @extend_schema(request=None, responses=WaveSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        return Response(self._out(services.wave_pause(wave=self.get_object(), by=request.user)))

    @extend_schema(request=None, responses=WaveSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        return Response(self._out(services.wave_resume(wave=self.get_object(), by=request.user)))

    @extend_schema(request=None, responses=WaveSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return Response(self._out(services.wave_cancel(wave=self.get_object(), by=request.user)))

    @extend_schema(request=None, responses=WavePreviewSerializer)
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str) -> Response:
        """Who would get it: count by language and region, fallbacks, fatigue-capped, cost."""
        audience = wave_audience(self.get_object())
        return Response({**audience, "estimated_cost": _money(audience.get("estimated_cost"))})

    @extend_schema(request=TestSendSerializer, responses={202: dict})
    @action(detail=True, methods=["post"], url_path="test-send")
    def test_send(self, request: Request, pk: str) -> Response:
        payload = TestSendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        sent = wave_test_send(wave=self.get_object(), by=request.user, **payload.validated_data)
        return Response({"queued": sent}, status=status.HTTP_202_ACCEPTED)

    def _campaign(self, campaign_id: int) -> Campaign:
        campaign = Campaign.objects.filter(organization=self.organization, pk=campaign_id).first()
        if campaign is None:
            raise InvalidInput("No such campaign in this organization.", field="campaign")
        return campaign

    def _out(self, wave: Wave) -> dict[str, Any]:
        return WaveSerializer(self.get_queryset().get(pk=wave.pk)).data


def _template(template: MessageTemplate | None) -> dict[str, Any] | None:
    if template is None:
        return None
    return {"id": template.pk, "name": template.name, "status": template.status}


def _channel_warnings(variant: Variant, characters: int, channels: list[Channel]) -> list[str]:
    """What will not go as written: WhatsApp channels without an approved template of the
    variant (no message outside the 24-hour window there), and channels it is too long for."""
    template = variant.template
    warnings = [
        f"No approved WhatsApp template for {variant.language}: people outside their 24-hour "
        f"window on {channel.name} will get it on the next channel, or not at all"
        for channel in channels
        if channel.spec.templates_outside_window
        and not (
            template is not None
            and template.channel_id == channel.pk
            and template.status == TemplateStatus.APPROVED
        )
    ]
    return warnings + [
        services.too_long_for(channel)
        for channel in services.longer_than_channels(characters, channels)
    ]


def _money(amount: object) -> str | None:
    # As strings, like every decimal in this API: floats would round a price.
    return None if amount is None else str(amount)
