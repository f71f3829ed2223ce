"""Reads about what subscribers texted us."""

import time

from django.db.models import QuerySet

from outreach.errors import NotFound
from outreach.models import (
    InboundMessage,
    Organization,
    OutboundMessage,
    OutboundStatus,
    Subscriber,
)


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


# Replies that have left us (or ended): what the subscriber's phone shows, or will.
REPLY_ENDED = (
    OutboundStatus.SENT,
    OutboundStatus.DELIVERED,
    OutboundStatus.READ,
    OutboundStatus.UNDELIVERED,
    OutboundStatus.FAILED,
    OutboundStatus.CANCELED,
)


def inbound_replies(
    inbound: InboundMessage, *, wait: float = 0.0, every: float = 0.1
) -> tuple[InboundMessage, list[OutboundMessage]]:
    """The message as routed and the replies it got, waiting up to `wait` seconds for its
    routing and for every reply to leave (workers do both when tasks are not in-process)."""
    deadline = time.monotonic() + wait
    while True:
        inbound.refresh_from_db()
        replies = list(OutboundMessage.objects.filter(in_reply_to=inbound).order_by("pk"))
        settled = inbound.handled_at is not None and all(
            reply.status in REPLY_ENDED for reply in replies
        )
        if settled or time.monotonic() >= deadline:
            return inbound, replies
        time.sleep(every)
