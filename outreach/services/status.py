"""Provider status reports: each stored once, and a message's status only moves forward."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from outreach.channels.twilio_sms import STATUS_OF_TWILIO
from outreach.models import Channel, MessageStatusEvent, OutboundMessage, OutboundStatus

logger = logging.getLogger(__name__)

# queued < sending < sent < delivered | undelivered | failed; read only after delivered.
RANK = {
    OutboundStatus.QUEUED: 0,
    OutboundStatus.SENDING: 1,
    OutboundStatus.SENT: 2,
    OutboundStatus.DELIVERED: 3,
    OutboundStatus.UNDELIVERED: 3,
    OutboundStatus.FAILED: 3,
    OutboundStatus.CANCELED: 3,
    OutboundStatus.READ: 4,
}
UNKNOWN = "unknown"


@transaction.atomic
def status_record(
    *, channel: Channel, provider_message_id: str, provider_status: str, error_code: str = ""
) -> MessageStatusEvent | None:
    """Store (message id, status) once and move the message forward if the status is ahead."""
    status = STATUS_OF_TWILIO.get(provider_status.lower(), UNKNOWN)
    message = (
        OutboundMessage.objects.select_for_update()
        .filter(channel=channel, provider_message_id=provider_message_id)
        .first()
        if provider_message_id
        else None
    )
    if message is None:
        logger.info("status %r for unknown message on channel %s", provider_status, channel.pk)
    try:
        with transaction.atomic():
            event = MessageStatusEvent.objects.create(
                message=message,
                channel=channel,
                provider_message_id=provider_message_id,
                provider_status=provider_status,
                status=status,
                error_code=error_code,
            )
    except IntegrityError:
        return None  # the provider retried a report we already have
    if message is not None and _moves_forward(message.status, status):
        changes = {"status": status, "status_changed_at": timezone.now()}
        if error_code:
            changes["error_code"] = error_code
        OutboundMessage.objects.filter(pk=message.pk).update(**changes)
    return event


def _moves_forward(current: str, new: str) -> bool:
    if new == UNKNOWN or current not in RANK:
        return False
    if new == OutboundStatus.READ:
        return current in (OutboundStatus.DELIVERED, OutboundStatus.SENT)
    if RANK[current] >= 3:
        return False  # final states never change (but delivered → read above)
    return RANK[new] > RANK[current]
