"""Subscribers for NGO staff: list, filter, look up by number, detail with consent history, edit,
erase.

Admins and managers see numbers in full (they answer the people behind them) and may look a
person up by number; reviewers see them masked and may not, or the lookup would unmask them.
A number travels in a POST body only, never in a URL: every proxy in front of us logs URLs.
Funders never reach any of this.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import django_filters
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response

from outreach.access import Action, may
from outreach.api.serializers import StrictInputSerializer
from outreach.api.viewsets import OrganizationScopedViewSet
from outreach.errors import InvalidInput
from outreach.models import (
    AgeBand,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    Gender,
    Region,
    Subscriber,
)
from outreach.privacy import mask_phone_number
from outreach.services.consent import consent_record
from outreach.services.subscribers import subscriber_erase, subscriber_update


class ConsentEventSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.name", read_only=True)
    recorded_by = serializers.CharField(
        source="recorded_by.username", default=None, allow_null=True, help_text="Staff only."
    )

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "kind",
            "source",
            "occurred_at",
            "channel",
            "scheme",
            "keyword_as_texted",
            "provider_message_id",
            "consent_text_version",
            "consent_text_language",
            "evidence",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class SubscriberSerializer(serializers.ModelSerializer):
    """One address of a person: `contact` is the person (the same on each of their
    addresses), `scheme` how the address is written (tel, whatsapp, telegram, messenger)."""

    address = serializers.SerializerMethodField()
    region_name = serializers.CharField(
        source="region.name", default=None, allow_null=True, read_only=True
    )
    channel_name = serializers.CharField(source="channel.name", read_only=True)
    # Blank until the subscriber answers the onboarding question (or never does).
    age_band = serializers.ChoiceField(choices=AgeBand.choices, allow_blank=True, read_only=True)
    gender = serializers.ChoiceField(choices=Gender.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Subscriber
        fields = [
            "id",
            "contact",
            "scheme",
            "address",
            "channel",
            "channel_name",
            "language",
            "language_source",
            "region",
            "region_name",
            "age_band",
            "gender",
            "tags",
            "consent_status",
            "joined_keyword",
            "joined_at",
            "onboarding_step",
            "last_inbound_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_address(self, subscriber: Subscriber) -> str:
        if self.context.get("full_numbers"):
            return subscriber.address
        return mask_phone_number(subscriber.address)


class SubscriberDetailSerializer(SubscriberSerializer):
    consent_history = ConsentEventSerializer(source="consent_events", many=True, read_only=True)

    class Meta(SubscriberSerializer.Meta):
        fields = [*SubscriberSerializer.Meta.fields, "consent_history"]
        read_only_fields = fields


class SubscriberUpdateSerializer(StrictInputSerializer):
    language = serializers.CharField(max_length=3, required=False)
    region = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.all(), required=False, allow_null=True
    )
    age_band = serializers.ChoiceField(choices=AgeBand.choices, required=False, allow_blank=True)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=50
    )


class StaffOptOutSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=ConsentKind.choices)
    note = serializers.CharField(max_length=500, help_text="How the request reached you.")

    def validate_kind(self, kind: str) -> str:
        if kind != ConsentKind.OPT_OUT:
            raise serializers.ValidationError(
                "Staff record opt-outs only; opt-ins come by keyword or by an import with evidence."
            )
        return kind


class SubscriberLookupSerializer(StrictInputSerializer):
    number = serializers.CharField(
        max_length=40,
        help_text="Whole (+254712…) or local (0712…) number; a local one matches the stored tail.",
    )

    def validate_number(self, number: str) -> str:
        digits = "".join(ch for ch in number if ch.isdigit()).lstrip("0")
        if not digits:
            raise serializers.ValidationError("A number needs digits other than leading zeros.")
        return digits


class SubscriberFilter(django_filters.FilterSet):
    consent_status = django_filters.ChoiceFilter(choices=ConsentStatus.choices)
    age_band = django_filters.ChoiceFilter(choices=AgeBand.choices)
    gender = django_filters.ChoiceFilter(choices=Gender.choices)
    language = django_filters.CharFilter()
    tag = django_filters.CharFilter(method="filter_tag")
    joined_since = django_filters.DateFilter(method="filter_joined_since")

    class Meta:
        model = Subscriber
        fields = ["consent_status", "language", "region", "age_band", "gender", "channel"]

    def filter_tag(self, queryset: QuerySet[Subscriber], name: str, value: str) -> QuerySet:
        return queryset.filter(tags__contains=[value.strip().lower()])

    def filter_joined_since(
        self, queryset: QuerySet[Subscriber], name: str, value: date
    ) -> QuerySet[Subscriber]:
        organization = self.request.organization  # type: ignore[union-attr]
        start = datetime.combine(value, time.min, tzinfo=ZoneInfo(organization.timezone))
        return queryset.filter(joined_at__gte=start)


class SubscriberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    OrganizationScopedViewSet,
):
    """Filter by status, language, region, age band, tag; look up by number with a POST."""

    queryset = Subscriber.objects.select_related("region", "channel")
    serializer_class = SubscriberSerializer
    filterset_class = SubscriberFilter
    # No free-text search: its only useful target would be the number, in a URL, for reviewers.
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["created_at", "joined_at", "last_inbound_at"]
    ordering = ["-created_at"]
    read_action = Action.SEE_AUDIENCE
    write_action = Action.CHANGE_AUDIENCE
    actions_by_action = {"consent": Action.CHANGE_AUDIENCE, "lookup": Action.SEE_FULL_NUMBERS}

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return SubscriberDetailSerializer if self.action == "retrieve" else SubscriberSerializer

    def get_serializer_context(self) -> dict:
        full = (
            may(self.request.membership.role, Action.SEE_FULL_NUMBERS)
            if hasattr(self.request, "membership")
            else False
        )
        return {**super().get_serializer_context(), "full_numbers": full}

    def filter_queryset(self, queryset: QuerySet[Subscriber]) -> QuerySet[Subscriber]:
        if "number" in self.request.query_params:
            # Refused, never ignored: a caller who thinks it filtered would act on everyone.
            raise InvalidInput(
                "A number never goes in a URL (proxies log URLs): "
                'POST {"number": "…"} to /api/v1/subscribers/lookup/ instead.',
                field="number",
            )
        return super().filter_queryset(queryset)

    @extend_schema(
        request=SubscriberLookupSerializer,
        responses=SubscriberSerializer(many=True),
        description=(
            "Find subscribers by number (admins and managers). The number is in the body, so "
            "it reaches no URL and no access log; a local number (0712…) matches the tail of "
            "the stored one (+254712…). Answers the list's paginated shape."
        ),
    )
    @action(detail=False, methods=["post"])
    def lookup(self, request: Request) -> Response:
        payload = SubscriberLookupSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        digits = payload.validated_data["number"]
        queryset = self.filter_queryset(self.get_queryset()).filter(address__endswith=digits)
        page = self.paginate_queryset(queryset)
        context = self.get_serializer_context()
        return self.get_paginated_response(
            SubscriberSerializer(page, many=True, context=context).data
        )

    @extend_schema(request=SubscriberUpdateSerializer, responses=SubscriberSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        payload = SubscriberUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        subscriber = subscriber_update(subscriber=self.get_object(), **payload.validated_data)
        context = self.get_serializer_context()
        return Response(SubscriberSerializer(subscriber, context=context).data)

    @extend_schema(responses={204: None}, description="Erase: the right to be forgotten.")
    def destroy(self, request: Request, pk: str) -> Response:
        subscriber_erase(subscriber=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"], responses=ConsentEventSerializer(many=True), description="Consent history."
    )
    @extend_schema(
        methods=["POST"],
        request=StaffOptOutSerializer,
        responses={201: ConsentEventSerializer},
        description="Record an opt-out a subscriber asked for outside SMS (a call, a workshop).",
    )
    @action(detail=True, methods=["get", "post"])
    def consent(self, request: Request, pk: str) -> Response:
        subscriber = self.get_object()
        if request.method == "GET":
            events = subscriber.consent_events.select_related("channel", "recorded_by")
            page = self.paginate_queryset(events)
            return self.get_paginated_response(ConsentEventSerializer(page, many=True).data)
        payload = StaffOptOutSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event = consent_record(
            subscriber=subscriber,
            kind=ConsentKind.OPT_OUT,
            source=ConsentSource.STAFF,
            evidence={"note": payload.validated_data["note"]},
            recorded_by=request.user,
        )
        return Response(ConsentEventSerializer(event).data, status=status.HTTP_201_CREATED)
