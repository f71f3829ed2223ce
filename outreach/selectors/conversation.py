"""What the inbound router needs to read about an organization."""

import logging
from datetime import datetime, timedelta

from outreach.keywords import Intent, Keyword, KeywordSet
from outreach.models import Keyword as KeywordRow
from outreach.models import Organization, OutboundKind, OutboundMessage, Region, SystemReply

logger = logging.getLogger(__name__)


def keyword_set_for(organization: Organization) -> KeywordSet:
    """The built-in keywords plus the organization's own."""
    keywords = KeywordSet.defaults()
    for row in KeywordRow.objects.filter(organization=organization):
        own = Keyword(word=row.word, intent=Intent(row.intent), language=row.language or None)
        try:
            keywords = keywords.extended([own])
        except ValueError:
            # A clash entered around the API's validation (the admin): the built-ins win.
            logger.warning("keyword %s of organization %s ignored: clash", row.pk, organization.pk)
    return keywords


def reply_overrides_for(organization: Organization) -> dict[tuple[str, str], str]:
    return {
        (key, language): text
        for key, language, text in SystemReply.objects.filter(
            organization=organization
        ).values_list("key", "language", "text")
    }


def regions_for(organization: Organization) -> list[Region]:
    return list(Region.objects.filter(organization=organization).order_by("name"))


def wave_last_reaching(contact_id: int, *, at: datetime, within_hours: int) -> int | None:
    """The wave whose message last reached the person, on any of their addresses, in the
    `within_hours` before `at`: an answer on WhatsApp to a wave sent by SMS counts for it."""
    return (
        OutboundMessage.objects.filter(
            subscriber__contact_id=contact_id,
            kind=OutboundKind.WAVE,
            wave_id__isnull=False,
            sent_at__gte=at - timedelta(hours=within_hours),
            sent_at__lte=at,
        )
        .order_by("-sent_at")
        .values_list("wave_id", flat=True)
        .first()
    )
