"""A network's signed bundle through the API: GET exports it, POST imports one (admins)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import MemberStatus, Network
from campaigns.selectors.bundles import bundle_export
from campaigns.services.bundles import bundle_import
from outreach.access import Action
from outreach.api.organization_context import current_organization
from outreach.api.parsers import JSONParser
from outreach.api.views import ORGANIZATION_PARAMETER
from outreach.errors import InvalidInput, NotFound


class BundleServerSerializer(serializers.Serializer):
    name = serializers.CharField()
    key_id = serializers.CharField(help_text="16 hex digits of the sha256 of the public key.")
    public_key = serializers.CharField(help_text="Ed25519 public key, base64 of 32 bytes.")


class BundleNetworkSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class BundleReviewSerializer(serializers.Serializer):
    country = serializers.CharField()
    organization_name = serializers.CharField()
    reviewer_name = serializers.CharField()
    decision = serializers.ChoiceField(choices=["approve", "request_changes"])
    checklist = serializers.DictField(child=serializers.BooleanField())
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class BundleTranslationSerializer(serializers.Serializer):
    language = serializers.CharField()
    body = serializers.CharField()


class BundleCountryStateSerializer(serializers.Serializer):
    country = serializers.CharField()
    state = serializers.CharField()
    approved_at = serializers.DateTimeField(allow_null=True)


class BundleVersionSerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    number = serializers.IntegerField(min_value=1)
    changelog = serializers.CharField(allow_blank=True)
    content_hash = serializers.CharField(help_text="sha256 of its canonical content, in hex.")
    state = serializers.ChoiceField(choices=["approved", "deprecated"])
    countries = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField(allow_null=True)
    proposed_at = serializers.DateTimeField(allow_null=True)
    translations = BundleTranslationSerializer(many=True)
    country_states = BundleCountryStateSerializer(many=True)
    reviews = BundleReviewSerializer(many=True)


class BundleTemplateSerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    name = serializers.CharField()
    purpose = serializers.CharField()
    age_band = serializers.CharField(allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField())
    licence = serializers.CharField()
    owner_name = serializers.CharField()
    forked_from = serializers.UUIDField(allow_null=True, help_text="The version it came from.")
    versions = BundleVersionSerializer(many=True)


class BundleTermSerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    country = serializers.CharField()
    language = serializers.CharField()
    term = serializers.CharField()
    note = serializers.CharField()
    alternatives = serializers.ListField(child=serializers.CharField())
    content_hash = serializers.CharField()
    proposed_by_name = serializers.CharField()
    proposed_at = serializers.DateTimeField()
    reviews = BundleReviewSerializer(many=True)


class BundlePresetSerializer(serializers.Serializer):
    data = serializers.DictField(help_text="The country preset, as the presets API shows it.")
    content_hash = serializers.CharField()


class BundleSignatureSerializer(serializers.Serializer):
    alg = serializers.ChoiceField(choices=["Ed25519"])
    key_id = serializers.CharField()
    value = serializers.CharField(help_text="Base64 Ed25519 signature of the rest, canonical.")


class BundleSerializer(serializers.Serializer):
    """A signed bundle: a network's vetted material, as one server hands it to another."""

    format = serializers.ChoiceField(choices=["amani.bundle"])
    version = serializers.ChoiceField(choices=[1])
    exported_at = serializers.DateTimeField()
    server = BundleServerSerializer()
    network = BundleNetworkSerializer()
    templates = BundleTemplateSerializer(many=True)
    lexicon = BundleTermSerializer(many=True)
    presets = BundlePresetSerializer(many=True)
    signature = BundleSignatureSerializer()


class BundleCountsSerializer(serializers.Serializer):
    templates = serializers.IntegerField()
    versions = serializers.IntegerField()
    terms = serializers.IntegerField()
    presets = serializers.IntegerField()


class BundleImportSerializer(serializers.Serializer):
    created = BundleCountsSerializer()
    unchanged = BundleCountsSerializer(help_text="Held here already, the same: left as they are.")
    presets_kept = serializers.ListField(
        child=serializers.CharField(),
        help_text="Countries whose preset this server holds with other data: ours are kept.",
    )


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class NetworkBundleView(APIView):
    """The network's signed bundle: export it, or import one signed by a trusted server."""

    read_action = Action.EXCHANGE_BUNDLES
    write_action = Action.EXCHANGE_BUNDLES
    parser_classes = [JSONParser]

    @extend_schema(responses=BundleSerializer)
    def get(self, request: Request, pk: int) -> Response:
        organization = current_organization(request)
        network = _network_of(organization, pk)
        return Response(bundle_export(network=network, organization=organization, by=request.user))

    @extend_schema(request=BundleSerializer, responses=BundleImportSerializer)
    def post(self, request: Request, pk: int) -> Response:
        organization = current_organization(request)
        network = _network_of(organization, pk)
        summary = bundle_import(
            _body(request), network=network, organization=organization, by=request.user
        )
        return Response(summary)


def _network_of(organization: Any, pk: int) -> Network:
    network = Network.objects.filter(
        pk=pk, members__organization=organization, members__status=MemberStatus.ACTIVE
    ).first()
    if network is None:
        raise NotFound("No such network among your organization's.")
    return network


def _body(request: Request) -> Any:
    try:
        return request.data
    except ParseError as error:
        raise InvalidInput(f"The bundle is not JSON: {error.detail}", field="bundle") from error
