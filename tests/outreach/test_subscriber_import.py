"""Paper sign-ups from workshops: every bad row reported, every valid row imported, or none."""

import datetime as dt
import re
import threading
import time

import pytest
from django.db import connection, transaction

from outreach.errors import InvalidInput
from outreach.models import (
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    LanguageSource,
    Region,
    Subscriber,
    User,
)
from outreach.services import subscriber_import
from outreach.services.consent import consent_record, status_from_ledger
from outreach.services.subscriber_import import OPTED_OUT_LATER, subscribers_import
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
    return Region.objects.create(organization=organization, name="Kisumu", aliases=["Kisumo"])


@pytest.fixture
def staff(organization):
    return User.objects.get(username="pyk-admin")


def run(organization, channel, text, dry_run=False, user=None):
    return subscribers_import(
        organization=organization,
        channel=channel,
        file=text.encode(),
        dry_run=dry_run,
        recorded_by=user,
    )


def subscribed_by_sms(channel, address="+254712345678", **when):
    person = subscriber_for_address(channel=channel, address=address)
    consent_record(
        subscriber=person,
        kind=ConsentKind.OPT_IN,
        source=ConsentSource.KEYWORD,
        occurred_at=when.get("joined"),
    )
    if "left" in when:
        consent_record(
            subscriber=person,
            kind=ConsentKind.OPT_OUT,
            source=ConsentSource.KEYWORD,
            occurred_at=when["left"],
        )
    person.refresh_from_db()
    return person


def test_a_valid_file_creates_subscribers_each_with_one_opt_in_and_its_evidence(
    organization, console_channel, staff
):
    report = run(organization, console_channel, HEADER + GOOD, user=staff)

    assert report.imported
    assert (report.rows, report.valid, report.created, report.merged) == (1, 1, 1, 0)
    person = Subscriber.objects.get()
    assert (person.address, person.channel, person.region.name) == (
        "+254712345678",
        console_channel,
        "Kisumu",
    )
    assert (person.language, person.language_source) == ("sw", LanguageSource.CHOSEN)
    assert (person.age_band, person.gender, person.tags) == (
        "18_24",
        "female",
        ["kisumu", "youth-camp"],
    )
    assert (person.onboarding_step, person.joined_keyword) == ("done", "")
    assert person.joined_at == dt.datetime(2026, 11, 20, tzinfo=EAT)  # local midnight
    assert person.consent_status == ConsentStatus.OPTED_IN == status_from_ledger(person)
    (event,) = ConsentEvent.objects.all()
    assert (event.subscriber, event.channel, event.recorded_by) == (person, console_channel, staff)
    assert (event.kind, event.source, event.occurred_at) == ("opt_in", "import", person.joined_at)
    assert (event.consent_text_version, event.consent_text_language) == ("2026-11-v1", "sw")
    assert event.evidence == {
        "method": "paper_form",
        "collected_by": "",
        "form_reference": "F-001",
        "event": "",
        "row": 1,
        "form_references": ["F-001"],
        "rows": [1],
    }


def test_a_row_without_a_language_gets_the_default_one_and_consent_evidence_is_kept(
    organization, console_channel
):
    text = (
        "phone,consent_date,consent_method,consent_text_version,consent_language,"
        "collected_by,event\n"
        "0712345678,2026-11-20T10:30,verbal,v2,sw,Achieng O.,Kibera peace walk\n"
    )

    run(organization, console_channel, text)

    person, event = Subscriber.objects.get(), ConsentEvent.objects.get()
    assert (person.language, person.language_source) == ("en", LanguageSource.DEFAULT)
    assert event.consent_text_language == "sw"
    assert event.occurred_at == dt.datetime(2026, 11, 20, 10, 30, tzinfo=EAT)
    assert event.evidence["collected_by"] == "Achieng O."
    assert event.evidence["event"] == "Kibera peace walk"


BAD_ROWS = [
    ("not-a-number,sw,,,,,2026-11-20,paper_form,v1,\n", "phone", "not a phone number"),
    ("+254202222222,en,,,,,2026-11-20,paper_form,v1,\n", "phone", "not a mobile number"),
    ("0722000111,en,Atlantis,,,,2026-11-20,paper_form,v1,\n", "region", "not one of the"),
    ("0722000112,en,,16,,,2026-11-20,paper_form,v1,\n", "age", "under the minimum age (18)"),
    ("0722000113,en,,,,,20/11/2026,paper_form,v1,\n", "consent_date", "not a date"),
    ("0722000114,en,,,,,2999-01-01,paper_form,v1,\n", "consent_date", "in the future"),
    ("0722000115,fr,,,,,2026-11-20,paper_form,v1,\n", "language", "en, sw"),
    ("0722000116,en,,,,,2026-11-20,,v1,\n", "consent_method", "Required"),
    ("0722000117,en,,,,,2026-11-20,paper_form,,\n", "consent_text_version", "Required"),
    ("0722000118,en,,,,,,paper_form,v1,\n", "consent_date", "Required"),
    ("0722000119,en,,,cat,,2026-11-20,paper_form,v1,\n", "gender", "female"),
    ("0722000120,en,,,,,2026-11-20," + "x" * 41 + ",v1,\n", "consent_method", "At most 40"),
    ("0722000121,en,,,,,2026-11-20,paper_form,v1,,extra\n", None, "More cells"),
]


def test_a_dry_run_writes_nothing_and_reports_every_bad_row_with_its_reason(
    organization, console_channel
):
    uganda = "+256772123456,en,,,,,2026-11-20,paper_form,v1,\n"  # valid: kept as Ugandan
    text = HEADER + GOOD + "".join(row for row, _, _ in BAD_ROWS) + uganda

    report = run(organization, console_channel, text, dry_run=True)

    assert not Subscriber.objects.exists()
    assert not ConsentEvent.objects.exists()
    assert not report.imported
    assert [(e["row"], e["field"]) for e in report.errors] == [
        (number, field) for number, (_, field, _) in enumerate(BAD_ROWS, start=2)
    ]
    for error, (_, _, reason) in zip(report.errors, BAD_ROWS, strict=True):
        assert reason in error["reason"]
    assert (report.rows, report.valid, report.created) == (len(BAD_ROWS) + 2, 2, 2)


def test_every_bad_field_of_a_row_is_reported(organization, console_channel):
    report = run(
        organization, console_channel, HEADER + "0712345678,fr,Atlantis,,,,,,v1,\n", dry_run=True
    )

    assert [e["field"] for e in report.errors] == [
        "language",
        "region",
        "consent_date",
        "consent_method",
    ]
    assert report.valid == 0


def test_a_number_from_another_country_is_kept_as_that_countrys_number(
    organization, console_channel
):
    run(organization, console_channel, HEADER + "+256 772 123456,en,,,,,2026-11-20,paper,v1,\n")

    assert Subscriber.objects.get().address == "+256772123456"


def test_errors_never_echo_a_full_phone_number(organization, console_channel):
    rows = [
        "+254202222222,en,,,,,2026-11-20,paper_form,v1,\n",
        "+2547123456789012,en,,,,,2026-11-20,paper_form,v1,\n",
        "0712345678,en,0733111222,,,,2026-11-20,paper_form,v1,\n",  # a number as the region
    ]

    report = run(organization, console_channel, HEADER + "".join(rows))

    assert len(report.errors) == 3
    reported = str(report.as_dict())
    for digits in ["202222222", "7123456789012", "733111222"]:
        assert digits not in reported
    assert "********22" in reported


@pytest.mark.parametrize(
    ("age", "age_band", "stored"),
    [
        ("19", "", "18_24"),
        ("", "25_29", "25_29"),
        ("", "35+", "35_plus"),
        ("40", "18_24", "35_plus"),
    ],
)
def test_an_age_or_an_age_band_gives_the_band(organization, console_channel, age, age_band, stored):
    text = (
        "phone,age,age_band,consent_date,consent_method,consent_text_version\n"
        f"0712345678,{age},{age_band},2026-11-20,paper_form,v1\n"
    )

    run(organization, console_channel, text)

    assert Subscriber.objects.get().age_band == stored


@pytest.mark.parametrize(
    ("age", "age_band", "field"), [("17", "", "age"), ("", "13_17", "age_band")]
)
def test_someone_under_the_minimum_age_is_refused_and_nothing_of_them_is_stored(
    organization, console_channel, age, age_band, field
):
    text = (
        "phone,age,age_band,consent_date,consent_method,consent_text_version\n"
        f"0712345678,{age},{age_band},2026-11-20,paper_form,v1\n"
    )

    report = run(organization, console_channel, text)

    assert report.errors == [
        {"row": 1, "field": field, "reason": "under the minimum age (18): not imported"}
    ]
    assert not Subscriber.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_a_region_is_found_by_alias_or_with_a_typo(organization, console_channel, kisumu):
    rows = [
        "0712345671,en,kisumo,,,,2026-11-20,paper_form,v1,\n",
        "0712345672,en,Kisumuu,,,,2026-11-20,paper_form,v1,\n",
    ]

    run(organization, console_channel, HEADER + "".join(rows))

    assert list(Subscriber.objects.values_list("region", flat=True)) == [kisumu.pk, kisumu.pk]


def test_one_bad_row_means_nothing_is_imported(organization, console_channel):
    report = run(organization, console_channel, HEADER + GOOD + "nope,,,,,,2026-11-20,paper,v1,\n")

    assert not report.imported
    assert not Subscriber.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_duplicates_in_the_file_merge_into_one_subscriber_with_one_opt_in(
    organization, console_channel
):
    again = "+254 712 345 678,en,,,,peace-club,2026-11-10,verbal,2026-10-v1,F-000\n"

    report = run(organization, console_channel, HEADER + GOOD + again)

    assert (report.rows, report.valid, report.created) == (2, 2, 1)
    person = Subscriber.objects.get()
    assert person.language == "en"  # the later row's
    assert (person.age_band, person.gender) == ("18_24", "female")  # blank later: kept
    assert person.tags == ["kisumu", "peace-club", "youth-camp"]
    (event,) = ConsentEvent.objects.all()
    assert event.occurred_at == dt.datetime(2026, 11, 10, tzinfo=EAT)  # the earliest consent
    assert (event.consent_text_version, event.evidence["method"]) == ("2026-10-v1", "verbal")
    assert (event.evidence["row"], event.evidence["rows"]) == (2, [1, 2])
    assert event.evidence["form_references"] == ["F-001", "F-000"]


def test_an_existing_opted_in_subscriber_is_merged_without_a_second_event(
    organization, console_channel
):
    person = subscribed_by_sms(console_channel)
    Subscriber.objects.filter(pk=person.pk).update(tags=["sms"], gender="male")

    report = run(organization, console_channel, HEADER + GOOD)

    person.refresh_from_db()
    assert (report.created, report.merged, report.skipped) == (0, 1, [])
    assert ConsentEvent.objects.count() == 1
    assert (person.language, person.language_source) == ("sw", LanguageSource.CHOSEN)
    assert (person.age_band, person.gender, person.region.name) == ("18_24", "female", "Kisumu")
    assert person.tags == ["kisumu", "sms", "youth-camp"]
    assert person.consent_status == ConsentStatus.OPTED_IN == status_from_ledger(person)


def test_someone_who_opted_out_after_the_paper_consent_is_skipped_and_stays_out(
    organization, console_channel
):
    person = subscribed_by_sms(
        console_channel,
        joined=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        left=dt.datetime(2026, 11, 21, tzinfo=dt.UTC),
    )

    report = run(organization, console_channel, HEADER + GOOD)

    person.refresh_from_db()
    assert report.imported
    assert (report.created, report.merged) == (0, 0)
    assert report.skipped == [{"row": 1, "reason": OPTED_OUT_LATER}]
    assert person.consent_status == ConsentStatus.OPTED_OUT == status_from_ledger(person)
    assert (person.age_band, person.tags) == ("", [])  # untouched
    assert not ConsentEvent.objects.filter(source=ConsentSource.IMPORT).exists()


def test_someone_who_opted_out_before_the_paper_consent_is_subscribed_again(
    organization, console_channel, staff
):
    joined = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    left = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    person = subscribed_by_sms(console_channel, joined=joined, left=left)

    report = run(organization, console_channel, HEADER + GOOD, user=staff)

    person.refresh_from_db()
    assert (report.created, report.merged, report.skipped) == (0, 1, [])
    assert person.consent_status == ConsentStatus.OPTED_IN == status_from_ledger(person)
    assert person.joined_at == joined  # as consent_record: the first joining stays
    event = ConsentEvent.objects.get(source=ConsentSource.IMPORT)
    assert (event.kind, event.recorded_by, event.occurred_at) == (
        "opt_in",
        staff,
        dt.datetime(2026, 11, 20, tzinfo=EAT),
    )


def test_someone_who_texted_but_never_joined_is_subscribed_by_the_import(
    organization, console_channel
):
    person = subscriber_for_address(channel=console_channel, address="+254712345678")

    run(organization, console_channel, HEADER + GOOD)

    person.refresh_from_db()
    assert person.consent_status == ConsentStatus.OPTED_IN == status_from_ledger(person)
    assert person.joined_at == dt.datetime(2026, 11, 20, tzinfo=EAT)


def test_the_stored_status_matches_the_ledger_for_every_imported_subscriber(
    organization, console_channel
):
    for index in range(0, 30, 3):
        subscribed_by_sms(console_channel, address=f"+2547223{index:05d}")
    for index in range(1, 30, 3):
        subscribed_by_sms(
            console_channel,
            address=f"+2547223{index:05d}",
            joined=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            left=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        )
    rows = "".join(
        f"07223{index:05d},en,,,,,2026-11-20,paper_form,v1,F-{index}\n" for index in range(50)
    )

    report = run(organization, console_channel, HEADER + rows)

    assert (report.created, report.merged) == (30, 20)
    people = list(Subscriber.objects.all())
    assert len(people) == 50
    assert all(p.consent_status == ConsentStatus.OPTED_IN for p in people)
    assert all(p.consent_status == status_from_ledger(p) for p in people)
    assert ConsentEvent.objects.filter(source=ConsentSource.IMPORT).count() == 40


def test_a_number_that_joins_by_sms_during_the_import_stops_it_as_a_whole(
    organization, console_channel, monkeypatch
):
    write = subscriber_import._write

    def joining_meanwhile(*args):
        subscriber_for_address(channel=console_channel, address="+254712345678")
        write(*args)

    monkeypatch.setattr(subscriber_import, "_write", joining_meanwhile)

    with pytest.raises(InvalidInput, match="Run the import again") as error:
        run(organization, console_channel, HEADER + GOOD)

    assert error.value.field == "file"
    assert not ConsentEvent.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        (" \n\n", "empty"),
        (HEADER, "no rows"),
        (HEADER + "\n,,,,\n", "no rows"),
        ("phone,consent_date\n0712345678,2026-11-20\n", "Missing column(s): consent_method, "),
        (HEADER.strip() + ",favourite_party\n", "Unknown column(s): favourite_party."),
        (HEADER.strip() + ",Phone\n", "Column(s) given twice: phone."),
        (HEADER + '0712345678,"' + "x" * 200_000 + '"\n', "Line 2 cannot be read as CSV"),
    ],
)
def test_a_broken_file_is_refused_as_a_whole(organization, console_channel, text, message):
    with pytest.raises(InvalidInput, match=re.escape(message)) as error:
        run(organization, console_channel, text)

    assert error.value.field == "file"


def test_a_file_that_is_not_utf8_is_refused(organization, console_channel):
    latin1 = (HEADER + GOOD.replace("youth-camp", "café")).encode("latin-1")

    with pytest.raises(InvalidInput, match="not UTF-8"):
        subscribers_import(
            organization=organization,
            channel=console_channel,
            file=latin1,
            dry_run=True,
            recorded_by=None,
        )


def test_more_rows_than_the_limit_are_refused(organization, console_channel, monkeypatch):
    monkeypatch.setattr(subscriber_import, "MAX_ROWS", 2)

    with pytest.raises(InvalidInput, match="more than 2 rows"):
        run(organization, console_channel, HEADER + GOOD * 3, dry_run=True)


def test_column_names_ignore_case_and_spaces(organization, console_channel):
    text = " PHONE , Consent_Date,consent_method ,Consent_Text_Version\n0712345678,2026-11-20,p,v\n"

    assert run(organization, console_channel, text).imported


def test_a_trailing_comma_in_the_header_and_rows_is_ignored(organization, console_channel):
    text = HEADER.strip() + ",\n" + GOOD.strip() + ",\n"

    assert run(organization, console_channel, text).imported


def test_blank_lines_keep_their_row_numbers_but_are_not_counted(organization, console_channel):
    report = run(organization, console_channel, HEADER + GOOD + "\n,,,\n" + "bad,,,,,,,,,\n")

    assert report.rows == 2
    assert {error["row"] for error in report.errors} == {4}


def test_a_consent_date_with_an_offset_keeps_it(organization, console_channel):
    text = HEADER + GOOD.replace("2026-11-20", "2026-11-20T08:00:00+00:00")

    run(organization, console_channel, text)

    assert ConsentEvent.objects.get().occurred_at == dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC)


def test_a_byte_order_mark_swahili_and_emoji_are_fine(organization, console_channel):
    text = "\ufeff" + HEADER + GOOD.replace("youth-camp", "Amani 🕊️;vijana wa Kisumu")

    report = run(organization, console_channel, text)

    assert report.imported
    assert Subscriber.objects.get().tags == ["amani 🕊️", "kisumu", "vijana wa kisumu"]


def test_a_large_file_with_every_number_twice_merges_within_itself_and_with_the_existing(
    organization, console_channel
):
    numbers = 400  # i % 4: 0 subscribed by SMS, 1 left after the paper, 2 left before, 3 new
    for i in range(numbers):
        address = f"+2547224{i:05d}"
        if i % 4 == 0:
            subscribed_by_sms(console_channel, address=address)
        elif i % 4 in (1, 2):
            left = dt.datetime(2026, 11, 25 if i % 4 == 1 else 2, tzinfo=dt.UTC)
            joined = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
            subscribed_by_sms(console_channel, address=address, joined=joined, left=left)
    first = "".join(
        f"07224{i:05d},sw,,,,first,2026-11-20,paper_form,v1,F-1-{i}\n" for i in range(numbers)
    )
    again = "".join(
        f"+254 7224 {i:05d},,,,,second,2026-11-15,verbal,v0,F-2-{i}\n" for i in range(numbers)
    )

    report = run(organization, console_channel, HEADER + first + again)

    assert report.imported
    assert (report.rows, report.valid, report.created, report.merged) == (800, 800, 100, 200)
    assert report.skipped == [
        {"row": i + 1, "reason": OPTED_OUT_LATER} for i in range(numbers) if i % 4 == 1
    ]
    people = {p.address: p for p in Subscriber.objects.all()}
    assert len(people) == numbers
    events = {e.subscriber_id: e for e in ConsentEvent.objects.filter(source="import")}
    assert len(events) == ConsentEvent.objects.filter(source="import").count() == 200
    for i in range(numbers):
        person = people[f"+2547224{i:05d}"]
        assert person.consent_status == status_from_ledger(person)
        if i % 4 == 1:  # skipped: untouched
            assert (person.consent_status, person.tags) == (ConsentStatus.OPTED_OUT, [])
            continue
        assert person.consent_status == ConsentStatus.OPTED_IN
        assert (person.language, person.language_source) == ("sw", LanguageSource.CHOSEN)
        if i % 4 == 0:  # already subscribed: profile merged, no second opt-in
            assert person.tags == ["first", "second"]
            assert person.pk not in events
            continue
        assert person.tags == ["first", "second"]
        event = events[person.pk]
        assert event.occurred_at == dt.datetime(2026, 11, 15, tzinfo=EAT)  # the earlier row's
        assert (event.consent_text_version, event.evidence["method"]) == ("v0", "verbal")
        assert event.evidence["row"] == numbers + i + 1
        assert event.evidence["rows"] == [i + 1, numbers + i + 1]
        assert event.evidence["form_references"] == [f"F-1-{i}", f"F-2-{i}"]
        if i % 4 == 2:  # as consent_record: the first joining stays
            assert person.joined_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        else:
            assert person.joined_at == event.occurred_at


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry run", "import"])
def test_a_nul_in_a_cell_is_a_row_error_naming_its_field(organization, console_channel, dry_run):
    report = run(
        organization, console_channel, HEADER + GOOD.replace("F-001", "F-0\x0001"), dry_run
    )

    assert not report.imported
    assert report.errors == [
        {
            "row": 1,
            "field": "form_reference",
            "reason": "Contains a NUL character; save the file again as CSV.",
        }
    ]
    assert not Subscriber.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_stop_that_commits_while_the_import_waits_for_the_person_keeps_them_out(
    organization, console_channel
):
    person = subscribed_by_sms(console_channel, joined=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    stop_holds_the_person = threading.Event()

    def stop_slowly() -> None:
        try:
            with transaction.atomic():  # consent_record locks the person's row first
                consent_record(
                    subscriber=Subscriber.objects.get(pk=person.pk),
                    kind=ConsentKind.OPT_OUT,
                    source=ConsentSource.KEYWORD,
                )
                stop_holds_the_person.set()
                time.sleep(1.0)  # meanwhile the import waits for the row
        finally:
            connection.close()

    stop = threading.Thread(target=stop_slowly)
    stop.start()
    assert stop_holds_the_person.wait(10)
    report = run(organization, console_channel, HEADER + GOOD)
    stop.join()

    person.refresh_from_db()
    assert report.skipped == [{"row": 1, "reason": OPTED_OUT_LATER}]
    assert person.consent_status == ConsentStatus.OPTED_OUT == status_from_ledger(person)
    assert not ConsentEvent.objects.filter(source=ConsentSource.IMPORT).exists()
