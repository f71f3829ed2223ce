"""Importing 100,000 paper sign-ups from a CSV, in one process on a fresh database:

ours     subscribers_import: parse and check every row in one pass, stage the merged rows by
         COPY, then plan and write them in a few set-based statements, one transaction; its
         dry run (check only) is timed too
naive    per row: normalise the number, subscriber_for_address, set the profile, save,
         consent_record; on all rows if that fits in about 4 minutes, else on the first 20,000
limit    PostgreSQL COPY of the same subscriber rows into a bare temp table (no checks,
         no ledger, no indexes): what the database alone can take
"""

import datetime as dt
import io
import os
import time

from bench.harness import fresh_database, save

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))  # smaller while developing
NAIVE_SAMPLE = min(20_000, ROWS)
NAIVE_BUDGET_SECONDS = 240
LANGUAGES = ["en", "sw", "sw", "en", "fr"]
REGIONS = ["Nairobi", "Mombasa", "Kisumu", "Nakuru", "Eldoret"]
GENDERS = ["female", "male", "", "female", "prefer_not_to_say"]
HEADER = (
    "phone,language,region,age,gender,tags,consent_date,consent_method,"
    "consent_text_version,collected_by,form_reference,event"
)


def run() -> dict:
    os.environ.update(fresh_database("amani_bench_import"))
    import django

    django.setup()
    from outreach.models import ChannelKind, Region
    from outreach.services.channels import channel_create
    from outreach.services.organizations import organization_create
    from outreach.services.subscriber_import import subscribers_import

    rows = [_row(index) for index in range(ROWS)]
    csv_bytes = _csv(rows).encode()
    organization = organization_create(
        name="Bench NGO", admin_username="bench", languages=["en", "sw", "fr"]
    ).membership.organization
    Region.objects.bulk_create(Region(organization=organization, name=n) for n in REGIONS)
    channel = channel_create(
        organization=organization, name="A", kind=ChannelKind.CONSOLE, country="KE"
    )

    def ours(dry_run: bool) -> float:
        started = time.perf_counter()
        report = subscribers_import(
            organization=organization,
            channel=channel,
            file=csv_bytes,
            dry_run=dry_run,
            recorded_by=None,
        )
        seconds = time.perf_counter() - started
        if report.errors or report.created != ROWS or report.imported == dry_run:
            raise RuntimeError(f"the import went wrong: {report.errors[:3]}")
        return seconds

    dry_seconds = ours(dry_run=True)
    ours_seconds = ours(dry_run=False)
    naive_rows, naive_seconds = _naive(rows)
    copy_seconds = _copy_limit(rows)

    rates = {
        "ours_rows_per_second": ROWS / ours_seconds,
        "ours_dry_run_rows_per_second": ROWS / dry_seconds,
        "naive_rows_per_second": naive_rows / naive_seconds,
        "copy_rows_per_second": ROWS / copy_seconds,
    }
    ratios = {
        "ours_vs_naive": rates["ours_rows_per_second"] / rates["naive_rows_per_second"],
        "ours_vs_copy": rates["ours_rows_per_second"] / rates["copy_rows_per_second"],
    }
    timings = [
        ("ours: import", ROWS, ours_seconds),
        ("ours: dry run", ROWS, dry_seconds),
        ("naive per row", naive_rows, naive_seconds),
        ("COPY (limit)", ROWS, copy_seconds),
    ]
    for name, done, seconds in timings:
        print(f"  {name:<14} {done:>7,} rows in {seconds:6.1f} s  {done / seconds:>9,.0f} rows/s")
    if naive_rows < ROWS:
        print(
            f"  (the naive import ran on the first {naive_rows:,} rows only: all {ROWS:,} would "
            f"take about {naive_seconds * ROWS / naive_rows / 60:.0f} minutes)"
        )
    print(
        f"  ours imports {ratios['ours_vs_naive']:.0f}x as fast as the naive per-row import and "
        f"at {ratios['ours_vs_copy']:.2f}x a bare COPY (which checks nothing and keeps no ledger)"
    )
    figures = {
        "rates": rates,
        "ratios": ratios,
        "rows": ROWS,
        "naive_rows": naive_rows,
        "seconds": {name: seconds for name, _, seconds in timings},
    }
    save("subscriber_import", figures)
    return figures


def _row(index: int) -> dict:
    return {
        "phone": f"07{10_000_000 + index:08d}",
        "language": LANGUAGES[index % 5],
        "region": REGIONS[index % 5],
        "age": str(18 + index % 17),
        "gender": GENDERS[index % 5],
        "tags": "workshop;" + REGIONS[index % 5].lower(),
        "consent_date": f"2026-11-{1 + index % 20:02d}",
        "consent_method": "paper_form",
        "consent_text_version": "2026-11-v1",
        "collected_by": f"Facilitator {index % 40}",
        "form_reference": f"F-{index:06d}",
        "event": f"Workshop {index % 200}",
    }


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    out.write(HEADER + "\n")
    for row in rows:
        out.write(",".join(row.values()) + "\n")
    return out.getvalue()


def _naive(rows: list[dict]) -> tuple[int, float]:
    """Per-row ORM import into another organization, so it too starts from no subscribers."""
    from outreach.addresses import normalize_phone_number
    from outreach.models import ChannelKind, ConsentKind, ConsentSource, LanguageSource, Region
    from outreach.onboarding import band_for_age
    from outreach.services.channels import channel_create
    from outreach.services.consent import consent_record
    from outreach.services.organizations import organization_create
    from outreach.services.subscribers import subscriber_for_address

    organization = organization_create(
        name="Naive NGO", admin_username="naive", languages=["en", "sw", "fr"]
    ).membership.organization
    regions = {
        r.name: r
        for r in Region.objects.bulk_create(
            Region(organization=organization, name=n) for n in REGIONS
        )
    }
    channel = channel_create(
        organization=organization, name="B", kind=ChannelKind.CONSOLE, country="KE"
    )
    started = time.perf_counter()
    for done, row in enumerate(rows, start=1):
        address = normalize_phone_number(row["phone"], region="KE", mobile_only=True)
        subscriber = subscriber_for_address(channel=channel, address=address)
        subscriber.language, subscriber.language_source = row["language"], LanguageSource.CHOSEN
        subscriber.region = regions[row["region"]]
        subscriber.age_band = band_for_age(int(row["age"]))
        subscriber.gender = row["gender"]
        subscriber.tags = sorted(row["tags"].split(";"))
        subscriber.onboarding_step = "done"
        subscriber.save()
        consent_record(
            subscriber=subscriber,
            kind=ConsentKind.OPT_IN,
            source=ConsentSource.IMPORT,
            occurred_at=dt.datetime.fromisoformat(row["consent_date"]).replace(tzinfo=dt.UTC),
            consent_text_version=row["consent_text_version"],
            consent_text_language=row["language"],
            evidence={k: row[k] for k in ("collected_by", "form_reference", "event")},
        )
        if done == NAIVE_SAMPLE:
            projected = (time.perf_counter() - started) * len(rows) / done
            if projected > NAIVE_BUDGET_SECONDS:
                break
    return done, time.perf_counter() - started


def _copy_limit(rows: list[dict]) -> float:
    from django.db import connection
    from django.utils import timezone

    from outreach.onboarding import band_for_age

    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE copy_limit (address varchar(64), language varchar(3), "
            "region text, age_band varchar(8), gender varchar(20), tags jsonb, "
            "joined_at timestamptz, consent_status varchar(10), created_at timestamptz)"
        )
        started = time.perf_counter()
        with cursor.copy(
            "COPY copy_limit (address, language, region, age_band, gender, tags, joined_at, "
            "consent_status, created_at) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(
                    (
                        "+254" + row["phone"][1:],
                        row["language"],
                        row["region"],
                        band_for_age(int(row["age"])),
                        row["gender"],
                        '["' + row["tags"].replace(";", '","') + '"]',
                        dt.datetime.fromisoformat(row["consent_date"]).replace(tzinfo=dt.UTC),
                        "opted_in",
                        now,
                    )
                )
        return time.perf_counter() - started
