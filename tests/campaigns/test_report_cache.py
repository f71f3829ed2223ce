"""The report cache: the figures a funder gets are the same from the cache or computed, and
whatever changes what a report reads (a rollup, k, a poll answer) shows at once."""

import copy

import pytest
from django.test import TestCase

from campaigns.models import PollAnswer
from campaigns.selectors import reports
from campaigns.selectors.reports import ReportScope, campaign_report, campaign_report_computed
from campaigns.services.campaigns import campaign_create
from campaigns.services.rollups import wave_rollup
from outreach.models import ChannelKind
from outreach.services.channels import channel_create
from outreach.services.organizations import organization_create
from tests.campaigns.report_world import Texts, World, build_world
from tests.support.module_rows import rows_for_module

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded_world(django_db_setup, django_db_blocker) -> World:
    def seed() -> World:
        organization = organization_create(
            name="Cache NGO", admin_username="cache-admin", languages=["en", "sw"]
        ).membership.organization
        channel = channel_create(
            organization=organization, name="Console", kind=ChannelKind.CONSOLE, country="KE"
        )
        campaign = campaign_create(
            organization=organization, created_by=None, preset="KE", name="Amani cached"
        )
        return build_world(
            organization=organization,
            channel=channel,
            campaign=campaign,
            capture=TestCase.captureOnCommitCallbacks,
        )

    yield from rows_for_module(django_db_blocker, seed)


@pytest.fixture
def world(db, seeded_world) -> World:
    return copy.deepcopy(seeded_world)


def more_texts(world: World) -> Texts:
    """Texts through the real inbound path, with provider ids the seed did not use."""
    texts = Texts(world.waves[0].channels.get(), TestCase.captureOnCommitCallbacks)
    texts.counter = iter(range(50_000, 60_000))
    return texts


def figures(report: dict) -> dict:
    return {name: value for name, value in report.items() if name != "generated_at"}


@pytest.mark.parametrize("dimension", [None, "region", "day", "gender"])
@pytest.mark.parametrize("suppress", [True, False])
def test_a_report_from_the_cache_has_every_figure_of_the_one_computed(world, dimension, suppress):
    scope = ReportScope(campaign=world.campaign, dimension=dimension)

    first = campaign_report(scope, suppress=suppress)
    cached = campaign_report(scope, suppress=suppress)

    assert figures(cached) == figures(first)
    assert figures(cached) == figures(campaign_report_computed(scope, suppress=suppress))


def test_a_wave_and_a_period_are_reports_of_their_own(world):
    whole = campaign_report(ReportScope(campaign=world.campaign))
    one_wave = campaign_report(ReportScope(campaign=world.campaign, wave=world.waves[0]))
    one_day = campaign_report(
        ReportScope(campaign=world.campaign, date_from=world.days[2], date_to=world.days[2])
    )

    assert one_wave["wave"]["id"] == world.waves[0].pk
    assert one_day["period"]["from"] == world.days[2].isoformat()
    assert one_wave["totals"] != whole["totals"] != one_day["totals"]


def test_an_unchanged_report_read_again_costs_one_small_query(world, django_assert_num_queries):
    scope = ReportScope(campaign=world.campaign, dimension="region")
    campaign_report(scope)

    with django_assert_num_queries(1):  # the version; the report itself is one cache read
        campaign_report(scope)


def test_a_rollup_shows_its_new_figures_in_the_next_report(world):
    scope = ReportScope(campaign=world.campaign)
    before = campaign_report(scope, suppress=False)["totals"]["replies"]
    texts = more_texts(world)
    for person in world.people["Nairobi"][:3]:
        texts.send(person, "Tuko pamoja kwa amani", world.local(world.days[2], 18))

    stale = campaign_report(scope, suppress=False)["totals"]["replies"]
    wave_rollup(wave_id=world.waves[2].pk)
    after = campaign_report(scope, suppress=False)

    assert stale == before  # reports read the rollups, cached or not
    assert after["totals"]["replies"] == before + 3
    assert figures(after) == figures(campaign_report_computed(scope, suppress=False))


def test_a_raised_k_applies_to_the_next_report_at_once(world):
    scope = ReportScope(campaign=world.campaign, dimension="region")
    assert campaign_report(scope)["k"] == 10
    organization = world.campaign.organization
    organization.report_min_cell_size = 20
    organization.save()

    report = campaign_report(scope)

    assert report["k"] == 20
    rows = {row["key"]: row for row in report["breakdown"]["rows"]}
    assert rows["Mombasa"]["suppressed"]  # 14 people: published under k = 10, not under 20


def test_a_new_poll_answer_shows_without_waiting_for_a_rollup(world):
    scope = ReportScope(campaign=world.campaign)
    before = campaign_report(scope, suppress=False)["polls"][0]["options"][1]["answers"]
    texts = more_texts(world)

    texts.send(world.people["Mombasa"][3], "2", world.local(world.days[2], 9))

    after = campaign_report(scope, suppress=False)["polls"][0]["options"][1]["answers"]
    assert PollAnswer.objects.filter(poll__wave=world.waves[1], option_number=2).exists()
    assert after == before + 1


def test_without_the_cache_the_report_is_computed(world, settings, monkeypatch):
    monkeypatch.setattr(reports, "_cache_down_until", 0.0)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    scope = ReportScope(campaign=world.campaign, dimension="region")

    report = campaign_report(scope)

    assert figures(report) == figures(campaign_report_computed(scope))
    assert reports._cache_down_until > 0  # the next reports skip the cache for a while
