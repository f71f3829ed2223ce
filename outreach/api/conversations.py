"""A subscriber's conversation for NGO staff: each message they texted, how the router read it
and which language it was in. Funders never reach it.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from outreach.access import Action
from outreach.api.organization_context import current_organization
from outreach.api.views import ORGANIZATION_PARAMETER
from outreach.models import InboundIntent, InboundMessage
from outreach.selectors.inbound import subscriber_conversation


class InboundMessageSerializer(serializers.ModelSerializer):
    channel_name = serializers.CharField(source="channel.name", read_only=True)
    intent = serializers.ChoiceField(
        choices=InboundIntent.choices,
        allow_blank=True,
        read_only=True,
        help_text="How the router read it; blank until it is routed.",
    )

    class Meta:
        model = InboundMessage
        fields = [
            "id",
            "received_at",
            "handled_at",
            "channel",
            "channel_name",
            "body",
            "intent",
            "detected_language",
            "wave_id",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "detected_language": {
                "help_text": "The organization's language a free reply is in (en, sw …); "
                "blank when it was too short to judge, unclear, or not a free reply."
            },
            "wave_id": {"help_text": "The wave this reply or opt-out answers, if any."},
        }


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class SubscriberConversationView(generics.ListAPIView):
    """What one subscriber texted, newest first, with the intent and language found in it."""

    serializer_class = InboundMessageSerializer
    filter_backends: list = []
    read_action = Action.SEE_INBOX
    write_action = None

    def get_queryset(self) -> QuerySet[InboundMessage]:
        return subscriber_conversation(
            organization=current_organization(self.request), subscriber_id=self.kwargs["pk"]
        )
