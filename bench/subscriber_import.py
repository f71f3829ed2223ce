"""Importing 100,000 paper sign-ups from CSV, in one run:

ours     subscribers_import: parse and check every row, then bulk writes in chunks
naive    a per-row ORM import of the same rows (find or create, then a consent event)
limit    PostgreSQL COPY of the same subscriber rows into a bare table
"""

import datetime as dt
import io
import os
import time

from bench.harness import fresh_database, save

ROWS = 100_000
NAIVE_ROWS = 20_000  # the naive import takes minutes at 100k; its rate is what we compare
LANGUAGES = ["en", "sw", "sw", "en", "fr"]
REGIONS = ["Nairobi", "Mombasa", "Kisumu", "Nakuru", "Eldoret"]


def run() -> dict:
    env = fresh_database("amani_bench_import")
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    from outreach.models import ChannelKind, ConsentKind, ConsentSource, Region
    from outreach.services.channels import channel_create
    from outreach.services.consent import consent_record
    from outreach.services.organizations import organization_create
    from outreach.services.subscriber_import import subscribers_import
    from outreach.services.subscribers import subscriber_for_address

    organization = organization_create(
        name="Bench NGO", admin_username="bench", languages=["en", "sw", "fr"]
    ).membership.organization
    Region.objects.bulk_create(Region(organization=organization, name=n) for n in REGIONS)
    ours_channel = channel_create(
        organization=organization, name="A", kind=ChannelKind.CONSOLE, country="KE"
    )
    csv_text = _csv(ROWS)

    started = time.perf_counter()
    report = subscribers_import(
        organization=organization,
        channel=ours_channel,
        file=csv_text.encode(),
        dry_run=False,
        recorded_by=None,
    )
    ours_seconds = time.perf_counter() - started
    if not (report.imported and report.created == ROWS):
        raise RuntimeError(f"the import failed: {report.errors[:3]}")

    # The naive import writes another organization's rows, so both start from empty.
    other = organization_create(name="Naive NGO", admin_username="naive").membership.organization
    naive_channel = channel_create(
        organization=other, name="B", kind=ChannelKind.CONSOLE, country="KE"
    )
    rows = [line.split(",") for line in csv_text.splitlines()[1 : NAIVE_ROWS + 1]]
    started = time.perf_counter()
    for phone, language, _region, _age, consent_date, *_ in rows:
        subscriber = subscriber_for_address(channel=naive_channel, address="+254" + phone[1:])
        subscriber.language = language
        subscriber.save()
        consent_record(
            subscriber=subscriber,
            kind=ConsentKind.OPT_IN,
            source=ConsentSource.IMPORT,
            occurred_at=dt.datetime.fromisoformat(consent_date).replace(tzinfo=dt.UTC),
        )
    naive_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE copy_limit (address text, language text, region text, "
            "age_band text, joined_at timestamptz, consent_status text)"
        )
        raw = cursor.connection
        with (
            raw.cursor() as pg,
            pg.copy(
                "COPY copy_limit (address, language, region, age_band, joined_at, consent_status) "
                "FROM STDIN"
            ) as copy,
        ):
            for index in range(ROWS):
                copy.write_row(
                    (
                        f"+2547{index:08d}",
                        LANGUAGES[index % 5],
                        REGIONS[index % 5],
                        "18_24",
                        dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
                        "opted_in",
                    )
                )
    copy_seconds = time.perf_counter() - started

    rates = {
        "ours_rows_per_second": ROWS / ours_seconds,
        "naive_rows_per_second": NAIVE_ROWS / naive_seconds,
        "copy_rows_per_second": ROWS / copy_seconds,
    }
    ratios = {
        "ours_vs_naive": rates["ours_rows_per_second"] / rates["naive_rows_per_second"],
        "ours_vs_copy": rates["ours_rows_per_second"] / rates["copy_rows_per_second"],
    }
    runs = [("ours", ROWS, ours_seconds), ("naive", NAIVE_ROWS, naive_seconds)]
    for name, done, seconds in [*runs, ("COPY", ROWS, copy_seconds)]:
        print(f"  {name:<6} {done:>7,} rows in {seconds:6.1f} s  {done / seconds:>9,.0f} rows/s")
    print(
        f"  ours is {ratios['ours_vs_naive']:.1f}x the naive per-row import and "
        f"{ratios['ours_vs_copy']:.2f}x a bare COPY (which checks nothing and writes no ledger)"
    )
    figures = {"rates": rates, "ratios": ratios, "rows": ROWS, "naive_rows": NAIVE_ROWS}
    save("subscriber_import", figures)
    return figures


def _csv(rows: int) -> str:
    out = io.StringIO()
    out.write("phone,language,region,age,consent_date,consent_method,consent_text_version\n")
    for index in range(rows):
        out.write(
            f"07{index:08d},{LANGUAGES[index % 5]},{REGIONS[index % 5]},{18 + index % 17},"
            f"2026-11-{1 + index % 20:02d},paper_form,2026-11-v1\n"
        )
    return out.getvalue()
