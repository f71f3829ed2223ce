"""What the inbound router needs to read about an organization."""

import logging
import threading
from datetime import datetime, timedelta

from cachetools import TTLCache

from outreach.keywords import Intent, Keyword, KeywordSet
from outreach.models import Keyword as KeywordRow
from outreach.models import Organization, OutboundKind, OutboundMessage, Region, SystemReply

logger = logging.getLogger(__name__)


# What a webhook keeps of an organization's keywords: enough to see a STOP before it opens a
# transaction. The routing task reads them afresh, so a keyword changed in another process
# within the TTL only waits for the task; one changed in this process is forgotten at commit.
KEPT_KEYWORDS_SECONDS = 10.0
_kept_keywords: TTLCache[int, KeywordSet] = TTLCache(maxsize=10_000, ttl=KEPT_KEYWORDS_SECONDS)
_kept_lock = threading.Lock()


def webhook_keyword_set(organization: Organization) -> KeywordSet:
    """`keyword_set_for`, kept in this process for a few seconds (the webhooks' hot path)."""
    with _kept_lock:
        kept = _kept_keywords.get(organization.pk)
    if kept is not None:
        return kept
    keywords = keyword_set_for(organization)
    with _kept_lock:
        _kept_keywords[organization.pk] = keywords
    return keywords


def forget_webhook_keywords() -> None:
    """Drop the keywords this process keeps (after a keyword changes here, and in tests)."""
    with _kept_lock:
        _kept_keywords.clear()


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
