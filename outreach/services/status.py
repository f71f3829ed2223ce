"""Provider status reports: each stored once, and a message's status only moves forward.

A status callback only appends the verified report to a narrow inbox
(`status_receive`: one small insert, committed before Twilio gets its 200), and
`status_reports_apply` applies the inbox in batches — one statement stores each report
once per (channel, provider id, status) and moves each message to the furthest status
the batch allows; the "only forward" condition is re-checked on a row's latest version
when batches race. The inbox row is deleted in the same transaction, so a report is
applied exactly once, within seconds.
"""

import json
import logging
import time
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from outreach.models import (
    Channel,
    OutboundStatus,
)
from outreach.wave_activity import wave_messages_failed, waves_changed

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
# The inbox's one write, as the model's fields (outreach.models.StatusReportInbox) name them.
_INSERT = (
    "INSERT INTO outreach_statusreportinbox"
    " (channel_id, provider_message_id, provider_status, status, error_code, received_at, raw)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)"
)
# A report for a message we have not recorded waits this long in the inbox for its message.
ORPHAN_AFTER = timedelta(minutes=10)


def status_receive(
    *,
    channel: Channel,
    provider_message_id: str,
    provider_status: str,
    status: str,
    error_code: str = "",
    raw: dict | None = None,
) -> None:
    """Take a verified report into the inbox; the next batch applies it.

    `status` is ours (OutboundStatus, or UNKNOWN): the webhook translated its provider's
    word at the edge; `provider_status` is that word, kept beside it, as is `raw` (the
    report without what names the person)."""
    statement = _INSERT
    if not connection.in_atomic_block:
        # Our own transaction, in one round trip: PostgreSQL runs the two statements of one
        # query as one transaction. A receipt, not consent: a database crash may lose the
        # last fraction of a second of them (the message stays "sent"); waiting for the disk
        # would halve how many callbacks a web process takes.
        statement = "SET LOCAL synchronous_commit TO OFF; " + statement
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            [
                channel.pk,
                provider_message_id,
                provider_status,
                status if status in RANK else UNKNOWN,
                error_code,
                timezone.now(),
                None if raw is None else json.dumps(raw),
            ],
        )
    _schedule_apply()


def status_reports_apply(*, limit: int = 2000) -> int:
    """Apply up to `limit` waiting reports in one transaction; returns how many were taken."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_apply_sql(), {"limit": limit, "orphan_after": ORPHAN_AFTER})
        taken, stored, unknown, wave_ids, failed_ids = cursor.fetchone()
        waves_changed(wave_ids or [])
        wave_messages_failed(failed_ids or [])
    if unknown:
        logger.info("%s status reports for unknown messages", unknown)
    if taken and taken > stored:
        logger.debug("%s status reports were repeats", taken - stored)
    return taken


def status_reports_apply_all(*, limit: int = 2000, seconds: float = 20.0) -> int:
    """Apply the inbox until it is empty (or `seconds` pass: the next task goes on)."""
    total = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (taken := status_reports_apply(limit=limit)):
        total += taken
    return total


@cache
def _apply_sql() -> str:
    # Our own status names only (no request data) are written into the SQL, once.
    pairs = [(c, n) for c in RANK for n in [*RANK, UNKNOWN] if _moves_forward(c, n)]
    forward = ", ".join(f"('{current}', '{new}')" for current, new in pairs)
    rank = " ".join(f"WHEN '{name}' THEN {value}" for name, value in RANK.items())
    names = [*RANK]
    if not all(name.replace("_", "").isalpha() for name in names):
        raise ValueError("unexpected status names")
    return f"""
        WITH batch AS (
            DELETE FROM outreach_statusreportinbox
            WHERE id IN (
                -- A report whose message is not recorded yet waits here (the send and its
                -- record are one fenced statement, committed after the provider answered);
                -- one still unmatched after ORPHAN_AFTER is stored unattached and logged.
                SELECT i.id FROM outreach_statusreportinbox i
                WHERE i.received_at < now() - %(orphan_after)s
                   OR EXISTS (SELECT 1 FROM outreach_outboundmessage m
                              WHERE m.channel_id = i.channel_id
                                AND m.provider_message_id = i.provider_message_id
                                AND i.provider_message_id <> '')
                ORDER BY i.id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
            )
            RETURNING id, channel_id, provider_message_id, provider_status, status, error_code,
                      received_at, raw
        ), resolved AS (
            SELECT b.id AS inbox_id, b.channel_id, b.provider_message_id, b.provider_status,
                   b.error_code, b.received_at, b.raw, m.id AS message_id, b.status
            FROM batch b
            LEFT JOIN outreach_outboundmessage m
              ON m.channel_id = b.channel_id AND m.provider_message_id = b.provider_message_id
              AND b.provider_message_id <> ''
        ), stored AS (
            INSERT INTO outreach_messagestatusevent
                (message_id, channel_id, provider_message_id, provider_status, status,
                 error_code, received_at, raw)
            SELECT message_id, channel_id, provider_message_id, provider_status, status,
                   error_code, received_at, raw
            FROM resolved
            ORDER BY inbox_id  -- event ids in the order the reports came
            ON CONFLICT (channel_id, provider_message_id, provider_status) DO NOTHING
            RETURNING id, message_id, status, error_code, received_at
        ), best AS (
            SELECT DISTINCT ON (s.message_id) s.message_id, s.status, s.error_code,
                   EXISTS (SELECT 1 FROM stored r
                           WHERE r.message_id = s.message_id AND r.status = 'read') AS read_too
            FROM stored s JOIN outreach_outboundmessage m ON m.id = s.message_id
            WHERE (m.status, s.status) IN ({forward})
            -- The furthest status; between two final ones in one batch, the provider's
            -- last word (a later batch never changes a final one).
            ORDER BY s.message_id, CASE s.status {rank} ELSE -1 END DESC,
                     s.received_at DESC, s.id DESC
        ), moved AS (
            UPDATE outreach_outboundmessage m
            SET status = CASE WHEN best.read_too AND best.status IN ('delivered', 'sent')
                              THEN 'read' ELSE best.status END,
                status_changed_at = now(),
                error_code = CASE WHEN best.error_code = '' THEN m.error_code
                                  ELSE best.error_code END
            FROM best
            WHERE m.id = best.message_id AND (m.status, best.status) IN ({forward})
            RETURNING m.id, m.wave_id, m.status
        )
        SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM stored),
               (SELECT count(*) FROM stored WHERE message_id IS NULL),
               ARRAY(SELECT DISTINCT wave_id FROM moved WHERE wave_id IS NOT NULL),
               ARRAY(SELECT id FROM moved WHERE wave_id IS NOT NULL
                     AND status IN ('failed', 'undelivered'))
    """  # noqa: S608 - see above


_last_scheduled = 0.0
APPLY_AT_MOST_EVERY = 1.0  # seconds between apply tasks a web process asks for


def _schedule_apply() -> None:
    """Ask a worker to apply the inbox soon: in-process at once (tests, demo), else at
    most once a second per process; the beat's sweep applies what a quiet spell left."""
    global _last_scheduled
    from outreach.tasks import apply_status_reports

    if settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: apply_status_reports.apply())
        return
    now = time.monotonic()
    if now - _last_scheduled < APPLY_AT_MOST_EVERY:
        return
    _last_scheduled = now
    try:
        apply_status_reports.apply_async(queue="priority")
    except Exception:
        logger.warning("could not ask for the status inbox to be applied; the beat will")


def _moves_forward(current: str, new: str) -> bool:
    if new == UNKNOWN or current not in RANK:
        return False
    if new == OutboundStatus.READ:
        return current in (OutboundStatus.DELIVERED, OutboundStatus.SENT)
    if RANK[current] >= 3:
        return False  # final states never change (but delivered → read above)
    return RANK[new] > RANK[current]
