"""Audience pages: subscribers with numbers masked by role, a person's page and erasure,
segments with a live count, and the CSV import's dry run before the real one."""

import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Segment
from campaigns.selectors.segments import segment_count
from campaigns.services.segments import segment_create
from outreach.models import ConsentEvent, Contact, Region, Role, Subscriber
from outreach.privacy import mask_phone_number
from outreach.services.subscribers import subscriber_for_address
from tests.support.people import opted_in

NUMBER = "+254712345678"
HEADER = "phone,language,region,consent_date,consent_method,consent_text_version\n"
GOOD_ROWS = (
    "0711000001,sw,Kisumu,2026-11-20,paper_form,v1\n0711000002,en,,2026-11-20,paper_form,v1\n"
)


@pytest.fixture
def person(console_channel):
    subscriber = opted_in(subscriber_for_address(channel=console_channel, address=NUMBER))
    subscriber.language = "sw"
    subscriber.save(update_fields=["language"])
    return subscriber


@pytest.fixture
def kisumu(organization):
    return Region.objects.create(organization=organization, name="Kisumu")


def test_a_reviewer_sees_numbers_masked(organization, person, console_as):
    page = console_as(organization, Role.REVIEWER).get(reverse("console:audience"))

    assert page.status_code == 200
    assert mask_phone_number(NUMBER) in page.content.decode()
    assert NUMBER not in page.content.decode()


def test_a_manager_sees_numbers_in_full(organization, person, console_as):
    page = console_as(organization, Role.MANAGER).get(reverse("console:audience"))

    assert NUMBER in page.content.decode()


def test_the_list_filters_by_status_and_language(organization, person, console_channel, console_as):
    subscriber_for_address(channel=console_channel, address="+254799999999")  # not opted in
    client = console_as(organization, Role.MANAGER)

    opted = client.get(reverse("console:audience"), {"status": "opted_in", "language": "sw"})
    english = client.get(reverse("console:audience"), {"language": "en"})

    assert NUMBER in opted.content.decode()
    assert "+254799999999" not in opted.content.decode()
    assert NUMBER not in english.content.decode()


def test_a_number_in_the_url_is_refused(organization, person, console_as):
    page = console_as(organization, Role.MANAGER).get(
        reverse("console:audience"), {"number": "0712345678"}
    )

    assert page.status_code == 400
    assert NUMBER not in page.content.decode()


def test_a_manager_looks_a_person_up_by_number_in_a_post(
    organization, person, console_channel, console_as
):
    subscriber_for_address(channel=console_channel, address="+254799999999")

    page = console_as(organization, Role.MANAGER).post(
        reverse("console:audience"), {"number": "0712345678"}
    )

    assert NUMBER in page.content.decode()
    assert "+254799999999" not in page.content.decode()


def test_a_reviewer_cannot_look_up_by_number(organization, person, console_as):
    page = console_as(organization, Role.REVIEWER).post(
        reverse("console:audience"), {"number": "0712345678"}
    )

    assert page.status_code == 403


def test_a_persons_page_shows_their_consent_history(organization, person, console_as):
    page = console_as(organization, Role.REVIEWER).get(
        reverse("console:person", args=[person.contact_id])
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert "Consent history" in html
    assert "JOIN" in html
    assert mask_phone_number(NUMBER) in html
    assert NUMBER not in html


def test_erasure_needs_confirmation_and_then_the_person_is_gone(organization, person, console_as):
    client = console_as(organization, Role.MANAGER)
    url = reverse("console:person-erase", args=[person.contact_id])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert NUMBER in confirm.content.decode()
    assert Subscriber.objects.filter(pk=person.pk).exists()

    done = client.post(url)

    assert done.status_code == 302
    assert not Subscriber.objects.filter(pk=person.pk).exists()
    assert not Contact.objects.filter(pk=person.contact_id).exists()
    assert ConsentEvent.objects.filter(subscriber=None).exists()  # the ledger stays, detached
    assert client.get(reverse("console:person", args=[person.contact_id])).status_code == 404


def test_a_reviewer_cannot_erase(organization, person, console_as):
    client = console_as(organization, Role.REVIEWER)

    answer = client.post(reverse("console:person-erase", args=[person.contact_id]))

    assert answer.status_code == 403
    assert Subscriber.objects.filter(pk=person.pk).exists()


def test_another_organizations_person_is_not_found(
    organization, other_organization, person, console_as
):
    client = console_as(other_organization, Role.ADMIN)

    assert client.get(reverse("console:person", args=[person.contact_id])).status_code == 404
    assert client.post(reverse("console:person-erase", args=[person.contact_id])).status_code == 404
    assert Subscriber.objects.filter(pk=person.pk).exists()


def test_the_segment_live_count_matches_segment_count(
    organization, person, console_channel, console_as
):
    english = opted_in(subscriber_for_address(channel=console_channel, address="+254711111111"))
    english.language = "en"
    english.save(update_fields=["language"])
    saved = segment_create(
        organization=organization, created_by=None, name="Swahili", languages=["sw"]
    )

    page = console_as(organization, Role.REVIEWER).post(
        reverse("console:segment-count"), {"languages": ["sw"]}
    )

    assert page.status_code == 200
    assert f"data-count>{segment_count(saved)}<" in page.content.decode()
    assert segment_count(saved) == 1


def test_a_segment_is_saved_from_the_form(organization, person, kisumu, console_as):
    client = console_as(organization, Role.MANAGER)

    answer = client.post(
        reverse("console:segment-new"),
        {"name": "Kisumu youth", "languages": ["sw"], "regions": [kisumu.pk], "tags": "Camp, x"},
    )

    assert answer.status_code == 302
    segment = Segment.objects.get(organization=organization)
    assert (segment.name, segment.languages, segment.tags) == (
        "Kisumu youth",
        ["sw"],
        ["camp", "x"],
    )
    assert list(segment.regions.all()) == [kisumu]
    assert "Kisumu youth" in client.get(reverse("console:segments")).content.decode()


def test_a_segment_without_a_name_is_refused_next_to_the_field(organization, console_as):
    answer = console_as(organization, Role.MANAGER).post(
        reverse("console:segment-new"), {"name": "", "languages": ["sw"]}
    )

    assert answer.status_code == 400
    assert "Give the segment a name." in answer.content.decode()
    assert not Segment.objects.exists()


def test_a_segment_is_edited(organization, console_as):
    segment = segment_create(organization=organization, created_by=None, name="All")
    client = console_as(organization, Role.MANAGER)

    assert "All" in client.get(reverse("console:segment-edit", args=[segment.pk])).content.decode()
    answer = client.post(
        reverse("console:segment-edit", args=[segment.pk]), {"name": "English", "languages": ["en"]}
    )

    assert answer.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.languages) == ("English", ["en"])


def test_the_import_dry_run_writes_nothing_and_then_the_import_writes_the_rows(
    organization, console_channel, kisumu, console_as
):
    client = console_as(organization, Role.MANAGER)
    upload = SimpleUploadedFile("signups.csv", (HEADER + GOOD_ROWS).encode(), "text/csv")

    report = client.post(reverse("console:import"), {"file": upload, "channel": console_channel.pk})

    assert report.status_code == 200
    assert "Dry run" in report.content.decode()
    assert not Subscriber.objects.exists()

    imported = client.post(reverse("console:import-confirm"))

    assert imported.status_code == 200
    assert "Imported" in imported.content.decode()
    assert sorted(Subscriber.objects.values_list("address", flat=True)) == [
        "+254711000001",
        "+254711000002",
    ]


def test_the_import_report_shows_refused_rows_and_offers_no_import(
    organization, console_channel, console_as
):
    client = console_as(organization, Role.MANAGER)
    bad = HEADER + "0711000001,fr,,2026-11-20,paper_form,v1\n"
    upload = SimpleUploadedFile("signups.csv", bad.encode(), "text/csv")

    report = client.post(reverse("console:import"), {"file": upload, "channel": console_channel.pk})

    html = report.content.decode()
    assert "Refused rows" in html
    assert reverse("console:import-confirm") not in html
    assert "0711000001" not in html
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    ("name", "args", "method"),
    [
        ("console:audience", [], "get"),
        ("console:person", [1], "get"),
        ("console:person-erase", [1], "post"),
        ("console:segments", [], "get"),
        ("console:segment-new", [], "get"),
        ("console:segment-count", [], "post"),
        ("console:import", [], "get"),
        ("console:import-confirm", [], "post"),
    ],
)
def test_a_funder_gets_403(organization, console_as, name, args, method):
    client = console_as(organization, Role.FUNDER)

    answer = getattr(client, method)(reverse(name, args=args))

    assert answer.status_code == 403


def test_a_checked_file_never_imported_is_removed_within_the_hour(
    organization, console_channel, kisumu, console_as, tmp_path, settings
):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    client = console_as(organization, Role.MANAGER)
    upload = SimpleUploadedFile("signups.csv", (HEADER + GOOD_ROWS).encode(), "text/csv")
    client.post(reverse("console:import"), {"file": upload, "channel": console_channel.pk})
    (abandoned,) = tmp_path.glob("amani-import-*.csv")
    assert abandoned.stat().st_mode & 0o777 == 0o600
    two_hours_ago = time.time() - 7200
    os.utime(abandoned, (two_hours_ago, two_hours_ago))

    other = console_as(organization, Role.MANAGER)
    upload = SimpleUploadedFile("more.csv", (HEADER + GOOD_ROWS).encode(), "text/csv")
    other.post(reverse("console:import"), {"file": upload, "channel": console_channel.pk})

    assert abandoned not in set(tmp_path.glob("amani-import-*.csv"))
    assert len(list(tmp_path.glob("amani-import-*.csv"))) == 1
