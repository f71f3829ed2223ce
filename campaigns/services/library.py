"""Writes on the network's library: templates and their versions, review, adoption, withdrawal.

draft → in_review → approved (per country) → deprecated or withdrawn. A version's text never
changes once written: a new text is a new version (or, by another member, a fork). It is
approved in a country once the focal points of two organizations other than its owner have
each approved it, since it was last proposed, against the whole do-no-harm checklist; one
approval is not enough and the owner never approves its own. Adopting a version puts its
translations into a wave as variants; editing them turns the adoption into a fork that keeps
what changed. Withdrawing a version tells every adopter and sends their unsent waves back to
draft, flagged.
"""

import difflib
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from campaigns.composition import PlaceholderError, validate_placeholders, variant_stats
from campaigns.content_hash import content_hash, version_content
from campaigns.models import (
    CHECKLIST,
    Adoption,
    CountryApproval,
    CountryState,
    Decision,
    LibraryReview,
    LibraryTemplate,
    Licence,
    Network,
    NetworkMember,
    NetworkNotice,
    NoticeKind,
    Purpose,
    TemplateTranslation,
    TemplateVersion,
    VersionState,
    Wave,
    WaveStatus,
)
from campaigns.services.network import active_member
from outreach.access import Action, may
from outreach.errors import InvalidInput, NotAllowed, NotFound
from outreach.models import AgeBand, Organization, User
from outreach.selectors.organizations import role_in
from outreach.validators import validate_country_code, validate_language_code

APPROVALS_NEEDED = 2  # organizations other than the owner, per country
MAX_SEGMENTS = 10
UNSENT = {WaveStatus.DRAFT, WaveStatus.IN_REVIEW, WaveStatus.APPROVED, WaveStatus.SCHEDULED}


@transaction.atomic
def template_create(
    *,
    network: Network,
    organization: Organization,
    by: User,
    name: str,
    purpose: str,
    translations: Any,
    age_band: str = "",
    tags: Any = (),
    licence: str = Licence.CC_BY,
    changelog: str = "",
) -> TemplateVersion:
    """Write a new template for the network; returns its first version, a draft."""
    _may(by, organization, Action.SHARE_TEMPLATES, "Only a manager shares templates.")
    active_member(network, organization)
    name = str(name or "").strip()
    if not name:
        raise InvalidInput("A template needs a name.", field="name")
    if LibraryTemplate.objects.filter(network=network, name__iexact=name).exists():
        raise InvalidInput("The network has a template of that name already.", field="name")
    template = LibraryTemplate.objects.create(
        network=network,
        owner=organization,
        owner_name=organization.name,
        name=name[:120],
        purpose=_choice(purpose, Purpose.values, "purpose"),
        age_band=_choice(age_band, AgeBand.values, "age_band") if age_band else "",
        tags=_tags(tags),
        licence=_choice(licence, Licence.values, "licence"),
        created_by=by,
    )
    return _new_version(template, by, translations, changelog or "First version.")


@transaction.atomic
def version_create(
    *,
    template: LibraryTemplate,
    organization: Organization,
    by: User,
    translations: Any,
    changelog: str,
) -> TemplateVersion:
    """A new text of one's own template: the next version, a draft with a changelog."""
    _owner(template, organization, by)
    if not str(changelog or "").strip():
        raise InvalidInput("Say what changed since the last version.", field="changelog")
    return _new_version(template, by, translations, changelog)


@transaction.atomic
def template_fork(
    *,
    version: TemplateVersion,
    organization: Organization,
    by: User,
    name: str,
    translations: Any = None,
    changelog: str = "",
) -> TemplateVersion:
    """Make one's own template from a version (anyone's): a draft that remembers its origin."""
    _may(by, organization, Action.SHARE_TEMPLATES, "Only a manager shares templates.")
    original = version.template
    active_member(original.network, organization)
    if version.state == VersionState.WITHDRAWN:
        raise InvalidInput("A withdrawn version cannot be forked.", field="version")
    texts = translations if translations is not None else _texts(version)
    fork = template_create(
        network=original.network,
        organization=organization,
        by=by,
        name=name,
        purpose=original.purpose,
        translations=texts,
        age_band=original.age_band,
        tags=original.tags,
        licence=original.licence,
        changelog=changelog or f"Forked from {original.name} v{version.number}.",
    )
    LibraryTemplate.objects.filter(pk=fork.template_id).update(forked_from=version)
    fork.template.forked_from = version
    return fork


@transaction.atomic
def version_propose(
    *, version: TemplateVersion, organization: Organization, by: User, countries: Any
) -> TemplateVersion:
    """Ask the network to review a draft version for these countries."""
    version = _locked(version)
    _owner(version.template, organization, by)
    if version.state != VersionState.DRAFT:
        raise InvalidInput(f"A {version.state} version cannot be proposed.", field="state")
    codes = _countries(countries)
    now = timezone.now()
    version.state, version.countries = VersionState.IN_REVIEW, codes
    version.proposed_at, version.proposed_by = now, by
    version.save(update_fields=["state", "countries", "proposed_at", "proposed_by"])
    version.country_states.exclude(country__in=codes).delete()
    for code in codes:
        CountryApproval.objects.update_or_create(
            version=version,
            country=code,
            defaults={"state": CountryState.IN_REVIEW, "approved_at": None},
        )
    network = version.template.network
    for place in _other_members(network, organization):
        NetworkNotice.objects.create(
            network=network,
            organization=place.organization,
            kind=NoticeKind.REVIEW_WANTED,
            version=version,
            text=f"{organization.name} asks for a review of {version} for {', '.join(codes)}.",
        )
    return version


@transaction.atomic
def version_review(
    *,
    version: TemplateVersion,
    organization: Organization,
    by: User,
    country: str,
    decision: str,
    checklist: Any,
    reason: str,
) -> LibraryReview:
    """One focal point's decision on a version in one country, logged with who, when and why."""
    version = _locked(version)
    template = version.template
    if template.owner_id == organization.pk:
        raise NotAllowed(
            "Your organization proposed this version: two other members of the network review it."
        )
    if version.state != VersionState.IN_REVIEW and not (
        version.state == VersionState.APPROVED
        and version.country_states.filter(country=country, state=CountryState.IN_REVIEW).exists()
    ):
        raise InvalidInput(f"A {version.state} version is not in review.", field="state")
    state = version.country_states.filter(country=country).first()
    if state is None or state.state != CountryState.IN_REVIEW:
        raise InvalidInput("The version is not in review for that country.", field="country")
    review = record_decision(
        network=template.network,
        organization=organization,
        by=by,
        country=country,
        decision=decision,
        checklist=checklist,
        reason=reason,
        earlier=version.reviews.filter(at__gte=version.proposed_at),
        checklist_required=True,
        subject={"version": version},
    )
    if decision == Decision.REQUEST_CHANGES:
        state.state = CountryState.CHANGES_REQUESTED
        state.save(update_fields=["state"])
        _notify_owner(version, NoticeKind.CHANGES_REQUESTED, f"{organization.name}: {reason}")
    elif approvers(version.reviews.filter(at__gte=version.proposed_at, country=country)) >= (
        APPROVALS_NEEDED
    ):
        state.state, state.approved_at = CountryState.APPROVED, timezone.now()
        state.save(update_fields=["state", "approved_at"])
        _deprecate_older(version, country)
        _notify_owner(version, NoticeKind.APPROVED, f"{version} is approved for {country}.")
    _refresh(version)
    return review


@transaction.atomic
def version_deprecate(
    *, version: TemplateVersion, organization: Organization, by: User, reason: str = ""
) -> TemplateVersion:
    """Retire a version: adopters keep it, nobody new takes it."""
    version = _locked(version)
    _owner(version.template, organization, by)
    if version.state in (VersionState.WITHDRAWN, VersionState.DEPRECATED):
        raise InvalidInput(f"The version is {version.state} already.", field="state")
    version.country_states.exclude(state=CountryState.WITHDRAWN).update(
        state=CountryState.DEPRECATED
    )
    version.state = VersionState.DEPRECATED
    version.withdrawn_reason = str(reason or "")[:500]
    version.deprecated_at = timezone.now()
    version.ended_by, version.ended_by_name = by, _who(by, organization)
    version.save(
        update_fields=["state", "withdrawn_reason", "deprecated_at", "ended_by", "ended_by_name"]
    )
    return version


@transaction.atomic
def version_withdraw(
    *, version: TemplateVersion, organization: Organization, by: User, reason: str
) -> TemplateVersion:
    """Pull a version that should not be sent: every adopter is told, unsent waves held."""
    version = _locked(version)
    _owner(version.template, organization, by)
    reason = str(reason or "").strip()
    if not reason:
        raise InvalidInput("Say why it is withdrawn: adopters are told.", field="reason")
    if version.state == VersionState.WITHDRAWN:
        raise InvalidInput("The version is withdrawn already.", field="state")
    version.ended_by = by
    return _withdraw(version, reason, _who(by, organization))


@transaction.atomic
def version_withdrawn_elsewhere(
    *, version: TemplateVersion, reason: str, by_name: str = ""
) -> TemplateVersion:
    """An imported version its origin server withdrew (a later bundle says so): withdraw it
    here too, telling this server's adopters; `by_name` is who withdrew it there."""
    version = _locked(version)
    if version.state == VersionState.WITHDRAWN:
        return version
    reason = str(reason or "").strip() or "Withdrawn by its origin."
    return _withdraw(version, reason, by_name)


def _withdraw(version: TemplateVersion, reason: str, by_name: str) -> TemplateVersion:
    now = timezone.now()
    version.state, version.withdrawn_at, version.withdrawn_reason = (
        VersionState.WITHDRAWN,
        now,
        reason[:500],
    )
    version.ended_by_name = by_name[:200]
    version.save(
        update_fields=["state", "withdrawn_at", "withdrawn_reason", "ended_by", "ended_by_name"]
    )
    version.country_states.update(state=CountryState.WITHDRAWN)
    for adoption in version.adoptions.select_related("wave", "organization"):
        _hold(adoption, version, reason, now)
    return version


@transaction.atomic
def version_adopt(*, version: TemplateVersion, wave: Wave, by: User) -> Adoption:
    """Take an approved version into a wave: its translations in the campaign's languages
    become the wave's variants, and the wave keeps a pointer to the version."""
    from campaigns.services.waves import wave_update

    organization = wave.organization
    _may(by, organization, Action.COMPOSE, "Only a manager composes waves.")
    version = TemplateVersion.objects.select_related("template__network").get(pk=version.pk)
    active_member(version.template.network, organization)
    country = wave.campaign.country
    if not version.country_states.filter(country=country, state=CountryState.APPROVED).exists():
        raise InvalidInput(
            f"{version} is not approved for {country}, the campaign's country.", field="version"
        )
    texts = {t.language: t.body for t in version.translations.all()}
    languages = [language for language in wave.campaign.languages if language in texts]
    if not languages:
        raise InvalidInput(
            f"{version} has no translation in the campaign's languages "
            f"({', '.join(wave.campaign.languages)}).",
            field="wave",
        )
    Adoption.objects.filter(wave=wave).delete()
    adoption = Adoption.objects.create(
        version=version, organization=organization, wave=wave, adopted_by=by
    )
    wave_update(
        wave=wave,
        by=by,
        variants=[{"language": language, "body": texts[language]} for language in languages],
    )
    adoption.refresh_from_db()
    return adoption


def adoption_follow_edit(wave: Wave) -> None:
    """After a wave's variants changed: record how they differ from the adopted version."""
    adoption = Adoption.objects.filter(wave=wave).select_related("version").first()
    if adoption is None:
        return
    original = {t.language: t.body for t in adoption.version.translations.all()}
    now_texts = {v.language: v.body for v in wave.variants.all()}
    changes = []
    for language in sorted(set(now_texts) & set(original) | set(now_texts) - set(original)):
        before, after = original.get(language, ""), now_texts[language]
        if before != after:
            diff = difflib.unified_diff(
                before.splitlines(), after.splitlines(), "original", "edited", lineterm=""
            )
            changes.append(
                {"language": language, "original": before, "now": after, "diff": "\n".join(diff)}
            )
    adoption.changes = changes
    adoption.forked_at = (adoption.forked_at or timezone.now()) if changes else None
    adoption.save(update_fields=["changes", "forked_at"])


@transaction.atomic
def notice_read(*, organization: Organization, notice_id: object) -> NetworkNotice:
    """Mark one of the organization's notices read."""
    try:
        notice = NetworkNotice.objects.get(pk=int(str(notice_id)), organization=organization)
    except (ValueError, NetworkNotice.DoesNotExist) as error:
        raise NotFound("No such notice.") from error
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return notice


def record_decision(
    *,
    network: Network,
    organization: Organization,
    by: User,
    country: str,
    decision: str,
    checklist: Any,
    reason: str,
    earlier: Iterable[LibraryReview],
    checklist_required: bool,
    subject: dict[str, Any],
) -> LibraryReview:
    """Log one focal point's decision, for a version or a lexicon term (the same rule)."""
    _may(by, organization, Action.REVIEW_LIBRARY, "Only staff review for the organization.")
    place = active_member(network, organization)
    if place.focal_point_id != by.pk:
        raise NotAllowed("Only your organization's focal point in this network reviews for it.")
    decision = _choice(decision, Decision.values, "decision")
    reason = str(reason or "").strip()
    if not reason:
        raise InvalidInput("Say why: every decision is logged with its reason.", field="reason")
    ticks = _checklist(checklist)
    if decision == Decision.APPROVE and checklist_required:
        missing = [key for key in CHECKLIST if not ticks.get(key)]
        if missing:
            raise InvalidInput(
                f"Approve only with every do-no-harm item affirmed: {CHECKLIST[missing[0]]}.",
                field=f"checklist.{missing[0]}",
            )
    if any(r.organization_id == organization.pk and r.country == country for r in earlier):
        raise InvalidInput(
            "Your organization has decided on this in that country already.", field="country"
        )
    return LibraryReview.objects.create(
        country=country,
        organization=organization,
        organization_name=organization.name,
        reviewer=by,
        reviewer_name=by.get_full_name() or by.get_username(),
        decision=decision,
        checklist=ticks,
        reason=reason[:2000],
        at=timezone.now(),
        **subject,
    )


def approvers(reviews: Iterable[LibraryReview]) -> int:
    """How many organizations approved, among these reviews."""
    approved = (r for r in reviews if r.decision == Decision.APPROVE)
    return len({r.organization_id or r.organization_name for r in approved})


def _new_version(
    template: LibraryTemplate, by: User, translations: Any, changelog: str
) -> TemplateVersion:
    texts = _translations(translations)
    number = (template.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    changelog = str(changelog or "").strip()[:4000]
    version = TemplateVersion.objects.create(
        template=template,
        number=number,
        changelog=changelog,
        content_hash=content_hash(
            version_content(
                template_uid=str(template.uid),
                number=number,
                changelog=changelog,
                translations=texts,
            )
        ),
        created_by=by,
    )
    TemplateTranslation.objects.bulk_create(
        TemplateTranslation(version=version, language=language, body=body)
        for language, body in texts.items()
    )
    return version


def _translations(value: Any) -> dict[str, str]:
    """{language: body} from a list of {"language", "body"} (or such a dict), each checked."""
    if isinstance(value, dict):
        value = [{"language": k, "body": v} for k, v in value.items()]
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput("Give the text in at least one language.", field="translations")
    texts: dict[str, str] = {}
    for index, item in enumerate(value):
        field = f"translations.{index}"
        if not isinstance(item, dict):
            raise InvalidInput("Each translation has a language and a body.", field=field)
        language, body = str(item.get("language") or ""), item.get("body")
        try:
            validate_language_code(language)
        except ValidationError as error:
            raise InvalidInput(error.messages[0], field=f"{field}.language") from error
        if language in texts:
            raise InvalidInput("One translation per language.", field=f"{field}.language")
        if not isinstance(body, str) or not body.strip():
            raise InvalidInput("Write the message.", field=f"{field}.body")
        try:
            validate_placeholders(body)
            stats = variant_stats(
                body,
                declared_language=language,
                campaign_name="",
                longest_region="",
                price_per_segment=None,
                currency=None,
                max_segments=MAX_SEGMENTS,
                with_footer=True,
            )
        except PlaceholderError as error:
            raise InvalidInput(str(error), field=f"{field}.body") from error
        if stats.over_limit:
            raise InvalidInput(
                f"{stats.segments} SMS segments: at most {MAX_SEGMENTS} go in one message.",
                field=f"{field}.body",
            )
        texts[language] = body
    return texts


def _texts(version: TemplateVersion) -> list[dict[str, str]]:
    return [{"language": t.language, "body": t.body} for t in version.translations.all()]


def _countries(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput("Name at least one country to review it for.", field="countries")
    codes: list[str] = []
    for index, code in enumerate(value):
        code = str(code or "").strip().upper()
        try:
            validate_country_code(code)
        except ValidationError as error:
            raise InvalidInput(error.messages[0], field=f"countries.{index}") from error
        if code not in codes:
            codes.append(code)
    return codes


def _checklist(value: Any) -> dict[str, bool]:
    if value in (None, ""):
        return {}
    if isinstance(value, list | tuple):  # the ticked items' names
        value = {str(key): True for key in value}
    if not isinstance(value, dict):
        raise InvalidInput("The checklist maps each item to true or false.", field="checklist")
    for key, ticked in value.items():
        if key not in CHECKLIST:
            raise InvalidInput(
                f"Unknown checklist item; the items are {', '.join(CHECKLIST)}.",
                field=f"checklist.{key}",
            )
        if not isinstance(ticked, bool):
            raise InvalidInput("Each item is true or false.", field=f"checklist.{key}")
    return {key: bool(value.get(key, False)) for key in CHECKLIST}


def _tags(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise InvalidInput("Tags are a list of words.", field="tags")
    tags = []
    for index, tag in enumerate(value):
        if not isinstance(tag, str) or len(tag.strip()) > 40:
            raise InvalidInput("A tag is at most 40 characters.", field=f"tags.{index}")
        if tag.strip() and tag.strip().lower() not in tags:
            tags.append(tag.strip().lower())
    return tags[:20]


def _choice(value: Any, allowed: list[str], field: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"Choose one of {', '.join(allowed)}.", field=field)
    return str(value)


def _may(by: User, organization: Organization, action: Action, message: str) -> None:
    if not may(role_in(by, organization.pk), action):
        raise NotAllowed(message)


def _who(by: User, organization: Organization) -> str:
    """A decision's author as the review log names one: the person, for their organization."""
    return f"{by.get_full_name() or by.get_username()} ({organization.name})"


def _owner(template: LibraryTemplate, organization: Organization, by: User) -> None:
    _may(by, organization, Action.SHARE_TEMPLATES, "Only a manager shares templates.")
    if template.owner_id != organization.pk:
        raise NotAllowed("Only the organization that wrote this template changes it; fork it.")
    active_member(template.network, organization)


def _locked(version: TemplateVersion) -> TemplateVersion:
    return (
        TemplateVersion.objects.select_for_update(of=("self",))
        .select_related("template__network")
        .get(pk=version.pk)
    )


def _refresh(version: TemplateVersion) -> None:
    """The version's state from its countries' states."""
    states = set(version.country_states.values_list("state", flat=True))
    if CountryState.APPROVED in states:
        state = VersionState.APPROVED
    elif CountryState.IN_REVIEW in states:
        state = VersionState.IN_REVIEW
    elif states == {CountryState.DEPRECATED} or CountryState.DEPRECATED in states:
        state = VersionState.DEPRECATED
    else:  # every country asked for changes: back with its authors
        state = VersionState.DRAFT
    if state != version.state:
        version.state = state
        fields = ["state"]
        if state == VersionState.DEPRECATED and version.deprecated_at is None:
            version.deprecated_at = timezone.now()  # retired by a newer approved version
            fields.append("deprecated_at")
        version.save(update_fields=fields)


def _deprecate_older(version: TemplateVersion, country: str) -> None:
    """A newer approved version in a country retires the older ones there."""
    older = TemplateVersion.objects.filter(
        template=version.template, number__lt=version.number, country_states__country=country
    )
    for previous in older:
        previous.country_states.filter(country=country, state=CountryState.APPROVED).update(
            state=CountryState.DEPRECATED
        )
        if not previous.withdrawn_reason:
            previous.withdrawn_reason = f"Superseded by version {version.number} in {country}."
            previous.save(update_fields=["withdrawn_reason"])
        _refresh(previous)


def _other_members(network: Network, organization: Organization) -> list[NetworkMember]:
    return list(
        network.members.filter(status="active")
        .exclude(organization=organization)
        .select_related("organization")
    )


def _notify_owner(version: TemplateVersion, kind: str, text: str) -> None:
    owner = version.template.owner
    if owner is not None:
        NetworkNotice.objects.create(
            network=version.template.network,
            organization=owner,
            kind=kind,
            version=version,
            text=text[:600],
        )


def _hold(adoption: Adoption, version: TemplateVersion, reason: str, now: Any) -> None:
    """Flag an adopter's wave, send it back to draft if unsent, and tell the adopter."""
    from campaigns.services.waves import wave_hold

    wave = adoption.wave
    adoption.flagged_at, adoption.flag_reason = now, reason[:500]
    adoption.save(update_fields=["flagged_at", "flag_reason"])
    held = wave.status in UNSENT
    if held and wave.status != WaveStatus.DRAFT:
        wave_hold(wave=wave, note=f"library version withdrawn: {reason}"[:300])
    what = "It is back in draft until you change it." if held else "Consider pausing it."
    NetworkNotice.objects.create(
        network=version.template.network,
        organization=adoption.organization,
        kind=NoticeKind.WITHDRAWN,
        version=version,
        wave=wave,
        text=f"{version} was withdrawn ({reason}). Your wave “{wave.name}” uses it. {what}"[:600],
    )
