"""Every error leaves the API in one shape: {"error": {"code", "message", "fields"}}."""

import pytest
from rest_framework.test import APIClient

from outreach.models import Role

pytestmark = pytest.mark.django_db


def assert_error_shape(body: dict) -> dict:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    return body["error"]


def test_a_request_without_credentials_gets_401_in_the_error_shape():
    response = APIClient().get("/api/v1/members/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert assert_error_shape(response.json())["code"] == "not_authenticated"


def test_a_wrong_token_gets_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get("/api/v1/members/")

    assert response.status_code == 401
    assert assert_error_shape(response.json())["code"] == "authentication_failed"


def test_a_malformed_json_body_gets_400_in_the_error_shape(organization, admin_client_of):
    response = admin_client_of(organization).generic(
        "PATCH", "/api/v1/organization/", '{"name": "unterminated', content_type="application/json"
    )

    assert response.status_code == 400
    assert assert_error_shape(response.json())["code"] == "parse_error"


def test_a_bad_value_gets_400_naming_the_field(organization, admin_client_of):
    response = admin_client_of(organization).patch(
        "/api/v1/organization/", {"timezone": "Mars/Olympus"}
    )

    error = assert_error_shape(response.json())
    assert response.status_code == 400
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["timezone"]
    assert error["message"].startswith("timezone: ")


def test_nested_errors_are_named_by_their_path(organization, admin_client_of):
    response = admin_client_of(organization).patch(
        "/api/v1/organization/", {"languages": ["en", "Swahili"]}
    )

    assert response.status_code == 400
    assert list(assert_error_shape(response.json())["fields"]) == ["languages.1"]


def test_a_rule_broken_across_fields_changes_nothing(organization, admin_client_of):
    response = admin_client_of(organization).patch(
        "/api/v1/organization/", {"name": "New name", "default_language": "fr"}
    )

    assert response.status_code == 400
    assert list(assert_error_shape(response.json())["fields"]) == ["default_language"]
    organization.refresh_from_db()
    assert organization.name == "Peace Youth Kenya"


def test_an_unknown_field_is_refused_by_name(organization, admin_client_of):
    response = admin_client_of(organization).patch(
        "/api/v1/organization/", {"timezon": "Africa/Nairobi", "name": "Renamed"}
    )

    assert response.status_code == 400
    assert list(assert_error_shape(response.json())["fields"]) == ["timezon"]
    organization.refresh_from_db()
    assert organization.name == "Peace Youth Kenya"


def test_a_garbled_organization_header_is_a_404_not_a_crash(organization, admin_client_of):
    response = admin_client_of(organization).get(
        "/api/v1/organization/", HTTP_X_ORGANIZATION="pyk\x00; DROP"
    )

    assert response.status_code == 404
    assert assert_error_shape(response.json())["code"] == "organization_not_found"


def test_nul_characters_are_refused_by_field(organization, admin_client_of):
    response = admin_client_of(organization).patch("/api/v1/organization/", {"name": "a\x00b"})

    assert response.status_code == 400
    assert list(assert_error_shape(response.json())["fields"]) == ["name"]


def test_an_unknown_choice_names_the_field(organization, admin_client_of):
    response = admin_client_of(organization).post(
        "/api/v1/members/", {"username": "x", "role": "boss"}
    )

    assert response.status_code == 400
    assert list(assert_error_shape(response.json())["fields"]) == ["role"]


def test_a_taken_username_names_the_field(organization, admin_client_of):
    response = admin_client_of(organization).post(
        "/api/v1/members/", {"username": "pyk-admin", "role": "manager"}
    )

    assert response.status_code == 400
    assert list(assert_error_shape(response.json())["fields"]) == ["username"]


def test_a_weak_password_names_the_field(organization, admin_client_of):
    response = admin_client_of(organization).post(
        "/api/v1/members/", {"username": "amina", "role": "manager", "password": "123"}
    )

    assert response.status_code == 400
    assert list(assert_error_shape(response.json())["fields"]) == ["password"]


def test_an_unknown_filter_value_gets_400(organization, admin_client_of):
    response = admin_client_of(organization).get("/api/v1/members/?role=boss")

    assert response.status_code == 400
    assert list(assert_error_shape(response.json())["fields"]) == ["role"]


def test_an_unknown_api_url_gets_404_in_the_error_shape():
    response = APIClient().get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert assert_error_shape(response.json())["code"] == "not_found"


def test_a_method_not_allowed_gets_405_in_the_error_shape(organization, member_client):
    response = member_client(organization, Role.ADMIN).put("/api/v1/organization/", {})

    assert response.status_code == 405
    assert assert_error_shape(response.json())["code"] == "method_not_allowed"


def test_an_unsupported_media_type_gets_415(organization, admin_client_of):
    response = admin_client_of(organization).generic(
        "PATCH", "/api/v1/organization/", "<xml/>", content_type="application/xml"
    )

    assert response.status_code == 415
    assert assert_error_shape(response.json())["code"] == "unsupported_media_type"


def test_lists_are_paginated_and_searchable(organization, admin_client_of, member_client):
    admin = admin_client_of(organization)
    for _ in range(3):
        member_client(organization, Role.REVIEWER)

    page = admin.get("/api/v1/members/?page_size=2&role=reviewer").json()
    found = admin.get("/api/v1/members/?search=pyk-admin").json()

    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["next"]
    assert [member["username"] for member in found["results"]] == ["pyk-admin"]
