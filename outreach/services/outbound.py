"""Outbound messages: queue one, and send it — the one choke point every send goes through.

`message_send` claims the message with a conditional UPDATE, checks consent again,
takes tokens from the channel's rate limiter, calls the channel's adapter, and
records the outcome. It is the only place that handles adapter errors.
"""

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from outreach import rate_limit
from outreach.channels.base import SendResult, TransportError
from outreach.channels.registry import adapter_for
from outreach.models import (
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    Subscriber,
)
from outreach.queueing import enqueue_or_leave_to_sweeper
from outreach.sms_encoding import sms_length
from outreach.wave_activity import waves_changed

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
LEASE_EXPIRED = "lease_expired"  # set by the sweeper on a message whose worker died
RECONCILE_MARGIN = timedelta(seconds=60)  # the provider's clock and ours may differ a little
# A claimed message not recorded within this long is taken back by the sweeper.
LEASE = timedelta(seconds=settings.DISPATCH_LEASE_SECONDS)
# The only reply someone who has opted out may get: the one goodbye.
REPLIES_TO_THE_UNSUBSCRIBED = frozenset({"goodbye"})


@dataclass(frozen=True)
class SendOutcome:
    status: str
    retry_in: float | None = None  # seconds; set when the caller should try again later


def reply_queue(
    *,
    subscriber: Subscriber,
    body: str,
    reply_key: str,
    language: str,
    in_reply_to: InboundMessage | None = None,
) -> OutboundMessage:
    """Queue a system reply; it is sent after the transaction commits, ahead of bulk waves."""
    message = OutboundMessage.objects.create(
        organization_id=subscriber.organization_id,
        channel_id=subscriber.channel_id,
        subscriber=subscriber,
        to_address=subscriber.address,
        kind=OutboundKind.REPLY,
        reply_key=reply_key,
        in_reply_to=in_reply_to,
        body=body,
        language=language,
        segments=sms_length(body).segments,
    )
    message_enqueue(message)
    return message


def message_enqueue(message: OutboundMessage) -> None:
    """Hand a stored message to the priority queue once the transaction commits."""
    transaction.on_commit(lambda: _enqueue(message.pk))


def message_send(*, message_id: int) -> SendOutcome:
    """Send one queued message once. Safe to call twice: only one call claims it."""
    claimed = OutboundMessage.objects.filter(pk=message_id, status=OutboundStatus.QUEUED).update(
        status=OutboundStatus.SENDING,
        attempts=F("attempts") + 1,
        status_changed_at=timezone.now(),
        lease_expires_at=timezone.now() + LEASE,
    )
    if claimed != 1:
        return SendOutcome(status="not_queued")
    message = OutboundMessage.objects.select_related("channel", "subscriber").get(pk=message_id)
    return message_deliver(message, wait_for_tokens=False)


def message_deliver(message: OutboundMessage, *, wait_for_tokens: bool) -> SendOutcome:
    """Send a message this worker has claimed: consent again, rate limit, adapter, record."""
    refusal = consent_refusal(message)
    if refusal:
        return _finish(message, OutboundStatus.CANCELED, error_message=refusal)
    channel = message.channel
    while True:
        wait = rate_limit.take(
            channel_id=channel.pk, cost=message.segments, per_second=channel.messages_per_second
        )
        if wait <= 0:
            break
        if not wait_for_tokens:
            _requeue(message, count_attempt=False)
            return SendOutcome(status=OutboundStatus.QUEUED, retry_in=wait)
        time.sleep(wait)
    try:
        result = transmit(message)
    except TransportError as error:
        return message_failed(message, error)
    message.provider_message_id = result.provider_message_id
    message.price, message.price_unit = result.price, result.price_unit
    message.sent_at = timezone.now()
    return _finish(message, result.status)


def transmit(message: OutboundMessage) -> SendResult:
    """Hand a claimed message to its channel's provider, or find that it already has it.

    No database work: dispatch calls this from its sending threads. Raises TransportError.
    """
    channel = message.channel
    adapter = adapter_for(channel)
    if message.error_code == LEASE_EXPIRED:
        # Its last worker died mid-send: never call twice for one message.
        since = message.created_at - RECONCILE_MARGIN  # any attempt came after it was made
        found = adapter.find_sent(channel, to=message.to_address, body=message.body, since=since)
        if found is not None:
            return found
    return adapter.send(
        channel, to=message.to_address, body=message.body, status_callback=status_url(channel)
    )


def consent_refusal(message: OutboundMessage) -> str:
    """Why this message must not go to its recipient now, or "" when it may."""
    subscriber = message.subscriber
    if subscriber is None:
        return "" if message.to_address else "The recipient was erased."
    if subscriber.consent_status == ConsentStatus.OPTED_IN:
        return ""
    if message.kind == OutboundKind.REPLY:
        if subscriber.consent_status == ConsentStatus.OPTED_OUT:
            if message.reply_key in REPLIES_TO_THE_UNSUBSCRIBED:
                return ""
            return "The subscriber opted out."
        return ""  # an answer to someone who texted us but has not joined (help, welcome)
    return "The subscriber is not subscribed."


def messages_cancel_unsent(*, subscriber_id: int, reason: str) -> int:
    """Cancel every message to this subscriber that has not reached the provider yet.

    Queued, held, and claimed but not yet in flight: a dispatcher's fence (claim token and
    status, checked in the statement that marks a message in flight) then skips them. The
    one goodbye is kept. Call it in the transaction that records the opt-out.
    """
    cancelled = list(
        OutboundMessage.objects.filter(
            subscriber_id=subscriber_id,
            status__in=[OutboundStatus.QUEUED, OutboundStatus.HELD, OutboundStatus.SENDING],
            in_flight_at__isnull=True,
        )
        .exclude(kind=OutboundKind.REPLY, reply_key__in=REPLIES_TO_THE_UNSUBSCRIBED)
        .values_list("pk", "wave_id")
    )
    if cancelled:
        OutboundMessage.objects.filter(
            pk__in=[pk for pk, _ in cancelled], in_flight_at__isnull=True
        ).update(
            status=OutboundStatus.CANCELED,
            status_changed_at=timezone.now(),
            error_message=reason[:500],
            claim_token=None,
            lease_expires_at=None,
        )
        waves_changed(wave_id for _, wave_id in cancelled)
    return len(cancelled)


def status_url(channel: object) -> str:
    return settings.PUBLIC_BASE_URL + reverse("twilio-status", args=[channel.uuid])  # type: ignore[attr-defined]


def retry_delay(attempt: int) -> float:
    """Exponential backoff with equal jitter: the one retry policy for transient failures.

    Half the backoff is fixed, so a retry never comes at once; half is random, so the
    retries of a storm of errors spread out.
    """
    backoff = min(300.0, 2.0**attempt)
    return backoff / 2 + random.uniform(0, backoff / 2)  # noqa: S311 - jitter, not secrecy


def message_failed(message: OutboundMessage, error: TransportError) -> SendOutcome:
    """Record a send that did not happen: failed for good, or queued again after a backoff."""
    subscriber = message.subscriber
    if error.unsubscribed and subscriber is not None and subscriber.is_subscribed:
        from outreach.services.consent import consent_record

        consent_record(
            subscriber=subscriber,
            kind=ConsentKind.OPT_OUT,
            source=ConsentSource.CARRIER,
            channel=message.channel,
            evidence={"provider_error": error.provider_code},
        )
    if error.permanent or message.attempts >= MAX_ATTEMPTS:
        logger.warning("message %s failed: %s", message.pk, error)
        return _finish(
            message,
            OutboundStatus.FAILED,
            error_code=error.provider_code,
            error_message=str(error),
        )
    delay = retry_delay(message.attempts)
    _requeue(
        message,
        count_attempt=True,
        error=error,
        not_before=timezone.now() + timedelta(seconds=delay),
    )
    return SendOutcome(status=OutboundStatus.QUEUED, retry_in=delay)


def messages_record_sent(sent: list[tuple[OutboundMessage, SendResult]]) -> None:
    """Record many messages the provider took, in one statement; `_finish` for each, at once.

    A status report that arrived before its message was recorded is applied here.
    """
    if not sent:
        return
    if connection.vendor != "postgresql":
        for message, result in sent:
            message.provider_message_id = result.provider_message_id
            message.price, message.price_unit = result.price, result.price_unit
            message.sent_at = timezone.now()
            _finish(message, result.status)
    else:
        rows = ", ".join(["(%s::bigint, %s, %s, %s::numeric, %s)"] * len(sent))
        params: list[object] = []
        for message, result in sent:
            params += [
                message.pk,
                result.status,
                result.provider_message_id[:64],
                result.price,
                result.price_unit[:3],
            ]
        sql = f"""
            UPDATE outreach_outboundmessage m
            SET status = v.status, status_changed_at = now(), provider_message_id = v.sid,
                price = v.price, price_unit = v.unit, sent_at = now(), error_code = '',
                error_message = '', lease_expires_at = NULL,
                to_address = CASE WHEN m.subscriber_id IS NULL THEN '' ELSE m.to_address END
            FROM (VALUES {rows}) AS v(id, status, sid, price, unit)
            WHERE m.id = v.id AND m.status = %s
        """  # noqa: S608 - only placeholders are interpolated
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, OutboundStatus.SENDING])
        waves_changed(message.wave_id for message, _ in sent)
    from outreach.services.status import status_apply_early_reports

    status_apply_early_reports(
        channel_id=sent[0][0].channel_id,
        provider_message_ids=[result.provider_message_id for _, result in sent],
    )


def _finish(
    message: OutboundMessage, status: str, *, error_code: str = "", error_message: str = ""
) -> SendOutcome:
    changes = {
        "status": status,
        "status_changed_at": timezone.now(),
        "provider_message_id": message.provider_message_id,
        "price": message.price,
        "price_unit": message.price_unit,
        "sent_at": message.sent_at,
        "error_code": error_code[:16],
        "error_message": error_message[:500],
        "lease_expires_at": None,
    }
    if message.subscriber_id is None:
        changes["to_address"] = ""  # an erased person's last reply: forget the number once done
    # Only from "sending": a status callback that raced ahead is never overwritten.
    OutboundMessage.objects.filter(pk=message.pk, status=OutboundStatus.SENDING).update(**changes)
    waves_changed([message.wave_id])
    return SendOutcome(status=status)


def _requeue(
    message: OutboundMessage,
    *,
    count_attempt: bool,
    error: TransportError | None = None,
    not_before: datetime | None = None,
) -> None:
    # For a queued message the lease field means "not before": batch claims skip it till then.
    changes: dict[str, object] = {"status": OutboundStatus.QUEUED, "lease_expires_at": not_before}
    if not count_attempt:
        changes["attempts"] = F("attempts") - 1
    if error is not None:
        changes |= {"error_code": error.provider_code[:16], "error_message": str(error)[:500]}
    OutboundMessage.objects.filter(pk=message.pk, status=OutboundStatus.SENDING).update(**changes)
    waves_changed([message.wave_id])


def _enqueue(object_id: int) -> None:
    from outreach.tasks import send_message

    enqueue_or_leave_to_sweeper(send_message, object_id)
