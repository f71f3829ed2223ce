"""Staff replies: a member answers a subscriber's message from the console."""

from django.db import transaction

from outreach.errors import InvalidInput
from outreach.models import ConsentStatus, InboundMessage, OutboundMessage, Subscriber, User
from outreach.services.outbound import reply_queue

STAFF_REPLY_KEY = "staff_reply"
BODY_MAX_LENGTH = 1000


@transaction.atomic
def staff_reply_send(*, inbound: InboundMessage, body: str, by: User | None) -> OutboundMessage:
    """Queue an ordinary reply to the address that wrote `inbound`, through the channel it
    wrote on; dispatch sends it ahead of bulk waves, inside the channel's window rules.

    Refused (InvalidInput) for an erased, unrouted or opted-out address, or an empty or long body.
    `by` is who answered (kept out of the message: the subscriber reads the organization).
    """
    body = (body or "").strip()
    if not body:
        raise InvalidInput("Write the reply.", field="body")
    if len(body) > BODY_MAX_LENGTH:
        raise InvalidInput(f"A reply has at most {BODY_MAX_LENGTH} characters.", field="body")
    # Read afresh: a STOP may have come since the page was drawn.
    subscriber = Subscriber.objects.filter(pk=inbound.subscriber_id).first()
    if subscriber is None:
        # Routing links the message to its address; erasure unlinks it.
        raise InvalidInput(
            "No address to answer: the person was erased, or the message is not routed yet.",
            field="body",
        )
    if subscriber.consent_status == ConsentStatus.OPTED_OUT:
        raise InvalidInput("They opted out: no reply goes to them.", field="body")
    return reply_queue(
        subscriber=subscriber,
        body=body,
        reply_key=STAFF_REPLY_KEY,
        language=inbound.detected_language or subscriber.language,
        in_reply_to=inbound,
    )
