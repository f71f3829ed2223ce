"""Nothing a client can send makes the API answer 500."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children)
    ),
    max_leaves=8,
)
organization_fields = st.sampled_from(
    ["name", "country", "timezone", "default_language", "languages", "slug", "id", "x"]
)
member_fields = st.sampled_from(["username", "email", "role", "password", "first_name", "x"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.dictionaries(organization_fields, json_values) | json_values)
def test_any_json_sent_to_the_organization_gets_a_2xx_or_4xx(organization, admin_client_of, body):
    client = admin_client_of(organization)

    response = client.generic(
        "PATCH", "/api/v1/organization/", json.dumps(body), content_type="application/json"
    )

    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "fields"}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.dictionaries(member_fields, json_values), raw=st.binary(max_size=64))
def test_any_body_sent_to_members_gets_a_2xx_or_4xx(organization, admin_client_of, body, raw):
    client = admin_client_of(organization)

    as_json = client.generic(
        "POST", "/api/v1/members/", json.dumps(body), content_type="application/json"
    )
    as_bytes = client.generic("POST", "/api/v1/members/", raw, content_type="application/json")

    assert as_json.status_code < 500, as_json.content
    assert as_bytes.status_code < 500, as_bytes.content


# A 10 KB body of nested brackets: Python's JSON parser recurses once per level.
TOO_DEEP = [
    ("nested lists", "[" * 5_000 + "]" * 5_000),
    ("nested objects", '{"a":' * 2_000 + "1" + "}" * 2_000),
    ("lists deeper than any input needs", "[" * 100 + "]" * 100),
]
JSON_ENDPOINTS = [
    ("PATCH", "/api/v1/organization/"),
    ("POST", "/api/v1/members/"),
    ("POST", "/api/v1/keywords/"),
    ("POST", "/api/v1/channels/"),
    ("POST", "/api/v1/segments/"),
    ("POST", "/api/v1/segments/preview/"),
    ("POST", "/api/v1/campaigns/"),
    ("POST", "/api/v1/waves/"),
]


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
@pytest.mark.parametrize(("label", "body"), TOO_DEEP, ids=[label for label, _ in TOO_DEEP])
def test_json_nested_too_deep_gets_a_400_parse_error(
    organization, admin_client_of, method, path, label, body
):
    response = admin_client_of(organization).generic(
        method, path, body, content_type="application/json"
    )

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "parse_error"
