"""Importing paper sign-ups from workshops: a CSV with consent evidence on every row.

Decisions staff and tests rely on:

- All or nothing. A real run writes every valid row, in one transaction, only when no row
  has an error; otherwise it writes nothing. A dry run never writes. Both report every bad
  field of every bad row, and what the import does (or would do) with the rest.
- Rows are numbered from 1 after the header, one number per CSV record. Blank lines keep
  their number but are neither counted nor checked, so (no cell spanning lines) row N is
  line N + 1 of the file: the spreadsheet row N + 1.
- One number, one subscriber. Rows with the same number (once normalised) are merged:
  later rows' non-blank profile values win and tags add up. The one opt-in event has the
  earliest consent date and that row's evidence, plus the form references and row numbers
  of every row merged into it. Reports name the first row of a merged group.
- An existing subscriber of the organization with that number is merged: the file's
  profile values overwrite theirs (a language is then "chosen") and tags add up. Already
  subscribed: no new consent event. Opted out after the paper consent: skipped, stays out,
  profile untouched. Otherwise an `import` opt-in at the consent date; status and
  `joined_at` change exactly as `consent_record` would change them.
- Reports never carry a full phone number, and nothing here logs one.
"""

import csv
import io
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, TypeVar
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from outreach.addresses import normalize_phone_number
from outreach.channel_kinds import Scheme
from outreach.errors import InvalidInput
from outreach.models import (
    AgeBand,
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    Contact,
    Gender,
    LanguageSource,
    OnboardingStep,
    Organization,
    Region,
    Subscriber,
    User,
)
from outreach.onboarding import parse_age, parse_region
from outreach.privacy import mask_phone_number, mask_phone_numbers_in
from outreach.services.subscribers import _clean_tags
from outreach.validators import validate_language_code

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
EARLIEST_CONSENT = datetime(2000, 1, 1, tzinfo=UTC)
OPTED_OUT_LATER = "opted out by SMS after this consent; not re-subscribed"
TEXT_LIMITS = {
    "consent_method": 40,
    "consent_text_version": 40,  # ConsentEvent.consent_text_version
    "collected_by": 200,
    "form_reference": 200,
    "event": 200,
}
# What a merge may change on an existing subscriber; created_at and the channel stay theirs.
MERGED_FIELDS = (
    "language",
    "language_source",
    "region",
    "age_band",
    "gender",
    "tags",
    "consent_status",
    "joined_at",
    "updated_at",
)
GENDERS = frozenset(Gender.values)
_BAND_LOWEST_AGE = {AgeBand.A13_17: 13, AgeBand.A18_24: 18, AgeBand.A25_29: 25}

T = TypeVar("T")
logger = logging.getLogger(__name__)


@dataclass
class ImportReport:
    """What an import did; the API returns it as it is.

    `created` and `merged` count what the import does, or would do when it writes nothing
    (a dry run, or a file with errors). An error's `field` is None when the whole row is wrong.
    """

    dry_run: bool
    rows: int = 0  # non-blank data rows
    valid: int = 0  # rows without an error
    created: int = 0  # new subscribers
    merged: int = 0  # existing subscribers updated (with an opt-in when not subscribed)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {"row", "reason"}
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"row", "field", "reason"}
    imported: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def subscribers_import(
    *,
    organization: Organization,
    channel: Channel,
    file: IO[bytes] | bytes | str,
    dry_run: bool,
    recorded_by: User | None,
) -> ImportReport:
    """Check every row of a CSV of paper sign-ups; unless `dry_run`, import all of them or none.

    Row problems go into the report. A file that cannot be read as a whole (not UTF-8,
    no rows, unknown or missing columns, too many rows) raises InvalidInput on "file".
    """
    if channel.scheme not in Scheme.PHONE:
        raise InvalidInput(
            "Paper sign-ups are phone numbers: choose an SMS or WhatsApp channel.", field="channel"
        )
    report = ImportReport(dry_run=dry_run)
    rows = _read_rows(file, _RowParser(organization, channel), report)
    if dry_run or report.errors:
        _plan(organization, channel.scheme, rows, report, lock=False)
        return report
    try:
        with transaction.atomic():
            plan = _plan(organization, channel.scheme, rows, report, lock=True)
            _write(organization, channel, plan, recorded_by)
    except IntegrityError as error:
        if not _is_taken_address(error):
            raise
        # Someone on the list texted us between our check and our insert; all rolled back.
        raise InvalidInput(
            "Some of these numbers reached us by SMS during the import; nothing was "
            "imported. Run the import again.",
            field="file",
        ) from None
    report.imported = True
    logger.info(
        "Imported paper sign-ups for organization %s: %s created, %s merged, %s skipped.",
        organization.pk,
        report.created,
        report.merged,
        len(report.skipped),
    )
    return report


def _is_taken_address(error: IntegrityError) -> bool:
    return "one_subscriber_per_address" in str(error)  # PostgreSQL names the constraint


# --- reading ------------------------------------------------------------------------------


def _read_rows(
    file: IO[bytes] | bytes | str, parser: "_RowParser", report: ImportReport
) -> dict[str, "_Row"]:
    """Every valid row by normalised number, duplicates merged; every bad row into the report."""
    records = csv.reader(io.StringIO(_text(file)))
    rows: dict[str, _Row] = {}
    try:
        parser.set_columns(next(records))
        for number, cells in enumerate(records, start=1):
            if not any(cell.strip() for cell in cells):
                continue
            report.rows += 1
            if report.rows > MAX_ROWS:
                raise InvalidInput(
                    f"The file has more than {MAX_ROWS:,} rows; split it into smaller files.",
                    field="file",
                )
            row = parser.parse(number, cells)
            if isinstance(row, list):
                report.errors += row
            elif row.address in rows:
                rows[row.address].merge(row)
            else:
                rows[row.address] = row
    except csv.Error as error:
        raise InvalidInput(
            f"Line {records.line_num} cannot be read as CSV ({error}).", field="file"
        ) from None
    if not report.rows:
        raise InvalidInput("The file has a header but no rows.", field="file")
    report.valid = report.rows - len({error["row"] for error in report.errors})
    return rows


def _text(file: IO[bytes] | bytes | str) -> str:
    content = file if isinstance(file, bytes | str) else file.read()
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(
                "The file is not UTF-8 text; save it as 'CSV UTF-8'.", field="file"
            ) from None
    content = content.removeprefix("\ufeff")
    if not content.strip():
        raise InvalidInput("The file is empty.", field="file")
    return content


@dataclass(slots=True)
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
    consent_text_version: str
    consent_language: str
    evidence: dict[str, Any]
    form_references: list[str]
    rows: list[int]

    def merge(self, later: "_Row") -> None:
        """Fold a later row with the same number into this one."""
        if later.language_given:
            self.language, self.language_given = later.language, True
        self.region_id = later.region_id or self.region_id
        self.age_band = later.age_band or self.age_band
        self.gender = later.gender or self.gender
        self.tags = sorted({*self.tags, *later.tags})
        self.form_references += later.form_references
        self.rows += later.rows
        if later.consent_at < self.consent_at:
            self.consent_at = later.consent_at
            self.consent_text_version = later.consent_text_version
            self.consent_language = later.consent_language
            self.evidence = later.evidence


def _text_reader(name: str, *, required: bool) -> Callable[["_RowParser", dict[str, str]], str]:
    def read(_parser: "_RowParser", value: dict[str, str]) -> str:
        text = value[name]
        if required and not text:
            raise InvalidInput("Required for provable consent.", field=name)
        if len(text) > TEXT_LIMITS[name]:
            raise InvalidInput(f"At most {TEXT_LIMITS[name]} characters.", field=name)
        return text

    return read


class _RowParser:
    """Reads one CSV record into a `_Row`, or into the list of its errors."""

    def __init__(self, organization: Organization, channel: Channel) -> None:
        self.organization = organization
        self.country = channel.country
        self.zone = ZoneInfo(organization.timezone)
        self.now = timezone.now()
        self.regions = list(Region.objects.filter(organization=organization).order_by("name"))
        self.columns: dict[str, int] = {}
        self.width = 0
        # Workshops repeat dates, regions, ages and tags: each distinct text is read once.
        self._dates: dict[str, datetime] = {}
        self._regions: dict[str, int | None] = {}
        self._bands: dict[tuple[str, str], str] = {}
        self._tags: dict[str, list[str]] = {}

    def set_columns(self, header: Sequence[str]) -> None:
        names = [name.strip().lower() for name in header]
        problems = []
        unknown = sorted({n for n in names if n} - {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS})
        if unknown:
            problems.append(f"Unknown column(s): {', '.join(unknown)}.")
        missing = [name for name in REQUIRED_COLUMNS if name not in names]
        if missing:
            problems.append(f"Missing column(s): {', '.join(missing)}.")
        twice = sorted({n for n in names if n and names.count(n) > 1})
        if twice:
            problems.append(f"Column(s) given twice: {', '.join(twice)}.")
        if problems:
            expected = ", ".join([*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS])
            raise InvalidInput(f"{' '.join(problems)} Columns are: {expected}.", field="file")
        self.columns = {name: index for index, name in enumerate(names) if name}
        self.width = len(names)  # cells under a nameless column (a trailing comma) are ignored

    def parse(self, number: int, cells: list[str]) -> "_Row | list[dict[str, Any]]":
        width = len(cells)
        value = {
            name: cells[index].strip() if index < width else ""
            for name, index in self.columns.items()
        }
        for name in OPTIONAL_COLUMNS:
            value.setdefault(name, "")
        parsed: dict[str, Any] = {}
        errors = []
        for name, read in self._readers:
            try:
                parsed[name] = read(self, value)
            except InvalidInput as error:
                reason = mask_phone_numbers_in(error.message)
                errors.append({"row": number, "field": error.field or name, "reason": reason})
        if any(cell.strip() for cell in cells[self.width :]):
            reason = "More cells than the header has columns (a stray comma?)."
            errors.append({"row": number, "field": None, "reason": reason})
        if errors:
            return errors
        language = parsed["language"]
        return _Row(
            number=number,
            address=parsed["phone"],
            language=language or self.organization.default_language,
            language_given=bool(language),
            region_id=parsed["region"],
            age_band=parsed["age_band"],
            gender=parsed["gender"],
            tags=parsed["tags"],
            consent_at=parsed["consent_date"],
            consent_text_version=parsed["consent_text_version"],
            consent_language=(
                parsed["consent_language"] or language or self.organization.default_language
            ),
            evidence={
                "method": parsed["consent_method"],
                "collected_by": parsed["collected_by"],
                "form_reference": parsed["form_reference"],
                "event": parsed["event"],
                "row": number,
            },
            form_references=[parsed["form_reference"]] if parsed["form_reference"] else [],
            rows=[number],
        )

    def _phone(self, value: dict[str, str]) -> str:
        text = value["phone"]
        try:
            return normalize_phone_number(
                text, region=self.country, field="phone", mobile_only=True
            )
        except InvalidInput as error:
            message = (
                error.message.replace(text, mask_phone_number(text)) if text else error.message
            )
            raise InvalidInput(message, field="phone") from None

    def _language(self, value: dict[str, str]) -> str:
        language = value["language"].lower()
        if language and language not in self.organization.languages:
            raise InvalidInput(
                f"'{language}' is not one of the organization's languages: "
                f"{', '.join(self.organization.languages)}.",
                field="language",
            )
        return language

    def _region(self, value: dict[str, str]) -> int | None:
        text = value["region"]
        if not text:
            return None
        if text not in self._regions:
            region = parse_region(text, self.regions)
            self._regions[text] = region.pk if region else None
        if self._regions[text] is None:
            names = ", ".join(region.name for region in self.regions) or "none yet"
            raise InvalidInput(
                f"'{text}' is not one of the organization's regions ({names}).", field="region"
            )
        return self._regions[text]

    def _age_band(self, value: dict[str, str]) -> str:
        key = (value["age"], value["age_band"])
        if key not in self._bands:
            self._bands[key] = self._read_age_band(*key)
        return self._bands[key]

    def _read_age_band(self, age: str, band: str) -> str:
        minimum = self.organization.minimum_age
        under_age = f"under the minimum age ({minimum}): not imported"
        if age:
            answer = parse_age(age, minimum_age=minimum)
            if answer is None:
                raise InvalidInput(f"'{age}' is not an age.", field="age")
            if not answer.band:
                raise InvalidInput(under_age, field="age")
            return answer.band
        if not band:
            return ""
        band = band.lower().replace("-", "_").replace("+", "_plus")
        if band not in AgeBand.values:
            raise InvalidInput(f"Choose one of {', '.join(AgeBand.values)}.", field="age_band")
        if _BAND_LOWEST_AGE.get(band, minimum) < minimum:
            # The band reaches below the minimum age, so the paper cannot show they are old enough.
            raise InvalidInput(under_age, field="age_band")
        return band

    def _gender(self, value: dict[str, str]) -> str:
        gender = value["gender"].lower().replace(" ", "_").replace("-", "_")
        if gender and gender not in GENDERS:
            raise InvalidInput(f"Choose one of {', '.join(Gender.values)}.", field="gender")
        return gender

    def _tag_list(self, value: dict[str, str]) -> list[str]:
        text = value["tags"]
        if text not in self._tags:
            self._tags[text] = _clean_tags(text.split(";"))
        return list(self._tags[text])

    def _consent_date(self, value: dict[str, str]) -> datetime:
        text = value["consent_date"]
        if text not in self._dates:
            self._dates[text] = self._read_consent_date(text)
        return self._dates[text]

    def _read_consent_date(self, text: str) -> datetime:
        if not text:
            raise InvalidInput("Required: the date of the signed consent.", field="consent_date")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                f"'{text}' is not a date; write 2026-11-24 or 2026-11-24 10:30.",
                field="consent_date",
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        if moment > self.now:
            raise InvalidInput("A consent date cannot be in the future.", field="consent_date")
        if moment < EARLIEST_CONSENT:
            raise InvalidInput("A consent date before 2000 is surely a typo.", field="consent_date")
        return moment

    def _consent_language(self, value: dict[str, str]) -> str:
        language = value["consent_language"].lower()
        if language:
            try:
                validate_language_code(language)
            except ValidationError as error:
                raise InvalidInput(error.messages[0], field="consent_language") from None
        return language

    _readers: tuple[tuple[str, Callable[..., Any]], ...] = (
        ("phone", _phone),
        ("language", _language),
        ("region", _region),
        ("age_band", _age_band),  # from "age" or "age_band", whichever was given
        ("gender", _gender),
        ("tags", _tag_list),
        ("consent_date", _consent_date),
        ("consent_method", _text_reader("consent_method", required=True)),
        ("consent_text_version", _text_reader("consent_text_version", required=True)),
        ("consent_language", _consent_language),
        ("collected_by", _text_reader("collected_by", required=False)),
        ("form_reference", _text_reader("form_reference", required=False)),
        ("event", _text_reader("event", required=False)),
    )


# --- planning and writing -----------------------------------------------------------------


@dataclass
class _Plan:
    new: list[_Row] = field(default_factory=list)
    merged: list[tuple[Subscriber, _Row, bool]] = field(default_factory=list)  # bool: opt in


def _plan(
    organization: Organization,
    scheme: str,
    rows: dict[str, _Row],
    report: ImportReport,
    *,
    lock: bool,
) -> _Plan:
    """Sort rows into new and merged subscribers and skipped rows; counts go into the report.

    With `lock`, the existing subscribers are locked in address order (one order for every
    import, so two imports cannot deadlock), so no STOP can slip in between check and write.
    """
    plan = _Plan()
    for addresses in _chunks(sorted(rows)):
        existing = Subscriber.objects.filter(
            organization=organization, scheme=scheme, address__in=addresses
        )
        if lock:
            existing = existing.select_for_update().order_by("address")
        found = {subscriber.address: subscriber for subscriber in existing}
        opted_out = [s.pk for s in found.values() if s.consent_status == ConsentStatus.OPTED_OUT]
        last_opt_out = dict(
            ConsentEvent.objects.filter(subscriber_id__in=opted_out, kind=ConsentKind.OPT_OUT)
            .values("subscriber_id")
            .annotate(at=Max("occurred_at"))
            .values_list("subscriber_id", "at")
        )
        for address in addresses:
            row, subscriber = rows[address], found.get(address)
            if subscriber is None:
                plan.new.append(row)
            elif subscriber.consent_status == ConsentStatus.OPTED_IN:
                plan.merged.append((subscriber, row, False))
            elif last_opt_out.get(subscriber.pk, EARLIEST_CONSENT) > row.consent_at:
                report.skipped.append({"row": row.number, "reason": OPTED_OUT_LATER})
            else:
                plan.merged.append((subscriber, row, True))
    plan.new.sort(key=lambda row: row.number)
    report.skipped.sort(key=lambda skip: skip["row"])
    report.created, report.merged = len(plan.new), len(plan.merged)
    return plan


def _write(
    organization: Organization, channel: Channel, plan: _Plan, recorded_by: User | None
) -> None:
    """Write the plan in chunks: no query per row, whatever the file's size."""
    insert, update = _insert_by_copy, _update_by_copy
    now = timezone.now()
    for rows in _chunks(plan.new):
        contacts = _contacts_for(organization, channel.scheme, [row.address for row in rows], now)
        insert(
            Subscriber,
            [
                _new_subscriber(organization, channel, row, contacts[row.address], now)
                for row in rows
            ],
        )
        ids = _ids_by_address(organization, channel.scheme, [row.address for row in rows])
        insert(
            ConsentEvent,
            [_opt_in(ids[row.address], row, channel, recorded_by, now) for row in rows],
        )
    for merges in _chunks(plan.merged):
        update([_merge_into(subscriber, row, opt_in, now) for subscriber, row, opt_in in merges])
        insert(
            ConsentEvent,
            [_opt_in(s.pk, row, channel, recorded_by, now) for s, row, opt_in in merges if opt_in],
        )


def _contacts_for(
    organization: Organization, scheme: str, addresses: list[str], now: datetime
) -> dict[str, int]:
    """The person of each new address: the one with the same number on the other phone
    scheme (SMS and WhatsApp) if any, else a new contact (ids drawn in one query)."""
    found: dict[str, int] = {}
    if scheme in Scheme.PHONE:
        found = dict(
            Subscriber.objects.filter(
                organization=organization,
                scheme__in=[other for other in Scheme.PHONE if other != scheme],
                address__in=addresses,
            )
            .order_by("-pk")
            .values_list("address", "contact_id")
        )
    missing = [address for address in addresses if address not in found]
    if missing:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('outreach_contact', 'id')) "
                "FROM generate_series(1, %s)",
                [len(missing)],
            )
            ids = [row[0] for row in cursor.fetchall()]
        _insert_by_copy(
            Contact,
            [{"id": i, "organization_id": organization.pk, "created_at": now} for i in ids],
        )
        found |= dict(zip(missing, ids, strict=True))
    return found


def _new_subscriber(
    organization: Organization, channel: Channel, row: _Row, contact_id: int, now: datetime
) -> dict[str, Any]:
    return {
        "organization_id": organization.pk,
        "contact_id": contact_id,
        "channel_id": channel.pk,
        "scheme": channel.scheme,
        "address": row.address,
        "language": row.language,
        "language_source": (
            LanguageSource.CHOSEN if row.language_given else LanguageSource.DEFAULT
        ),
        "region_id": row.region_id,
        "age_band": row.age_band,
        "gender": row.gender,
        "tags": row.tags,
        "joined_keyword": "",
        "joined_at": row.consent_at,
        "consent_status": ConsentStatus.OPTED_IN,
        "onboarding_step": OnboardingStep.DONE,  # no SMS onboarding for paper sign-ups
        "created_at": now,
        "updated_at": now,
    }


def _opt_in(
    subscriber_id: int, row: _Row, channel: Channel, recorded_by: User | None, now: datetime
) -> dict[str, Any]:
    return {
        "organization_id": channel.organization_id,
        "subscriber_id": subscriber_id,
        "channel_id": channel.pk,
        "scheme": channel.scheme,
        "kind": ConsentKind.OPT_IN,
        "source": ConsentSource.IMPORT,
        "occurred_at": row.consent_at,
        "keyword_as_texted": "",
        "provider_message_id": "",
        "consent_text_version": row.consent_text_version,
        "consent_text_language": row.consent_language,
        "evidence": {**row.evidence, "form_references": row.form_references, "rows": row.rows},
        "recorded_by_id": recorded_by.pk if recorded_by else None,
        "recorded_at": now,
    }


def _merge_into(subscriber: Subscriber, row: _Row, opt_in: bool, now: datetime) -> Subscriber:
    if row.language_given:
        subscriber.language, subscriber.language_source = row.language, LanguageSource.CHOSEN
    subscriber.region_id = row.region_id or subscriber.region_id
    subscriber.age_band = row.age_band or subscriber.age_band
    subscriber.gender = row.gender or subscriber.gender
    subscriber.tags = sorted({*subscriber.tags, *row.tags})
    if opt_in:  # as consent_record: the import's opt-in is now the ledger's latest event
        subscriber.consent_status = ConsentStatus.OPTED_IN
        subscriber.joined_at = subscriber.joined_at or row.consent_at
    subscriber.updated_at = now
    return subscriber


def _ids_by_address(
    organization: Organization, scheme: str, addresses: list[str]
) -> dict[str, int]:
    return dict(
        Subscriber.objects.filter(
            organization=organization, scheme=scheme, address__in=addresses
        ).values_list("address", "id")
    )


# PostgreSQL's COPY: plain values streamed into the table, no SQL to build or parse per row.


def _insert_by_copy(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    if rows:
        _copy(model._meta.db_table, [model._meta.get_field(name).column for name in rows[0]], rows)


def _update_by_copy(subscribers: list[Subscriber]) -> None:
    table, quote = Subscriber._meta.db_table, connection.ops.quote_name
    fields = [Subscriber._meta.get_field(name) for name in ("id", *MERGED_FIELDS)]
    columns = [field.column for field in fields]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.subscriber_import_merge")
        cursor.execute(
            "CREATE TEMP TABLE subscriber_import_merge ON COMMIT DROP AS "  # noqa: S608 - names from the model
            f"SELECT {', '.join(map(quote, columns))} FROM {quote(table)} WITH NO DATA"
        )
        rows = [{f.column: getattr(s, f.attname) for f in fields} for s in subscribers]
        _copy("subscriber_import_merge", columns, rows)
        assignments = ", ".join(f"{quote(c)} = merge.{quote(c)}" for c in columns[1:])
        cursor.execute(
            f"UPDATE {quote(table)} AS subscriber SET {assignments} "  # noqa: S608 - names from the model
            "FROM subscriber_import_merge AS merge WHERE subscriber.id = merge.id"
        )
        cursor.execute("DROP TABLE pg_temp.subscriber_import_merge")


def _copy(table: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    quote = connection.ops.quote_name
    statement = f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN"
    json_keys = [key for key, value in rows[0].items() if isinstance(value, list | dict)]
    # Django wraps execute() only: wrap COPY too, so a unique violation is an IntegrityError.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        for values in rows:
            for key in json_keys:  # jsonb columns read JSON text
                values[key] = json.dumps(values[key])
            copy.write_row(tuple(values.values()))


def _chunks(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
