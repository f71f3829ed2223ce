"""Outbound messages: queue one, and send it — the one choke point every send goes through.

A worker sends only what it still holds. Every claim carries a token; every write a
worker makes after it (marking a message in flight, recording it sent, failed or queued
again) is fenced on that token and on the "sending" status, so a worker whose lease was
taken back, or whose message a STOP or a cancel took back, changes nothing and sends
nothing. Right before the provider call (`messages_take_in_flight`) the wave's gate and
the subscriber's consent are checked again. An outcome we did not see is "unknown" and
the message is reconciled with the provider before any resend (`transmit`). This module
is the only place that handles adapter errors; `message_send` is the path of one reply,
`outreach.services.dispatch` the path of a batch, through the same steps.
"""

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.urls import reverse
from django.utils import timezone

from outreach import metrics, rate_limit, send_gates
from outreach.channel_kinds import TWILIO_KINDS
from outreach.channels.base import NO_LOOKUP, SendResult, TemplateCall, TransportError
from outreach.channels.registry import adapter_for
from outreach.models import (
    NOT_HANDED_OVER,
    Channel,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    Subscriber,
)
from outreach.privacy import mask_numbers_in_provider_text
from outreach.queueing import enqueue_or_leave_to_sweeper
from outreach.sms_encoding import sms_length
from outreach.wave_activity import wave_messages_failed, waves_changed

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# The provider's clock and ours may differ a little, and Twilio dates have whole seconds.
RECONCILE_MARGIN = timedelta(seconds=5)


def lease() -> timedelta:
    """A claimed message not recorded within this long is taken back by the sweeper."""
    return timedelta(seconds=settings.DISPATCH_LEASE_SECONDS)


# A dispatcher's sending thread has at most this many calls handed to it (see dispatch).
IN_FLIGHT_CALLS_PER_THREAD = 4


def in_flight_lease() -> timedelta:
    """Once in flight, a message waits behind at most IN_FLIGHT_CALLS_PER_THREAD sends on its
    thread, then goes itself; each send is at most two requests (a reconcile, then the send)
    of at most two timeouts each (connect, read). Its lease covers them all, so a live call
    never outlasts its claim however slow the provider."""
    sends = IN_FLIGHT_CALLS_PER_THREAD + 1
    worst = sends * 2 * 2 * settings.TWILIO_TIMEOUT_SECONDS
    return max(lease(), timedelta(seconds=worst + 5))


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
    """Queue a system reply; it is sent after the transaction commits, ahead of bulk waves.

    An answer leaves by the channel the person wrote on (an address may be reachable through
    two of the organization's SMS numbers); anything else by the address's own channel."""
    message = OutboundMessage.objects.create(
        organization_id=subscriber.organization_id,
        channel_id=in_reply_to.channel_id if in_reply_to else subscriber.channel_id,
        subscriber=subscriber,
        contact_id=subscriber.contact_id,
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
    """Hand a stored message to the priority queue once the transaction commits (a goodbye
    ahead of the welcomes waiting there)."""
    urgent = message.reply_key in REPLIES_TO_THE_UNSUBSCRIBED
    transaction.on_commit(lambda: _enqueue(message.pk, urgent=urgent))


def message_send(*, message_id: int) -> SendOutcome:
    """Send one queued message now (a reply's task). Safe to call twice: one call claims it.

    The same steps as a dispatcher's batch, for a batch of one: claim with a token, take
    tokens (or come back later), fence and check consent right before the call, record.
    """
    token = uuid.uuid4()
    claimed = OutboundMessage.objects.filter(pk=message_id, status=OutboundStatus.QUEUED).update(
        status=OutboundStatus.SENDING,
        attempts=F("attempts") + 1,
        status_changed_at=timezone.now(),
        lease_expires_at=timezone.now() + lease(),
        claim_token=token,
        in_flight_at=None,
    )
    if claimed != 1:
        return SendOutcome(status="not_queued")
    message = OutboundMessage.objects.select_related("channel", "subscriber").get(pk=message_id)
    if message.attempts > MAX_ATTEMPTS:
        return message_give_up(message)
    channel = message.channel
    wait = rate_limit.take(
        channel_id=channel.pk, cost=message.segments, per_second=channel.messages_per_second
    )
    if wait > 0:
        _requeue(message, count_attempt=False)
        return SendOutcome(status=OutboundStatus.QUEUED, retry_in=wait)
    if not messages_take_in_flight([message]):
        status = OutboundMessage.objects.filter(pk=message_id).values_list("status", flat=True)
        return SendOutcome(status=status.first() or "not_queued")
    try:
        result = transmit(message)
    except TransportError as error:
        return message_failed(message, error)
    messages_record_sent([(message, result)])
    return SendOutcome(status=result.status)


def messages_take_in_flight(
    messages: list[OutboundMessage],
    *,
    counts: dict[str, int] | None = None,
    holds: send_gates.HoldsFor = send_gates.holds_for,
) -> list[OutboundMessage]:
    """Right before the provider call: the claimed messages that may go, marked in flight.

    One short transaction per group. The wave's gate first (cancelled: cancel; paused:
    hold; outside its sending window: back to the queue until the next opening, no attempt
    counted); then consent, read fresh with the subscribers locked (FOR NO KEY UPDATE, as a
    STOP's consent_record locks them first: a STOP either waits for this transaction or is
    seen by it); then the fence: only messages still held by their claim (token, status,
    not yet in flight; SKIP LOCKED) are marked in flight with a lease that covers the call.
    A message that lost its claim is skipped: whoever holds it now decides. `counts`
    tallies what was not sent; `holds` answers for the gate (a dispatcher's KeptHolds).
    """
    if not messages:
        return []
    tally = counts if counts is not None else {}
    messages = _apply_holds(messages, tally, holds)
    if not messages:
        return []
    by_id = {message.pk: message for message in messages}
    subscriber_ids = sorted({m.subscriber_id for m in messages if m.subscriber_id is not None})
    with transaction.atomic():
        # Subscribers first, then messages: the order consent_record locks them in.
        consent = dict(
            Subscriber.objects.filter(pk__in=subscriber_ids)
            .order_by("pk")
            .select_for_update(no_key=True)
            .values_list("pk", "consent_status")
        )
        mine: dict[int, str] = {}  # still ours: message id -> its address now
        for token, ids in _by_token(by_id, list(by_id)).items():
            # SKIP LOCKED: a message locked now is being taken back (a cancel, a STOP, a
            # pause); never waiting for it means the fence can never be part of a deadlock.
            mine.update(
                _fenced(ids, token)
                .filter(in_flight_at__isnull=True)
                .order_by("pk")
                .select_for_update(no_key=True, skip_locked=True)
                .values_list("pk", "to_address")
            )
        allowed: list[int] = []
        refused: dict[str, list[int]] = {}
        for message in messages:
            if message.pk not in mine:
                continue  # taken back: whoever holds it now decides
            message.to_address = mine[message.pk]  # an erasure blanks it
            if message.subscriber_id is not None:
                if message.subscriber_id not in consent:
                    message.subscriber = None  # erased since the claim
                else:
                    message.subscriber.consent_status = consent[message.subscriber_id]
            reason = consent_refusal(message)
            if reason:
                refused.setdefault(reason, []).append(message.pk)
            else:
                allowed.append(message.pk)
        now = timezone.now()
        OutboundMessage.objects.filter(pk__in=allowed).update(
            in_flight_at=now, lease_expires_at=now + in_flight_lease()
        )
        for reason, ids in refused.items():
            OutboundMessage.objects.filter(pk__in=ids).update(
                status=OutboundStatus.CANCELED,
                status_changed_at=now,
                error_message=reason[:500],
                lease_expires_at=None,
                claim_token=None,
            )
            _count(tally, OutboundStatus.CANCELED, len(ids))
        waves_changed(by_id[pk].wave_id for ids in refused.values() for pk in ids)
    _count(tally, "not_ours", len(messages) - len(mine))
    for pk in allowed:
        by_id[pk].in_flight_at = now
    return [by_id[pk] for pk in allowed]


def messages_renew_lease(messages: list[OutboundMessage]) -> int:
    """Keep the claim on messages still waiting for tokens: a live worker's lease never lapses."""
    renewed = 0
    for token, ids in _by_token({m.pk: m for m in messages}, [m.pk for m in messages]).items():
        renewed += _fenced(ids, token).update(lease_expires_at=timezone.now() + lease())
    return renewed


def transmit(message: OutboundMessage) -> SendResult:
    """Hand a claimed message to its channel's provider, or find that it already has it.

    No database work: dispatch calls this from its sending threads. A message whose earlier
    attempt may have reached the provider is looked up first, from the start of that
    attempt; a lookup that fails leaves the outcome unknown, never "not sent". Raises
    TransportError, also for a surprise (whose outcome is unknown too).
    """
    channel = message.channel
    adapter = adapter_for(channel)
    try:
        if message.outcome_unknown_since is not None:
            since = message.outcome_unknown_since - RECONCILE_MARGIN
            try:
                found = adapter.find_sent(
                    channel, to=message.to_address, body=message.body, since=since
                )
            except TransportError as error:
                if error.provider_code == NO_LOOKUP:
                    # At most once: a message that may have gone is never sent again.
                    raise TransportError(
                        "An earlier attempt may have gone through and this provider keeps "
                        "no record to ask: not sent again.",
                        permanent=True,
                        provider_code=NO_LOOKUP,
                    ) from error
                raise TransportError(
                    f"An earlier attempt may have gone through; the provider could not be "
                    f"asked: {error}",
                    permanent=False,
                    provider_code=error.provider_code,
                    outcome_unknown=True,
                ) from error
            if found is not None:
                return found
        return adapter.send(
            channel,
            to=message.to_address,
            body=message.body,
            status_callback=status_url(channel),
            template=getattr(message, "template_call", None),
        )
    except TransportError:
        raise
    except Exception as error:
        logger.exception("sending message %s failed unexpectedly", message.pk)
        raise TransportError(
            f"Unexpected {type(error).__name__} while sending",
            permanent=False,
            outcome_unknown=True,
        ) from error


def template_calls(messages: list[OutboundMessage]) -> None:
    """Give each message that goes as a template its `template_call`, ready for the sending
    threads (which never query): the template its variant named at fan-out, with the
    variant's variables (the text the person reads is the message's body)."""
    wanted = {(m.wave_id, m.template_id) for m in messages if m.template_id}
    if not wanted:
        return
    # The wave's variant holds the variables (campaigns owns variants; its table is read
    # here by name so that outreach does not import campaigns).
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT v.wave_id, t.id, t.provider_template_id, t.name, t.language,
                   v.template_variables
            FROM outreach_messagetemplate t
            JOIN campaigns_variant v ON v.template_id = t.id
            WHERE t.id = ANY(%s) AND v.wave_id = ANY(%s)
            """,
            [[t for _, t in wanted], [w for w, _ in wanted]],
        )
        rows = cursor.fetchall()
    calls = {
        (wave_id, template_id): TemplateCall(
            provider_template_id=provider_id,
            name=name,
            language=language,
            variables=tuple(str(v) for v in (variables or [])),
        )
        for wave_id, template_id, provider_id, name, language, variables in rows
    }
    for message in messages:
        message.template_call = calls.get((message.wave_id, message.template_id))  # type: ignore[attr-defined]


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
        OutboundMessage.objects.filter(NOT_HANDED_OVER, subscriber_id=subscriber_id)
        .exclude(kind=OutboundKind.REPLY, reply_key__in=REPLIES_TO_THE_UNSUBSCRIBED)
        .values_list("pk", "wave_id")
    )
    if cancelled:
        OutboundMessage.objects.filter(NOT_HANDED_OVER, pk__in=[pk for pk, _ in cancelled]).update(
            status=OutboundStatus.CANCELED,
            status_changed_at=timezone.now(),
            error_message=reason[:500],
            claim_token=None,
            lease_expires_at=None,
        )
        waves_changed(wave_id for _, wave_id in cancelled)
    return len(cancelled)


def status_url(channel: Channel) -> str:
    """Where the provider reports a message's status, for providers told per message
    (Twilio's StatusCallback); the others report to their channel's webhook."""
    if channel.kind not in TWILIO_KINDS:
        return ""
    return settings.PUBLIC_BASE_URL + reverse("twilio-status", args=[channel.uuid])


def retry_delay(attempt: int) -> float:
    """Exponential backoff with equal jitter: the one retry policy for transient failures.

    Half the backoff is fixed, so a retry never comes at once; half is random, so the
    retries of a storm of errors spread out.
    """
    backoff = min(300.0, 2.0**attempt)
    return backoff / 2 + random.uniform(0, backoff / 2)  # noqa: S311 - jitter, not secrecy


def message_failed(message: OutboundMessage, error: TransportError) -> SendOutcome:
    """Record a send that did not happen (or may not have): failed for good, or queued again.

    Every path ends: a permanent error fails at once, anything else after MAX_ATTEMPTS
    claims. An outcome we did not see keeps the message "in doubt" from the start of the
    attempt in doubt, so the next attempt asks the provider before sending again.
    """
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
    metrics.provider_refused(channel_kind=message.channel.kind, code=error.provider_code)
    unknown_since = message.outcome_unknown_since
    if error.outcome_unknown and unknown_since is None:
        unknown_since = message.in_flight_at or timezone.now()
    if (error.permanent and not error.outcome_unknown) or message.attempts >= MAX_ATTEMPTS:
        logger.warning(
            "message %s failed: %s", message.pk, error.provider_code or type(error).__name__
        )
        given_up = "" if error.permanent else f" (gave up after {message.attempts} attempts)"
        in_doubt = error.outcome_unknown or message.outcome_unknown_since is not None
        outcome = _finish(
            message,
            OutboundStatus.FAILED,
            # Whether it went is not known (the provider may have it): "unknown", whatever
            # the provider last said (kept in the text), so that no fallback follows it.
            error_code="unknown" if in_doubt else error.provider_code,
            error_message=f"{provider_error_text(error)}{given_up}",
        )
        if message.wave_id is not None:
            wave_messages_failed([message.pk])  # the next channel, if the wave has one
        return outcome
    # The provider's own wait (Telegram's retry_after) when it names one, else our backoff.
    delay = max(retry_delay(message.attempts), error.retry_after or 0.0)
    _requeue(
        message,
        count_attempt=True,
        error=error,
        not_before=timezone.now() + timedelta(seconds=delay),
        outcome_unknown_since=unknown_since,
    )
    return SendOutcome(status=OutboundStatus.QUEUED, retry_in=delay)


def provider_error_text(error: TransportError) -> str:
    """What a failed send stores of the provider's words: its numbers masked (Twilio's 21211
    names the number it refused), whatever adapter built the error."""
    return mask_numbers_in_provider_text(str(error))


def messages_record_sent(sent: list[tuple[OutboundMessage, SendResult]]) -> None:
    """Record many messages the provider took, in one statement fenced on their claims.

    A status report that arrived first waits in the status inbox and is applied by its next
    batch.
    """
    if not sent:
        return
    rows = ", ".join(["(%s::bigint, %s::uuid, %s, %s, %s::numeric, %s)"] * len(sent))
    params: list[object] = []
    for message, result in sent:
        params += [
            message.pk,
            message.claim_token,
            result.status,
            result.provider_message_id[:64],
            result.price,
            result.price_unit[:3],
        ]
    # Fenced on the claim: a worker whose lease was taken back records nothing; the
    # message's new holder finds the provider's record when it reconciles.
    sql = f"""
        UPDATE outreach_outboundmessage m
        SET status = v.status, status_changed_at = now(), provider_message_id = v.sid,
            price = v.price, price_unit = v.unit, sent_at = now(), error_code = '',
            error_message = '', lease_expires_at = NULL, claim_token = NULL,
            outcome_unknown_since = NULL,
            to_address = CASE WHEN m.subscriber_id IS NULL THEN '' ELSE m.to_address END
        FROM (VALUES {rows}) AS v(id, token, status, sid, price, unit)
        WHERE m.id = v.id AND m.claim_token = v.token AND m.status = %s
        RETURNING m.id
    """  # noqa: S608 - only placeholders are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, OutboundStatus.SENDING])
        recorded_ids = {row[0] for row in cursor.fetchall()}
    recorded = len(recorded_ids)
    metrics.messages_sent((m.channel.kind, m.wave_id) for m, _ in sent if m.pk in recorded_ids)
    if recorded < len(sent):
        logger.warning(
            "%s sends were not recorded: their claim was taken back", len(sent) - recorded
        )
    waves_changed(message.wave_id for message, _ in sent)
    _reports_that_came_with_the_sends(sent)


def _reports_that_came_with_the_sends(sent: list[tuple[OutboundMessage, SendResult]]) -> None:
    """Status reports a provider gave with its answer (the console's), into the inbox."""
    from outreach.services.status import status_receive

    for message, result in sent:
        for status, error_code in result.reports:
            status_receive(
                channel=message.channel,
                provider_message_id=result.provider_message_id,
                provider_status=status,
                status=status,
                error_code=error_code,
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
        # A person erased while this was in flight keeps no provider text (it may name them).
        "error_message": Case(
            When(subscriber__isnull=True, then=Value("")), default=Value(error_message[:500])
        ),
        "lease_expires_at": None,
        "claim_token": None,
    }
    if message.subscriber_id is None:
        changes["to_address"] = ""  # an erased person's last reply: forget the number once done
    # Only from "sending" and only while ours: a status callback that raced ahead is never
    # overwritten, and a worker whose claim was taken back decides nothing.
    _fenced([message.pk], message.claim_token).update(**changes)
    waves_changed([message.wave_id])
    return SendOutcome(status=status)


def held_as(hold: send_gates.Hold) -> tuple[str, datetime | None]:
    """What a hold makes of a message: its status, and for a queued one its "not before"."""
    if hold.final:
        return OutboundStatus.CANCELED, None
    if hold.until is None:
        return OutboundStatus.HELD, None  # until the wave is resumed
    return OutboundStatus.QUEUED, hold.until  # outside the sending window: until it opens


def message_give_up(message: OutboundMessage) -> SendOutcome:
    """A message claimed more than MAX_ATTEMPTS times ends failed, with the reason."""
    in_doubt = message.outcome_unknown_since is not None
    return _finish(
        message,
        OutboundStatus.FAILED,
        error_code="unknown" if in_doubt else "attempts",
        error_message=f"Gave up after {MAX_ATTEMPTS} attempts"
        + (" (an earlier attempt may have reached the provider)." if in_doubt else "."),
    )


def _requeue(
    message: OutboundMessage,
    *,
    count_attempt: bool,
    error: TransportError | None = None,
    not_before: datetime | None = None,
    outcome_unknown_since: datetime | None = None,
) -> None:
    # For a queued message the lease field means "not before": batch claims skip it till then.
    changes: dict[str, object] = {
        "status": OutboundStatus.QUEUED,
        "lease_expires_at": not_before,
        "claim_token": None,
        "in_flight_at": None,
        "outcome_unknown_since": outcome_unknown_since or message.outcome_unknown_since,
    }
    if not count_attempt:
        changes["attempts"] = F("attempts") - 1
    if error is not None:
        changes |= {
            "error_code": error.provider_code[:16],
            "error_message": provider_error_text(error)[:500],
        }
    hold = send_gates.holds_for([message.wave_id], timezone.now()).get(message.wave_id or 0)
    if hold is not None and (held := held_as(hold)[0]) != OutboundStatus.QUEUED:
        changes |= {"status": held, "lease_expires_at": None}  # a window keeps the backoff
    _fenced([message.pk], message.claim_token).update(**changes)
    waves_changed([message.wave_id])


def _apply_holds(
    messages: list[OutboundMessage], tally: dict[str, int], holds_for: send_gates.HoldsFor
) -> list[OutboundMessage]:
    """What the waves' gate holds back is cancelled, held or deferred; the rest goes on."""
    holds = holds_for({m.wave_id for m in messages}, timezone.now())
    if not holds:
        return messages
    by_id = {message.pk: message for message in messages}
    held: dict[send_gates.Hold, list[int]] = {}
    going = []
    for message in messages:
        hold = holds.get(message.wave_id or 0)
        if hold is None:
            going.append(message)
        else:
            held.setdefault(hold, []).append(message.pk)
    for hold, ids in held.items():
        status, not_before = held_as(hold)
        for token, mine in _by_token(by_id, ids).items():
            moved = _fenced(mine, token).update(
                status=status,
                status_changed_at=timezone.now(),
                error_message=hold.reason[:500],
                claim_token=None,
                lease_expires_at=not_before,
                attempts=F("attempts") - 1,  # a hold is not an attempt
            )
            _count(tally, status, moved)
        waves_changed(by_id[pk].wave_id for pk in ids)
    return going


def _fenced(ids: list[int], token: object):  # -> QuerySet[OutboundMessage]
    """The messages among `ids` still held by the claim `token` and not yet recorded."""
    return OutboundMessage.objects.filter(
        pk__in=ids, claim_token=token, status=OutboundStatus.SENDING
    )


def _by_token(by_id: dict[int, OutboundMessage], ids: list[int]) -> dict[object, list[int]]:
    grouped: dict[object, list[int]] = {}
    for pk in ids:
        grouped.setdefault(by_id[pk].claim_token, []).append(pk)
    return grouped


def _count(tally: dict[str, int], status: str, n: int) -> None:
    if n:
        tally[status] = tally.get(status, 0) + n


def _enqueue(object_id: int, *, urgent: bool = False) -> None:
    from outreach.tasks import send_message

    enqueue_or_leave_to_sweeper(send_message, object_id, urgent=urgent)
