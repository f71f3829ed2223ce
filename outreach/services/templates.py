"""Writes on message templates: the provider's list of a channel's templates, kept in step.

Approval is the provider's: Amani only copies what it says. A template the provider no
longer lists is marked paused, never deleted, since wave variants point at it (PROTECT)
and a paused template is simply not sent (the variant's text goes where a window is open).
"""

import logging
from collections import Counter

from django.db import transaction
from django.utils import timezone

from outreach.channels.base import TemplateInfo, TemplateSource, TransportError
from outreach.channels.registry import ADAPTERS, adapter_for
from outreach.errors import InvalidInput
from outreach.models import Channel, MessageTemplate, TemplateStatus

logger = logging.getLogger(__name__)

COUNTED = (
    TemplateStatus.APPROVED,
    TemplateStatus.PENDING,
    TemplateStatus.REJECTED,
    TemplateStatus.PAUSED,
)


def templates_sync(*, channel: Channel) -> dict[str, int]:
    """Ask the channel's provider for its templates and upsert them; the counts by status.

    Raises InvalidInput (field "channel") for a channel whose provider has no templates,
    and the adapter's TransportError when the provider could not be asked: then nothing
    changes, so a failed listing never pauses every template.
    """
    source = template_source_of(channel)
    if source is None:
        raise InvalidInput(
            f"A {channel.get_kind_display()} channel has no message templates.", field="channel"
        )
    listed = _distinct(source.list_templates(channel))
    with transaction.atomic():
        _upsert(channel, listed)
    counts = Counter(channel.templates.values_list("status", flat=True))
    return {status: counts.get(status, 0) for status in COUNTED}


def templates_sync_all() -> dict[int, dict[str, int] | None]:
    """Sync every active channel whose provider lists templates; by channel pk, its counts,
    or None where the provider could not be asked (logged; the next run tries again)."""
    results: dict[int, dict[str, int] | None] = {}
    for channel in Channel.objects.filter(is_active=True, kind__in=template_kinds()):
        try:
            results[channel.pk] = templates_sync(channel=channel)
        except TransportError as error:
            logger.warning("Templates of channel %s not synced: %s", channel.pk, error)
            results[channel.pk] = None
    return results


def template_kinds() -> list[str]:
    """The channel kinds whose provider lists templates (WhatsApp through Twilio or Meta)."""
    return [kind for kind, adapter in ADAPTERS.items() if _lists_templates(adapter)]


def template_source_of(channel: Channel) -> TemplateSource | None:
    """The channel's adapter if its provider lists templates (WhatsApp), else None."""
    adapter = adapter_for(channel)
    return adapter if _lists_templates(adapter) else None  # type: ignore[return-value]


def _lists_templates(adapter: object) -> bool:
    return callable(getattr(adapter, "list_templates", None))


def _distinct(listed: list[TemplateInfo]) -> dict[tuple[str, str], TemplateInfo]:
    """By name and language, the first the provider lists (ours is unique on them)."""
    found: dict[tuple[str, str], TemplateInfo] = {}
    for info in listed:
        if info.name and info.language:
            found.setdefault((info.name[:512], info.language[:15]), info)
    return found


def _upsert(channel: Channel, listed: dict[tuple[str, str], TemplateInfo]) -> None:
    now = timezone.now()
    kept = {
        (template.name, template.language): template
        for template in MessageTemplate.objects.select_for_update().filter(channel=channel)
    }
    for key, info in listed.items():
        template = kept.get(key)
        if template is None:
            template = MessageTemplate(
                organization_id=channel.organization_id,
                channel=channel,
                name=key[0],
                language=key[1],
            )
        elif template.status != info.status:
            _log_change(channel, template, info.status)
        template.provider_template_id = info.provider_template_id[:64]
        template.status = info.status
        template.category = info.category[:20]
        template.body = info.body
        template.synced_at = now
        template.save()
    for key, template in kept.items():
        if key not in listed and template.status != TemplateStatus.PAUSED:
            _log_change(channel, template, TemplateStatus.PAUSED, note=" (no longer listed)")
            template.status, template.synced_at = TemplateStatus.PAUSED, now
            template.save(update_fields=["status", "synced_at"])


def _log_change(channel: Channel, template: MessageTemplate, to: str, note: str = "") -> None:
    # A template's name and language name no person: they are the organization's own words.
    logger.info(
        "Template %s (%s) of channel %s: %s → %s%s",
        template.name,
        template.language,
        channel.pk,
        template.status,
        to,
        note,
    )
