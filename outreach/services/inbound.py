"""Inbound messages: stored once as they arrive, then routed — STOP first, always.

A STOP reaches the consent ledger in the webhook itself, in the short transaction that
stores the message, so it never waits behind a queue of joins; the goodbye and the rest of
routing happen in the task, which finds the opt-out already recorded (`inbound_opt_out`
is the one place either records it).

Order of routing: STOP (any state) → an unsubscribed person gets nothing but JOIN/START →
JOIN/START, HELP, language change → onboarding answers → answers to a wave (polls, which
the campaigns app registers with `register_reply_handler`) → free reply.

Free replies, wave answers and opt-outs are attributed to the wave whose message last
reached the sender within the organization's attribution window (72 hours by default).
"""

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from outreach.keywords import Intent, KeywordMatch, match_keyword
from outreach.language import detect_language
from outreach.models import (
    ATTRIBUTED_INTENTS,
    AnonymousTally,
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    InboundIntent,
    InboundMessage,
    LanguageSource,
    OnboardingStep,
    Organization,
    OutboundMessage,
    Region,
    Subscriber,
)
from outreach.onboarding import is_skip, parse_age, parse_region, region_menu
from outreach.queueing import enqueue_or_leave_to_sweeper
from outreach.replies import CONSENT_TEXT_VERSION, reply_text
from outreach.selectors.conversation import (
    keyword_set_for,
    regions_for,
    reply_overrides_for,
    wave_last_reaching,
    webhook_keyword_set,
)
from outreach.services.consent import consent_record
from outreach.services.contacts import link_code_issue, link_code_redeem
from outreach.services.outbound import reply_queue
from outreach.services.subscribers import (
    profile_share,
    subscriber_erase,
    subscriber_for_address,
)
from outreach.services.sweeper import GRACE as SWEEPER_GRACE
from outreach.wave_activity import waves_changed

logger = logging.getLogger(__name__)

NOT_UNDERSTOOD_AT_MOST_EVERY = timedelta(hours=1)  # never loop with an auto-responder


@dataclass(frozen=True)
class HandledReply:
    """A reply handler's answer: the intent to record and the reply to send back."""

    intent: str
    reply_key: str
    body: str
    language: str


# (subscriber, inbound, attributed wave id) → HandledReply, or None when not theirs.
ReplyHandler = Callable[[Subscriber, InboundMessage, int | None], HandledReply | None]
_reply_handlers: list[ReplyHandler] = []


def register_reply_handler(handler: ReplyHandler) -> None:
    """Let another app answer free text first (campaigns: poll answers). Idempotent."""
    if handler not in _reply_handlers:
        _reply_handlers.append(handler)


def inbound_receive(
    *,
    channel: Channel,
    provider_message_id: str,
    from_address: str,
    body: str,
    received_at: datetime,
    raw: dict | None = None,
) -> tuple[InboundMessage, bool]:
    """Store an inbound message once (providers retry) and route it after commit.

    A STOP from a subscriber is recorded in the ledger in the same transaction
    (`inbound_stop_record_at_once`); everything else, the goodbye included, is routed by the task.
    """
    match = match_keyword(body, webhook_keyword_set(channel.organization))
    says_stop = match is not None and match.intent == Intent.STOP
    try:
        # Anything but a STOP is one insert, committed as it runs (a savepoint only inside a
        # caller's transaction); a STOP is stored with its opt-out, in one transaction.
        atomic = says_stop or connection.in_atomic_block
        with transaction.atomic() if atomic else nullcontext():
            inbound = InboundMessage.objects.create(
                organization_id=channel.organization_id,
                channel=channel,
                provider_message_id=provider_message_id,
                from_address=from_address,
                body=body,
                received_at=received_at,
                raw=raw,
            )
            stopped = says_stop and inbound_stop_record_at_once(channel=channel, inbound=inbound)
    except IntegrityError:
        existing = InboundMessage.objects.get(
            channel=channel, provider_message_id=provider_message_id
        )
        return existing, False
    transaction.on_commit(lambda: _enqueue(inbound.pk, urgent=stopped))
    return inbound, True


def inbound_stop_record_at_once(*, channel: Channel, inbound: InboundMessage) -> bool:
    """The webhook's fast path: if `inbound` says STOP, record the opt-out now.

    Call inside the transaction that stores `inbound`. Locks only the subscriber's row
    (then its messages'), never the channel's or the organization's. A failure here is
    logged and left to the routing task, which records the opt-out itself; the message is
    stored either way. True when the ledger now holds this message's opt-out.
    """
    try:
        with transaction.atomic():  # a savepoint: a failure here never loses the message
            match = match_keyword(inbound.body, keyword_set_for(channel.organization))
            if match is None or match.intent != Intent.STOP:
                return False
            subscriber = (
                Subscriber.objects.select_for_update(no_key=True)
                .filter(
                    organization_id=channel.organization_id,
                    scheme=channel.scheme,
                    address=inbound.from_address,
                )
                .first()
            )
            if subscriber is None:
                return False
            stopped = inbound_opt_out(subscriber=subscriber, inbound=inbound)
            if match.everywhere:  # STOPALL: the person's other addresses, at once too
                stopped = (
                    inbound_opt_out_elsewhere(subscriber=subscriber, inbound=inbound) > 0 or stopped
                )
            return stopped
    except DatabaseError as error:
        logger.warning(
            "STOP of inbound %s left to its routing task: %s", inbound.pk, type(error).__name__
        )
        return False


def inbound_opt_out(*, subscriber: Subscriber, inbound: InboundMessage) -> bool:
    """Record the opt-out a STOP message expresses, once, whoever asks first (webhook or task).

    True when this message opted the person out (now, or already in the webhook); False when
    they were not subscribed. Call with the subscriber's row locked.
    """
    already = ConsentEvent.objects.filter(
        subscriber_id=subscriber.pk,
        kind=ConsentKind.OPT_OUT,
        provider_message_id=inbound.provider_message_id,
    ).exists()
    if already:
        return True
    if subscriber.consent_status != ConsentStatus.OPTED_IN:
        return False
    consent_record(
        subscriber=subscriber,
        kind=ConsentKind.OPT_OUT,
        source=ConsentSource.KEYWORD,
        channel=inbound.channel,
        occurred_at=inbound.received_at,
        keyword_as_texted=_first_word(inbound.body),
        provider_message_id=inbound.provider_message_id,
    )
    return True


def inbound_opt_out_elsewhere(*, subscriber: Subscriber, inbound: InboundMessage) -> int:
    """STOPALL: the person's other addresses opt out too, each in the ledger with its own
    channel, each naming the message that asked (on another channel). Once, whoever asks
    first (webhook or task): an address already out is left alone. How many it stopped."""
    others = (
        Subscriber.objects.select_for_update(no_key=True)
        .filter(contact_id=subscriber.contact_id, consent_status=ConsentStatus.OPTED_IN)
        .exclude(pk=subscriber.pk)
        .select_related("channel")
        .order_by("pk")
    )
    stopped = 0
    for other in others:
        consent_record(
            subscriber=other,
            kind=ConsentKind.OPT_OUT,
            source=ConsentSource.KEYWORD,
            channel=other.channel,
            occurred_at=inbound.received_at,
            keyword_as_texted=_first_word(inbound.body),
            provider_message_id=inbound.provider_message_id,
            evidence={"stop_everywhere": True, "asked_on_scheme": subscriber.scheme},
        )
        stopped += 1
    return stopped


@transaction.atomic
def inbound_handle(*, inbound_id: int, in_order: bool = False) -> str:
    """Route one inbound message; a message already handled is left alone.

    Locks the message's row, then the subscriber's (then their messages'): never the
    channel's or the organization's, which every insert of the organization key-shares.
    With `in_order` (workers routing in parallel), a message whose sender has an earlier
    one still to route is not routed yet (WAITING): a JOIN and the STOP after it are
    routed in the order they were sent. Past the sweeper's grace period it goes anyway.
    """
    inbound = (
        InboundMessage.objects.select_for_update(of=("self",))
        .select_related("channel__organization")
        .get(pk=inbound_id)
    )
    if inbound.handled_at:
        return inbound.intent
    if in_order and _an_earlier_one_waits(inbound):
        return WAITING
    channel = inbound.channel
    subscriber = subscriber_for_address(channel=channel, address=inbound.from_address)
    # One conversation step at a time per person, whatever the number of workers.
    subscriber = Subscriber.objects.select_for_update(no_key=True).get(pk=subscriber.pk)
    wave_id = wave_last_reaching(
        subscriber.contact_id,
        at=inbound.received_at,
        within_hours=channel.organization.reply_attribution_hours,
    )
    conversation = Conversation(
        organization=channel.organization,
        channel=channel,
        subscriber=subscriber,
        inbound=inbound,
        wave_id=wave_id,
    )
    intent = conversation.route()
    inbound.intent = intent
    stopping = intent in (InboundIntent.STOP, InboundIntent.STOP_ALL)
    if intent in ATTRIBUTED_INTENTS and (not stopping or conversation.opted_out):
        inbound.wave_id = wave_id
        waves_changed([wave_id])
    inbound.handled_at = timezone.now()
    inbound.from_address = ""  # the subscriber row holds the number; one copy is enough
    inbound.subscriber = None if conversation.erased else subscriber
    if conversation.erased:
        inbound.body = ""
    Subscriber.objects.filter(pk=subscriber.pk).update(last_inbound_at=inbound.received_at)
    inbound.save(
        update_fields=[
            "intent",
            "handled_at",
            "from_address",
            "subscriber",
            "body",
            "detected_language",
            "wave_id",
        ]
    )
    return intent


WAITING = "waiting"  # inbound_handle's answer for a message that waits for an earlier one
# The sweeper's grace: past it, a lost earlier message is not waited for.
ROUTE_IN_ORDER_FOR = SWEEPER_GRACE


def _an_earlier_one_waits(inbound: InboundMessage) -> bool:
    if inbound.received_at < timezone.now() - ROUTE_IN_ORDER_FOR:
        return False
    return (
        InboundMessage.objects.filter(
            channel_id=inbound.channel_id,
            from_address=inbound.from_address,
            handled_at__isnull=True,
        )
        .filter(
            Q(received_at__lt=inbound.received_at)
            | Q(received_at=inbound.received_at, pk__lt=inbound.pk)
        )
        .exists()
    )


@dataclass
class Conversation:
    organization: Organization
    channel: Channel
    subscriber: Subscriber
    inbound: InboundMessage
    wave_id: int | None = None  # the wave this message answers, if any
    erased: bool = False
    opted_out: bool = False
    _regions: list[Region] | None = field(default=None, repr=False)

    def route(self) -> str:
        match = match_keyword(self.inbound.body, keyword_set_for(self.organization))
        status = self.subscriber.consent_status
        if match and match.intent == Intent.STOP:
            return self.stop(match)
        if status == ConsentStatus.OPTED_OUT and not (
            match and match.intent in (Intent.JOIN, Intent.START)
        ):
            return InboundIntent.IGNORED  # exactly one goodbye, then silence until they rejoin
        if match and match.intent in (Intent.JOIN, Intent.START):
            return self.join(match)
        if match and match.intent == Intent.HELP:
            self.reply("help")
            return InboundIntent.HELP
        if match and match.intent == Intent.LANGUAGE:
            return self.change_language(match)
        if match and match.intent == Intent.LINK and _asks_for_a_link(match):
            return self.link(match)
        if status == ConsentStatus.OPTED_IN and self.subscriber.onboarding_step in (
            OnboardingStep.AGE,
            OnboardingStep.REGION,
        ):
            return self.onboard()
        return self.free_reply()

    # --- intents -------------------------------------------------------------------------

    def stop(self, match: KeywordMatch) -> str:
        # Usually the webhook has recorded it already; then this only says goodbye.
        here = inbound_opt_out(subscriber=self.subscriber, inbound=self.inbound)
        elsewhere = match.everywhere and (
            inbound_opt_out_elsewhere(subscriber=self.subscriber, inbound=self.inbound) > 0
            # … or the webhook did it already: the ledger names this message.
            or ConsentEvent.objects.filter(
                subscriber__contact_id=self.subscriber.contact_id,
                kind=ConsentKind.OPT_OUT,
                provider_message_id=self.inbound.provider_message_id,
            ).exists()
        )
        if here or elsewhere:
            self._save(onboarding_step="")
            self.opted_out = True
            self.reply("goodbye_everywhere" if match.everywhere else "goodbye")
        return InboundIntent.STOP_ALL if match.everywhere else InboundIntent.STOP

    def link(self, match: KeywordMatch) -> str:
        """LINK asks for a code (sent here); LINK 123456 typed on another address joins them."""
        code = "".join(ch for ch in match.argument if ch.isdigit())
        if code:
            linked = link_code_redeem(subscriber=self.subscriber, code=code)
            self.reply("linked" if linked else "link_failed")
            return InboundIntent.LINK
        issued = link_code_issue(subscriber=self.subscriber)
        if issued is None:
            self.reply("link_failed")
        else:
            self.reply("link_code", code=issued)
        return InboundIntent.LINK

    def join(self, match: KeywordMatch) -> str:
        if self.subscriber.consent_status == ConsentStatus.OPTED_IN:
            self.reply("already_subscribed")
            return InboundIntent.JOIN
        language = match.keyword.language
        if language in self.organization.languages:
            self._save(language=language, language_source=LanguageSource.KEYWORD)
        else:
            self.detect_language(match.argument)
        welcome, welcome_language = self.text("welcome")
        consent_record(
            subscriber=self.subscriber,
            kind=ConsentKind.OPT_IN,
            source=ConsentSource.KEYWORD,
            channel=self.channel,
            occurred_at=self.inbound.received_at,
            keyword_as_texted=_first_word(self.inbound.body),
            provider_message_id=self.inbound.provider_message_id,
            consent_text_version=CONSENT_TEXT_VERSION,
            consent_text_language=welcome_language,
        )
        self.subscriber.consent_status = ConsentStatus.OPTED_IN
        next_step, question = self.next_question()
        self._save(onboarding_step=next_step)
        self.reply("welcome", body=f"{welcome} {question}".strip(), language=welcome_language)
        return InboundIntent.JOIN

    def change_language(self, match: KeywordMatch) -> str:
        target = match.target_language
        if target not in self.organization.languages:
            self.reply("language_unknown")
            return InboundIntent.LANGUAGE
        self._save(language=target, language_source=LanguageSource.CHOSEN)
        self.reply("language_changed")
        return InboundIntent.LANGUAGE

    def onboard(self) -> str:
        text = self.inbound.body
        step = self.subscriber.onboarding_step
        if is_skip(text):
            skipped = {OnboardingStep.AGE: "age", OnboardingStep.REGION: "region"}[step]
            return self.advance(skipped=skipped)
        age = parse_age(text, minimum_age=self.organization.minimum_age)
        if age is not None and not age.band:
            return self.refuse_under_age()
        region = (
            parse_region(text, self.regions())
            if (step == OnboardingStep.REGION or not text.strip().isdigit())
            else None
        )
        if step == OnboardingStep.REGION and region is None and age is None:
            self.reply("ask_region", menu=region_menu(self.regions()))
            return InboundIntent.ONBOARDING
        if age is None and region is None:
            self.reply("ask_age")
            return InboundIntent.ONBOARDING
        changes: dict[str, object] = {}
        if age is not None and not (step == OnboardingStep.REGION and region is not None):
            changes["age_band"] = age.band
        if region is not None:
            changes["region"] = region
        self._save(**changes)
        return self.advance()

    def advance(self, skipped: str = "") -> str:
        next_step, question = self.next_question(skipped=skipped)
        self._save(onboarding_step=next_step)
        if next_step == OnboardingStep.DONE:
            self.reply("onboarding_done")
        else:
            self.reply(
                "ask_age" if next_step == OnboardingStep.AGE else "ask_region", body=question
            )
        return InboundIntent.ONBOARDING

    def refuse_under_age(self) -> str:
        message = self.reply("under_age")
        subscriber_erase(
            subscriber=self.subscriber,
            metric=AnonymousTally.Metric.UNDERAGE_REFUSED,
            last_reply=message,
        )
        self.erased = True
        return InboundIntent.ONBOARDING

    def free_reply(self) -> str:
        if self.subscriber.consent_status == ConsentStatus.OPTED_IN:
            for handler in _reply_handlers:
                handled = handler(self.subscriber, self.inbound, self.wave_id)
                if handled is not None:
                    self.reply(handled.reply_key, body=handled.body, language=handled.language)
                    return handled.intent
        self.detect_language(self.inbound.body)
        last = self.subscriber.last_not_understood_at
        now = timezone.now()
        if last is None or now - last >= NOT_UNDERSTOOD_AT_MOST_EVERY:
            self._save(last_not_understood_at=now)
            subscribed = self.subscriber.consent_status == ConsentStatus.OPTED_IN
            self.reply("not_understood" if subscribed else "not_subscribed")
        return InboundIntent.FREE_REPLY

    # --- helpers ---------------------------------------------------------------------------

    def next_question(self, skipped: str = "") -> tuple[str, str]:
        """The first unanswered onboarding question, with its text; skipping moves past it."""
        subscriber = self.subscriber
        step = subscriber.onboarding_step
        age_open = not subscriber.age_band and skipped != "age" and step in ("", OnboardingStep.AGE)
        if age_open:
            return OnboardingStep.AGE, self.text("ask_age")[0]
        region_open = (
            subscriber.region_id is None
            and skipped != "region"
            and bool(self.regions())
            and step != OnboardingStep.DONE
        )
        if region_open:
            return OnboardingStep.REGION, self.text("ask_region", menu=region_menu(self.regions()))[
                0
            ]
        return OnboardingStep.DONE, ""

    def detect_language(self, text: str) -> None:
        """Record the language `text` is in; it becomes theirs only if nothing chose one."""
        detected = detect_language(text, allowed=self.organization.languages)
        if detected is None:
            return
        self.inbound.detected_language = detected[0]
        if self.subscriber.language_source == LanguageSource.DEFAULT:
            self._save(language=detected[0], language_source=LanguageSource.DETECTED)

    def regions(self) -> list[Region]:
        if self._regions is None:
            self._regions = regions_for(self.organization)
        return self._regions

    def text(self, key: str, **extra: object) -> tuple[str, str]:
        organization = self.organization
        context = {
            "organization": organization.name,
            "minimum_age": organization.minimum_age,
            "language_codes": "/".join(code.upper() for code in organization.languages),
            "menu": "",
            **extra,
        }
        return reply_text(
            key,
            language=self.subscriber.language,
            default_language=organization.default_language,
            overrides=reply_overrides_for(organization),
            context=context,
        )

    def reply(
        self, key: str, *, body: str = "", language: str = "", **extra: object
    ) -> OutboundMessage:
        if not body:
            body, language = self.text(key, **extra)
        return reply_queue(
            subscriber=self.subscriber,
            body=body,
            reply_key=key,
            language=language or self.subscriber.language,
            in_reply_to=self.inbound,
        )

    def _save(self, **changes: object) -> None:
        for name, value in changes.items():
            setattr(self.subscriber, name, value)
        if changes:
            self.subscriber.save(update_fields=[*changes, "updated_at"])
            profile_share(self.subscriber, fields=changes)


def _asks_for_a_link(match: KeywordMatch) -> bool:
    """LINK alone, or LINK and a code: "link is broken" is a free reply, not a request."""
    return not match.argument or any(ch.isdigit() for ch in match.argument)


def _first_word(text: str) -> str:
    words = text.strip().split()
    return words[0][:40] if words else ""


def _enqueue(object_id: int, *, urgent: bool = False) -> None:
    from outreach.tasks import handle_inbound

    enqueue_or_leave_to_sweeper(handle_inbound, object_id, urgent=urgent)
