# ruff: noqa: F811 - the campaign fixtures are imported by name
"""No console page answers nonsense with a server error: every route, GET and POST, with
values of the wrong type, unknown choices, bad dates and a NUL character."""

import pytest
from django.urls import URLPattern, reverse

from campaigns.services import waves as wave_services
from console import urls as console_urls
from outreach.models import Role
from tests.campaigns.conftest import audience, campaign  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
NONSENSE = {
    "status": "x'",
    "language": "zz",
    "region": "abc",
    "page": "-1",
    "by": "nope",
    "wave": "abc",
    "from": "2020-13-45",
    "to": "x",
    "send_at": "garbage",
    "send_at_relative": "E-x",
    "segment": "abc",
    "channels": ["x", "999999"],
    "option_rows": "99999",
    "body_en": "{bad",
    "priority": "zzz",
    "confirm": "yes",
    "numbers": "abc",
    "role": "god",
    "election_date": "x",
    "timezone": "Mars/Base",
    "languages": ["xx"],
    "quiet_start": "25:00",
    "messages_per_second": "-1",
    "name": "\x00",
}
# Routes that end the session or switch it: walked by the access tests, not here.
SESSION_ROUTES = {"sign-in", "sign-out", "switch-organization"}


def routes_filled(objects: dict[str, int]) -> list[str]:
    """Every console URL whose ids are a campaign, a wave or a channel, filled with ours."""
    filled = []
    for pattern in console_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        if pattern.name in SESSION_ROUTES:
            continue
        kind = next((k for k in objects if pattern.name.startswith(k)), None)
        names = list(pattern.pattern.regex.groupindex)
        if names and kind is None:
            continue  # people, segments, members, messages: their own pages' tests
        ids = {name: objects["campaign" if name == "campaign_pk" else kind] for name in names}
        filled.append(reverse(f"console:{pattern.name}", kwargs=ids))
    return filled


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.FUNDER])
def test_no_console_page_answers_nonsense_with_a_server_error(
    organization,
    campaign,
    audience,
    console_channel,
    console_as,
    role,
):
    client = console_as(organization, role)
    wave = wave_services.wave_create(
        campaign=campaign,
        created_by=None,
        name="A week before",
        send_at_relative="E-7d 10:00",
        segment=audience,
        channels=[console_channel],
        variants=[{"language": "en", "body": "Peace starts with you."}],
    )
    objects = {"campaign": campaign.pk, "wave": wave.pk, "funder-campaign": campaign.pk}
    objects["setup-channel"] = console_channel.pk
    routes = routes_filled(objects)
    answers = {
        (method, url): getattr(client, method)(url, NONSENSE).status_code
        for url in routes
        for method in ("get", "post")
    }

    assert len(routes) > 40
    assert {key: code for key, code in answers.items() if code >= 500} == {}
