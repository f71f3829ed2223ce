"""What the inbound router needs to read about an organization."""

from outreach.keywords import Intent, Keyword, KeywordSet
from outreach.models import Keyword as KeywordRow
from outreach.models import Organization, Region, SystemReply


def keyword_set_for(organization: Organization) -> KeywordSet:
    """The built-in keywords plus the organization's own."""
    own = [
        Keyword(word=row.word, intent=Intent(row.intent), language=row.language or None)
        for row in KeywordRow.objects.filter(organization=organization)
    ]
    return KeywordSet.defaults().extended(own) if own else KeywordSet.defaults()


def reply_overrides_for(organization: Organization) -> dict[tuple[str, str], str]:
    return {
        (key, language): text
        for key, language, text in SystemReply.objects.filter(
            organization=organization
        ).values_list("key", "language", "text")
    }


def regions_for(organization: Organization) -> list[Region]:
    return list(Region.objects.filter(organization=organization).order_by("name"))
