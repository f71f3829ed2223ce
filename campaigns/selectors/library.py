"""Reads on networks and their library, for the API and the console alike.

An organization sees the library of the networks it is an active member of: every version
proposed there, and its own drafts. What it adopted stays in its waves if it leaves.
"""

import difflib
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from campaigns.composition import PlaceholderError, variant_stats
from campaigns.models import (
    Adoption,
    Campaign,
    CountryState,
    LexiconTerm,
    LibraryTemplate,
    MemberStatus,
    Network,
    NetworkMember,
    NetworkNotice,
    TemplateTranslation,
    TemplateVersion,
    TermState,
    VersionState,
    Wave,
    WaveStatus,
)
from outreach.channel_kinds import MESSENGER, SMS, TELEGRAM, WHATSAPP
from outreach.models import Organization, User

# Each channel a translation may go out on, and the most characters it takes.
CHANNEL_LIMITS = {"sms": SMS, "whatsapp": WHATSAPP, "telegram": TELEGRAM, "messenger": MESSENGER}


def networks_of(organization: Organization) -> QuerySet[NetworkMember]:
    """The organization's places in networks: member, invited or gone."""
    return (
        NetworkMember.objects.filter(organization=organization)
        .select_related("network", "focal_point")
        .order_by("network__name")
    )


def member_networks(organization: Organization) -> QuerySet[Network]:
    """The networks the organization is an active member of."""
    return Network.objects.filter(
        members__organization=organization, members__status=MemberStatus.ACTIVE
    ).order_by("name")


def network_for(organization: Organization, network_id: object) -> Network | None:
    """A network the organization has a place in (any status), or None."""
    try:
        pk = int(str(network_id))
    except ValueError:
        return None
    return Network.objects.filter(pk=pk, members__organization=organization).first()


def network_members(network: Network) -> QuerySet[NetworkMember]:
    return network.members.select_related("organization", "focal_point").order_by(
        "organization__name"
    )


def visible_versions(organization: Organization) -> QuerySet[TemplateVersion]:
    """Every version the organization may read: proposed in its networks, or its own."""
    networks = member_networks(organization)
    return (
        TemplateVersion.objects.filter(template__network__in=networks)
        .filter(~Q(state=VersionState.DRAFT) | Q(template__owner=organization))
        .select_related("template", "template__network")
        .prefetch_related(
            "translations",
            "country_states",
            Prefetch("reviews", to_attr="review_log"),
        )
        .order_by("template__name", "-number")
    )


def library_versions(
    organization: Organization,
    *,
    network: Network | None = None,
    country: str = "",
    language: str = "",
    purpose: str = "",
    state: str = "",
    query: str = "",
) -> QuerySet[TemplateVersion]:
    """The library as a list of versions, newest first per template, filtered."""
    versions = visible_versions(organization)
    if network is not None:
        versions = versions.filter(template__network=network)
    if country:
        versions = versions.filter(country_states__country=country.upper())
        if state == VersionState.APPROVED:
            versions = versions.filter(country_states__state=CountryState.APPROVED)
    if state:
        versions = versions.filter(state=state)
    if language:
        versions = versions.filter(translations__language=language)
    if purpose:
        versions = versions.filter(template__purpose=purpose)
    if query:
        versions = versions.filter(
            Q(template__name__icontains=query)
            | Q(template__tags__icontains=query)
            | Q(translations__body__icontains=query)
        )
    return versions.distinct()


def version_for(organization: Organization, version_id: object) -> TemplateVersion | None:
    """One version the organization may read, or None (it may not, or there is none)."""
    try:
        pk = int(str(version_id))
    except ValueError:
        return None
    return visible_versions(organization).filter(pk=pk).first()


def template_for(organization: Organization, template_id: object) -> LibraryTemplate | None:
    try:
        pk = int(str(template_id))
    except ValueError:
        return None
    return LibraryTemplate.objects.filter(pk=pk, network__in=member_networks(organization)).first()


def adoptable_versions(organization: Organization, campaign: Campaign) -> list[TemplateVersion]:
    """Versions approved for the campaign's country with a text in one of its languages:
    what "start from a library template" offers."""
    return list(
        visible_versions(organization)
        .filter(
            country_states__country=campaign.country,
            country_states__state=CountryState.APPROVED,
            translations__language__in=campaign.languages,
        )
        .exclude(state=VersionState.WITHDRAWN)
        .distinct()
    )


@dataclass(frozen=True)
class Rendering:
    """How one translation goes out on one kind of channel."""

    channel: str
    characters: int
    limit: int
    fits: bool
    encoding: str | None  # SMS only: GSM-7 or UCS-2
    segments: int | None  # SMS only


def renderings(translation: TemplateTranslation) -> list[Rendering]:
    """Per channel: length against its limit and, for SMS, encoding and segments, measured
    as the composer measures a variant (placeholders at their longest, opt-out footer on)."""
    try:
        stats = variant_stats(
            translation.body,
            declared_language=translation.language,
            campaign_name="",
            longest_region="",
            price_per_segment=None,
            currency=None,
            with_footer=True,
        )
    except PlaceholderError:
        return []
    result = []
    for channel, spec in CHANNEL_LIMITS.items():
        sms = channel == "sms"
        result.append(
            Rendering(
                channel=channel,
                characters=stats.characters,
                limit=spec.max_characters,
                fits=stats.characters <= spec.max_characters and (not sms or not stats.over_limit),
                encoding=stats.encoding if sms else None,
                segments=stats.segments if sms else None,
            )
        )
    return result


def fork_changes(version: TemplateVersion) -> list[dict[str, str]]:
    """What a fork's first version changed against the version it came from, per language."""
    origin = version.template.forked_from
    if origin is None:
        return []
    before = {t.language: t.body for t in origin.translations.all()}
    after = {t.language: t.body for t in version.translations.all()}
    changes = []
    for language in sorted(set(before) | set(after)):
        old, new = before.get(language, ""), after.get(language, "")
        if old != new:
            diff = difflib.unified_diff(
                old.splitlines(), new.splitlines(), "original", "fork", lineterm=""
            )
            changes.append(
                {"language": language, "original": old, "now": new, "diff": "\n".join(diff)}
            )
    return changes


def review_queue(organization: Organization, user: User) -> list[tuple[TemplateVersion, str]]:
    """(version, country) pairs waiting for this organization's decision, if `user` is its
    focal point in the version's network."""
    networks = Network.objects.filter(
        members__organization=organization,
        members__status=MemberStatus.ACTIVE,
        members__focal_point=user,
    )
    versions = (
        TemplateVersion.objects.filter(
            template__network__in=networks, country_states__state=CountryState.IN_REVIEW
        )
        .exclude(template__owner=organization)
        .select_related("template", "template__network")
        .prefetch_related("country_states", "reviews", "translations")
        .distinct()
    )
    waiting = []
    for version in versions:
        decided = {
            r.country
            for r in version.reviews.all()
            if r.organization_id == organization.pk
            and version.proposed_at
            and r.at >= version.proposed_at
        }
        for state in version.country_states.all():
            if state.state == CountryState.IN_REVIEW and state.country not in decided:
                waiting.append((version, state.country))
    return waiting


def notices_for(
    organization: Organization, *, unread_only: bool = False
) -> QuerySet[NetworkNotice]:
    notices = NetworkNotice.objects.filter(organization=organization).select_related(
        "network", "version__template", "wave"
    )
    return notices.filter(read_at__isnull=True) if unread_only else notices


def adoptions_of(organization: Organization) -> QuerySet[Adoption]:
    return Adoption.objects.filter(organization=organization).select_related(
        "version__template", "wave__campaign"
    )


def lexicon_terms(
    organization: Organization, *, country: str = "", language: str = "", state: str = ""
) -> QuerySet[LexiconTerm]:
    """The lexicon of the organization's networks, with its reviews."""
    terms = LexiconTerm.objects.filter(network__in=member_networks(organization)).prefetch_related(
        "reviews"
    )
    if country:
        terms = terms.filter(country=country.upper())
    if language:
        terms = terms.filter(language=language)
    if state:
        terms = terms.filter(state=state)
    return terms.select_related("network")


def term_for(organization: Organization, term_id: object) -> LexiconTerm | None:
    try:
        pk = int(str(term_id))
    except ValueError:
        return None
    return lexicon_terms(organization).filter(pk=pk).first()


@dataclass(frozen=True)
class TermHit:
    """An approved lexicon term found in a text: what it is, why it inflames, what instead."""

    term: str
    note: str
    alternatives: list[str]
    network: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "note": self.note,
            "alternatives": list(self.alternatives),
            "network": self.network,
        }


def inflaming_terms_in(
    text: str, *, organization: Organization, country: str, language: str
) -> list[TermHit]:
    """Approved terms of the organization's networks' lexicons (this country and language)
    that the text uses, as whole words, whatever their case."""
    if not text:
        return []
    terms = LexiconTerm.objects.filter(
        network__in=member_networks(organization),
        country=country.upper(),
        language=language,
        state=TermState.APPROVED,
    ).select_related("network")
    folded = text.casefold()
    hits = []
    for entry in terms:
        pattern = r"(?<!\w)" + re.escape(entry.term.casefold()) + r"(?!\w)"
        if re.search(pattern, folded):
            hits.append(
                TermHit(entry.term, entry.note, list(entry.alternatives), entry.network.name)
            )
    return hits


def adopter_counts(versions: list[TemplateVersion]) -> dict[int, int]:
    """How many organizations adopted each version (forks included), by version id."""
    rows = (
        Adoption.objects.filter(version__in=[v.pk for v in versions])
        .values("version_id")
        .annotate(adopters=Count("organization", distinct=True))
    )
    return {row["version_id"]: row["adopters"] for row in rows}


def adoption_waves(organization: Organization, version: TemplateVersion) -> QuerySet[Wave]:
    """The organization's unsent waves the version may go into: their campaign's country is
    one it is approved in."""
    approved = [s.country for s in version.country_states.all() if s.state == CountryState.APPROVED]
    return (
        Wave.objects.filter(
            campaign__organization=organization,
            campaign__country__in=approved,
            status__in=[
                WaveStatus.DRAFT,
                WaveStatus.IN_REVIEW,
                WaveStatus.APPROVED,
                WaveStatus.SCHEDULED,
            ],
        )
        .select_related("campaign")
        .order_by("campaign__name", "name")
    )
