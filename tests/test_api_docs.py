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


@pytest.mark.django_db
def test_every_operation_documents_its_errors_in_the_one_error_shape(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    error = {"$ref": "#/components/schemas/Error"}

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected = {"401"} if path == "/api/v1/me/" else {"400", "401", "403", "404"}
            documented = {
                code
                for code, response in operation["responses"].items()
                if response.get("content", {}).get("application/json", {}).get("schema") == error
            }
            assert expected <= documented, f"{method.upper()} {path}"
    schemas = document["components"]["schemas"]
    inside = schemas["Error"]["properties"]["error"]["$ref"].rsplit("/", 1)[-1]
    assert set(schemas[inside]["required"]) == {"code", "message", "fields"}


@pytest.mark.django_db
def test_the_docs_group_operations_by_area(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    def tags_of(path: str, method: str = "get") -> list[str]:
        return document["paths"][path][method]["tags"]

    areas = {tag["name"] for tag in document["tags"]}
    used = {t for ops in document["paths"].values() for op in ops.values() for t in op["tags"]}
    assert used == areas
    assert len(areas) >= 5
    assert "v1" not in areas
    assert tags_of("/api/v1/waves/") == tags_of("/api/v1/campaigns/")
    assert tags_of("/api/v1/members/") == tags_of("/api/v1/organization/")
    assert tags_of("/api/v1/subscribers/import/", "post") == tags_of("/api/v1/subscribers/")
    assert tags_of("/api/v1/reports/campaigns/") != tags_of("/api/v1/campaigns/")
    assert all(tag.get("description") for tag in document["tags"])
