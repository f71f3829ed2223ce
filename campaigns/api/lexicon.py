"""The networks' lexicons through the API: terms that inflame, per country and language.

Staff read them and check a text against them; managers propose and withdraw their own;
the organization's focal point reviews the other members' terms. A term of a network the
caller's organization is not an active member of is a 404.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.api.library import ReviewSerializer
from campaigns.api.network import MAX_ID, NetworkScopedViewSet
from campaigns.models import Decision, LexiconTerm, TermState
from campaigns.selectors.library import (
    inflaming_terms_in,
    lexicon_terms,
    member_networks,
    term_for,
)
from campaigns.services import lexicon as services
from outreach.access import Action
from outreach.api.serializers import StrictInputSerializer
from outreach.api.views import ORGANIZATION_PARAMETER
from outreach.errors import InvalidInput, NotFound
from outreach.models import Organization


class TermInputSerializer(StrictInputSerializer):
    network = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A network your organization is a member of."
    )
    country = serializers.CharField(max_length=2, help_text="ISO 3166 alpha-2.")
    language = serializers.CharField(max_length=3, help_text="ISO 639.")
    term = serializers.CharField(max_length=120, help_text="The word or phrase.")
    note = serializers.CharField(
        max_length=2000, help_text="Why it inflames; the composer shows it."
    )
    alternatives = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=10
    )


class TermReviewInputSerializer(StrictInputSerializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    reason = serializers.CharField(max_length=2000, help_text="Logged with the decision.")


class CheckInputSerializer(StrictInputSerializer):
    text = serializers.CharField(max_length=4000, trim_whitespace=False)
    country = serializers.CharField(max_length=2)
    language = serializers.CharField(max_length=3)


class TermQuerySerializer(serializers.Serializer):
    network = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    country = serializers.CharField(required=False, max_length=2)
    language = serializers.CharField(required=False, max_length=3)
    state = serializers.ChoiceField(choices=TermState.choices, required=False)


class TermSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    uid = serializers.UUIDField()
    network = serializers.IntegerField(source="network_id")
    network_name = serializers.CharField(source="network.name")
    country = serializers.CharField()
    language = serializers.CharField()
    term = serializers.CharField()
    note = serializers.CharField()
    alternatives = serializers.ListField(child=serializers.CharField())
    state = serializers.ChoiceField(choices=TermState.choices)
    content_hash = serializers.CharField()
    proposed_by_name = serializers.CharField(help_text="The organization that proposed it.")
    proposed_at = serializers.DateTimeField()
    yours = serializers.SerializerMethodField(help_text="Your organization proposed it.")
    reviews = ReviewSerializer(many=True, source="reviews.all")

    def get_yours(self, term: LexiconTerm) -> bool:
        return term.proposed_by_organization_id == self.context["organization"].pk


class TermHitSerializer(serializers.Serializer):
    term = serializers.CharField()
    note = serializers.CharField()
    alternatives = serializers.ListField(child=serializers.CharField())
    network = serializers.CharField(help_text="The network whose lexicon holds it.")


class CheckSerializer(serializers.Serializer):
    hits = TermHitSerializer(
        many=True, help_text="Approved terms of that country and language the text uses."
    )


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class LexiconViewSet(NetworkScopedViewSet):
    """Terms that inflame: managers propose, focal points review, the proposer withdraws."""

    queryset = LexiconTerm.objects.none()  # reads go through the library's selectors
    read_action = Action.SEE_LIBRARY
    write_action = Action.SHARE_TEMPLATES  # propose, withdraw
    actions_by_action = {"reviews": Action.REVIEW_LIBRARY, "check": Action.SEE_LIBRARY}

    @extend_schema(parameters=[TermQuerySerializer], responses=TermSerializer(many=True))
    def list(self, request: Request) -> Response:
        """Your networks' terms, by country, language and term."""
        query = TermQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        network = filters.pop("network", None)
        terms = lexicon_terms(self.organization, **filters)
        if network is not None:
            terms = terms.filter(network_id=network)
        page = self.paginate_queryset(terms)
        return self.get_paginated_response(
            TermSerializer(page, many=True, context=self._context()).data
        )

    @extend_schema(request=TermInputSerializer, responses={201: TermSerializer})
    def create(self, request: Request) -> Response:
        """Propose a term; it warns composers once two other members approved it."""
        payload = TermInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        network = member_networks(self.organization).filter(pk=data.pop("network")).first()
        if network is None:
            raise InvalidInput("No such network among your organization's.", field="network")
        term = services.term_propose(
            network=network, organization=self.organization, by=self.request.user, **data
        )
        return Response(self._data(term.pk), status=status.HTTP_201_CREATED)

    @extend_schema(responses=TermSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self._data(pk))

    @extend_schema(request=TermReviewInputSerializer, responses={201: TermSerializer})
    @action(detail=True, methods=["post"])
    def reviews(self, request: Request, pk: str) -> Response:
        """Your organization's decision on the term, as its focal point, with a reason."""
        payload = TermReviewInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.term_review(
            term=self._term(pk),
            organization=self.organization,
            by=request.user,
            **payload.validated_data,
        )
        return Response(self._data(pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=TermSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        """Take your organization's term out of the lexicon."""
        services.term_withdraw(term=self._term(pk), organization=self.organization, by=request.user)
        return Response(self._data(pk))

    @extend_schema(request=CheckInputSerializer, responses=CheckSerializer)
    @action(detail=False, methods=["post"])
    def check(self, request: Request) -> Response:
        """The approved terms a text uses, as the composer warns of them (it changes nothing)."""
        payload = CheckInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        hits = inflaming_terms_in(
            data["text"],
            organization=self.organization,
            country=data["country"],
            language=data["language"],
        )
        return Response(CheckSerializer({"hits": [hit.as_dict() for hit in hits]}).data)

    def _term(self, pk: object) -> LexiconTerm:
        term = term_for(self.organization, pk)
        if term is None:
            raise NotFound("No such term in your networks' lexicons.")
        return term

    def _data(self, pk: object) -> dict[str, Any]:
        return TermSerializer(self._term(pk), context=self._context()).data

    def _context(self) -> dict[str, Organization]:
        return {"organization": self.organization}
