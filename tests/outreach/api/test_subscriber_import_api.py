"""The import endpoint: admins and managers only, a dry run by default, all or nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from outreach.models import Channel, ChannelKind, ConsentEvent, Role, Subscriber

pytestmark = pytest.mark.django_db

URL = "/api/v1/subscribers/import/"
CSV = (
    "phone,consent_date,consent_method,consent_text_version\n"
    "0712345678,2026-11-20,paper_form,2026-11-v1\n"
)
LANDLINE = "+254202222222,2026-11-20,paper_form,v1\n"


def upload(client, channel_id, text=CSV, **extra):
    data = {"file": SimpleUploadedFile("signups.csv", text.encode()), "channel": channel_id}
    return client.post(URL, {**data, **extra}, format="multipart")


def test_a_dry_run_is_the_default_returns_the_report_and_writes_nothing(
    organization, member_client, console_channel
):
    response = upload(member_client(organization, Role.MANAGER), console_channel.pk)

    assert response.status_code == 200
    assert response.json() == {
        "dry_run": True,
        "rows": 1,
        "valid": 1,
        "created": 1,
        "merged": 0,
        "skipped": [],
        "errors": [],
        "imported": False,
    }
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_admins_and_managers_import(organization, member_client, console_channel, role):
    client = member_client(organization, role)

    response = upload(client, console_channel.pk, dry_run="false")

    assert response.status_code == 201
    assert (response.json()["imported"], response.json()["created"]) == (True, 1)
    assert Subscriber.objects.get().channel == console_channel
    assert ConsentEvent.objects.get().recorded_by == client.membership.user


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.FUNDER])
def test_reviewers_and_funders_cannot_import(organization, member_client, console_channel, role):
    response = upload(member_client(organization, role), console_channel.pk, dry_run="false")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Subscriber.objects.exists()


def test_one_bad_row_is_a_400_in_the_error_shape_with_the_report_and_imports_nothing(
    organization, member_client, console_channel
):
    response = upload(
        member_client(organization, Role.MANAGER),
        console_channel.pk,
        text=CSV + LANDLINE,
        dry_run="false",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields", "report"}
    assert error["code"] == "import_invalid"
    assert list(error["fields"]) == ["file"]
    assert "row 2, phone" in error["message"]
    assert "not a mobile number" in error["message"]
    assert error["report"]["imported"] is False
    assert error["report"]["errors"] == [
        {"row": 2, "field": "phone", "reason": "'+**********22' is not a mobile number."}
    ]
    assert "202222222" not in response.content.decode()
    assert not Subscriber.objects.exists()


def test_a_dry_run_with_bad_rows_is_a_200_with_the_report(
    organization, member_client, console_channel
):
    response = upload(
        member_client(organization, Role.MANAGER), console_channel.pk, text=CSV + LANDLINE
    )

    assert response.status_code == 200
    assert [e["row"] for e in response.json()["errors"]] == [2]


def test_a_channel_of_another_organization_is_refused(
    organization, other_organization, member_client
):
    theirs = Channel.objects.create(
        organization=other_organization, name="Theirs", kind=ChannelKind.CONSOLE, country="KE"
    )

    response = upload(member_client(organization, Role.MANAGER), theirs.pk, dry_run="false")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["channel"]
    assert not Subscriber.objects.exists()


def test_a_missing_file_names_the_field(organization, member_client, console_channel):
    response = member_client(organization, Role.MANAGER).post(
        URL, {"channel": console_channel.pk}, format="multipart"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["file"]


def test_a_broken_file_names_the_file_field(organization, member_client, console_channel):
    response = upload(
        member_client(organization, Role.MANAGER),
        console_channel.pk,
        text="phone,party\n0712345678,x\n",
    )

    assert response.status_code == 400
    assert "Unknown column(s): party" in response.json()["error"]["fields"]["file"][0]


def test_an_unknown_form_field_is_refused(organization, member_client, console_channel):
    response = upload(member_client(organization, Role.MANAGER), console_channel.pk, dryrun="false")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["dryrun"]
    assert not Subscriber.objects.exists()
