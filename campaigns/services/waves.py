"""Writes on waves: compose, review (two people), schedule, pause, resume, cancel — each recorded.

draft → in_review → approved → scheduled → sending → sent, with paused and cancelled.
Editing a wave that was submitted or approved sends it back to draft.
"""

import datetime as dt
import logging
import re
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from campaigns import timing
from campaigns.composition import PlaceholderError, validate_placeholders, variant_stats
from campaigns.models import (
    Campaign,
    Segment,
    Variant,
    Wave,
    WaveComment,
    WavePriority,
    WaveStatus,
    WaveTransition,
)
from campaigns.selectors.waves import longest_region_name
from campaigns.services.fanout import FANOUT_GRACE, fallbacks_redo
from campaigns.services.page_posts import page_post_plan
from outreach.access import Action, may
from outreach.channel_kinds import Scheme
from outreach.errors import InvalidInput, NotAllowed
from outreach.models import (
    NOT_HANDED_OVER,
    Channel,
    MessageTemplate,
    OutboundMessage,
    OutboundStatus,
    User,
)
from outreach.selectors.organizations import role_in
from outreach.wave_activity import waves_changed

logger = logging.getLogger(__name__)

WAVE_FIELDS = (
    "name",
    "send_at",
    "send_at_relative",
    "segment",
    "channels",
    "page_channel",
    "priority",
    "variants",
    "poll",
)
EDITABLE = {WaveStatus.DRAFT, WaveStatus.IN_REVIEW, WaveStatus.APPROVED, WaveStatus.SCHEDULED}
BACK_TO_DRAFT = {WaveStatus.IN_REVIEW, WaveStatus.APPROVED, WaveStatus.SCHEDULED}
FINAL = {WaveStatus.SENT, WaveStatus.CANCELLED}
# A WhatsApp template's placeholders: {{1}}, {{2}} …
TEMPLATE_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
# How a kind is named in a warning, by its address scheme.
SCHEME_NAMES = {
    Scheme.TEL: "SMS",
    Scheme.WHATSAPP: "WhatsApp",
    Scheme.TELEGRAM: "Telegram",
    Scheme.MESSENGER: "Messenger",
}
MAX_SEGMENTS = 10  # Twilio refuses bodies over 1,600 characters: 10 concatenated segments
# Claimed by a dispatcher, not yet handed to the provider: a pause takes it back too.
CLAIMED_NOT_IN_FLIGHT = NOT_HANDED_OVER & Q(status=OutboundStatus.SENDING)


@transaction.atomic
def wave_create(*, campaign: Campaign, created_by: User, name: str, **fields: Any) -> Wave:
    """Compose a wave (a draft): its send time, segment, channels and one variant per language."""
    wave = Wave(organization=campaign.organization, campaign=campaign, created_by=created_by)
    wave = _apply(wave, {"name": name, **fields})
    _record(wave, "", WaveStatus.DRAFT, created_by, "created")
    return wave


@transaction.atomic
def wave_update(*, wave: Wave, by: User, **changes: Any) -> Wave:
    """Edit a wave; a submitted, approved or scheduled wave goes back to draft for a new review."""
    wave = _locked(wave)
    if wave.status not in EDITABLE:
        raise InvalidInput(f"A {wave.status} wave cannot be edited.", field="status")
    wave = _apply(wave, changes)
    if wave.status in BACK_TO_DRAFT:
        _move(wave, WaveStatus.DRAFT, by, "edited: needs a new review")
    return wave


@transaction.atomic
def wave_hold(*, wave: Wave, note: str) -> Wave:
    """Send an unsent wave back to draft for a reason not its own (its library text withdrawn)."""
    wave = _locked(wave)
    if wave.status in BACK_TO_DRAFT:
        _move(wave, WaveStatus.DRAFT, None, note)
    return wave


@transaction.atomic
def wave_submit(*, wave: Wave, by: User) -> Wave:
    """Ask for review: the wave must be complete and due in the future."""
    wave = _expect(wave, {WaveStatus.DRAFT})
    _check_complete(wave)
    return _move(wave, WaveStatus.IN_REVIEW, by)


@transaction.atomic
def wave_approve(*, wave: Wave, by: User) -> Wave:
    """Approve: a reviewer or admin who is not the author (the two-person rule)."""
    wave = _expect(wave, {WaveStatus.IN_REVIEW})
    if wave.created_by_id == by.pk:
        raise NotAllowed("You wrote this wave: another member must approve it.")
    if not may(role_in(by, wave.organization_id), Action.REVIEW):
        raise NotAllowed("Only a reviewer or an admin approves waves.")
    wave.approved_by, wave.approved_at = by, timezone.now()
    wave.save(update_fields=["approved_by", "approved_at", "updated_at"])
    return _move(wave, WaveStatus.APPROVED, by)


@transaction.atomic
def wave_request_changes(*, wave: Wave, by: User, comment: str) -> Wave:
    """Send a wave in review back to its author with a comment."""
    wave = _expect(wave, {WaveStatus.IN_REVIEW})
    wave_comment(wave=wave, by=by, body=comment)
    return _move(wave, WaveStatus.DRAFT, by, "changes requested")


def wave_comment(*, wave: Wave, by: User, body: str) -> WaveComment:
    """A remark on a wave, at any stage."""
    if not body.strip():
        raise InvalidInput("Write a comment.", field="body")
    return WaveComment.objects.create(wave=wave, author=by, body=body.strip())


@transaction.atomic
def wave_approve_blackout(*, wave: Wave, by: User, reason: str) -> Wave:
    """An admin's recorded approval for an urgent wave to go out inside a blackout window."""
    wave = _locked(wave)
    if not may(role_in(by, wave.organization_id), Action.APPROVE_BLACKOUT):
        raise NotAllowed("Only an admin approves sending inside a blackout window.")
    if wave.priority != WavePriority.URGENT:
        raise InvalidInput(
            "Only urgent waves may go out inside a blackout window.", field="priority"
        )
    if not reason.strip():
        raise InvalidInput("Say why this wave must go out in the blackout.", field="reason")
    wave.blackout_approved_by, wave.blackout_approved_at = by, timezone.now()
    wave.blackout_approval_reason = reason.strip()[:300]
    wave.save(
        update_fields=[
            "blackout_approved_by",
            "blackout_approved_at",
            "blackout_approval_reason",
            "updated_at",
        ]
    )
    terms = sensitive_terms_in(wave)
    mentions = f" (mentions {', '.join(terms)})" if terms else ""
    note = f"blackout approved{mentions}: {wave.blackout_approval_reason}"
    _record(wave, wave.status, wave.status, by, note[:300])
    return wave


@transaction.atomic
def wave_schedule(*, wave: Wave, by: User | None, now: dt.datetime | None = None) -> Wave:
    """Schedule an approved wave: quiet hours defer it, a blackout window blocks it."""
    wave = _expect(wave, {WaveStatus.APPROVED})
    now = now or timezone.now()
    schedule = _plan(wave)
    if schedule.requested_at < now:
        raise InvalidInput("The send time has passed; choose a later one.", field="send_at")
    _check_blackout(wave, schedule)
    wave.scheduled_for = schedule.send_at
    wave.save(update_fields=["scheduled_for", "updated_at"])
    note = "deferred past quiet hours" if schedule.deferred_for_quiet_hours else ""
    wave = _move(wave, WaveStatus.SCHEDULED, by, note)
    page_post_plan(wave=wave)  # its Page post, if it has a Page, handed over after commit
    return wave


@transaction.atomic
def wave_pause(*, wave: Wave, by: User) -> Wave:
    """Stop a scheduled or sending wave: what no provider has yet is held until resumed.

    Queued messages and those a dispatcher claimed but has not handed over are held now;
    fan-out inserts its later chunks held; dispatch's send gate holds any that come back.
    """
    wave = _expect(wave, {WaveStatus.SCHEDULED, WaveStatus.SENDING})
    wave.paused_from = wave.status
    wave.save(update_fields=["paused_from", "updated_at"])
    # Workers claim only queued messages, and send only what they still hold (claim token and
    # status, fenced): holding the queued and the claimed-but-not-in-flight stops the wave.
    # (A queued message keeps its lease field: there it means "not before", e.g. a backoff.)
    OutboundMessage.objects.filter(wave_id=wave.pk, status=OutboundStatus.QUEUED).update(
        status=OutboundStatus.HELD
    )
    OutboundMessage.objects.filter(CLAIMED_NOT_IN_FLIGHT, wave_id=wave.pk).update(
        status=OutboundStatus.HELD, claim_token=None, lease_expires_at=None
    )
    return _move(wave, WaveStatus.PAUSED, by)


@transaction.atomic
def wave_resume(*, wave: Wave, by: User) -> Wave:
    """Resume a paused wave where it stopped; a wave not yet started is re-planned first."""
    wave = _expect(wave, {WaveStatus.PAUSED})
    target = WaveStatus(wave.paused_from or WaveStatus.SCHEDULED)
    if target == WaveStatus.SCHEDULED:
        schedule = _plan(wave)
        _check_blackout(wave, schedule)
        wave.scheduled_for = schedule.send_at
    released = OutboundMessage.objects.filter(wave_id=wave.pk, status=OutboundStatus.HELD).update(
        status=OutboundStatus.QUEUED
    )
    wave.paused_from = ""
    if target == WaveStatus.SENDING and not released:
        wave.fanout_enqueued_at = timezone.now()  # paused before its fan-out wrote anything
    wave.save(update_fields=["paused_from", "scheduled_for", "fanout_enqueued_at", "updated_at"])
    if target == WaveStatus.SENDING:
        transaction.on_commit(
            lambda: dispatch_wave_channels(wave.pk) if released else _fanout(wave.pk)
        )
    wave = _move(wave, target, by)
    if target == WaveStatus.SCHEDULED:
        page_post_plan(wave=wave)  # a post not handed over yet takes the new time
    return wave


@transaction.atomic
def wave_cancel(*, wave: Wave, by: User) -> Wave:
    """Cancel a wave that has not finished; nothing more of it goes out, ever.

    Queued, held, and claimed-but-not-in-flight messages are cancelled now; fan-out writes
    no further chunk; a message already in flight ends as the provider says, and dispatch's
    send gate cancels any that a retry or the sweeper would queue again.
    """
    wave = _locked(wave)
    if wave.status in FINAL:
        raise InvalidInput(f"A {wave.status} wave cannot be cancelled.", field="status")
    # A message in flight is the provider's now; its outcome decides. Everything else stops.
    OutboundMessage.objects.filter(NOT_HANDED_OVER, wave_id=wave.pk).update(
        status=OutboundStatus.CANCELED,
        status_changed_at=timezone.now(),
        claim_token=None,
        lease_expires_at=None,
    )
    waves_changed([wave.pk])
    return _move(wave, WaveStatus.CANCELLED, by)


def waves_tick(*, now: dt.datetime | None = None) -> list[int]:
    """The scheduler's beat: due waves start sending, unless quiet hours or a blackout say wait."""
    now = now or timezone.now()
    started = []
    due = Wave.objects.filter(status=WaveStatus.SCHEDULED, scheduled_for__lte=now)
    for wave_id in due.values_list("pk", flat=True):
        if _start_if_due(wave_id, now):
            started.append(wave_id)
    waves_fanout_redo(now=now)
    for wave_id in fallbacks_redo():
        dispatch_wave_channels(wave_id)
    _finish_sent_waves()
    return started


def waves_fanout_redo(*, now: dt.datetime | None = None) -> list[int]:
    """Enqueue fan-out again for sending waves whose fan-out task was lost; returns their ids.

    A wave is sending, not fanned out, and its fan-out was enqueued over FANOUT_GRACE ago
    (Redis restarted in between, say). Each is enqueued once per grace period however many
    ticks run; a fan-out still running takes no notice (fan-out's own lock), and one that
    runs again creates nothing twice (the unique constraint).
    """
    now = now or timezone.now()
    lost = Q(status=WaveStatus.SENDING, fanned_out_at__isnull=True) & (
        Q(fanout_enqueued_at__isnull=True) | Q(fanout_enqueued_at__lte=now - FANOUT_GRACE)
    )
    redone = []
    for wave_id in Wave.objects.filter(lost).values_list("pk", flat=True):
        with transaction.atomic():
            if Wave.objects.filter(lost, pk=wave_id).update(fanout_enqueued_at=now):
                logger.warning("Wave %s was not fanned out: its fan-out is enqueued again", wave_id)
                transaction.on_commit(partial(_fanout, wave_id))
                redone.append(wave_id)
    return redone


def _finish_sent_waves() -> None:
    """A sending wave whose every message has left our hands is sent."""
    pending = [OutboundStatus.QUEUED, OutboundStatus.HELD, OutboundStatus.SENDING]
    sending = Wave.objects.filter(status=WaveStatus.SENDING, fanned_out_at__isnull=False)
    for wave in sending:
        waiting = OutboundMessage.objects.filter(
            wave_id=wave.pk, status__in=pending, provider_message_id=""
        )
        if not waiting.exists():
            with transaction.atomic():
                locked = _locked(wave)
                if locked.status == WaveStatus.SENDING:
                    _move(locked, WaveStatus.SENT, None, "every message handed to its channel")


def waves_replan(*, campaign: Campaign, by: User | None, reason: str) -> None:
    """Recompute send times after the campaign's election date, zone or windows changed."""
    now = timezone.now()
    for wave in campaign.waves.select_for_update().exclude(status__in=[*FINAL, WaveStatus.SENDING]):
        if wave.send_at_relative:
            wave.requested_at = _resolve_relative(wave.send_at_relative, campaign)
        schedule = _plan(wave) if wave.requested_at else None
        if wave.status == WaveStatus.SCHEDULED and schedule is not None:
            wave.scheduled_for = schedule.send_at
            wave.save(update_fields=["requested_at", "scheduled_for", "updated_at"])
            if schedule.requested_at < now or _blocked(wave, schedule):
                wave.paused_from = WaveStatus.SCHEDULED
                wave.save(update_fields=["paused_from"])
                _move(wave, WaveStatus.PAUSED, by, f"{reason}; the new time needs a look")
        else:
            wave.save(update_fields=["requested_at", "updated_at"])


@dataclass(frozen=True)
class ScheduleView:
    """A wave's times, as a manager wants to see them: local and UTC."""

    requested_utc: dt.datetime | None
    requested_local: dt.datetime | None
    scheduled_utc: dt.datetime | None
    scheduled_local: dt.datetime | None
    timezone: str


def wave_times(wave: Wave) -> ScheduleView:
    zone = ZoneInfo(wave.campaign.timezone)
    return ScheduleView(
        requested_utc=wave.requested_at,
        requested_local=wave.requested_at.astimezone(zone) if wave.requested_at else None,
        scheduled_utc=wave.scheduled_for,
        scheduled_local=wave.scheduled_for.astimezone(zone) if wave.scheduled_for else None,
        timezone=wave.campaign.timezone,
    )


# --- helpers ---------------------------------------------------------------------------------


def _start_if_due(wave_id: int, now: dt.datetime) -> bool:
    with transaction.atomic():
        wave = (
            Wave.objects.select_for_update(skip_locked=True)
            .select_related("campaign")
            .filter(pk=wave_id, status=WaveStatus.SCHEDULED)
            .first()
        )
        if wave is None:
            return False  # paused, cancelled or taken by another tick meanwhile
        campaign = wave.campaign
        # The same answer the send gate gives each message once the wave is sending.
        closed = timing.closed_at(
            now,
            quiet=_quiet(campaign),
            blackouts=[] if _may_pass_blackout(wave) else _windows(campaign),
            tz=ZoneInfo(campaign.timezone),
        )
        if closed is not None:
            wave.scheduled_for = closed.opens_at
            wave.save(update_fields=["scheduled_for", "updated_at"])
            return False
        wave.fanout_enqueued_at = now
        wave.save(update_fields=["fanout_enqueued_at", "updated_at"])
        _move(wave, WaveStatus.SENDING, None, "due")
        transaction.on_commit(lambda: _fanout(wave.pk))
        return True


def _fanout(wave_id: int) -> None:
    from campaigns.tasks import fanout

    fanout.apply_async(args=[wave_id])


def dispatch_wave_channels(wave_id: int) -> None:
    """Start a dispatcher on each of the wave's channels (after fan-out, or on resume)."""
    from outreach.tasks import dispatch

    for channel_id in Wave.objects.get(pk=wave_id).channels.values_list("pk", flat=True):
        dispatch.apply_async(args=[channel_id])


def _apply(wave: Wave, fields: dict[str, Any]) -> Wave:
    unknown = set(fields) - set(WAVE_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(f"'{field}' is not a wave setting.", field=field)
    campaign = wave.campaign
    if "name" in fields:
        wave.name = str(fields["name"]).strip()
        if not wave.name:
            raise InvalidInput("A wave needs a name.", field="name")
    if "priority" in fields:
        if fields["priority"] not in WavePriority.values:
            raise InvalidInput(f"Choose one of {', '.join(WavePriority.values)}.", field="priority")
        wave.priority = fields["priority"]
    if "segment" in fields:
        wave.segment = _own_segment(fields["segment"], campaign)
    if "send_at" in fields or "send_at_relative" in fields:
        _set_send_time(wave, fields.get("send_at"), fields.get("send_at_relative") or "")
    if "page_channel" in fields:
        wave.page_channel = _own_page_channel(fields["page_channel"], campaign)
    wave.save()
    if "channels" in fields:
        channels = _own_channels(fields["channels"], campaign)
        wave.channels.set(channels)
        # In the order given: the first channel each person can be reached on is theirs.
        Wave.objects.filter(pk=wave.pk).update(channel_order=[c.pk for c in channels])
        wave.channel_order = [c.pk for c in channels]
    if "variants" in fields:
        _set_variants(wave, fields["variants"])
    if "poll" in fields:
        from campaigns.services.polls import poll_set

        poll = fields["poll"]
        poll_set(wave=wave, options=(poll or {}).get("options"))
    return wave


def _set_send_time(wave: Wave, absolute: dt.datetime | None, relative: str) -> None:
    if absolute and relative:
        raise InvalidInput("Give send_at or send_at_relative, not both.", field="send_at")
    if relative:
        wave.requested_at = _resolve_relative(relative, wave.campaign)
        wave.send_at_relative, wave.send_at_absolute = (
            str(timing.parse_relative_time(relative)),
            None,
        )
    elif absolute:
        if timezone.is_naive(absolute):
            absolute = absolute.replace(tzinfo=ZoneInfo(wave.campaign.timezone))
        wave.requested_at = wave.send_at_absolute = absolute
        wave.send_at_relative = ""
    else:
        wave.requested_at = wave.send_at_absolute = None
        wave.send_at_relative = ""
    if wave.requested_at and wave.requested_at < timezone.now():
        field = "send_at_relative" if relative else "send_at"
        raise InvalidInput("That time has passed; choose a later one.", field=field)


def _resolve_relative(relative: str, campaign: Campaign) -> dt.datetime:
    try:
        parsed = timing.parse_relative_time(relative)
    except ValueError as error:
        raise InvalidInput(str(error), field="send_at_relative") from error
    if campaign.election_date is None:
        raise InvalidInput(
            "The campaign has no election date to count from; set one or give send_at.",
            field="send_at_relative",
        )
    return timing.resolve_send_time(
        parsed, election_date=campaign.election_date, tz=ZoneInfo(campaign.timezone)
    )


def _set_variants(wave: Wave, variants: list[dict[str, Any]]) -> None:
    campaign = wave.campaign
    channels = list(wave.channels.all())
    # SMS's 10 segments bound every text until the wave's channels say it goes elsewhere only.
    by_segments = not channels or any(c.spec.counts_segments for c in channels)
    seen = set()
    for index, variant in enumerate(variants):
        language, body = variant.get("language", ""), variant.get("body", "")
        if language not in campaign.languages:
            raise InvalidInput(
                f"'{language}' is not a language of this campaign "
                f"({', '.join(campaign.languages)}).",
                field=f"variants.{index}.language",
            )
        if language in seen:
            raise InvalidInput("One variant per language.", field=f"variants.{index}.language")
        seen.add(language)
        if not str(body).strip():
            raise InvalidInput("Write the message.", field=f"variants.{index}.body")
        try:
            validate_placeholders(body)
        except PlaceholderError as error:
            raise InvalidInput(str(error), field=f"variants.{index}.body") from error
        stats = variant_stats(
            body,
            declared_language=language,
            campaign_name=campaign.name,
            longest_region=longest_region_name(campaign.organization_id),
            price_per_segment=None,
            currency=None,
            max_segments=MAX_SEGMENTS,
            with_footer=True,  # the longest it is sent as
        )
        if stats.over_limit and by_segments:
            raise InvalidInput(
                f"{stats.segments} SMS segments: at most {MAX_SEGMENTS} go in one message.",
                field=f"variants.{index}.body",
            )
        _check_template(wave, variant, index, channels)
    wave.variants.exclude(language__in=seen).delete()
    for variant in variants:
        defaults: dict[str, Any] = {"body": variant["body"]}
        if "template" in variant:  # absent: the variant keeps its template; null: it has none
            defaults["template"] = _template_of(variant["template"], wave, field="template")
            defaults["template_variables"] = []
        if "template_variables" in variant:
            defaults["template_variables"] = list(variant["template_variables"] or [])
        Variant.objects.update_or_create(wave=wave, language=variant["language"], defaults=defaults)
    from campaigns.services.library import adoption_follow_edit

    adoption_follow_edit(wave)


def _check_template(
    wave: Wave, variant: dict[str, Any], index: int, channels: list[Channel]
) -> None:
    """A variant's template: the organization's, on one of the wave's WhatsApp channels, in
    the variant's language, with a value for each of its {{n}} placeholders."""
    field = f"variants.{index}.template"
    variables = variant.get("template_variables")
    if variables is not None and (
        not isinstance(variables, list) or not all(isinstance(v, str) for v in variables)
    ):
        raise InvalidInput("A list of texts.", field=f"{field}_variables")
    template = _template_of(variant.get("template"), wave, field=field)
    if template is None:
        return
    whatsapp = [c.pk for c in channels if c.spec.templates_outside_window]
    if template.channel_id not in whatsapp:
        raise InvalidInput(
            "The template belongs to a channel this wave is not sent on: add its WhatsApp "
            "channel to the wave first.",
            field=field,
        )
    if not same_language(template.language, variant.get("language", "")):
        raise InvalidInput(
            f"The template is in '{template.language}', the variant in "
            f"'{variant.get('language')}'.",
            field=field,
        )
    needed = max((int(n) for n in TEMPLATE_PLACEHOLDER.findall(template.body)), default=0)
    if len(variables or []) < needed:
        raise InvalidInput(
            f"The template has {needed} placeholder(s): give a value for each.",
            field=f"{field}_variables",
        )


def _template_of(template: Any, wave: Wave, *, field: str) -> MessageTemplate | None:
    if template is None:
        return None
    template_id = template.pk if isinstance(template, MessageTemplate) else template
    found = MessageTemplate.objects.filter(
        organization_id=wave.organization_id, pk=template_id
    ).first()
    if found is None:
        raise InvalidInput("No such template in this organization.", field=field)
    return found


def same_language(template_language: str, language: str) -> bool:
    """Whether a provider's template language ("en", "en_US", "sw") is a variant's ("en")."""
    return re.split(r"[_-]", template_language.lower())[0] == language.lower()


def longer_than_channels(characters: int, channels: list[Channel]) -> list[Channel]:
    """The channels whose kind takes fewer characters in one message than `characters`."""
    return [c for c in channels if characters > c.spec.max_characters]


def too_long_for(channel: Channel) -> str:
    """What a text too long for `channel` is told: "Longer than Messenger's 2,000 characters"."""
    kind = SCHEME_NAMES.get(channel.scheme, channel.get_kind_display())
    return f"Longer than {kind}'s {channel.spec.max_characters:,} characters ({channel.name})"


def _check_complete(wave: Wave) -> None:
    if wave.requested_at is None:
        raise InvalidInput("Give a send time.", field="send_at")
    if wave.requested_at < timezone.now():
        raise InvalidInput("The send time has passed; choose a later one.", field="send_at")
    if wave.segment_id is None:
        raise InvalidInput("Choose a segment to send to.", field="segment")
    if not wave.channels.exists():
        raise InvalidInput("Choose at least one channel.", field="channels")
    if not wave.variants.filter(language=wave.campaign.default_language).exists():
        raise InvalidInput(
            f"Write the {wave.campaign.default_language} variant: it is the fallback.",
            field="variants",
        )
    _check_lengths_and_templates(wave)


def _check_lengths_and_templates(wave: Wave) -> None:
    """No variant longer than one of the wave's channels takes (SMS: 10 segments), nor with a
    template of a channel the wave no longer goes on (its channels changed since)."""
    channels = list(wave.channels.all())
    longest_region = longest_region_name(wave.organization_id)
    for variant in wave.variants.select_related("template"):
        stats = variant_stats(
            variant.body,
            declared_language=variant.language,
            campaign_name=wave.campaign.name,
            longest_region=longest_region,
            price_per_segment=None,
            currency=None,
            max_segments=MAX_SEGMENTS,
            with_footer=True,
        )
        if stats.over_limit and any(c.spec.counts_segments for c in channels):
            raise InvalidInput(
                f"The {variant.language} variant is {stats.segments} SMS segments as sent: "
                f"at most {MAX_SEGMENTS} go in one message.",
                field="variants",
            )
        too_short = longer_than_channels(stats.characters, channels)
        if too_short:
            raise InvalidInput(
                f"The {variant.language} variant is {stats.characters:,} characters as sent. "
                f"{too_long_for(too_short[0])}.",
                field="variants",
            )
        if variant.template is not None and variant.template.channel_id not in {
            c.pk for c in channels
        }:
            raise InvalidInput(
                f"The {variant.language} variant's template belongs to a channel this wave is "
                "not sent on.",
                field="variants",
            )


def _plan(wave: Wave) -> timing.Schedule:
    campaign = wave.campaign
    return timing.plan(
        wave.requested_at,
        quiet=_quiet(campaign),
        blackouts=_windows(campaign),
        tz=ZoneInfo(campaign.timezone),
    )


def _check_blackout(wave: Wave, schedule: timing.Schedule) -> None:
    if _blocked(wave, schedule):
        window = schedule.blackout
        raise InvalidInput(
            f"{schedule.send_at:%Y-%m-%d %H:%M} UTC falls in the blackout window "
            f"{window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC; only an urgent "
            "wave an admin approved for the blackout may go out then.",
            field="send_at",
        )


def _blocked(wave: Wave, schedule: timing.Schedule) -> bool:
    return schedule.blackout is not None and not _may_pass_blackout(wave)


def _may_pass_blackout(wave: Wave) -> bool:
    return wave.priority == WavePriority.URGENT and wave.blackout_approved_by_id is not None


def sensitive_terms_in(wave: Wave) -> list[str]:
    """The campaign's sensitive terms (party, candidate names) any variant mentions."""
    bodies = " ".join(wave.variants.values_list("body", flat=True)).casefold()
    return [term for term in wave.campaign.sensitive_terms if term.casefold() in bodies]


def _quiet(campaign: Campaign) -> timing.QuietHours:
    return timing.QuietHours(start=campaign.quiet_start, end=campaign.quiet_end)


def _windows(campaign: Campaign) -> list[timing.BlackoutWindow]:
    return [
        timing.BlackoutWindow(start=window.starts_at, end=window.ends_at)
        for window in campaign.blackouts.all()
    ]


M = TypeVar("M", Segment, Channel)


def _owned(model: type[M], value: Any, campaign: Campaign, *, field: str, what: str) -> M | None:
    """The organization's `model` row named by `value` (a row or its id); None for None."""
    if value is None:
        return None
    pk = value.pk if isinstance(value, model) else value
    found = model.objects.filter(organization=campaign.organization, pk=pk).first()
    if found is None:
        raise InvalidInput(f"No such {what} in this organization.", field=field)
    return found


def _own_segment(segment: Any, campaign: Campaign) -> Segment | None:
    return _owned(Segment, segment, campaign, field="segment", what="segment")


def _own_channels(channels: list[Any], campaign: Campaign) -> list[Channel]:
    """The organization's channels named, in the order given (a repeat counts once)."""
    ids = list(dict.fromkeys(c.pk if isinstance(c, Channel) else c for c in channels))
    own = Channel.objects.filter(organization=campaign.organization, pk__in=ids)
    found = {channel.pk: channel for channel in own}
    if len(found) != len(ids):
        raise InvalidInput("No such channel in this organization.", field="channels")
    return [found[pk] for pk in ids]


def _own_page_channel(channel: Any, campaign: Campaign) -> Channel | None:
    """The organization's Facebook Page channel (messenger, or the console's) named."""
    found = _owned(Channel, channel, campaign, field="page_channel", what="channel")
    if found is None:
        return None
    if not found.spec.page_posts:
        raise InvalidInput(
            f"A {found.get_kind_display()} channel has no Facebook Page to post on.",
            field="page_channel",
        )
    return found


def _locked(wave: Wave) -> Wave:
    return Wave.objects.select_for_update().select_related("campaign").get(pk=wave.pk)


def _expect(wave: Wave, allowed: set[str]) -> Wave:
    wave = _locked(wave)
    if wave.status not in allowed:
        names = " or ".join(sorted(allowed))
        raise InvalidInput(f"The wave is {wave.status}; this needs it {names}.", field="status")
    return wave


def _move(wave: Wave, to: str, by: User | None, note: str = "") -> Wave:
    _record(wave, wave.status, to, by, note)
    wave.status = to
    wave.save(update_fields=["status", "updated_at"])
    return wave


def _record(wave: Wave, from_status: str, to: str, by: User | None, note: str) -> None:
    WaveTransition.objects.create(
        wave=wave, from_status=from_status, to_status=to, by=by, note=note
    )
