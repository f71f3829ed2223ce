"""The network's library through the API: templates and versions, review, adopt, fork, withdraw.

Staff read the library of the networks their organization is an active member of (every
version proposed there, and their own drafts); managers write and propose templates, fork
and withdraw; the organization's focal point reviews; adopting a version into a wave is
composing it. Whatever the caller's organization may not read is a 404.
"""

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api.network import MAX_ID, NetworkScopedViewSet
from campaigns.api.waves import WaveSerializer, WaveViewSet
from campaigns.models import (
    CHECKLIST,
    CountryState,
    Decision,
    LibraryTemplate,
    Licence,
    Network,
    NetworkNotice,
    NoticeKind,
    Purpose,
    TemplateVersion,
    VersionState,
    Wave,
)
from campaigns.selectors.library import (
    fork_changes,
    library_versions,
    member_networks,
    notices_for,
    renderings,
    review_queue,
    version_for,
    visible_versions,
)
from campaigns.selectors.library_outcomes import version_outcomes
from campaigns.services import library as services
from outreach.access import Action
from outreach.api.organization_context import current_organization
from outreach.api.serializers import StrictInputSerializer
from outreach.api.views import ORGANIZATION_PARAMETER
from outreach.errors import InvalidInput, NotFound
from outreach.models import AgeBand, Organization

# Input


class TranslationInputSerializer(StrictInputSerializer):
    language = serializers.CharField(max_length=3, help_text="ISO 639 code.")
    body = serializers.CharField(max_length=2000, trim_whitespace=False)


class TemplateInputSerializer(StrictInputSerializer):
    network = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A network your organization is a member of."
    )
    name = serializers.CharField(max_length=120)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    age_band = serializers.ChoiceField(
        choices=AgeBand.choices, required=False, allow_blank=True, help_text="Blank: any age."
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=20
    )
    licence = serializers.ChoiceField(
        choices=Licence.choices, required=False, help_text="CC-BY-4.0 unless given."
    )
    translations = TranslationInputSerializer(many=True, min_length=1, max_length=30)
    changelog = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class VersionInputSerializer(StrictInputSerializer):
    translations = TranslationInputSerializer(many=True, min_length=1, max_length=30)
    changelog = serializers.CharField(max_length=4000, help_text="What changed since the last.")


class ProposeInputSerializer(StrictInputSerializer):
    countries = serializers.ListField(
        child=serializers.CharField(max_length=2),
        min_length=1,
        max_length=60,
        help_text="ISO 3166 alpha-2 codes of the countries to review it for.",
    )


class ReviewInputSerializer(StrictInputSerializer):
    country = serializers.CharField(max_length=2, help_text="One the version is in review for.")
    decision = serializers.ChoiceField(choices=Decision.choices)
    checklist = serializers.DictField(
        child=serializers.BooleanField(),
        required=False,
        help_text=f"The do-no-harm items ({', '.join(CHECKLIST)}); all true to approve.",
    )
    reason = serializers.CharField(max_length=2000, help_text="Logged with the decision.")


class ReasonInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=500)


class DeprecateInputSerializer(StrictInputSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class AdoptInputSerializer(StrictInputSerializer):
    wave = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A wave of yours; its variants are replaced."
    )


class ForkInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=120, help_text="Your new template's name.")
    translations = TranslationInputSerializer(
        many=True,
        min_length=1,
        max_length=30,
        required=False,
        help_text="The version's unless given.",
    )
    changelog = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class VersionQuerySerializer(serializers.Serializer):
    """The version list's filters (errors name these)."""

    network = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    country = serializers.CharField(required=False, max_length=2)
    language = serializers.CharField(required=False, max_length=3)
    purpose = serializers.ChoiceField(choices=Purpose.choices, required=False)
    state = serializers.ChoiceField(choices=VersionState.choices, required=False)
    q = serializers.CharField(required=False, max_length=100)


class NoticeQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False)


# Output


class RenderingSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=["sms", "whatsapp", "telegram", "messenger"])
    characters = serializers.IntegerField(help_text="Placeholders at their longest, footer on.")
    limit = serializers.IntegerField()
    fits = serializers.BooleanField()
    encoding = serializers.CharField(allow_null=True, help_text="SMS only: GSM-7 or UCS-2.")
    segments = serializers.IntegerField(allow_null=True, help_text="SMS only.")


class TranslationSerializer(serializers.Serializer):
    language = serializers.CharField()
    body = serializers.CharField()
    renderings = RenderingSerializer(many=True)


class CountryStateSerializer(serializers.Serializer):
    country = serializers.CharField()
    state = serializers.ChoiceField(choices=CountryState.choices)
    approved_at = serializers.DateTimeField(allow_null=True)


class ReviewSerializer(serializers.Serializer):
    country = serializers.CharField()
    organization = serializers.CharField(source="organization_name")
    reviewer_name = serializers.CharField()
    decision = serializers.ChoiceField(choices=Decision.choices)
    checklist = serializers.DictField(child=serializers.BooleanField())
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class TemplateSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    uid = serializers.UUIDField()
    network = serializers.IntegerField(source="network_id")
    network_name = serializers.CharField(source="network.name")
    name = serializers.CharField()
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    age_band = serializers.CharField(help_text="Blank: any age.")
    tags = serializers.ListField(child=serializers.CharField())
    licence = serializers.ChoiceField(choices=Licence.choices)
    owner_name = serializers.CharField()
    yours = serializers.SerializerMethodField(help_text="Your organization wrote it.")

    def get_yours(self, template: LibraryTemplate) -> bool:
        return template.owner_id == self.context["organization"].pk


class ForkOriginSerializer(serializers.Serializer):
    version = serializers.IntegerField(source="pk")
    template_name = serializers.CharField(source="template.name")
    number = serializers.IntegerField()


class VersionSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    uid = serializers.UUIDField()
    template = TemplateSummarySerializer()
    number = serializers.IntegerField()
    state = serializers.ChoiceField(choices=VersionState.choices)
    languages = serializers.SerializerMethodField()
    country_states = CountryStateSerializer(many=True, source="country_states.all")
    content_hash = serializers.CharField(help_text="sha256 of its canonical content, in hex.")
    changelog = serializers.CharField()
    created_at = serializers.DateTimeField()
    proposed_at = serializers.DateTimeField(allow_null=True)

    def get_languages(self, version: TemplateVersion) -> list[str]:
        return [t.language for t in version.translations.all()]


class ForkChangeSerializer(serializers.Serializer):
    language = serializers.CharField()
    original = serializers.CharField()
    now = serializers.CharField()
    diff = serializers.CharField(help_text="A unified diff, original to now.")


class OutcomeFiguresSerializer(serializers.Serializer):
    targeted = serializers.IntegerField(allow_null=True)
    sent = serializers.IntegerField(allow_null=True)
    delivered = serializers.IntegerField(allow_null=True)
    replies = serializers.IntegerField(allow_null=True)
    opt_outs = serializers.IntegerField(allow_null=True)
    delivery_rate = serializers.FloatField(allow_null=True)
    reply_rate = serializers.FloatField(allow_null=True)
    opt_out_rate = serializers.FloatField(allow_null=True)


class OutcomePrivacySerializer(serializers.Serializer):
    k = serializers.IntegerField()
    method = serializers.ChoiceField(choices=["cell-key", "none"])
    max_perturbation = serializers.IntegerField()


class OutcomesSerializer(serializers.Serializer):
    """What its adopters' unforked waves achieved, summed; a figure about fewer than k withheld."""

    adopters = serializers.IntegerField()
    waves = serializers.IntegerField()
    forks = serializers.IntegerField(help_text="Waves whose adopted texts were edited: not summed.")
    k = serializers.IntegerField()
    privacy = OutcomePrivacySerializer()
    suppressed = serializers.BooleanField()
    figures = OutcomeFiguresSerializer()
    withheld = serializers.DictField(
        child=serializers.ChoiceField(choices=["below_k", "no_base"]),
        help_text="Each figure left out (null), and why.",
    )


class VersionDetailSerializer(VersionSummarySerializer):
    countries = serializers.ListField(child=serializers.CharField())
    translations = serializers.SerializerMethodField()
    reviews = ReviewSerializer(many=True, source="reviews.all", help_text="The review log.")
    forked_from = serializers.SerializerMethodField(help_text="The version it was made from.")
    fork_changes = serializers.SerializerMethodField()
    adoptions = serializers.SerializerMethodField(help_text="Waves it was adopted into.")
    outcomes = serializers.SerializerMethodField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    deprecated_at = serializers.DateTimeField(allow_null=True)
    withdrawn_reason = serializers.CharField(help_text="Why it was withdrawn or deprecated.")
    ended_by_name = serializers.CharField(
        help_text="Who withdrew or deprecated it, for which organization (empty while it stands)."
    )

    @extend_schema_field(TranslationSerializer(many=True))
    def get_translations(self, version: TemplateVersion) -> list[dict[str, Any]]:
        return [
            {
                "language": t.language,
                "body": t.body,
                "renderings": [asdict(r) for r in renderings(t)],
            }
            for t in version.translations.all()
        ]

    @extend_schema_field(ForkOriginSerializer(allow_null=True))
    def get_forked_from(self, version: TemplateVersion) -> dict[str, Any] | None:
        origin = version.template.forked_from
        return None if origin is None else ForkOriginSerializer(origin).data

    @extend_schema_field(ForkChangeSerializer(many=True))
    def get_fork_changes(self, version: TemplateVersion) -> list[dict[str, str]]:
        return fork_changes(version)

    def get_adoptions(self, version: TemplateVersion) -> int:
        return version.adoptions.count()

    @extend_schema_field(OutcomesSerializer())
    def get_outcomes(self, version: TemplateVersion) -> dict[str, Any]:
        outcome = version_outcomes(version)
        return {key: value for key, value in outcome.items() if key != "version"}


class TemplateDetailSerializer(TemplateSummarySerializer):
    forked_from = serializers.SerializerMethodField(help_text="The version it was made from.")
    created_at = serializers.DateTimeField()
    versions = serializers.SerializerMethodField(help_text="Those you may read, newest first.")

    @extend_schema_field(ForkOriginSerializer(allow_null=True))
    def get_forked_from(self, template: LibraryTemplate) -> dict[str, Any] | None:
        origin = template.forked_from
        return None if origin is None else ForkOriginSerializer(origin).data

    @extend_schema_field(VersionSummarySerializer(many=True))
    def get_versions(self, template: LibraryTemplate) -> list[dict[str, Any]]:
        organization = self.context["organization"]
        versions = visible_versions(organization).filter(template=template)
        return VersionSummarySerializer(versions, many=True, context=self.context).data


class QueuedReviewSerializer(serializers.Serializer):
    country = serializers.CharField(help_text="Where your organization's decision is awaited.")
    version = VersionSummarySerializer()


class NoticeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    network = serializers.IntegerField(source="network_id")
    network_name = serializers.CharField(source="network.name")
    kind = serializers.ChoiceField(choices=NoticeKind.choices)
    text = serializers.CharField()
    version = serializers.IntegerField(source="version_id", allow_null=True)
    wave = serializers.IntegerField(source="wave_id", allow_null=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


# Views


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class LibraryTemplateViewSet(NetworkScopedViewSet):
    """Templates of your networks' libraries: managers write them and their new versions."""

    queryset = LibraryTemplate.objects.none()  # reads go through the library's selectors
    read_action = Action.SEE_LIBRARY
    write_action = Action.SHARE_TEMPLATES

    @extend_schema(responses=TemplateSummarySerializer(many=True))
    def list(self, request: Request) -> Response:
        """The templates with a version you may read, by name."""
        page = self.paginate_queryset(_templates(self.organization))
        return self.get_paginated_response(
            TemplateSummarySerializer(page, many=True, context=self._context()).data
        )

    @extend_schema(request=TemplateInputSerializer, responses={201: TemplateDetailSerializer})
    def create(self, request: Request) -> Response:
        """Write a template: it comes with its first version, a draft to propose."""
        payload = TemplateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        network = _network(self.organization, data.pop("network"))
        version = services.template_create(
            network=network, organization=self.organization, by=request.user, **data
        )
        return Response(self._detail(version.template_id), status=status.HTTP_201_CREATED)

    @extend_schema(responses=TemplateDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self._detail(pk))

    @extend_schema(request=VersionInputSerializer, responses={201: VersionDetailSerializer})
    @action(detail=True, methods=["post"])
    def versions(self, request: Request, pk: str) -> Response:
        """A new text of your own template: the next version, a draft with a changelog."""
        payload = VersionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = services.version_create(
            template=self._template(pk),
            organization=self.organization,
            by=request.user,
            **payload.validated_data,
        )
        return Response(version_data(self.organization, version.pk), status=status.HTTP_201_CREATED)

    def _template(self, pk: object) -> LibraryTemplate:
        try:
            template = _templates(self.organization).filter(pk=int(str(pk))).first()
        except ValueError:
            template = None
        if template is None:
            raise NotFound("No such template in your networks' libraries.")
        return template

    def _detail(self, pk: object) -> dict[str, Any]:
        return TemplateDetailSerializer(self._template(pk), context=self._context()).data

    def _context(self) -> dict[str, Any]:
        return {"organization": self.organization}


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class TemplateVersionViewSet(NetworkScopedViewSet):
    """Versions: read them, propose, review (focal points), deprecate, withdraw, adopt, fork."""

    queryset = TemplateVersion.objects.none()  # reads go through the library's selectors
    read_action = Action.SEE_LIBRARY
    write_action = Action.SHARE_TEMPLATES  # propose, deprecate, withdraw, fork
    actions_by_action = {"reviews": Action.REVIEW_LIBRARY, "adopt": Action.COMPOSE}

    @extend_schema(
        parameters=[VersionQuerySerializer], responses=VersionSummarySerializer(many=True)
    )
    def list(self, request: Request) -> Response:
        """The library, newest version first per template, filtered."""
        query = VersionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        network = filters.pop("network", None)
        versions = library_versions(
            self.organization,
            network=None if network is None else _network(self.organization, network),
            query=filters.pop("q", ""),
            **filters,
        )
        page = self.paginate_queryset(versions)
        context = {"organization": self.organization}
        return self.get_paginated_response(
            VersionSummarySerializer(page, many=True, context=context).data
        )

    @extend_schema(responses=VersionDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(version_data(self.organization, self._version(pk).pk))

    @extend_schema(request=ProposeInputSerializer, responses=VersionDetailSerializer)
    @action(detail=True, methods=["post"])
    def propose(self, request: Request, pk: str) -> Response:
        """Ask the network to review your draft for these countries."""
        payload = ProposeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = services.version_propose(
            version=self._version(pk),
            organization=self.organization,
            by=request.user,
            countries=payload.validated_data["countries"],
        )
        return Response(version_data(self.organization, version.pk))

    @extend_schema(request=ReviewInputSerializer, responses={201: VersionDetailSerializer})
    @action(detail=True, methods=["post"])
    def reviews(self, request: Request, pk: str) -> Response:
        """Your organization's decision in one country, as its focal point, logged."""
        payload = ReviewInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        version = self._version(pk)
        services.version_review(
            version=version,
            organization=self.organization,
            by=request.user,
            country=data["country"].upper(),
            decision=data["decision"],
            checklist=data.get("checklist"),
            reason=data["reason"],
        )
        # Read afresh, even if a request for changes sent it back to its authors' drafts.
        version = (
            TemplateVersion.objects.select_related("template__network", "template__forked_from")
            .prefetch_related("translations", "country_states", "reviews")
            .get(pk=version.pk)
        )
        return Response(
            VersionDetailSerializer(version, context={"organization": self.organization}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=DeprecateInputSerializer, responses=VersionDetailSerializer)
    @action(detail=True, methods=["post"])
    def deprecate(self, request: Request, pk: str) -> Response:
        """Retire your version: its adopters keep it, nobody new takes it."""
        payload = DeprecateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.version_deprecate(
            version=self._version(pk),
            organization=self.organization,
            by=request.user,
            reason=payload.validated_data.get("reason", ""),
        )
        return Response(version_data(self.organization, pk))

    @extend_schema(request=ReasonInputSerializer, responses=VersionDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        """Pull your version: every adopter is told, their unsent waves go back to draft."""
        payload = ReasonInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.version_withdraw(
            version=self._version(pk),
            organization=self.organization,
            by=request.user,
            reason=payload.validated_data["reason"],
        )
        return Response(version_data(self.organization, pk))

    @extend_schema(request=AdoptInputSerializer, responses={201: WaveSerializer})
    @action(detail=True, methods=["post"])
    def adopt(self, request: Request, pk: str) -> Response:
        """Take the version into one of your waves: its texts become the wave's variants."""
        payload = AdoptInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = self._version(pk)
        wave = Wave.objects.filter(
            organization=self.organization, pk=payload.validated_data["wave"]
        ).first()
        if wave is None:
            raise InvalidInput("No such wave in this organization.", field="wave")
        services.version_adopt(version=version, wave=wave, by=request.user)
        return Response(_wave_data(wave), status=status.HTTP_201_CREATED)

    @extend_schema(request=ForkInputSerializer, responses={201: VersionDetailSerializer})
    @action(detail=True, methods=["post"])
    def fork(self, request: Request, pk: str) -> Response:
        """Make a template of your own from this version: a draft that remembers its origin."""
        payload = ForkInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fork = services.template_fork(
            version=self._version(pk),
            organization=self.organization,
            by=request.user,
            **payload.validated_data,
        )
        return Response(version_data(self.organization, fork.pk), status=status.HTTP_201_CREATED)

    def _version(self, pk: object) -> TemplateVersion:
        version = version_for(self.organization, pk)
        if version is None:
            raise NotFound("No such version in your networks' libraries.")
        return version


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class ReviewQueueView(APIView):
    """What waits for your decision, as your organization's focal point in its networks."""

    read_action = Action.SEE_LIBRARY
    write_action = None

    @extend_schema(responses=QueuedReviewSerializer(many=True))
    def get(self, request: Request) -> Response:
        organization = current_organization(request)
        waiting = review_queue(organization, request.user)
        return Response(
            QueuedReviewSerializer(
                [{"country": country, "version": version} for version, country in waiting],
                many=True,
                context={"organization": organization},
            ).data
        )


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class NoticeViewSet(NetworkScopedViewSet):
    """What your organization should know: invitations, reviews wanted, withdrawals."""

    queryset = NetworkNotice.objects.none()  # reads go through the library's selectors
    read_action = Action.SEE_LIBRARY
    write_action = None
    actions_by_action = {"read": Action.SEE_LIBRARY}

    @extend_schema(parameters=[NoticeQuerySerializer], responses=NoticeSerializer(many=True))
    def list(self, request: Request) -> Response:
        """Newest first; `unread=true` leaves out those read."""
        query = NoticeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        notices = notices_for(self.organization, unread_only=query.validated_data["unread"])
        page = self.paginate_queryset(notices)
        return self.get_paginated_response(NoticeSerializer(page, many=True).data)

    @extend_schema(request=None, responses=NoticeSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        """Mark the notice read."""
        notice = services.notice_read(organization=self.organization, notice_id=pk)
        return Response(NoticeSerializer(notice).data)


def version_data(organization: Organization, pk: object) -> dict[str, Any]:
    """A version as its detail shows it, read afresh."""
    version = version_for(organization, pk)
    if version is None:
        raise NotFound("No such version in your networks' libraries.")
    return VersionDetailSerializer(version, context={"organization": organization}).data


def _templates(organization: Organization) -> Any:
    """Templates with a version the organization may read (another member's drafts: none)."""
    return (
        LibraryTemplate.objects.filter(versions__in=visible_versions(organization))
        .select_related("network", "forked_from__template")
        .distinct()
        .order_by("name", "pk")
    )


def _network(organization: Organization, pk: int) -> Network:
    network = member_networks(organization).filter(pk=pk).first()
    if network is None:
        raise InvalidInput("No such network among your organization's.", field="network")
    return network


def _wave_data(wave: Wave) -> dict[str, Any]:
    return WaveSerializer(WaveViewSet.queryset.get(pk=wave.pk)).data
