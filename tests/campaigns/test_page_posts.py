"""A wave's Facebook Page post: planned as the wave is scheduled, handed to the loopback Graph
API at the wave's time, its public counts read back into the campaign report."""

import datetime as dt

import pytest
import time_machine

from campaigns.models import PagePost, PagePostStatus
from campaigns.selectors.reports import ReportScope, campaign_report
from campaigns.services import waves as wave_services
from campaigns.services.page_posts import (
    OUTCOME_UNKNOWN,
    page_post_publish,
    page_posts_engagement_refresh,
)
from campaigns.tasks import page_posts
from outreach.errors import InvalidInput
from outreach.models import ChannelKind
from outreach.services.channels import channel_create
from tests.support.meta_api import PAGE_ID, messenger_channel_for, running_meta_api

pytestmark = pytest.mark.django_db

EAT = dt.timezone(dt.timedelta(hours=3))
TWO_WEEKS_BEFORE = dt.datetime(2027, 7, 20, 9, 0, tzinfo=dt.UTC)  # E-7 is 14 days ahead
FIVE_WEEKS_BEFORE = dt.datetime(2027, 7, 1, 9, 0, tzinfo=dt.UTC)  # E-7 is 33 days ahead
E_MINUS_7 = dt.datetime(2027, 8, 3, 10, 0, tzinfo=EAT)
TEXT = "Peace in {region}, from {campaign}. Vote calmly."


@pytest.fixture
def meta_api(settings):
    with running_meta_api() as api:
        settings.META_GRAPH_BASE_URL = api.base_url
        yield api


@pytest.fixture
def page(organization):
    return messenger_channel_for(organization)


@pytest.fixture
def scheduled(
    campaign, audience, author, reviewer, console_channel, django_capture_on_commit_callbacks
):
    """Schedules a wave E-7d 10:00 posting to `page_channel`, running what it enqueues."""

    def schedule(page_channel, *, send_at_relative="E-7d 10:00", send_at=None):
        times = {"send_at": send_at} if send_at else {"send_at_relative": send_at_relative}
        wave = wave_services.wave_create(
            campaign=campaign,
            created_by=author.membership.user,
            name="E-7",
            segment=audience,
            channels=[console_channel],
            page_channel=page_channel,
            variants=[
                {"language": "en", "body": TEXT},
                {"language": "sw", "body": "Amani {region}."},
            ],
            **times,
        )
        wave_services.wave_submit(wave=wave, by=author.membership.user)
        wave_services.wave_approve(wave=wave, by=reviewer.membership.user)
        with django_capture_on_commit_callbacks(execute=True):
            return wave_services.wave_schedule(wave=wave, by=author.membership.user)

    return schedule


def test_a_scheduled_wave_with_a_page_schedules_one_post_at_its_time(meta_api, page, scheduled):
    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False):
        wave = scheduled(page)

    (post,) = meta_api.posts
    assert post.page_id == PAGE_ID
    assert post.published is False
    assert post.scheduled_publish_time == int(E_MINUS_7.timestamp())
    # The default language's text as sent, without the opt-out footer or a region.
    assert post.message == "Peace in, from Amani 2027. Vote calmly."
    stored = PagePost.objects.get(wave=wave)
    assert (stored.status, stored.provider_post_id) == (PagePostStatus.SCHEDULED, post.id)
    assert stored.scheduled_for == E_MINUS_7
    assert stored.channel_id == page.pk


def test_a_post_is_handed_over_once_however_often_it_is_asked(meta_api, page, scheduled):
    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False):
        wave = scheduled(page)
        again = page_post_publish(post_id=wave.page_post.pk)
        page_posts()

    assert again is None
    assert len(meta_api.posts) == 1


def test_a_post_more_than_30_days_ahead_waits_for_the_hourly_task(meta_api, page, scheduled):
    with time_machine.travel(FIVE_WEEKS_BEFORE, tick=False):
        wave = scheduled(page)
    assert meta_api.posts == []
    assert PagePost.objects.get(wave=wave).provider_post_id == ""

    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False):
        page_posts()

    (post,) = meta_api.posts
    assert post.scheduled_publish_time == int(E_MINUS_7.timestamp())
    assert PagePost.objects.get(wave=wave).provider_post_id == post.id


def test_a_post_due_in_under_10_minutes_is_published_at_once(meta_api, page, scheduled):
    now = dt.datetime(2027, 7, 20, 10, 0, tzinfo=EAT)
    with time_machine.travel(now, tick=False):
        wave = scheduled(page, send_at=now + dt.timedelta(minutes=5))

    (post,) = meta_api.posts
    assert post.published is True
    assert PagePost.objects.get(wave=wave).status == PagePostStatus.PUBLISHED


def test_a_cancelled_wave_hands_over_no_post_it_still_held(meta_api, page, scheduled, author):
    with time_machine.travel(FIVE_WEEKS_BEFORE, tick=False):
        wave = scheduled(page)
        wave_services.wave_cancel(wave=wave, by=author.membership.user)

    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False):
        page_posts()

    assert meta_api.posts == []
    assert PagePost.objects.get(wave=wave).status == PagePostStatus.SCHEDULED


def test_a_post_meta_refuses_is_failed_with_its_reason(meta_api, page, scheduled):
    meta_api.fail_next(190, http_status=401)
    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False):
        wave = scheduled(page)

    stored = PagePost.objects.get(wave=wave)
    assert stored.status == PagePostStatus.FAILED
    assert "access token" in stored.error
    assert meta_api.posts == []


def test_a_post_whose_answer_never_came_is_not_posted_again(meta_api, page, scheduled, settings):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.5
    meta_api.time_out_next(3)
    with time_machine.travel(TWO_WEEKS_BEFORE, tick=True):
        wave = scheduled(page)
        page_posts()

    stored = PagePost.objects.get(wave=wave)
    assert (stored.status, stored.error) == (PagePostStatus.FAILED, OUTCOME_UNKNOWN)
    assert len(meta_api.calls_to("POST", f"/v21.0/{PAGE_ID}/feed")) == 1


def test_engagement_is_read_and_appears_in_the_report(meta_api, page, scheduled, campaign):
    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False):
        wave = scheduled(page)
    (post,) = meta_api.posts
    meta_api.engagement[post.id] = {"reactions": 120, "comments": 14, "shares": 9}

    with time_machine.travel(E_MINUS_7 + dt.timedelta(hours=2), tick=False):
        assert page_posts_engagement_refresh() == 1

    stored = PagePost.objects.get(wave=wave)
    assert (stored.reactions, stored.comments, stored.shares) == (120, 14, 9)
    assert stored.status == PagePostStatus.PUBLISHED
    (row,) = campaign_report(ReportScope(campaign=campaign))["page_posts"]
    assert row["wave"] == "E-7"
    assert row["provider_post_id"] == post.id
    assert (row["reactions"], row["comments"], row["shares"]) == (120, 14, 9)
    assert row["scheduled_for"] == E_MINUS_7.astimezone(dt.UTC).isoformat()


def test_counts_a_page_token_may_not_read_are_null(meta_api, page, scheduled, campaign):
    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False):
        scheduled(page)
    meta_api.deny_engagement()

    with time_machine.travel(E_MINUS_7 + dt.timedelta(hours=2), tick=False):
        page_posts_engagement_refresh()

    (row,) = campaign_report(ReportScope(campaign=campaign))["page_posts"]
    assert (row["reactions"], row["comments"], row["shares"]) == (None, None, None)


def test_posts_older_than_30_days_are_not_read_again(meta_api, page, scheduled):
    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False):
        scheduled(page)
    (post,) = meta_api.posts
    meta_api.engagement[post.id] = {"reactions": 1}

    with time_machine.travel(E_MINUS_7 + dt.timedelta(days=31), tick=False):
        assert page_posts_engagement_refresh() == 0


def test_a_console_page_records_a_post_nobody_engages_with(organization, scheduled, campaign):
    console_page = channel_create(
        organization=organization,
        name="Console Page",
        kind=ChannelKind.CONSOLE_MESSENGER,
        country="KE",
    )
    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False):
        wave = scheduled(console_page)
    with time_machine.travel(E_MINUS_7 + dt.timedelta(hours=1), tick=False):
        page_posts()

    stored = PagePost.objects.get(wave=wave)
    assert stored.provider_post_id.startswith("console-post-")
    assert (stored.reactions, stored.comments, stored.shares) == (0, 0, 0)
    (row,) = campaign_report(ReportScope(campaign=campaign))["page_posts"]
    assert row["reactions"] == 0


def test_a_page_channel_must_be_a_facebook_page(campaign, author, console_channel):
    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False), pytest.raises(InvalidInput) as refused:
        wave_services.wave_create(
            campaign=campaign,
            created_by=author.membership.user,
            name="E-7",
            page_channel=console_channel,
        )

    assert refused.value.field == "page_channel"


def test_the_report_of_a_page_post_is_the_shape_the_schema_gives(
    meta_api, page, scheduled, campaign, client, member_client
):
    from jsonschema import FormatChecker
    from openapi_schema_validator import OAS30Validator

    from outreach.models import Role
    from tests.campaigns.test_report_privacy import _nullable_refs

    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False):
        scheduled(page)
    (post,) = meta_api.posts
    meta_api.engagement[post.id] = {"reactions": 3, "comments": 0}
    with time_machine.travel(E_MINUS_7 + dt.timedelta(hours=2), tick=False):
        page_posts_engagement_refresh()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/reports/campaigns/{id}/"]["get"]
    body_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    validator = OAS30Validator(
        _nullable_refs({**body_schema, "components": schema["components"]}),
        format_checker=FormatChecker(),
    )
    funder = member_client(campaign.organization, Role.FUNDER)
    campaign.funders.add(funder.membership.user)

    body = funder.get(f"/api/v1/reports/campaigns/{campaign.pk}/").json()

    assert [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(body)] == []
    (row,) = body["page_posts"]
    assert (row["reactions"], row["comments"], row["shares"]) == (3, 0, 0)


def test_the_printed_report_lists_the_page_posts(meta_api, page, scheduled, campaign):
    from campaigns.printable import report_html, report_pdf

    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False):
        scheduled(page)
    (post,) = meta_api.posts
    meta_api.engagement[post.id] = {"reactions": 4321, "comments": 5, "shares": 6}
    with time_machine.travel(E_MINUS_7 + dt.timedelta(hours=2), tick=False):
        page_posts_engagement_refresh()

    report = campaign_report(ReportScope(campaign=campaign))
    pdf = report_pdf(report, compress=False)
    page_html = report_html(report)

    assert b"Facebook Page posts" in pdf
    assert b"4,321" in pdf
    assert "Facebook Page posts" in page_html  # the print view says what the PDF says
    assert "4,321" in page_html


def test_a_page_taken_off_the_wave_before_its_post_left_drops_the_post(
    meta_api, page, scheduled, author, reviewer
):
    with time_machine.travel(FIVE_WEEKS_BEFORE, tick=False):
        wave = scheduled(page)
        wave = wave_services.wave_update(wave=wave, by=author.membership.user, page_channel=None)
        wave_services.wave_submit(wave=wave, by=author.membership.user)
        wave_services.wave_approve(wave=wave, by=reviewer.membership.user)
        wave_services.wave_schedule(wave=wave, by=author.membership.user)

    with time_machine.travel(TWO_WEEKS_BEFORE, tick=False):
        page_posts()

    assert not PagePost.objects.filter(wave=wave).exists()
    assert meta_api.posts == []
