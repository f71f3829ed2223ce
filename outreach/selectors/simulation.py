"""Reads for the phone simulator: one pretend subscriber's conversation on one channel."""

from dataclasses import dataclass
from datetime import datetime

from outreach.models import Channel, InboundMessage, OutboundMessage, Subscriber

CONVERSATION_LENGTH = 60  # the latest lines shown; a rehearsal is short


@dataclass(frozen=True)
class ConversationLine:
    """One bubble: what the subscriber texted (`incoming`) or what reached their phone."""

    key: str
    incoming: bool
    body: str
    at: datetime
    status: str = ""  # outbound only: queued, sent, delivered …
    kind: str = ""  # outbound only: reply, wave, test
    intent: str = ""  # inbound only, once routed


def simulated_conversation(
    *, channel: Channel, address: str, limit: int = CONVERSATION_LENGTH
) -> list[ConversationLine]:
    """Everything texted from and to `address` on `channel`, oldest first: its texts (routed
    or still waiting), the replies and any wave message sent to it since."""
    subscriber = Subscriber.objects.filter(
        organization_id=channel.organization_id, scheme=channel.scheme, address=address
    ).first()
    # Routing clears a text's sender and names the subscriber instead.
    waiting = InboundMessage.objects.filter(
        channel=channel, from_address=address, handled_at__isnull=True
    )
    inbound = list(waiting.order_by("-received_at", "-pk")[:limit])
    outbound: list[OutboundMessage] = []
    if subscriber is not None:
        inbound += list(
            InboundMessage.objects.filter(channel=channel, subscriber=subscriber)
            .exclude(pk__in=[message.pk for message in inbound])
            .order_by("-received_at", "-pk")[:limit]
        )
        outbound = list(
            OutboundMessage.objects.filter(channel=channel, subscriber=subscriber).order_by(
                "-created_at", "-pk"
            )[:limit]
        )
    lines = [
        ConversationLine(
            key=f"in-{message.pk}",
            incoming=True,
            body=message.body,
            at=message.received_at,
            intent=message.intent,
        )
        for message in inbound
    ] + [
        ConversationLine(
            key=f"out-{message.pk}",
            incoming=False,
            body=message.body,
            at=message.created_at,
            status=message.status,
            kind=message.kind,
        )
        for message in outbound
    ]
    lines.sort(key=lambda line: (line.at, line.key))
    return lines[-limit:]
