"""Provider status reports: each stored once, and a message's status only moves forward.

On PostgreSQL one statement stores the report and moves its message, so a callback costs
one round trip: the insert is idempotent on (channel, provider id, status), and the
update's "only forward" condition is re-checked on the row's latest version when two
reports for one message race. Elsewhere (the SQLite demo) the same rules run in the ORM.
"""

import logging
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from outreach.channels.twilio_sms import STATUS_OF_TWILIO
from outreach.models import Channel, MessageStatusEvent, OutboundMessage, OutboundStatus
from outreach.wave_activity import waves_changed

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

_RECORD_SQL_TEMPLATE = """
    WITH message AS (
        SELECT id FROM outreach_outboundmessage
        WHERE channel_id = %(channel)s AND provider_message_id = %(sid)s
        LIMIT 1
    ), event AS (
        INSERT INTO outreach_messagestatusevent
            (message_id, channel_id, provider_message_id, provider_status, status, error_code,
             received_at)
        VALUES ((SELECT id FROM message), %(channel)s, %(sid)s, %(provider_status)s,
                %(status)s, %(error_code)s, now())
        ON CONFLICT (channel_id, provider_message_id, provider_status) DO NOTHING
        RETURNING message_id
    ), moved AS (
        UPDATE outreach_outboundmessage m
        SET status = %(status)s, status_changed_at = now(),
            error_code = CASE WHEN %(error_code)s = '' THEN m.error_code ELSE %(error_code)s END
        FROM event
        WHERE m.id = event.message_id AND m.status IN ({moves_from})
        RETURNING m.wave_id
    )
    SELECT (SELECT count(*) FROM event), (SELECT message_id FROM event),
           (SELECT wave_id FROM moved)
"""


def status_record(
    *, channel: Channel, provider_message_id: str, provider_status: str, error_code: str = ""
) -> bool:
    """Store (message id, status) once and move the message forward if the status is ahead.

    Returns False when the report was already stored (the provider retried it).
    """
    status = STATUS_OF_TWILIO.get(provider_status.lower(), UNKNOWN)
    if connection.vendor != "postgresql":
        return _record_in_orm(channel, provider_message_id, provider_status, status, error_code)
    with connection.cursor() as cursor:
        cursor.execute(
            _record_sql(status),
            {
                "channel": channel.pk,
                "sid": provider_message_id,
                "provider_status": provider_status,
                "status": status,
                "error_code": error_code,
            },
        )
        stored, message_id, moved_wave_id = cursor.fetchone()
    waves_changed([moved_wave_id])
    if stored and message_id is None:
        logger.info("status %r for unknown message on channel %s", provider_status, channel.pk)
    return bool(stored)


def status_apply_early_reports(*, channel_id: int, provider_message_ids: list[str]) -> int:
    """Attach reports that arrived before their message was recorded, and apply them."""
    early = list(
        MessageStatusEvent.objects.filter(
            channel_id=channel_id,
            provider_message_id__in=provider_message_ids,
            message__isnull=True,
        ).order_by("pk")
    )
    for event in early:
        with transaction.atomic():
            message = (
                OutboundMessage.objects.select_for_update()
                .filter(channel_id=channel_id, provider_message_id=event.provider_message_id)
                .first()
            )
            if message is None:
                continue
            MessageStatusEvent.objects.filter(pk=event.pk).update(message=message)
            _move(message, event.status, event.error_code)
    return len(early)


@cache
def moves_from(new: str) -> frozenset[str]:
    """The statuses a message may be in for a report of `new` to move it."""
    return frozenset(current for current in RANK if _moves_forward(current, new))


@cache
def _record_sql(status: str) -> str:
    # Our own status names, written into the SQL once per status: an array parameter would
    # cost more to send than the rest of the statement. Nothing here comes from a request.
    allowed = sorted(moves_from(status)) or ["-"]  # nothing moves on an unknown status
    if not all(name.replace("_", "").isalpha() or name == "-" for name in allowed):
        raise ValueError(f"unexpected status names {allowed}")
    return _RECORD_SQL_TEMPLATE.replace("{moves_from}", ", ".join(f"'{name}'" for name in allowed))


def _record_in_orm(
    channel: Channel, provider_message_id: str, provider_status: str, status: str, error_code: str
) -> bool:
    with transaction.atomic():
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
                MessageStatusEvent.objects.create(
                    message=message,
                    channel=channel,
                    provider_message_id=provider_message_id,
                    provider_status=provider_status,
                    status=status,
                    error_code=error_code,
                )
        except IntegrityError:
            return False  # the provider retried a report we already have
        if message is not None:
            _move(message, status, error_code)
    return True


def _move(message: OutboundMessage, status: str, error_code: str) -> None:
    if not _moves_forward(message.status, status):
        return
    changes: dict[str, object] = {"status": status, "status_changed_at": timezone.now()}
    if error_code:
        changes["error_code"] = error_code
    OutboundMessage.objects.filter(pk=message.pk).update(**changes)
    waves_changed([message.wave_id])


def _moves_forward(current: str, new: str) -> bool:
    if new == UNKNOWN or current not in RANK:
        return False
    if new == OutboundStatus.READ:
        return current in (OutboundStatus.DELIVERED, OutboundStatus.SENT)
    if RANK[current] >= 3:
        return False  # final states never change (but delivered → read above)
    return RANK[new] > RANK[current]
