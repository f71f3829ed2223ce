"""The API describes itself, and its docs load with no internet."""

import re
from io import StringIO

import pytest
from django.core.management import call_command


def test_the_schema_is_valid_openapi_without_warnings():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    assert "openapi: 3" in out.getvalue()


@pytest.mark.django_db
def test_the_docs_reference_no_external_host(client):
    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        assert asset.startswith("/static/")
        assert client.get(asset).status_code == 200


@pytest.mark.django_db
def test_the_schema_is_served_to_anyone(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert "/api/v1/members/" in response.json()["paths"]


@pytest.mark.django_db
def test_the_schema_looks_numbers_up_in_a_body_never_in_a_query(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    listed = {p["name"] for p in paths["/api/v1/subscribers/"]["get"]["parameters"]}
    lookup = paths["/api/v1/subscribers/lookup/"]["post"]
    assert not listed & {"number", "search"}
    assert "number" not in {p["name"] for p in lookup["parameters"]}
    assert lookup["requestBody"]["required"] is True
    assert "200" in lookup["responses"]
