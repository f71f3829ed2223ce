"""GET /api/v1/safeguarding/: staff see the safeguarding figures as counts; funders do not."""

import pytest
from django.urls import reverse

from outreach.models import Role
from outreach.services.subscribers import subscriber_erase, subscriber_for_address
from tests.support.webhooks import twilio_form

pytestmark = pytest.mark.django_db

URL = "/api/v1/safeguarding/"


def test_staff_see_the_under_age_refusals_and_erasures_that_happened(
    organization, member_client, twilio_post, twilio_channel, twilio_api
):
    for body in ("JOIN", "16"):
        twilio_post(twilio_channel, twilio_form(body, sender="+254711000001"))
    subscriber_erase(
        subscriber=subscriber_for_address(channel=twilio_channel, address="+254711000002")
    )

    response = member_client(organization, Role.REVIEWER).get(URL, {"by": "day"})

    assert response.status_code == 200
    figures = response.json()
    assert figures["totals"] == {
        "underage_refused": 1,
        "erased": 1,
        "carrier_opt_outs": 0,
        "opt_outs": 0,
    }
    assert figures["by"] == "day"
    (today,) = figures["series"]
    assert (today["underage_refused"], today["erased"]) == (1, 1)
    sources = {row["source"]: row for row in figures["opt_outs_by_source"]}
    assert (
        sources["carrier"]["label"] == "The provider reported the person unsubscribed or blocked us"
    )
    assert "+254711000001" not in response.content.decode()


def test_a_funder_is_refused(organization, member_client):
    response = member_client(organization, Role.FUNDER).get(URL)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"by": "month"}, "by"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_field(organization, member_client, query, field):
    response = member_client(organization, Role.MANAGER).get(URL, query)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]


def test_the_schema_describes_the_figures(client):
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/json").json()

    answer = schema["paths"][URL]["get"]["responses"]["200"]["content"]["application/json"]
    name = answer["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][name]["properties"]
    assert {"period", "by", "totals", "opt_outs_by_source", "series"} <= set(properties)
    parameters = {p["name"] for p in schema["paths"][URL]["get"]["parameters"]}
    assert {"from", "to", "by", "X-Organization"} <= parameters
