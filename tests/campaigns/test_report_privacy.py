"""What a funder sees describes at least k people, and asking differently reveals no more."""

import copy
import csv
import datetime as dt
import io

import pytest
from django.test import TestCase

from campaigns import cell_key
from campaigns.models import Variant, Wave, WaveStatus
from campaigns.selectors.reports import ReportScope, campaign_report
from campaigns.services.campaigns import campaign_create
from campaigns.services.fanout import fanout_wave
from campaigns.services.rollups import wave_rollup
from campaigns.services.segments import segment_create
from outreach.models import ChannelKind, ConsentStatus, Region
from outreach.services.channels import channel_create
from outreach.services.organizations import organization_create
from tests.campaigns.conftest import ELECTION_DAY
from tests.campaigns.report_world import World, build_world
from tests.support.module_rows import rows_for_module
from tests.support.people import make_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded_world(django_db_setup, django_db_blocker) -> World:
    """The world a funder attacks (tests.campaigns.report_world), seeded once for the module
    in an organization of its own; what a test changes is rolled back after it."""

    def seed() -> World:
        organization = organization_create(
            name="Amani World", admin_username="world-admin", languages=["en", "sw"]
        ).membership.organization
        channel = channel_create(
            organization=organization, name="Console", kind=ChannelKind.CONSOLE, country="KE"
        )
        campaign = campaign_create(
            organization=organization,
            created_by=None,
            preset="KE",
            name="Amani 2027",
            election_date=ELECTION_DAY,
            sensitive_terms=["Party X", "Candidate Y"],
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
    """A copy of the seeded world for one test (its rows are the module's)."""
    return copy.deepcopy(seeded_world)


def report(world_or_campaign, *, suppress: bool = True, **scope: object) -> dict:
    campaign = getattr(world_or_campaign, "campaign", world_or_campaign)
    return campaign_report(ReportScope(campaign=campaign, **scope), suppress=suppress)


def rows_by_key(body: dict) -> dict[str, dict]:
    return {row["key"]: row for row in body["breakdown"]["rows"]}


def test_one_person_messaged_by_ten_waves_is_a_cell_of_one_person(
    organization, console_channel, campaign
):
    campaign.fatigue_cap_per_week = None
    campaign.save()
    nairobi = Region.objects.create(organization=organization, name="Nairobi")
    kisumu = Region.objects.create(organization=organization, name="Kisumu")
    for index in range(13):
        make_subscriber(
            organization=organization,
            channel=console_channel,
            address=f"+2547130{index:05d}",
            language="en",
            region=kisumu if index == 0 else nairobi,
            consent_status=ConsentStatus.OPTED_IN,
        )
    segment = segment_create(organization=organization, created_by=None, name="All")
    for number in range(10):
        wave = Wave.objects.create(
            organization=organization,
            campaign=campaign,
            name=f"Wave {number}",
            segment=segment,
            status=WaveStatus.SENDING,
        )
        wave.channels.set([console_channel])
        Variant.objects.create(wave=wave, language="en", body="Peace.")
        fanout_wave(wave_id=wave.pk)
        wave_rollup(wave_id=wave.pk)

    rows = rows_by_key(report(campaign, dimension="region"))

    assert report(campaign, suppress=False, dimension="region")["breakdown"]["rows"][0]["figures"][
        "targeted"
    ] in (10, 120)  # ten messages to the one person in Kisumu
    assert rows["Kisumu"]["suppressed"]
    assert rows["Kisumu"]["figures"]["targeted"] is None


@pytest.mark.parametrize("dimension", ["gender", "age_band", "region", "channel", "language"])
def test_one_opt_out_on_a_day_is_published_in_no_breakdown(world, dimension):
    stop_day = world.days[1].isoformat()

    body = report(world, dimension=dimension, date_from=world.days[1], date_to=world.days[1])

    exact = report(world, suppress=False, date_from=world.days[1], date_to=world.days[1])
    assert exact["totals"]["opt_outs"] == 1, stop_day
    assert body["totals"]["opt_outs"] is None
    assert [row["figures"]["opt_outs"] for row in body["breakdown"]["rows"]] == [None] * len(
        body["breakdown"]["rows"]
    )


def test_a_reply_from_one_person_is_judged_by_that_person_not_by_the_cells_messages(world):
    body = report(world, dimension="region", date_from=world.days[2], date_to=world.days[2])

    kisumu_exact = rows_by_key(
        report(world, suppress=False, dimension="region", date_from=world.days[2])
    )["Kisumu"]
    assert kisumu_exact["figures"]["replies"] == 1
    assert all(row["figures"]["replies"] in (None, 0) for row in body["breakdown"]["rows"])


def test_errors_are_those_of_the_period_asked_for(world):
    later = world.days[2] + dt.timedelta(days=1)

    assert report(world, date_from=later)["errors"] == []
    assert report(world, suppress=False, date_from=later)["errors"] == []


def test_errors_of_fewer_than_k_people_are_withheld(world):
    exact = {
        (row["status"], row["error_code"]): row["messages"]
        for row in report(world, suppress=False)["errors"]
    }
    published = {(row["status"], row["error_code"]): row for row in report(world)["errors"]}

    assert exact == {("failed", "30006"): 6, ("undelivered", "30003"): 3}  # two people, one
    assert published[("failed", "30006")]["messages"] is None
    assert published[("failed", "30006")]["suppressed"] is True
    assert published[("undelivered", "30003")]["messages"] is None


def test_poll_answers_count_on_the_campaigns_local_days(world):
    night_after = report(world, suppress=False, date_from=world.days[2], date_to=world.days[2])
    day_of = report(world, suppress=False, date_from=world.days[1], date_to=world.days[1])

    [poll] = night_after["polls"]
    assert {option["number"]: option["answers"] for option in poll["options"]} == {1: 0, 2: 3}
    [poll] = day_of["polls"]
    assert {option["number"]: option["answers"] for option in poll["options"]} == {1: 11, 2: 0}


def test_the_same_question_always_gets_the_same_answer(world):
    first = report(world, dimension="region")
    again = report(world, dimension="region")

    first.pop("generated_at"), again.pop("generated_at")
    assert first == again


def test_a_published_count_is_the_true_one_moved_by_at_most_the_stated_perturbation(world):
    for dimension in (None, "region", "gender", "day"):
        published = report(world, dimension=dimension)
        exact = report(world, suppress=False, dimension=dimension)
        pairs = [(published["totals"], exact["totals"])]
        if dimension:
            pairs += [
                (mine["figures"], true["figures"])
                for mine, true in zip(
                    published["breakdown"]["rows"], exact["breakdown"]["rows"], strict=True
                )
            ]
        for shown, true in pairs:
            for name in ("targeted", "sent", "delivered", "replies", "opt_outs", "segments"):
                if shown[name] is not None:
                    assert abs(shown[name] - true[name]) <= published["privacy"][
                        "max_perturbation"
                    ] or (true[name] < shown[name] == published["k"]), (dimension, name)


def test_the_same_records_get_the_same_perturbation_whichever_query_sums_them(world):
    first_day, first_wave = world.days[0], world.waves[0]

    by_day = report(world, date_from=first_day, date_to=first_day)
    by_wave_and_day = report(world, wave=first_wave, date_from=first_day, date_to=first_day)
    day_row = next(row for row in report(world)["series"] if row["key"] == first_day.isoformat())

    # Only the first wave's messages went out on the first day: the same messages.
    assert by_day["totals"]["targeted"] == by_wave_and_day["totals"]["targeted"]
    assert by_day["totals"]["targeted"] == day_row["figures"]["targeted"]


def test_a_funder_is_told_the_method_and_k(world):
    body = report(world)

    assert body["privacy"] == {
        "k": 10,
        "method": "cell-key",
        "max_perturbation": cell_key.MAX_PERTURBATION,
    }


def test_the_report_a_funder_gets_is_exactly_the_shape_the_schema_gives(
    world, client, member_client
):
    from jsonschema import FormatChecker
    from openapi_schema_validator import OAS30Validator

    from outreach.models import Role

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    path = schema["paths"]["/api/v1/reports/campaigns/{id}/"]["get"]
    body_schema = path["responses"]["200"]["content"]["application/json"]["schema"]
    funder = member_client(world.campaign.organization, Role.FUNDER)
    world.campaign.funders.add(funder.membership.user)
    validator = OAS30Validator(
        _nullable_refs({**body_schema, "components": schema["components"]}),
        format_checker=FormatChecker(),
    )

    for query in ({}, {"by": "region"}, {"by": "day", "wave": world.waves[1].pk}):
        response = funder.get(f"/api/v1/reports/campaigns/{world.campaign.pk}/", query)
        assert response.status_code == 200
        errors = [
            f"{list(error.path)}: {error.message}"
            for error in validator.iter_errors(response.json())
        ]
        assert errors == [], query
    assert "$ref" in str(body_schema)  # typed, not a bare object


def _nullable_refs(schema: object) -> object:
    """OpenAPI 3.0's `nullable` beside `allOf: [$ref]` (drf-spectacular's nullable nested
    object) means "this object or null"; say so in terms the validator applies."""
    if isinstance(schema, list):
        return [_nullable_refs(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: _nullable_refs(value) for key, value in schema.items()}
    if schema.get("nullable") and "allOf" in schema:
        return {"anyOf": [{"allOf": schema["allOf"]}, {"nullable": True, "enum": [None]}]}
    return schema


def test_the_csv_shows_a_withheld_error_count_as_withheld(world, member_client):
    from outreach.models import Role

    funder = member_client(world.campaign.organization, Role.FUNDER)
    world.campaign.funders.add(funder.membership.user)

    response = funder.get(f"/api/v1/reports/campaigns/{world.campaign.pk}/csv/")

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    errors = [row for row in rows if row["section"] == "errors"]
    assert errors
    assert {(row["suppressed"], row["targeted"]) for row in errors} == {("true", "")}


def test_a_cell_that_does_not_name_its_people_is_withheld_not_guessed(world):
    from campaigns.models import WaveRollup

    # A row as an older rollup would have left it: counts without their people.
    WaveRollup.objects.filter(wave=world.waves[0], named__has_key="opt_outs").delete()
    WaveRollup.objects.create(
        organization_id=world.campaign.organization_id,
        campaign=world.campaign,
        wave=world.waves[0],
        day=world.days[0],
        opt_outs=40,
    )

    body = report(world, wave=world.waves[0])

    assert body["totals"]["opt_outs"] is None
    assert body["totals"]["targeted"] is not None
