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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from outreach.addresses import normalize_phone_number
from outreach.channel_kinds import Scheme
from outreach.errors import InvalidInput
from outreach.models import (
    AgeBand,
    Channel,
    Gender,
    LanguageSource,
    OnboardingStep,
    Organization,
    Region,
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
EARLIEST_CONSENT = datetime(2000, 1, 1, tzinfo=UTC)
NUL_IN_CELL = "Contains a NUL character; save the file again as CSV."
OPTED_OUT_LATER = "opted out by SMS after this consent; not re-subscribed"
TEXT_LIMITS = {
    "consent_method": 40,
    "consent_text_version": 40,  # ConsentEvent.consent_text_version
    "collected_by": 200,
    "form_reference": 200,
    "event": 200,
}
GENDERS = frozenset(Gender.values)
_BAND_LOWEST_AGE = {AgeBand.A13_17: 13, AgeBand.A18_24: 18, AgeBand.A25_29: 25}

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
        with transaction.atomic():  # the staging table lives as long as the transaction
            _plan(organization, channel.scheme, rows, report, lock=False)
            _drop_stage()
        return report
    try:
        with transaction.atomic():
            _plan(organization, channel.scheme, rows, report, lock=True)
            _write(organization, channel, recorded_by)
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
            if not "".join(cells).strip():  # no cell but blanks
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
    # The evidence of the row with the earliest consent, which the opt-in event keeps.
    method: str
    collected_by: str
    form_reference: str
    event: str
    evidence_row: int
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
            self.method, self.collected_by = later.method, later.collected_by
            self.form_reference, self.event = later.form_reference, later.event
            self.evidence_row = later.evidence_row


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
        self._numbers: dict[str, str | InvalidInput] = {}  # a file given twice, a reprint
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
        self._missing = dict.fromkeys(set(OPTIONAL_COLUMNS) - set(self.columns), "")
        self.width = len(names)  # cells under a nameless column (a trailing comma) are ignored

    def parse(self, number: int, cells: list[str]) -> "_Row | list[dict[str, Any]]":
        if len(cells) >= self.width:
            value = {name: cells[index].strip() for name, index in self.columns.items()}
        else:
            width = len(cells)
            value = {
                name: cells[index].strip() if index < width else ""
                for name, index in self.columns.items()
            }
        value.update(self._missing)
        parsed: dict[str, Any] = {}
        errors = []
        if "\x00" in "".join(value.values()):  # PostgreSQL's text cannot hold one
            errors = [
                {"row": number, "field": name, "reason": NUL_IN_CELL}
                for name, text in value.items()
                if "\x00" in text
            ]
            return errors
        for name, read in self._readers:
            try:
                parsed[name] = read(self, value)
            except InvalidInput as error:
                reason = mask_phone_numbers_in(error.message)
                errors.append({"row": number, "field": error.field or name, "reason": reason})
        if len(cells) > self.width and "".join(cells[self.width :]).strip():
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
            method=parsed["consent_method"],
            collected_by=parsed["collected_by"],
            form_reference=parsed["form_reference"],
            event=parsed["event"],
            evidence_row=number,
            form_references=[parsed["form_reference"]] if parsed["form_reference"] else [],
            rows=[number],
        )

    def _phone(self, value: dict[str, str]) -> str:
        text = value["phone"]
        if text not in self._numbers:
            try:
                self._numbers[text] = self._read_phone(text)
            except InvalidInput as error:
                self._numbers[text] = error
        number = self._numbers[text]
        if isinstance(number, InvalidInput):
            raise InvalidInput(number.message, field="phone")
        return number

    def _read_phone(self, text: str) -> str:
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
#
# Set-based: the merged rows are streamed once into a temporary table (COPY), and a few
# statements plan and write every row at once. The database does the per-row work in C.

STAGE = "subscriber_import_row"
STAGED_COLUMNS = (
    "number",
    "address",
    "language",
    "language_given",
    "region_id",
    "age_band",
    "gender",
    "tags",
    "consent_at",
    "consent_text_version",
    "consent_language",
    "method",
    "collected_by",
    "form_reference",
    "event",
    "evidence_row",
    "form_references",
    "rows",
)
_CREATE_STAGE = f"""
    CREATE TEMP TABLE {STAGE} (
        number integer PRIMARY KEY,
        address text NOT NULL,
        language text NOT NULL,
        language_given boolean NOT NULL,
        region_id bigint,
        age_band text NOT NULL,
        gender text NOT NULL,
        tags jsonb NOT NULL,
        consent_at timestamptz NOT NULL,
        consent_text_version text NOT NULL,
        consent_language text NOT NULL,
        method text NOT NULL,
        collected_by text NOT NULL,
        form_reference text NOT NULL,
        event text NOT NULL,
        evidence_row integer NOT NULL,
        form_references jsonb,  -- NULL: [form_reference], or [] when blank (a row merged with none)
        rows jsonb,  -- NULL: [number]
        subscriber_id bigint,  -- the existing subscriber, after planning
        action text  -- NULL: new; else one of Action
    ) ON COMMIT DROP
"""
# What happens to a row whose number is already a subscriber of the organization.
_FOUND = f"""
    SELECT
        row.number,
        subscriber.id,
        CASE
            WHEN subscriber.consent_status = 'opted_in' THEN 'merge'
            WHEN subscriber.consent_status = 'opted_out' AND (
                SELECT max(opt_out.occurred_at) FROM outreach_consentevent AS opt_out
                WHERE opt_out.subscriber_id = subscriber.id AND opt_out.kind = 'opt_out'
            ) > row.consent_at THEN 'skip'
            ELSE 'opt_in'
        END AS action
    FROM {STAGE} AS row
    JOIN outreach_subscriber AS subscriber
        ON subscriber.organization_id = %(organization)s
        AND subscriber.scheme = %(scheme)s
        AND subscriber.address = row.address
    ORDER BY subscriber.address
"""  # noqa: S608 - built from constants, no input
# Locked in address order (one order for every import, so two imports cannot deadlock), in a
# statement of its own: the plan's statement then sees every STOP that committed while this
# one waited for its row (a locking statement re-reads the row, not its subqueries), and no
# STOP can slip in between check and write. The plan is kept beside each row.
_LOCK = f"""
    SELECT subscriber.id
    FROM {STAGE} AS row
    JOIN outreach_subscriber AS subscriber
        ON subscriber.organization_id = %(organization)s
        AND subscriber.scheme = %(scheme)s
        AND subscriber.address = row.address
    ORDER BY subscriber.address
    FOR UPDATE OF subscriber
"""  # noqa: S608 - built from constants, no input
_FOUND_AND_LOCKED = f"""
    WITH found AS MATERIALIZED ({_FOUND})
    UPDATE {STAGE} AS row SET subscriber_id = found.id, action = found.action
    FROM found WHERE row.number = found.number
    RETURNING row.number, row.action
"""  # noqa: S608 - built from constants, no input
_EVIDENCE = """jsonb_build_object(
    'method', row.method,
    'collected_by', row.collected_by,
    'form_reference', row.form_reference,
    'event', row.event,
    'row', row.evidence_row,
    'form_references', COALESCE(
        row.form_references,
        CASE WHEN row.form_reference = '' THEN '[]'::jsonb
        ELSE jsonb_build_array(row.form_reference) END
    ),
    'rows', COALESCE(row.rows, jsonb_build_array(row.number))
)"""
_OPT_IN_COLUMNS = """
    organization_id, subscriber_id, channel_id, scheme, kind, source, occurred_at,
    keyword_as_texted, provider_message_id, consent_text_version, consent_text_language,
    evidence, recorded_by_id, recorded_at
"""
_OPT_IN_VALUES = f"""
    %(organization)s, {{subscriber_id}}, %(channel)s, %(scheme)s, 'opt_in', 'import',
    row.consent_at, '', '', row.consent_text_version, row.consent_language,
    {_EVIDENCE}, %(recorded_by)s, %(now)s
"""
# New numbers: a person each (the one with the same number on the other phone scheme, SMS
# or WhatsApp, if any), a subscriber and its opt-in, in row order.
_INSERT_NEW = f"""
    WITH new AS MATERIALIZED (
        SELECT
            row.*,
            other.contact_id AS known_contact_id,
            COALESCE(other.contact_id, nextval(%(contact_sequence)s::regclass)) AS contact_id
        FROM {STAGE} AS row
        LEFT JOIN LATERAL (
            SELECT other.contact_id FROM outreach_subscriber AS other
            WHERE other.organization_id = %(organization)s
                AND other.scheme = ANY(%(other_schemes)s)
                AND other.address = row.address
            ORDER BY other.id
            LIMIT 1
        ) AS other ON true
        WHERE row.action IS NULL
    ), contacts AS (
        INSERT INTO outreach_contact (id, organization_id, created_at)
        SELECT contact_id, %(organization)s, %(now)s FROM new WHERE known_contact_id IS NULL
    ), subscribers AS (
        INSERT INTO outreach_subscriber (
            organization_id, contact_id, channel_id, scheme, address, language,
            language_source, region_id, age_band, gender, tags, joined_keyword, joined_at,
            consent_status, onboarding_step, created_at, updated_at
        )
        SELECT
            %(organization)s, row.contact_id, %(channel)s, %(scheme)s, row.address,
            row.language,
            CASE WHEN row.language_given THEN %(chosen)s ELSE %(default)s END,
            row.region_id, row.age_band, row.gender, row.tags, '', row.consent_at,
            'opted_in', %(done)s, %(now)s, %(now)s
        FROM new AS row
        ORDER BY row.number
        RETURNING id, address
    )
    INSERT INTO outreach_consentevent ({_OPT_IN_COLUMNS})
    SELECT {_OPT_IN_VALUES.format(subscriber_id="subscribers.id")}
    FROM new AS row JOIN subscribers USING (address)
    ORDER BY row.number
"""  # noqa: S608 - built from constants, no input
# Existing numbers: the file's profile values overwrite theirs, tags add up; an opt-in
# changes status and `joined_at` as consent_record would. created_at and the channel stay.
_UPDATE_MERGED = f"""
    UPDATE outreach_subscriber AS subscriber SET
        language = CASE WHEN row.language_given THEN row.language ELSE subscriber.language END,
        language_source = CASE
            WHEN row.language_given THEN %(chosen)s ELSE subscriber.language_source
        END,
        region_id = COALESCE(row.region_id, subscriber.region_id),
        age_band = COALESCE(NULLIF(row.age_band, ''), subscriber.age_band),
        gender = COALESCE(NULLIF(row.gender, ''), subscriber.gender),
        tags = (
            SELECT COALESCE(jsonb_agg(tag ORDER BY tag COLLATE "C"), '[]'::jsonb)  -- as sorted()
            FROM (
                SELECT DISTINCT jsonb_array_elements_text(subscriber.tags || row.tags) AS tag
            ) AS tags
        ),
        consent_status = CASE
            WHEN row.action = 'opt_in' THEN 'opted_in' ELSE subscriber.consent_status
        END,
        joined_at = CASE
            WHEN row.action = 'opt_in' THEN COALESCE(subscriber.joined_at, row.consent_at)
            ELSE subscriber.joined_at
        END,
        updated_at = %(now)s
    FROM {STAGE} AS row
    WHERE subscriber.id = row.subscriber_id AND row.action IN ('merge', 'opt_in')
"""  # noqa: S608 - built from constants, no input
_INSERT_MERGED_OPT_INS = f"""
    INSERT INTO outreach_consentevent ({_OPT_IN_COLUMNS})
    SELECT {_OPT_IN_VALUES.format(subscriber_id="row.subscriber_id")}
    FROM {STAGE} AS row
    WHERE row.action = 'opt_in'
    ORDER BY row.address
"""  # noqa: S608 - built from constants, no input


def _plan(
    organization: Organization,
    scheme: str,
    rows: dict[str, _Row],
    report: ImportReport,
    *,
    lock: bool,
) -> None:
    """Stage the rows and sort them into new and merged subscribers and skipped rows; counts
    go into the report. With `lock`, the existing subscribers are locked until the end."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGE}")
        # Few statements over many rows: the plans are simple, compiling them (JIT) is not.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(_CREATE_STAGE)
        _copy(STAGE, STAGED_COLUMNS, _staged(rows.values()))
        # Its row count and numbers, for the planner: a temporary table has no statistics.
        cursor.execute(f"ANALYZE {STAGE} (number, address)")
        if lock:
            cursor.execute(_LOCK, {"organization": organization.pk, "scheme": scheme})
            cursor.execute(_FOUND_AND_LOCKED, {"organization": organization.pk, "scheme": scheme})
            found = cursor.fetchall()
        else:
            cursor.execute(_FOUND, {"organization": organization.pk, "scheme": scheme})
            found = [(number, action) for number, _, action in cursor.fetchall()]
    skipped = sorted(number for number, action in found if action == "skip")
    report.skipped = [{"row": number, "reason": OPTED_OUT_LATER} for number in skipped]
    report.created = len(rows) - len(found)
    report.merged = len(found) - len(skipped)


def _write(organization: Organization, channel: Channel, recorded_by: User | None) -> None:
    """Write the planned rows: a handful of statements, whatever the file's size."""
    parameters = {
        "organization": organization.pk,
        "channel": channel.pk,
        "scheme": channel.scheme,
        "other_schemes": [other for other in Scheme.PHONE if other != channel.scheme],
        "recorded_by": recorded_by.pk if recorded_by else None,
        "now": timezone.now(),
        "chosen": LanguageSource.CHOSEN,
        "default": LanguageSource.DEFAULT,
        "done": OnboardingStep.DONE,  # no SMS onboarding for paper sign-ups
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('outreach_contact', 'id')")
        parameters["contact_sequence"] = cursor.fetchone()[0]
        cursor.execute(_INSERT_NEW, parameters)
        cursor.execute(_UPDATE_MERGED, parameters)
        cursor.execute(_INSERT_MERGED_OPT_INS, parameters)
    _drop_stage()


def _staged(rows: Iterable[_Row]) -> Iterator[tuple[Any, ...]]:
    """Each row as the staging table's columns; JSON only where a row merged others."""
    dumps, tags_json = json.dumps, {(): "[]"}
    for row in rows:
        tags = tuple(row.tags)
        if tags not in tags_json:
            tags_json[tags] = dumps(row.tags)
        merged = len(row.rows) > 1
        yield (
            row.number,
            row.address,
            row.language,
            row.language_given,
            row.region_id,
            row.age_band,
            row.gender,
            tags_json[tags],
            row.consent_at,
            row.consent_text_version,
            row.consent_language,
            row.method,
            row.collected_by,
            row.form_reference,
            row.event,
            row.evidence_row,
            dumps(row.form_references) if merged else None,
            dumps(row.rows) if merged else None,
        )


def _copy(table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """PostgreSQL's COPY: plain values streamed into the table, no SQL to build or parse per row."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for values in rows:
            copy.write_row(values)


def _drop_stage() -> None:
    # ON COMMIT DROP is not enough inside a caller's transaction (a test's, a console view's).
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE pg_temp.{STAGE}")
