"""Writes on segments: the saved audiences managers compose and waves are sent to."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from campaigns.models import Segment
from outreach.errors import InvalidInput
from outreach.models import AgeBand, Channel, Gender, Organization, Region, User

FILTER_FIELDS = ("languages", "regions", "age_bands", "genders", "channels", "tags", "joined_since")
SEGMENT_FIELDS = ("name", "description", *FILTER_FIELDS)
NAME_MAX_LENGTH = Segment._meta.get_field("name").max_length
TAG_MAX_LENGTH = 40
EARLIEST_DAY = date(2000, 1, 1)  # before anyone joined; keeps the day's UTC start in range
SHOWN_WAVES = 5  # a refusal names this many of the waves that use the segment
_NAME_TAKEN = "A segment of that name exists already."


@transaction.atomic
def segment_create(
    *, organization: Organization, created_by: User | None, name: str, **filters: Any
) -> Segment:
    """Save a new audience; every filter left out or empty means "any"."""
    segment = Segment(organization=organization, created_by=created_by)
    return _apply(segment, {"name": name, **filters})


@transaction.atomic
def segment_update(*, segment: Segment, **changes: Any) -> Segment:
    """Change a segment's name, description or filters; fields left out stay as they are."""
    return _apply(segment, changes)


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    """Delete a segment; the subscribers it described are untouched.

    A segment a wave uses (even a sent or cancelled one, whose report names it) is refused.
    """
    try:
        segment.delete()
    except models.ProtectedError as error:
        names = sorted(f"'{wave.name}'" for wave in error.protected_objects)
        shown = ", ".join(names[:SHOWN_WAVES]) + (", …" if len(names) > SHOWN_WAVES else "")
        raise InvalidInput(
            f"{len(names)} wave(s) send to this segment ({shown}): it stays while a wave "
            "uses it (a draft wave can be given another segment).",
            field="segment",
        ) from error


def segment_filters_clean(*, organization: Organization, **filters: Any) -> dict[str, Any]:
    """Check and normalize audience filters, as saved or previewed; only given ones are returned.

    Regions and channels come as objects or ids and return as the organization's own objects.
    Raises InvalidInput naming the first field that is wrong.
    """
    _refuse_unknown(filters, FILTER_FIELDS)
    cleaners = {
        "languages": _clean_languages,
        "regions": _clean_regions,
        "age_bands": _clean_age_bands,
        "genders": _clean_genders,
        "channels": _clean_channels,
        "tags": _clean_tags,
        "joined_since": _clean_joined_since,
    }
    return {field: cleaners[field](organization, value) for field, value in filters.items()}


def _apply(segment: Segment, fields: dict[str, Any]) -> Segment:
    # Everything is checked before anything changes, so a refusal leaves the segment as it was.
    _refuse_unknown(fields, SEGMENT_FIELDS)
    organization = segment.organization
    changes = segment_filters_clean(
        organization=organization, **{k: v for k, v in fields.items() if k in FILTER_FIELDS}
    )
    if "name" in fields:
        changes["name"] = _clean_name(segment, fields["name"])
    if "description" in fields:
        changes["description"] = _clean_description(fields["description"])
    related = {field: changes.pop(field) for field in ("regions", "channels") if field in changes}
    for field, value in changes.items():
        setattr(segment, field, value)
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as error:  # a concurrent save of the same name
        raise InvalidInput(_NAME_TAKEN, field="name") from error
    for field, objects in related.items():
        getattr(segment, field).set(objects)
    return segment


def _refuse_unknown(fields: dict[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise InvalidInput(f"'{unknown[0]}' is not a segment setting.", field=unknown[0])


def _clean_name(segment: Segment, name: Any) -> str:
    name = str(name or "").strip()
    if not name:
        raise InvalidInput("Give the segment a name.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"A name has at most {NAME_MAX_LENGTH} characters.", field="name")
    clash = Segment.objects.filter(organization=segment.organization, name__iexact=name)
    if clash.exclude(pk=segment.pk).exists():
        raise InvalidInput(_NAME_TAKEN, field="name")
    return name


def _clean_description(description: Any) -> str:
    return str(description or "").strip()


def _clean_languages(organization: Organization, languages: Any) -> list[str]:
    codes = _distinct(_as_list(languages, "languages", text=True))
    allowed = organization.languages
    if any(code not in allowed for code in codes):
        raise InvalidInput(
            f"Choose from the organization's languages: {', '.join(allowed)}.", field="languages"
        )
    return codes


def _clean_age_bands(organization: Organization, age_bands: Any) -> list[str]:
    return _choices(age_bands, AgeBand.values, "age_bands")


def _clean_genders(organization: Organization, genders: Any) -> list[str]:
    return _choices(genders, Gender.values, "genders")


def _clean_regions(organization: Organization, regions: Any) -> list[Region]:
    return _owned(Region, organization, regions, "regions", "region")


def _clean_channels(organization: Organization, channels: Any) -> list[Channel]:
    return _owned(Channel, organization, channels, "channels", "channel")


def _clean_tags(organization: Organization, tags: Any) -> list[str]:
    cleaned = _distinct(tag.strip().lower() for tag in _as_list(tags, "tags", text=True))
    cleaned = [tag for tag in cleaned if tag]
    if any(len(tag) > TAG_MAX_LENGTH for tag in cleaned):
        raise InvalidInput(f"A tag has at most {TAG_MAX_LENGTH} characters.", field="tags")
    return cleaned


def _clean_joined_since(organization: Organization, joined_since: Any) -> date | None:
    if joined_since is None:
        return None
    if isinstance(joined_since, datetime) or not isinstance(joined_since, date):
        raise InvalidInput("A day, e.g. 2026-11-24.", field="joined_since")
    if joined_since < EARLIEST_DAY:
        raise InvalidInput(f"A day from {EARLIEST_DAY.isoformat()} on.", field="joined_since")
    today = timezone.localdate(timezone=ZoneInfo(organization.timezone))
    if joined_since > today:
        raise InvalidInput(
            f"A day in the past or today ({today.isoformat()}), not in the future.",
            field="joined_since",
        )
    return joined_since


def _choices(values: Any, allowed: list[str], field: str) -> list[str]:
    chosen = _distinct(_as_list(values, field, text=True))
    if any(value not in allowed for value in chosen):
        raise InvalidInput(f"Choose from {', '.join(allowed)}.", field=field)
    return chosen


def _owned(
    model: type[Region] | type[Channel],
    organization: Organization,
    values: Any,
    field: str,
    noun: str,
) -> list[Any]:
    # Objects are looked up again by id, so one of another organization is refused, not kept.
    given = _as_list(values, field)
    ids = [value.pk if isinstance(value, models.Model) else value for value in given]
    if any(isinstance(pk, bool) or not isinstance(pk, int) for pk in ids):
        raise InvalidInput(f"A list of {noun} ids.", field=field)
    ids = _distinct(ids)
    found = {obj.pk: obj for obj in model.objects.filter(organization=organization, pk__in=ids)}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise InvalidInput(
            f"No such {noun} in this organization: {', '.join(missing)}.", field=field
        )
    return [found[pk] for pk in ids]


def _as_list(values: Any, field: str, *, text: bool = False) -> list[Any]:
    if isinstance(values, str | bytes | dict) or not isinstance(values, Iterable):
        raise InvalidInput("A list, e.g. [] for any.", field=field)
    items = list(values)
    if text and not all(isinstance(item, str) for item in items):
        raise InvalidInput("A list of text values.", field=field)
    return items


def _distinct(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))
