"""A WhatsApp channel's message templates, as its provider last reported them, and a sync.

Approval is the provider's (Twilio's Content API, Meta's WhatsApp Manager): Amani lists what
it said at the last sync (every 15 minutes, or when a manager asks) and never edits it.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from outreach.access import Action
from outreach.api.organization_context import current_organization
from outreach.api.views import ORGANIZATION_PARAMETER
from outreach.channels.base import TransportError
from outreach.errors import InvalidInput, NotFound
from outreach.models import Channel, MessageTemplate, TemplateStatus
from outreach.privacy import mask_numbers_in_provider_text
from outreach.services.templates import templates_sync


class MessageTemplateSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=TemplateStatus.choices,
        help_text="The provider's review: only an approved template is sent; one the "
        "provider no longer lists is paused.",
    )

    class Meta:
        model = MessageTemplate
        fields = [
            "id",
            "name",
            "language",
            "status",
            "category",
            "body",
            "provider_template_id",
            "synced_at",
        ]
        read_only_fields = fields


class TemplateCountsSerializer(serializers.Serializer):
    approved = serializers.IntegerField()
    pending = serializers.IntegerField()
    rejected = serializers.IntegerField()
    paused = serializers.IntegerField()


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class ChannelTemplatesView(generics.ListAPIView):
    """The channel's message templates by name and language, with their approval."""

    serializer_class = MessageTemplateSerializer
    filter_backends: list = []
    read_action = Action.SEE_TEMPLATES
    write_action = None

    def get_queryset(self) -> QuerySet[MessageTemplate]:
        channel = _channel(self.request, self.kwargs["pk"])
        return MessageTemplate.objects.filter(channel=channel).order_by("name", "language", "pk")


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class ChannelTemplatesSyncView(APIView):
    """Ask the provider for the channel's templates now (also done every 15 minutes)."""

    read_action = Action.SEE_TEMPLATES
    write_action = Action.SYNC_TEMPLATES

    @extend_schema(request=None, responses=TemplateCountsSerializer)
    def post(self, request: Request, pk: int) -> Response:
        channel = _channel(request, pk)
        try:
            counts = templates_sync(channel=channel)
        except TransportError as error:
            # The provider's refusal (a wrong token, an account id it does not know): for
            # whoever set the channel up to fix; a transient one is worth another try.
            raise InvalidInput(
                f"The provider did not list the templates: "
                f"{mask_numbers_in_provider_text(str(error))}",
                field="channel",
            ) from error
        return Response(TemplateCountsSerializer(counts).data)


def _channel(request: Request, pk: int) -> Channel:
    channel = Channel.objects.filter(organization=current_organization(request), pk=pk).first()
    if channel is None:
        raise NotFound("No such channel in this organization.")
    return channel
