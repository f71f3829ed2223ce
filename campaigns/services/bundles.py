"""Writes for signed bundles: trust another server, import what it signed.

An import checks, in this order, the format and its version, that an admin registered the
signing server, the signature, and every content hash; the first thing that fails is refused
by name (`signature`, `server.key_id`, `templates.0.versions.1.content_hash`) and nothing is
written. What comes in keeps its uid and hash and says where it came from (`origin`); its
reviews are copied as text, since their people live on the other server. Importing the same
bundle again changes nothing; a uid this server holds with other content is refused.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from campaigns import bundles
from campaigns.content_hash import content_hash, term_content, version_content
from campaigns.models import (
    CHECKLIST,
    CountryApproval,
    CountryState,
    Decision,
    LexiconTerm,
    LibraryReview,
    LibraryTemplate,
    Licence,
    Network,
    Purpose,
    TemplateTranslation,
    TemplateVersion,
    TermState,
    TrustedServer,
    VersionState,
)
from campaigns.services.network import active_member
from outreach.access import Action, may
from outreach.errors import InvalidInput, NotAllowed
from outreach.models import AgeBand, Organization, User
from outreach.selectors.organizations import role_in
from outreach.selectors.presets import preset_as_data, preset_for
from outreach.services.presets import preset_upsert
from outreach.validators import validate_country_code, validate_language_code

IMPORTED_STATES = (VersionState.APPROVED, VersionState.DEPRECATED, VersionState.WITHDRAWN)
# A held version follows its origin forward only: approved → deprecated → withdrawn.
_LATER = {VersionState.APPROVED: 0, VersionState.DEPRECATED: 1, VersionState.WITHDRAWN: 2}
KINDS = ("templates", "versions", "terms", "presets")


@dataclass
class ImportSummary:
    """What an import created and what this server held already, by kind."""

    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    # Versions held here that their origin has since deprecated or withdrawn.
    withdrawn: int = 0
    deprecated: int = 0
    presets_kept: list[str] = field(default_factory=list)  # held here with other data: ours stay

    def as_data(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "unchanged": self.unchanged,
            "withdrawn": self.withdrawn,
            "deprecated": self.deprecated,
            "presets_kept": self.presets_kept,
        }


@transaction.atomic
def trusted_server_add(*, name: str, public_key: str, by: User | None = None) -> TrustedServer:
    """Accept bundles signed with this key from now on; the same key again renames it."""
    name = str(name or "").strip()
    if not name:
        raise InvalidInput("Name the server, as its people know it.", field="name")
    key = bundles.checked_public_key(public_key)
    server, _ = TrustedServer.objects.update_or_create(
        key_id=bundles.key_id(key),
        defaults={"name": name[:200], "public_key": key, "added_by": by},
    )
    return server


@transaction.atomic
def bundle_import(
    bundle: Any, *, network: Network, organization: Organization, by: User | None
) -> dict[str, Any]:
    """Import a signed bundle into a network of this server, all of it or nothing.

    `bundle` is the parsed document (or its JSON text); `by` None is the server's operator
    (the management command). Returns {created: {...}, unchanged: {...}, presets_kept: [...]}.
    """
    if by is not None and not may(role_in(by, organization.pk), Action.EXCHANGE_BUNDLES):
        raise NotAllowed("Only an admin exchanges bundles for the organization.")
    active_member(network, organization)
    document = (
        bundles.parse(bundle) if isinstance(bundle, str | bytes) else bundles.checked_shape(bundle)
    )
    server = _trusted_signer(document)
    bundles.verify(document, server.public_key)
    templates = [
        _checked_template(item, f"templates.{i}") for i, item in enumerate(document["templates"])
    ]
    terms = [_checked_term(item, f"lexicon.{i}") for i, item in enumerate(document["lexicon"])]
    presets = [_checked_preset(item, f"presets.{i}") for i, item in enumerate(document["presets"])]
    origin = {
        "server": server.name,
        "key_id": server.key_id,
        "exported_at": document["exported_at"],
        "imported_at": timezone.now().isoformat(),
        "bundle_hash": bundles.bundle_hash(document),
    }
    summary = ImportSummary()
    for index, template in enumerate(templates):
        _import_template(template, f"templates.{index}", network, origin, summary)
    for index, term in enumerate(terms):
        _import_term(term, f"lexicon.{index}", network, origin, summary)
    for index, preset in enumerate(presets):
        _import_preset(preset, f"presets.{index}", origin, summary)
    return summary.as_data()


def _trusted_signer(document: dict[str, Any]) -> TrustedServer:
    server = document["server"]
    trusted = TrustedServer.objects.filter(key_id=server["key_id"]).first()
    if trusted is None:
        raise InvalidInput(
            f"{server['name']} (key {server['key_id']}) is not a server this one trusts; an admin "
            "registers it first (manage.py bundle_trust).",
            field="server.key_id",
        )
    if server["public_key"] != trusted.public_key:
        raise InvalidInput(
            "The bundle's public key is not the one registered for its key id.",
            field="server.public_key",
        )
    return trusted


# --- checking, before anything is written ----------------------------------------------------


def _checked_template(item: dict[str, Any], at: str) -> dict[str, Any]:
    uid = _uid(item, "uid", at)
    versions = _list(item, "versions", at)
    checked = {
        "uid": uid,
        "name": _text(item, "name", at, 120),
        "purpose": _choice(item, "purpose", at, Purpose.values),
        "age_band": _choice(item, "age_band", at, ["", *AgeBand.values]),
        "tags": _words(item, "tags", at, 40),
        "licence": _choice(item, "licence", at, Licence.values),
        "owner_name": _text(item, "owner_name", at, 200),
        "forked_from": None if item.get("forked_from") is None else _uid(item, "forked_from", at),
        "versions": [],
    }
    for index, version in enumerate(versions):
        checked["versions"].append(_checked_version(version, f"{at}.versions.{index}", uid))
    return checked


def _checked_version(item: Any, at: str, template_uid: str) -> dict[str, Any]:
    item = _object(item, at)
    translations: dict[str, str] = {}
    for index, translation in enumerate(_list(item, "translations", at)):
        here = f"{at}.translations.{index}"
        translation = _object(translation, here)
        language = _language(translation, "language", here)
        if language in translations:
            raise InvalidInput("One translation per language.", field=f"{here}.language")
        translations[language] = _text(translation, "body", here, 10_000)
    if not translations:
        raise InvalidInput("A version has at least one translation.", field=f"{at}.translations")
    number = item.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise InvalidInput("A version number is a whole number from 1.", field=f"{at}.number")
    changelog = _text(item, "changelog", at, 4000, blank=True)
    stated = _text(item, "content_hash", at, 64)
    computed = content_hash(
        version_content(
            template_uid=template_uid, number=number, changelog=changelog, translations=translations
        )
    )
    if stated != computed:
        raise InvalidInput(
            "The version's text does not match its content hash.", field=f"{at}.content_hash"
        )
    states = []
    for index, state in enumerate(_list(item, "country_states", at)):
        here = f"{at}.country_states.{index}"
        state = _object(state, here)
        states.append(
            {
                "country": _country(state, "country", here),
                "state": _choice(state, "state", here, CountryState.values),
                "approved_at": _time(state, "approved_at", here, optional=True),
            }
        )
    return {
        "uid": _uid(item, "uid", at),
        "number": number,
        "changelog": changelog,
        "content_hash": stated,
        "state": _choice(item, "state", at, list(IMPORTED_STATES)),
        "withdrawn_reason": _text(
            {"r": item.get("withdrawn_reason", "")}, "r", f"{at}.withdrawn_reason", 500, blank=True
        ),
        # Who ended it there, and when (bundles of before these were kept may lack them).
        "withdrawn_at": _time(item, "withdrawn_at", at, optional=True),
        "deprecated_at": _time(item, "deprecated_at", at, optional=True),
        "ended_by_name": _text(
            {"n": item.get("ended_by_name", "")}, "n", f"{at}.ended_by_name", 200, blank=True
        ),
        "countries": [
            _code(code, f"{at}.countries.{i}")
            for i, code in enumerate(_list(item, "countries", at))
        ],
        "proposed_at": _time(item, "proposed_at", at, optional=True),
        "translations": translations,
        "country_states": states,
        "reviews": _checked_reviews(item, at),
    }


def _checked_term(item: dict[str, Any], at: str) -> dict[str, Any]:
    checked = {
        "uid": _uid(item, "uid", at),
        "country": _country(item, "country", at),
        "language": _language(item, "language", at),
        "term": _text(item, "term", at, 120),
        "note": _text(item, "note", at, 2000),
        "alternatives": _words(item, "alternatives", at, 200),
        "content_hash": _text(item, "content_hash", at, 64),
        "proposed_by_name": _text(item, "proposed_by_name", at, 200),
        "proposed_at": _time(item, "proposed_at", at),
        "reviews": _checked_reviews(item, at),
    }
    content = term_content(
        country=checked["country"],
        language=checked["language"],
        term=checked["term"],
        note=checked["note"],
        alternatives=checked["alternatives"],
    )
    if content_hash(content) != checked["content_hash"]:
        raise InvalidInput(
            "The term's text does not match its content hash.", field=f"{at}.content_hash"
        )
    return checked


def _checked_reviews(item: dict[str, Any], at: str) -> list[dict[str, Any]]:
    reviews = []
    for index, review in enumerate(_list(item, "reviews", at)):
        here = f"{at}.reviews.{index}"
        review = _object(review, here)
        checklist = review.get("checklist")
        if not isinstance(checklist, dict) or not all(
            key in CHECKLIST and isinstance(value, bool) for key, value in checklist.items()
        ):
            raise InvalidInput(
                "The checklist maps do-no-harm items to true or false.", field=f"{here}.checklist"
            )
        reviews.append(
            {
                "country": _country(review, "country", here),
                "organization_name": _text(review, "organization_name", here, 200),
                "reviewer_name": _text(review, "reviewer_name", here, 150),
                "decision": _choice(review, "decision", here, Decision.values),
                "checklist": checklist,
                "reason": _text(review, "reason", here, 2000),
                "at": _time(review, "at", here),
            }
        )
    return reviews


def _checked_preset(item: dict[str, Any], at: str) -> dict[str, Any]:
    data = item.get("data")
    if not isinstance(data, dict):
        raise InvalidInput("A preset's data is an object.", field=f"{at}.data")
    if content_hash(data) != item.get("content_hash"):
        raise InvalidInput(
            "The preset's data does not match its content hash.", field=f"{at}.content_hash"
        )
    return {"data": data, "content_hash": item["content_hash"], "country": data.get("country")}


# --- writing ---------------------------------------------------------------------------------


def _import_template(
    item: dict[str, Any], at: str, network: Network, origin: dict[str, Any], summary: ImportSummary
) -> None:
    template = LibraryTemplate.objects.filter(uid=item["uid"]).first()
    if template is not None and template.network_id != network.pk:
        raise InvalidInput("This server holds that template in another network.", field=f"{at}.uid")
    if template is None:
        if LibraryTemplate.objects.filter(network=network, name__iexact=item["name"]).exists():
            raise InvalidInput(
                "The network has another template of that name; rename one of them first.",
                field=f"{at}.name",
            )
        forked_from = (
            TemplateVersion.objects.filter(uid=item["forked_from"]).first()
            if item["forked_from"]
            else None
        )
        template = LibraryTemplate.objects.create(
            uid=item["uid"],
            network=network,
            owner=None,
            owner_name=item["owner_name"],
            name=item["name"],
            purpose=item["purpose"],
            age_band=item["age_band"],
            tags=item["tags"],
            licence=item["licence"],
            forked_from=forked_from,
            origin=origin,
        )
        summary.created["templates"] += 1
    else:
        summary.unchanged["templates"] += 1
    for index, version in enumerate(item["versions"]):
        _import_version(version, f"{at}.versions.{index}", template, origin, summary)


def _import_version(
    item: dict[str, Any],
    at: str,
    template: LibraryTemplate,
    origin: dict[str, Any],
    summary: ImportSummary,
) -> None:
    held = TemplateVersion.objects.filter(uid=item["uid"]).first()
    if held is not None:
        if held.template_id != template.pk or held.content_hash != item["content_hash"]:
            raise InvalidInput(
                "This server holds a version with that uid and other content.", field=f"{at}.uid"
            )
        if _LATER.get(item["state"], 0) > _LATER.get(held.state, 0):
            _follow_origin(held, item, summary)
        else:
            summary.unchanged["versions"] += 1
        return
    if template.versions.filter(number=item["number"]).exists():
        raise InvalidInput(
            f"This server holds another version {item['number']} of the template.",
            field=f"{at}.number",
        )
    version = TemplateVersion.objects.create(
        uid=item["uid"],
        template=template,
        number=item["number"],
        changelog=item["changelog"],
        content_hash=item["content_hash"],
        state=item["state"],
        withdrawn_reason=item["withdrawn_reason"],
        withdrawn_at=item["withdrawn_at"],
        deprecated_at=item["deprecated_at"],
        ended_by_name=item["ended_by_name"],
        countries=item["countries"],
        proposed_at=item["proposed_at"],
        origin=origin,
    )
    TemplateTranslation.objects.bulk_create(
        TemplateTranslation(version=version, language=language, body=body)
        for language, body in item["translations"].items()
    )
    CountryApproval.objects.bulk_create(
        CountryApproval(version=version, **state) for state in item["country_states"]
    )
    _copy_reviews(item["reviews"], {"version": version}, origin)
    summary.created["versions"] += 1


def _follow_origin(held: TemplateVersion, item: dict[str, Any], summary: ImportSummary) -> None:
    """The origin deprecated or withdrew a version we hold: so do we (withdrawal tells our
    adopters and holds their unsent waves, as a local withdrawal does)."""
    from campaigns.services.library import version_withdrawn_elsewhere

    if item["state"] == VersionState.WITHDRAWN:
        version_withdrawn_elsewhere(
            version=held, reason=item["withdrawn_reason"], by_name=item["ended_by_name"]
        )
        summary.withdrawn += 1
    else:
        held.country_states.filter(state=CountryState.APPROVED).update(
            state=CountryState.DEPRECATED
        )
        held.state = VersionState.DEPRECATED
        held.withdrawn_reason = item["withdrawn_reason"]
        held.deprecated_at = item["deprecated_at"] or timezone.now()
        held.ended_by_name = item["ended_by_name"]
        held.save(update_fields=["state", "withdrawn_reason", "deprecated_at", "ended_by_name"])
        summary.deprecated += 1


def _import_term(
    item: dict[str, Any], at: str, network: Network, origin: dict[str, Any], summary: ImportSummary
) -> None:
    held = LexiconTerm.objects.filter(uid=item["uid"]).first()
    if held is not None:
        if held.network_id != network.pk or held.content_hash != item["content_hash"]:
            raise InvalidInput(
                "This server holds a term with that uid and other content.", field=f"{at}.uid"
            )
        summary.unchanged["terms"] += 1
        return
    if LexiconTerm.objects.filter(
        network=network, country=item["country"], language=item["language"], term=item["term"]
    ).exists():
        raise InvalidInput(
            "The network's lexicon has that term already, from elsewhere.", field=f"{at}.term"
        )
    reviews = item.pop("reviews")
    term = LexiconTerm.objects.create(
        network=network, state=TermState.APPROVED, origin=origin, **item
    )
    _copy_reviews(reviews, {"term": term}, origin)
    summary.created["terms"] += 1


def _copy_reviews(
    reviews: list[dict[str, Any]], subject: dict[str, Any], origin: dict[str, Any]
) -> None:
    LibraryReview.objects.bulk_create(
        LibraryReview(organization=None, reviewer=None, origin=origin, **subject, **review)
        for review in reviews
    )


def _import_preset(
    item: dict[str, Any], at: str, origin: dict[str, Any], summary: ImportSummary
) -> None:
    held = preset_for(item["country"])
    if held is not None:
        if content_hash(preset_as_data(held)) == item["content_hash"]:
            summary.unchanged["presets"] += 1
        else:
            summary.presets_kept.append(str(item["country"]))  # ours stay as they are
        return
    try:
        preset_upsert(item["data"], origin=origin)
    except InvalidInput as error:
        raise InvalidInput(
            error.message, field=f"{at}.data.{error.field or ''}".rstrip(".")
        ) from error
    summary.created["presets"] += 1


# --- reading one field -----------------------------------------------------------------------


def _object(value: Any, at: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput("Expected an object.", field=at)
    return value


def _list(item: dict[str, Any], key: str, at: str) -> list[Any]:
    value = item.get(key)
    if not isinstance(value, list):
        raise InvalidInput("Expected a list.", field=f"{at}.{key}")
    return value


def _text(item: dict[str, Any], key: str, at: str, longest: int, *, blank: bool = False) -> str:
    value = item.get(key)
    if not isinstance(value, str) or (not blank and not value.strip()) or len(value) > longest:
        raise InvalidInput(f"Expected text of at most {longest} characters.", field=f"{at}.{key}")
    if "\x00" in value:
        raise InvalidInput("Text cannot hold a NUL character.", field=f"{at}.{key}")
    return value


def _choice(item: dict[str, Any], key: str, at: str, allowed: list[str]) -> str:
    value = item.get(key)
    if value not in allowed:
        raise InvalidInput(
            f"Expected one of {', '.join(a for a in allowed if a)}.", field=f"{at}.{key}"
        )
    return str(value)


def _uid(item: dict[str, Any], key: str, at: str) -> str:
    try:
        return str(uuid.UUID(str(item.get(key))))
    except ValueError as error:
        raise InvalidInput("Expected a uid (a UUID).", field=f"{at}.{key}") from error


def _words(item: dict[str, Any], key: str, at: str, longest: int) -> list[str]:
    value = item.get(key)
    if not isinstance(value, list) or not all(
        isinstance(word, str) and len(word) <= longest for word in value
    ):
        raise InvalidInput("Expected a list of short texts.", field=f"{at}.{key}")
    return value


def _time(item: dict[str, Any], key: str, at: str, *, optional: bool = False) -> datetime | None:
    value = item.get(key)
    if value is None and optional:
        return None
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or timezone.is_naive(moment):
        raise InvalidInput("Expected an ISO 8601 time with its offset.", field=f"{at}.{key}")
    return moment


def _country(item: dict[str, Any], key: str, at: str) -> str:
    return _code(item.get(key), f"{at}.{key}")


def _code(value: Any, at: str) -> str:
    try:
        if not isinstance(value, str):
            raise ValidationError("Expected an ISO 3166-1 alpha-2 country code (e.g. KE).")
        validate_country_code(value)
    except ValidationError as error:
        raise InvalidInput(error.messages[0], field=at) from error
    return str(value)


def _language(item: dict[str, Any], key: str, at: str) -> str:
    value = item.get(key)
    try:
        validate_language_code(value)
    except ValidationError as error:
        raise InvalidInput(error.messages[0], field=f"{at}.{key}") from error
    return str(value)
