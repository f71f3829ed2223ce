"""Reads for signed bundles: a network's vetted material as one signed document.

A bundle carries the network's approved (and deprecated) template versions with their
template's metadata, translations, content hashes, per-country states and review log; its
approved lexicon terms with their reviews; and this server's country presets. People appear
only as the names on the review log: no user ids, no emails, no phone numbers.
"""

from typing import Any

from django.db.models import Prefetch, Q
from django.utils import timezone

from campaigns import bundles
from campaigns.content_hash import content_hash
from campaigns.models import (
    LexiconTerm,
    LibraryReview,
    LibraryTemplate,
    Network,
    TemplateVersion,
    TermState,
    TrustedServer,
    VersionState,
)
from campaigns.services.network import active_member
from outreach.access import Action, may
from outreach.errors import NotAllowed
from outreach.models import Organization, User
from outreach.selectors.organizations import role_in
from outreach.selectors.presets import preset_as_data, presets

EXPORTED_STATES = (VersionState.APPROVED, VersionState.DEPRECATED)
# A withdrawn version that was approved somewhere travels too, so importers withdraw it.
_EXPORTED = Q(state__in=EXPORTED_STATES) | Q(
    state=VersionState.WITHDRAWN, country_states__approved_at__isnull=False
)


def bundle_export(
    *, network: Network, organization: Organization, by: User | None
) -> dict[str, Any]:
    """The network's bundle, signed with this server's key. Only an active member exports;
    `by` None is the server's operator (the management command)."""
    if by is not None and not may(role_in(by, organization.pk), Action.EXCHANGE_BUNDLES):
        raise NotAllowed("Only an admin exchanges bundles for the organization.")
    active_member(network, organization)
    document = {
        "format": bundles.FORMAT,
        "version": bundles.VERSION,
        "exported_at": timezone.now().isoformat(),
        "server": bundles.server_identity(),
        "network": {"slug": network.slug, "name": network.name},
        "templates": [_template(t) for t in _templates(network)],
        "lexicon": [_term(term) for term in _terms(network)],
        "presets": _presets(),
    }
    return bundles.sign(document)


def trusted_servers() -> list[TrustedServer]:
    """The servers whose bundles this one accepts."""
    return list(TrustedServer.objects.all())


def _templates(network: Network) -> list[LibraryTemplate]:
    versions = (
        TemplateVersion.objects.filter(_EXPORTED)
        .distinct()
        .order_by("number")
        .prefetch_related("translations", "country_states", _reviews())
    )
    return list(
        LibraryTemplate.objects.filter(
            network=network,
            versions__in=TemplateVersion.objects.filter(_EXPORTED, template__network=network),
        )
        .distinct()
        .order_by("created_at", "id")
        .select_related("forked_from")
        .prefetch_related(Prefetch("versions", queryset=versions))
    )


def _terms(network: Network) -> list[LexiconTerm]:
    return list(
        LexiconTerm.objects.filter(network=network, state=TermState.APPROVED)
        .order_by("proposed_at", "id")
        .prefetch_related(_reviews())
    )


def _reviews() -> Prefetch:
    return Prefetch("reviews", queryset=LibraryReview.objects.order_by("at", "id"))


def _template(template: LibraryTemplate) -> dict[str, Any]:
    return {
        "uid": str(template.uid),
        "name": template.name,
        "purpose": template.purpose,
        "age_band": template.age_band,
        "tags": list(template.tags),
        "licence": template.licence,
        "owner_name": template.owner_name,
        "forked_from": str(template.forked_from.uid) if template.forked_from else None,
        "versions": [_version(version) for version in template.versions.all()],
    }


def _version(version: TemplateVersion) -> dict[str, Any]:
    return {
        "uid": str(version.uid),
        "number": version.number,
        "changelog": version.changelog,
        "content_hash": version.content_hash,
        "state": version.state,
        "withdrawn_reason": version.withdrawn_reason,
        "withdrawn_at": _time(version.withdrawn_at),
        "deprecated_at": _time(version.deprecated_at),
        "ended_by_name": version.ended_by_name,
        "countries": list(version.countries),
        "created_at": _time(version.created_at),
        "proposed_at": _time(version.proposed_at),
        "translations": [
            {"language": t.language, "body": t.body} for t in version.translations.all()
        ],
        "country_states": [
            {"country": s.country, "state": s.state, "approved_at": _time(s.approved_at)}
            for s in version.country_states.all()
        ],
        "reviews": [_review(review) for review in version.reviews.all()],
    }


def _term(term: LexiconTerm) -> dict[str, Any]:
    return {
        "uid": str(term.uid),
        "country": term.country,
        "language": term.language,
        "term": term.term,
        "note": term.note,
        "alternatives": list(term.alternatives),
        "content_hash": term.content_hash,
        "proposed_by_name": term.proposed_by_name,
        "proposed_at": _time(term.proposed_at),
        "reviews": [_review(review) for review in term.reviews.all()],
    }


def _review(review: LibraryReview) -> dict[str, Any]:
    return {
        "country": review.country,
        "organization_name": review.organization_name,
        "reviewer_name": review.reviewer_name,
        "decision": review.decision,
        "checklist": dict(review.checklist),
        "reason": review.reason,
        "at": _time(review.at),
    }


def _presets() -> list[dict[str, Any]]:
    """This server's country presets, each with the hash of its data."""
    exported = []
    for preset in presets():
        data = preset_as_data(preset)
        exported.append({"data": data, "content_hash": content_hash(data)})
    return exported


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
