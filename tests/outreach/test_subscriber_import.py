"""Paper sign-ups from workshops: every bad row reported, every valid row imported, or none."""

import datetime as dt
import re

import pytest

from outreach.errors import InvalidInput
from outreach.models import (
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    Region,
    Subscriber,
)
from outreach.services.consent import consent_record, status_from_ledger
from outreach.services.subscriber_import import subscribers_import
from outreach.services.subscribers import subscriber_for_address

pytestmark = pytest.mark.django_db

EAT = dt.timezone(dt.timedelta(hours=3))
HEADER = (
    "phone,language,region,age,gender,tags,"
    "consent_date,consent_method,consent_text_version,form_reference\n"
)
GOOD = "0712345678,sw,Kisumu,19,female,youth-camp;kisumu,2026-11-20,paper_form,2026-11-v1,F-001\n"


@pytest.fixture(autouse=True)
def kisumu(organization):
    return Region.objects.create(organization=organization, name="Kisumu")


def run(organization, channel, text, dry_run=False, user=None):
    return subscribers_import(
        organization=organization,
        channel=channel,
        file=text.encode(),
        dry_run=dry_run,
        recorded_by=user,
    )


def test_a_valid_file_creates_subscribers_each_with_one_opt_in_and_its_evidence(
    organization, console_channel
):
    report = run(organization, console_channel, HEADER + GOOD)

    assert report.imported
    assert (report.rows, report.created, report.merged) == (1, 1, 0)
    person = Subscriber.objects.get()
    assert person.address == "+254712345678"
    assert (person.language, person.age_band, person.gender) == ("sw", "18_24", "female")
    assert person.tags == ["kisumu", "youth-camp"]
    assert person.region.name == "Kisumu"
    assert person.consent_status == ConsentStatus.OPTED_IN == status_from_ledger(person)
    (event,) = ConsentEvent.objects.all()
    assert (event.kind, event.source, event.consent_text_version) == (
        "opt_in",
        "import",
        "2026-11-v1",
    )
    assert event.evidence["method"] == "paper_form"
    assert event.evidence["form_references"] == ["F-001"]
    assert event.occurred_at == dt.datetime(2026, 11, 20, tzinfo=EAT)  # local midnight


def test_a_dry_run_writes_nothing_and_reports_every_bad_row(organization, console_channel):
    rows = [
        GOOD,
        "not-a-number,sw,,,,,2026-11-20,paper_form,v1,\n",
        "+254202222222,en,,,,,2026-11-20,paper_form,v1,\n",  # a Nairobi landline
        "0722000111,en,Atlantis,,,,2026-11-20,paper_form,v1,\n",
        "0722000112,en,,16,,,2026-11-20,paper_form,v1,\n",
        "0722000113,en,,,,,20/11/2026,paper_form,v1,\n",
        "0722000114,en,,,,,2999-01-01,paper_form,v1,\n",
        "0722000115,fr,,,,,2026-11-20,paper_form,v1,\n",
        "0722000116,en,,,,,2026-11-20,,v1,\n",
        "+256772123456,en,,,,,2026-11-20,paper_form,v1,\n",  # Uganda: valid, kept as its own
    ]

    report = run(organization, console_channel, HEADER + "".join(rows), dry_run=True)

    assert not Subscriber.objects.exists()
    assert not report.imported
    assert [(e["row"], e["field"]) for e in report.errors] == [
        (2, "phone"),
        (3, "phone"),
        (4, "region"),
        (5, "age"),
        (6, "consent_date"),
        (7, "consent_date"),
        (8, "language"),
        (9, "consent_method"),
    ]
    assert "not a mobile" in report.errors[1]["reason"]
    assert "minimum age (18)" in report.errors[3]["reason"]
    assert report.valid == 2


def test_one_bad_row_means_nothing_is_imported(organization, console_channel):
    report = run(organization, console_channel, HEADER + GOOD + "nope,,,,,,2026-11-20,paper,v1,\n")

    assert not report.imported
    assert not Subscriber.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_duplicates_in_the_file_merge_into_one_subscriber(organization, console_channel):
    again = "+254 712 345 678,,,,,peace-club,2026-11-10,verbal,2026-11-v1,F-000\n"

    report = run(organization, console_channel, HEADER + GOOD + again)

    person = Subscriber.objects.get()
    (event,) = ConsentEvent.objects.all()
    assert report.created == 1
    assert person.tags == ["kisumu", "peace-club", "youth-camp"]
    assert event.occurred_at == dt.datetime(2026, 11, 10, tzinfo=EAT)  # the earliest consent
    assert event.evidence["form_references"] == ["F-001", "F-000"]


def test_an_existing_opted_in_subscriber_is_merged_without_a_second_event(
    organization, console_channel
):
    person = subscriber_for_address(channel=console_channel, address="+254712345678")
    consent_record(subscriber=person, kind=ConsentKind.OPT_IN, source=ConsentSource.KEYWORD)

    report = run(organization, console_channel, HEADER + GOOD)

    person.refresh_from_db()
    assert (report.created, report.merged) == (0, 1)
    assert ConsentEvent.objects.count() == 1
    assert person.age_band == "18_24"


def test_someone_who_opted_out_after_the_paper_consent_stays_out(organization, console_channel):
    person = subscriber_for_address(channel=console_channel, address="+254712345678")
    consent_record(subscriber=person, kind=ConsentKind.OPT_IN, source=ConsentSource.KEYWORD)
    consent_record(subscriber=person, kind=ConsentKind.OPT_OUT, source=ConsentSource.KEYWORD)

    report = run(organization, console_channel, HEADER + GOOD)

    person.refresh_from_db()
    assert report.imported
    assert report.skipped[0]["reason"] == "opted out by SMS after this consent; not re-subscribed"
    assert "+254712345678" not in str(report.as_dict())
    assert person.consent_status == ConsentStatus.OPTED_OUT


def test_someone_who_opted_out_before_the_paper_consent_is_subscribed_again(
    organization, console_channel
):
    person = subscriber_for_address(channel=console_channel, address="+254712345678")
    consent_record(
        subscriber=person,
        kind=ConsentKind.OPT_OUT,
        source=ConsentSource.KEYWORD,
        occurred_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )

    run(organization, console_channel, HEADER + GOOD)

    person.refresh_from_db()
    assert person.consent_status == ConsentStatus.OPTED_IN == status_from_ledger(person)
    assert ConsentEvent.objects.filter(source="import").count() == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        (HEADER, "no rows"),
        ("phone,consent_date\n0712345678,2026-11-20\n", "Missing column(s): consent_method"),
        (HEADER.strip() + ",favourite_party\n", "Unknown column(s): favourite_party"),
    ],
)
def test_a_broken_file_is_refused_as_a_whole(organization, console_channel, text, message):
    with pytest.raises(InvalidInput, match=re.escape(message)) as error:
        run(organization, console_channel, text)
    assert error.value.field == "file"


def test_a_byte_order_mark_swahili_and_emoji_are_fine(organization, console_channel):
    text = "\ufeff" + HEADER + GOOD.replace("youth-camp", "amani 🕊️;vijana")

    report = run(organization, console_channel, text)

    assert report.imported
    assert Subscriber.objects.get().tags == ["amani 🕊️", "kisumu", "vijana"]


def test_the_stored_status_matches_the_ledger_for_every_imported_subscriber(
    organization, console_channel
):
    rows = "".join(
        f"07223{index:05d},en,,,,,2026-11-20,paper_form,v1,F-{index}\n" for index in range(50)
    )

    run(organization, console_channel, HEADER + rows)

    people = list(Subscriber.objects.all())
    assert len(people) == 50
    assert all(p.consent_status == status_from_ledger(p) for p in people)
