"""Reads about what subscribers texted us."""

from django.db.models import QuerySet

from outreach.errors import NotFound
from outreach.models import InboundMessage, Organization, Subscriber


def subscriber_conversation(
    *, organization: Organization, subscriber_id: int
) -> QuerySet[InboundMessage]:
    """What one of the organization's subscribers texted, newest first; NotFound if not theirs."""
    if not Subscriber.objects.filter(organization=organization, pk=subscriber_id).exists():
        raise NotFound("No such subscriber in this organization.")
    return (
        InboundMessage.objects.filter(organization=organization, subscriber_id=subscriber_id)
        .select_related("channel")
        .order_by("-received_at", "-pk")
    )
