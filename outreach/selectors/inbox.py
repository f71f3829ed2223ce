"""Reads for the console's inbox: what subscribers texted, newest first."""

from django.db.models import QuerySet

from outreach.models import InboundIntent, InboundMessage, Organization


def inbox_messages(
    organization: Organization, *, needing_a_look: bool = False
) -> QuerySet[InboundMessage]:
    """The organization's inbound messages, newest first; `needing_a_look` keeps the free
    replies only (what no keyword, poll or question took: a person talking to us)."""
    messages = InboundMessage.objects.filter(organization=organization)
    if needing_a_look:
        messages = messages.filter(intent=InboundIntent.FREE_REPLY)
    return messages.select_related("channel", "subscriber").order_by("-received_at", "-pk")
