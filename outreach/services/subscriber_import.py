"""Importing paper sign-ups from workshops: a CSV with consent evidence for every row.

All or nothing: a real run imports every valid row only when no row has an error;
otherwise it imports nothing and reports every bad row (a dry run always just reports).
Rows are numbered from 1, the header not counted. Rows with the same number are merged
into one subscriber: later non-blank values win, the earliest consent date is kept, and
the one opt-in event lists every form reference. An existing subscriber is merged too;
one who opted out by SMS after the paper consent is skipped and stays opted out.
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from outreach.addresses import normalize_phone_number
from outreach.errors import InvalidInput
from outreach.models import (
    AgeBand,
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    Gender,
    LanguageSource,
    OnboardingStep,
    Organization,
    Region,
    Subscriber,
    User,
)
from outreach.onboarding import parse_age, parse_region
from outreach.privacy import mask_phone_number

REQUIRED_COLUMNS = ("phone", "consent_date", "consent_method", "consent_text_version")
OPTIONAL_COLUMNS = (
    "language",
    "region",
    "age",
    "age_band",
    "gender",
    "tags",
    "consent_language",
    "collected_by",
    "form_reference",
    "event",
)
MAX_ROWS = 200_000
CHUNK = 5_000
PROFILE_FIELDS = ("language", "language_source", "region", "age_band", "gender", "tags")


@dataclass
class ImportReport:
    dry_run: bool
    rows: int = 0
    valid: int = 0
    created: int = 0
    merged: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    imported: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Row:
    number: int
    address: str
    language: str
    language_given: bool
    region_id: int | None
    age_band: str
    gender: str
    tags: list[str]
    consent_at: datetime
    consent_language: str
    evidence: dict[str, Any]
    form_references: list[str] = field(default_factory=list)


def subscribers_import(
    *,
    organization: Organization,
    channel: Channel,
    file: IO[bytes] | IO[str] | bytes | str,
    dry_run: bool,
    recorded_by: User | None,
) -> ImportReport:
    """Check every row; unless dry_run, import them all in one transaction, or none."""
    report = ImportReport(dry_run=dry_run)
    reader = _reader(file)
    _check_columns(reader.fieldnames)
    parser = _RowParser(organization, channel)
    rows: dict[str, _Row] = {}
    for number, raw in enumerate(reader, start=1):
        if number > MAX_ROWS:
            raise InvalidInput(f"At most {MAX_ROWS:,} rows in one file; split it.", field="file")
        report.rows = number
        try:
            row = parser.parse(number, raw)
        except InvalidInput as error:
            report.errors.append({"row": number, "field": error.field, "reason": error.message})
            continue
        _merge_into(rows, row)
    if report.rows == 0:
        raise InvalidInput("The file has a header but no rows.", field="file")
    report.valid = report.rows - len(report.errors)
    plan = _plan(organization, rows, report)
    if dry_run or report.errors:
        report.created, report.merged = len(plan.new), len(plan.merged)
        return report
    with transaction.atomic():
        _write(organization, channel, plan, recorded_by, report)
    report.imported = True
    return report


# --- parsing -----------------------------------------------------------------------------


class _RowParser:
    def __init__(self, organization: Organization, channel: Channel) -> None:
        self.organization = organization
        self.channel = channel
        self.zone = ZoneInfo(organization.timezone)
        self.regions = list(Region.objects.filter(organization=organization).order_by("name"))
        self._region_cache: dict[str, int | None] = {}
        self.now = timezone.now()

    def parse(self, number: int, raw: dict[str, str | None]) -> _Row:
        value = {key: (text or "").strip() for key, text in raw.items() if key}
        address = normalize_phone_number(
            value.get("phone", ""), region=self.channel.country, field="phone", mobile_only=True
        )
        language = value.get("language", "").lower()
        if language and language not in self.organization.languages:
            raise InvalidInput(
                f"'{language}' is not one of {', '.join(self.organization.languages)}.",
                field="language",
            )
        consent_at = self._consent_at(value.get("consent_date", ""))
        for required in ("consent_method", "consent_text_version"):
            if not value.get(required):
                raise InvalidInput("Required for provable consent.", field=required)
        consent_language = (
            value.get("consent_language", "").lower()
            or language
            or (self.organization.default_language)
        )
        evidence = {
            "method": value["consent_method"][:40],
            "consent_text_version": value["consent_text_version"][:40],
            "collected_by": value.get("collected_by", "")[:100],
            "event": value.get("event", "")[:100],
            "row": number,
        }
        reference = value.get("form_reference", "")[:60]
        return _Row(
            number=number,
            address=address,
            language=language or self.organization.default_language,
            language_given=bool(language),
            region_id=self._region(value.get("region", "")),
            age_band=self._age_band(value.get("age", ""), value.get("age_band", "")),
            gender=self._gender(value.get("gender", "")),
            tags=sorted(
                {t.strip().lower()[:40] for t in value.get("tags", "").split(";") if t.strip()}
            ),
            consent_at=consent_at,
            consent_language=consent_language,
            evidence=evidence,
            form_references=[reference] if reference else [],
        )

    def _consent_at(self, text: str) -> datetime:
        if not text:
            raise InvalidInput("Required for provable consent.", field="consent_date")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            try:
                moment = datetime.combine(date.fromisoformat(text), time(0, 0))
            except ValueError as error:
                raise InvalidInput(
                    f"'{text}' is not a date (use 2026-11-24 or 2026-11-24T10:30).",
                    field="consent_date",
                ) from error
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        if moment > self.now:
            raise InvalidInput("A consent date cannot be in the future.", field="consent_date")
        return moment

    def _region(self, text: str) -> int | None:
        if not text:
            return None
        if text not in self._region_cache:
            region = parse_region(text, self.regions)
            self._region_cache[text] = region.pk if region else None
        if self._region_cache[text] is None:
            raise InvalidInput(
                f"'{text}' is not one of the organization's regions.", field="region"
            )
        return self._region_cache[text]

    def _age_band(self, age: str, band: str) -> str:
        minimum = self.organization.minimum_age
        if age:
            parsed = parse_age(age, minimum_age=minimum)
            if parsed is None:
                raise InvalidInput(f"'{age}' is not an age.", field="age")
            if not parsed.band:
                raise InvalidInput(f"Under the minimum age ({minimum}): not imported.", field="age")
            return parsed.band
        if not band:
            return ""
        if band not in AgeBand.values:
            raise InvalidInput(f"Choose one of {', '.join(AgeBand.values)}.", field="age_band")
        if band == AgeBand.A13_17 and minimum >= 18:
            raise InvalidInput(
                f"Under the minimum age ({minimum}): not imported.", field="age_band"
            )
        return band

    def _gender(self, text: str) -> str:
        gender = text.lower().replace(" ", "_")
        if gender and gender not in Gender.values:
            raise InvalidInput(f"Choose one of {', '.join(Gender.values)}.", field="gender")
        return gender


def _reader(file: IO[bytes] | IO[str] | bytes | str) -> csv.DictReader:
    content = file if isinstance(file, bytes | str) else file.read()
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InvalidInput("The file is not UTF-8 text.", field="file") from error
    content = content.lstrip("\ufeff")
    if not content.strip():
        raise InvalidInput("The file is empty.", field="file")
    reader = csv.DictReader(io.StringIO(content))
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
    return reader


def _check_columns(columns: Iterable[str] | None) -> None:
    columns = list(columns or [])
    unknown = sorted(set(columns) - set(REQUIRED_COLUMNS) - set(OPTIONAL_COLUMNS) - {""})
    if unknown:
        raise InvalidInput(f"Unknown column(s): {', '.join(unknown)}.", field="file")
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise InvalidInput(f"Missing column(s): {', '.join(missing)}.", field="file")


def _merge_into(rows: dict[str, _Row], row: _Row) -> None:
    earlier = rows.get(row.address)
    if earlier is None:
        rows[row.address] = row
        return
    for name in ("region_id", "age_band", "gender"):
        if getattr(row, name):
            setattr(earlier, name, getattr(row, name))
    if row.language_given:
        earlier.language, earlier.language_given = row.language, True
    earlier.tags = sorted(set(earlier.tags) | set(row.tags))
    earlier.form_references += row.form_references
    if row.consent_at < earlier.consent_at:
        earlier.consent_at, earlier.evidence = row.consent_at, row.evidence
        earlier.consent_language = row.consent_language


# --- planning and writing ---------------------------------------------------------------


@dataclass
class _Plan:
    new: list[_Row] = field(default_factory=list)
    merged: list[tuple[Subscriber, _Row, bool]] = field(default_factory=list)  # bool: opt in


def _plan(organization: Organization, rows: dict[str, _Row], report: ImportReport) -> _Plan:
    plan = _Plan()
    addresses = list(rows)
    for start in range(0, len(addresses), CHUNK):
        chunk = addresses[start : start + CHUNK]
        existing = {
            s.address: s
            for s in Subscriber.objects.filter(organization=organization, address__in=chunk)
        }
        last_opt_out = dict(
            ConsentEvent.objects.filter(
                subscriber__in=[s.pk for s in existing.values()], kind=ConsentKind.OPT_OUT
            )
            .values("subscriber_id")
            .annotate(at=Max("occurred_at"))
            .values_list("subscriber_id", "at")
        )
        for address in chunk:
            row, subscriber = rows[address], existing.get(address)
            if subscriber is None:
                plan.new.append(row)
                continue
            opted_out_at = last_opt_out.get(subscriber.pk)
            if (
                subscriber.consent_status == ConsentStatus.OPTED_OUT
                and opted_out_at
                and (opted_out_at > row.consent_at)
            ):
                report.skipped.append(
                    {
                        "row": row.number,
                        "phone": mask_phone_number(address),
                        "reason": "opted out by SMS after this consent; not re-subscribed",
                    }
                )
                continue
            opt_in = subscriber.consent_status != ConsentStatus.OPTED_IN
            plan.merged.append((subscriber, row, opt_in))
    return plan


def _write(
    organization: Organization,
    channel: Channel,
    plan: _Plan,
    recorded_by: User | None,
    report: ImportReport,
) -> None:
    new = [
        Subscriber(
            organization=organization,
            channel=channel,
            address=row.address,
            language=row.language,
            language_source=LanguageSource.CHOSEN if row.language_given else LanguageSource.DEFAULT,
            region_id=row.region_id,
            age_band=row.age_band,
            gender=row.gender,
            tags=row.tags,
            joined_at=row.consent_at,
            consent_status=ConsentStatus.OPTED_IN,
            onboarding_step=OnboardingStep.DONE,
        )
        for row in plan.new
    ]
    created = Subscriber.objects.bulk_create(new, batch_size=CHUNK)
    events = [
        _event(s, row, channel, recorded_by) for s, row in zip(created, plan.new, strict=True)
    ]
    for subscriber, row, _opt_in in plan.merged:
        if row.language_given:
            subscriber.language, subscriber.language_source = row.language, LanguageSource.CHOSEN
        subscriber.region_id = row.region_id or subscriber.region_id
        subscriber.age_band = row.age_band or subscriber.age_band
        subscriber.gender = row.gender or subscriber.gender
        subscriber.tags = sorted(set(subscriber.tags) | set(row.tags))
    Subscriber.objects.bulk_update([s for s, _, _ in plan.merged], PROFILE_FIELDS, batch_size=CHUNK)
    reopened = [(s, row) for s, row, opt_in in plan.merged if opt_in]
    events += [_event(s, row, channel, recorded_by) for s, row in reopened]
    ConsentEvent.objects.bulk_create(events, batch_size=CHUNK)
    for subscriber, row in reopened:
        # The status follows the ledger: the import's opt-in is the latest event.
        Subscriber.objects.filter(pk=subscriber.pk).update(
            consent_status=ConsentStatus.OPTED_IN,
            joined_at=subscriber.joined_at or row.consent_at,
            updated_at=timezone.now(),
        )
    report.created, report.merged = len(created), len(plan.merged)


def _event(subscriber: Subscriber, row: _Row, channel: Channel, by: User | None) -> ConsentEvent:
    return ConsentEvent(
        organization_id=subscriber.organization_id,
        subscriber=subscriber,
        channel=channel,
        kind=ConsentKind.OPT_IN,
        source=ConsentSource.IMPORT,
        occurred_at=row.consent_at,
        consent_text_version=row.evidence["consent_text_version"],
        consent_text_language=row.consent_language,
        evidence={**row.evidence, "form_references": row.form_references},
        recorded_by=by,
    )
