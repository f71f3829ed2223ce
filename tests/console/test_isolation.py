"""One organization's console never shows or changes another's: every page with an id walked.

The walker reads `console.urls` as it is, so a page added later is walked too: each id in
its URL is filled with one of organization A's objects, chosen by the URL's name (KINDS)
or the parameter's name (PARAMETERS). A page the walker cannot fill fails the test until it
is added there. Members of organization B (a manager, an admin) must get a not-found for
every one of them, by GET and by POST, and nothing of A's may change; A's own admin must
not (which proves the id was of the right kind). B's lists show none of A's names.
"""

import copy
import datetime as dt

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, reverse
from django.urls.converters import IntConverter

from campaigns.selectors.library import notices_for
from campaigns.services import waves as wave_services
from campaigns.services.campaigns import campaign_create
from campaigns.services.lexicon import term_propose
from campaigns.services.library import template_create
from campaigns.services.network import network_create, network_invite
from campaigns.services.segments import segment_create
from console import urls as console_urls
from outreach.access import may
from outreach.models import ChannelKind, ConsentStatus, Membership, Organization, Region, Role
from outreach.privacy import mask_phone_number
from outreach.services.channels import channel_create
from outreach.services.inbound import inbound_handle, inbound_receive
from outreach.services.organizations import member_add, organization_create
from tests.campaigns.conftest import ELECTION_DAY
from tests.console.conftest import PASSWORD
from tests.support.module_rows import rows_for_module
from tests.support.people import make_subscriber

NUMBER = "+254711000987"
SECRETS = [
    "Peace Youth Kenya",  # organization A's name and slug
    "peace-youth-kenya",
    "A secret campaign",
    "A secret wave",
    "A secret segment",
    "A secret console",
    "A secret region",
    "A secret reply",
    "A secret body",
    "A secret template",
    "A secret network",
    "A secret text",
    NUMBER,
    NUMBER[1:],
    mask_phone_number(NUMBER),
]

# The first word of a URL's name that says what its <int:pk> is, in the order tried.
KINDS = {
    "campaign": "campaign",
    "wave": "wave",
    "segment": "segment",
    "channel": "channel",
    "member": "membership",
    "membership": "membership",
    "person": "contact",
    "contact": "contact",
    "subscriber": "subscriber",
    "region": "region",
    "inbox": "inbound",
    "reply": "inbound",
    "lexicon": "term",
    "template": "template",
    "version": "version",
    "network": "network",
    "notice": "notice",
}
# URL names whose first word misleads: the funder's report of a campaign.
NAMED = {
    "funder-campaign": "campaign",
    "funder-campaign-csv": "campaign",
    "funder-campaign-pdf": "campaign",
}
# Parameters other than pk, by name.
PARAMETERS = {
    "campaign_pk": "campaign",
    "campaign_id": "campaign",
    "wave_pk": "wave",
    "wave_id": "wave",
    "segment_pk": "segment",
    "channel_pk": "channel",
    "contact_pk": "contact",
    "person_pk": "contact",
    "subscriber_pk": "subscriber",
    "member_pk": "membership",
    "membership_pk": "membership",
}
LISTS = [
    "console:home",
    "console:campaigns",
    "console:review-queue",
    "console:audience",
    "console:segments",
    "console:inbox",
    "console:setup",
    "console:setup-members",
    "console:setup-keywords",
    "console:setup-regions",
    "console:simulator",
    "console:funder-home",
    "console:library",
    "console:library-reviews",
    "console:network",
]


def walked_patterns() -> list[tuple[str, URLPattern]]:
    """Every console URL that takes a parameter, with its name (namespaced)."""
    found = []

    def walk(patterns: list, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and entry.pattern.converters:
                found.append((f"console:{entry.name}", entry))

    walk(console_urls.urlpatterns, "")
    return found


WALKED = walked_patterns()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> dict:
    """Organizations A and B, and A's objects (`world_a`), seeded once for the module; each
    test reads them afresh and what it changes is rolled back after it."""

    def seed() -> dict:
        organization, other = (
            organization_create(
                name=name, admin_username=admin, languages=["en", "sw"]
            ).membership.organization
            for name, admin in (("Peace Youth Kenya", "pyk-admin"), ("Sauti ya Amani", "sya-admin"))
        )
        return {"organization": organization, "other_organization": other, **_world_a(organization)}

    yield from rows_for_module(django_db_blocker, seed)


@pytest.fixture
def organization(db, seeded) -> Organization:
    return copy.deepcopy(seeded["organization"])


@pytest.fixture
def other_organization(db, seeded) -> Organization:
    return copy.deepcopy(seeded["other_organization"])


@pytest.fixture
def world_a(db, seeded) -> dict:
    """Organization A's objects, one of each kind a console URL may name, with its secrets."""
    return {
        kind: copy.deepcopy(row)
        for kind, row in seeded.items()
        if kind not in ("organization", "other_organization")
    }


def _world_a(organization: Organization) -> dict:
    manager, reviewer = (_member(organization, role) for role in (Role.MANAGER, Role.REVIEWER))
    channel = channel_create(
        organization=organization, name="A secret console", kind=ChannelKind.CONSOLE, country="KE"
    )
    region = Region.objects.create(organization=organization, name="A secret region")
    person = make_subscriber(
        organization=organization,
        channel=channel,
        address=NUMBER,
        language="en",
        region=region,
        consent_status=ConsentStatus.OPTED_IN,
    )
    inbound, _ = inbound_receive(
        channel=channel,
        provider_message_id="in-a-secret",
        from_address=NUMBER,
        body="A secret reply about peace",
        received_at=dt.datetime.now(tz=dt.UTC),
    )
    inbound_handle(inbound_id=inbound.pk)
    campaign = campaign_create(
        organization=organization,
        created_by=None,
        preset="KE",
        name="A secret campaign",
        election_date=ELECTION_DAY,
    )
    segment = segment_create(organization=organization, created_by=None, name="A secret segment")
    wave = wave_services.wave_create(
        campaign=campaign,
        created_by=manager.user,
        name="A secret wave",
        send_at_relative="E-7d 10:00",
        segment=segment,
        channels=[channel],
        variants=[{"language": "en", "body": "A secret body of peace."}],
    )
    wave_services.wave_submit(wave=wave, by=manager.user)  # waiting in the review queue
    admin = Membership.objects.get(organization=organization, role=Role.ADMIN).user
    network = network_create(organization=organization, by=admin, name="A secret network")
    term = term_propose(
        network=network,
        organization=organization,
        by=manager.user,
        country="KE",
        language="sw",
        term="A secret term",
        note="A secret note.",
    )
    draft = template_create(
        network=network,
        organization=organization,
        by=manager.user,
        name="A secret template",
        purpose="peaceful_voting",
        translations=[{"language": "en", "body": "A secret text of peace."}],
    )
    third = organization_create(name="Amani Tatu", admin_username="tatu-admin").membership
    elsewhere = network_create(organization=third.organization, by=third.user, name="Tatu Net")
    network_invite(
        network=elsewhere, organization=third.organization, by=third.user, invitee=organization.slug
    )
    return {
        "version": draft,  # a draft: only its owner reads it
        "template": draft.template,
        "network": network,
        "notice": organization_notice(organization),
        "term": term,
        "campaign": campaign,
        "wave": wave,
        "segment": segment,
        "channel": channel,
        "membership": reviewer,
        "contact": person.contact,
        "subscriber": person,
        "region": region,
        "inbound": inbound,
    }


def organization_notice(organization: Organization):
    """The organization's one notice (an invitation to another network)."""
    return notices_for(organization).get()


def _member(organization: Organization, role: str) -> Membership:
    """As the console's `make_member`: named after the organization's slug, with PASSWORD."""
    membership = member_add(
        organization=organization, username=f"{role}-{organization.slug}-world", role=role
    ).membership
    membership.user.set_password(PASSWORD)
    membership.user.save(update_fields=["password"])
    return membership


@pytest.fixture
def a_admin(organization, console_as):
    return console_as(organization, Role.ADMIN)


@pytest.fixture
def b_members(other_organization, console_as):
    return {role: console_as(other_organization, role) for role in (Role.MANAGER, Role.ADMIN)}


def test_the_walker_finds_the_pages_with_ids():
    names = {name for name, _ in WALKED}

    assert {"console:wave", "console:funder-campaign"} <= names


@pytest.mark.parametrize(("name", "pattern"), WALKED, ids=[name for name, _ in WALKED])
def test_another_organizations_member_finds_nothing_at_a_page_of_ours(
    name, pattern, world_a, a_admin, b_members
):
    url = reverse(name, kwargs=fill(name, pattern, world_a))
    own_get = a_admin.get(url)
    assert own_get.status_code != 404, f"{url}: A's own admin gets a 404 (the wrong kind of id?)"
    action = getattr(pattern.callback, "console_action", None)
    before = fingerprint()

    for role, client in b_members.items():
        allowed = action is None or may(role, action)
        got = client.get(url)
        posted = client.post(url, {})
        expected = {404} if allowed else {403, 404}
        takes_get = own_get.status_code != 405
        assert got.status_code in (expected if takes_get else expected | {405}), (role, url, got)
        assert posted.status_code in expected | {405}, (role, url, posted)
        for response in (got, posted):
            body = response.content.decode(errors="replace")
            leaked = [secret for secret in SECRETS if secret in body]
            assert not leaked, (role, url, leaked)

    assert fingerprint() == before, f"{url}: a POST from another organization changed something"


@pytest.mark.parametrize("name", LISTS)
def test_another_organizations_lists_show_none_of_ours(name, world_a, b_members):
    url = reverse(name)
    for role, client in b_members.items():
        response = client.get(url)
        body = response.content.decode(errors="replace")
        if role == Role.ADMIN and name != "console:home":
            assert response.status_code == 200, (role, url)
        leaked = [secret for secret in SECRETS if secret in body]
        assert not leaked, (role, url, leaked)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("console:campaigns", "A secret campaign"),
        ("console:review-queue", "A secret wave"),
        ("console:segments", "A secret segment"),
        ("console:inbox", "A secret reply"),
        ("console:setup-regions", "A secret region"),
        ("console:funder-home", "A secret campaign"),
        ("console:library", "A secret template"),
        ("console:network", "A secret network"),
    ],
)
def test_our_own_lists_do_show_what_the_other_organization_must_not_see(
    name, secret, world_a, a_admin
):
    response = a_admin.get(reverse(name))

    assert response.status_code == 200
    assert secret in response.content.decode()


def test_the_engine_page_spans_the_server_and_names_no_organization(world_a, b_members):
    operator = b_members[Role.ADMIN]
    operator.membership.user.is_superuser = True  # the server's operator, not A's member
    operator.membership.user.save(update_fields=["is_superuser"])

    pages = [operator.get(reverse(name)) for name in ("console:engine", "console:engine-health")]

    for response in pages:
        assert response.status_code == 200
        body = response.content.decode()
        assert not [secret for secret in SECRETS if secret in body]
    for role, client in b_members.items():
        if role != Role.ADMIN:
            assert client.get(reverse("console:engine")).status_code == 403


def test_a_console_page_not_found_is_a_page_for_people(b_members):
    response = b_members[Role.MANAGER].get("/console/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>Not found</h1>" in response.content.decode()


def test_a_signed_out_visitor_gets_the_not_found_page_too(client):
    response = client.get("/console/no-such-page/")

    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.content.decode()


def test_an_api_path_not_found_stays_json(client):
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- helpers -------------------------------------------------------------------------------


def fill(name: str, pattern: URLPattern, world: dict) -> dict[str, int]:
    """A's objects for each parameter of the pattern; fails for one the walker cannot fill."""
    kwargs = {}
    for parameter, converter in pattern.pattern.converters.items():
        if not isinstance(converter, IntConverter):
            pytest.fail(
                f"{name}: the walker cannot fill <{parameter}>; teach it in test_isolation.py"
            )
        kind = PARAMETERS.get(parameter) if parameter != "pk" else kind_of(name)
        if kind is None or kind not in world:
            pytest.fail(
                f"{name} <{parameter}>: the walker does not know what it names; add it to "
                "KINDS, NAMED or PARAMETERS in tests/console/test_isolation.py"
            )
        kwargs[parameter] = world[kind].pk
    return kwargs


def kind_of(name: str) -> str | None:
    short = name.removeprefix("console:")
    if short in NAMED:
        return NAMED[short]
    for word in short.split("-"):
        if word in KINDS:
            return KINDS[word]
    return None


def fingerprint() -> dict[str, object]:
    """Every table's row count, and the rows of the models a console page may change."""
    counts = {model._meta.label: model.objects.count() for model in apps.get_models()}
    changing = ["campaigns.Campaign", "campaigns.Wave", "campaigns.Segment", "outreach.Channel"]
    changing += [
        "outreach.Membership",
        "outreach.Subscriber",
        "outreach.Contact",
        "outreach.Region",
    ]
    rows = {
        label: sorted(map(repr, apps.get_model(label).objects.order_by("pk").values()))
        for label in changing
    }
    return {"counts": counts, "rows": rows}
