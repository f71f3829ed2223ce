"""The import endpoint: managers only, dry run by default, all or nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from outreach.models import Role, Subscriber

pytestmark = pytest.mark.django_db

CSV = (
    "phone,consent_date,consent_method,consent_text_version\n"
    "0712345678,2026-11-20,paper_form,2026-11-v1\n"
)


def upload(client, channel_id, text=CSV, **extra):
    data = {
        "file": SimpleUploadedFile("signups.csv", text.encode()),
        "channel": channel_id,
        **extra,
    }
    return client.post("/api/v1/subscribers/import/", data, format="multipart")


def test_a_dry_run_is_the_default_and_writes_nothing(organization, member_client, console_channel):
    response = upload(member_client(organization, Role.MANAGER), console_channel.pk)

    assert response.status_code == 200
    assert response.json()["dry_run"] is True
    assert response.json()["created"] == 1
    assert not Subscriber.objects.exists()


def test_a_manager_imports(organization, member_client, console_channel):
    response = upload(
        member_client(organization, Role.MANAGER), console_channel.pk, dry_run="false"
    )

    assert response.status_code == 201
    assert Subscriber.objects.count() == 1


def test_an_invalid_file_is_a_400_in_the_error_shape_with_the_report(
    organization, member_client, console_channel
):
    response = upload(
        member_client(organization, Role.MANAGER),
        console_channel.pk,
        text=CSV + "garbage,2026-11-20,paper_form,v1\n",
        dry_run="false",
    )

    body = response.json()
    assert response.status_code == 400
    assert body["error"]["code"] == "import_invalid"
    assert list(body["error"]["fields"]) == ["file"]
    assert body["error"]["report"]["errors"][0]["row"] == 2
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.FUNDER])
def test_reviewers_and_funders_cannot_import(organization, member_client, console_channel, role):
    assert upload(member_client(organization, role), console_channel.pk).status_code == 403


def test_a_channel_of_another_organization_is_refused(
    organization, other_organization, member_client
):
    from outreach.services.channels import channel_create

    theirs = channel_create(organization=other_organization, name="C", kind="console", country="KE")

    response = upload(member_client(organization, Role.MANAGER), theirs.pk)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["channel"]


def test_a_missing_file_names_the_field(organization, member_client, console_channel):
    response = member_client(organization, Role.MANAGER).post(
        "/api/v1/subscribers/import/", {"channel": console_channel.pk}, format="multipart"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["file"]
