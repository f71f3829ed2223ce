"""Writes on the network's lexicons: terms that inflame, per country and language.

A member proposes a term with a note on why it inflames and what to say instead; like a
template version, it counts once the focal points of two other members approved it. Approved
terms warn the composer (`campaigns.selectors.library.inflaming_terms_in`).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns.content_hash import content_hash, term_content
from campaigns.models import (
    Decision,
    LexiconTerm,
    Network,
    NetworkNotice,
    NoticeKind,
    TermState,
)
from campaigns.services.library import APPROVALS_NEEDED, approvers, record_decision
from campaigns.services.network import active_member
from outreach.access import Action, may
from outreach.errors import InvalidInput, NotAllowed
from outreach.models import Organization, User
from outreach.selectors.organizations import role_in
from outreach.validators import validate_country_code, validate_language_code


@transaction.atomic
def term_propose(
    *,
    network: Network,
    organization: Organization,
    by: User,
    country: str,
    language: str,
    term: str,
    note: str,
    alternatives: Any = (),
) -> LexiconTerm:
    """Propose a term for the network's lexicon of one country and language."""
    if not may(role_in(by, organization.pk), Action.SHARE_TEMPLATES):
        raise NotAllowed("Only a manager proposes lexicon terms.")
    active_member(network, organization)
    country = str(country or "").strip().upper()
    language = str(language or "").strip().lower()
    for field, value, check in (
        ("country", country, validate_country_code),
        ("language", language, validate_language_code),
    ):
        try:
            check(value)
        except ValidationError as error:
            raise InvalidInput(error.messages[0], field=field) from error
    term = " ".join(str(term or "").split())
    if not term or len(term) > 120:
        raise InvalidInput("A term is a word or phrase of at most 120 characters.", field="term")
    note = str(note or "").strip()
    if not note:
        raise InvalidInput("Say why it inflames: the composer shows it.", field="note")
    options = _alternatives(alternatives)
    if LexiconTerm.objects.filter(
        network=network, country=country, language=language, term__iexact=term
    ).exists():
        raise InvalidInput("The lexicon has that term already.", field="term")
    content = term_content(
        country=country, language=language, term=term, note=note[:2000], alternatives=options
    )
    entry = LexiconTerm.objects.create(
        network=network,
        country=country,
        language=language,
        term=term,
        note=note[:2000],
        alternatives=options,
        content_hash=content_hash(content),
        proposed_by_organization=organization,
        proposed_by_name=organization.name,
        proposed_by=by,
        proposed_at=timezone.now(),
    )
    for place in network.members.filter(status="active").exclude(organization=organization):
        NetworkNotice.objects.create(
            network=network,
            organization_id=place.organization_id,
            kind=NoticeKind.REVIEW_WANTED,
            text=f"{organization.name} proposes “{term}” for the {country} lexicon ({language}).",
        )
    return entry


@transaction.atomic
def term_review(
    *,
    term: LexiconTerm,
    organization: Organization,
    by: User,
    decision: str,
    reason: str,
) -> LexiconTerm:
    """A focal point's decision on a proposed term; two other members' approvals adopt it."""
    term = LexiconTerm.objects.select_for_update().get(pk=term.pk)
    if term.proposed_by_organization_id == organization.pk:
        raise NotAllowed("Your organization proposed this term: two other members review it.")
    if term.state != TermState.IN_REVIEW:
        raise InvalidInput(f"The term is {term.state}, not in review.", field="state")
    record_decision(
        network=term.network,
        organization=organization,
        by=by,
        country=term.country,
        decision=decision,
        checklist=None,
        reason=reason,
        earlier=term.reviews.all(),
        checklist_required=False,
        subject={"term": term},
    )
    if decision == Decision.REQUEST_CHANGES:
        term.state = TermState.CHANGES_REQUESTED
    elif approvers(term.reviews.all()) >= APPROVALS_NEEDED:
        term.state = TermState.APPROVED
    term.save(update_fields=["state"])
    return term


@transaction.atomic
def term_withdraw(*, term: LexiconTerm, organization: Organization, by: User) -> LexiconTerm:
    """The proposing member takes its term out of the lexicon."""
    if not may(role_in(by, organization.pk), Action.SHARE_TEMPLATES):
        raise NotAllowed("Only a manager changes lexicon terms.")
    if term.proposed_by_organization_id != organization.pk:
        raise NotAllowed("Only the organization that proposed a term withdraws it.")
    if term.state == TermState.WITHDRAWN:
        raise InvalidInput("The term is withdrawn already.", field="state")
    term.state = TermState.WITHDRAWN
    term.save(update_fields=["state"])
    return term


def _alternatives(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(";")
    if not isinstance(value, list | tuple):
        raise InvalidInput("Alternatives are a list of words or phrases.", field="alternatives")
    options: list[str] = []
    for index, option in enumerate(value):
        if not isinstance(option, str) or len(option) > 200:
            raise InvalidInput("An alternative is a short phrase.", field=f"alternatives.{index}")
        if option.strip() and option.strip() not in options:
            options.append(option.strip())
    return options[:10]
