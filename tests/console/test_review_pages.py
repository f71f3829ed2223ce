"""Review in the console: the queue, a wave's texts and what changed since its last review,
comments, approve or request changes with the two-person rule explained when it refuses,
and an admin's blackout approval with its reason."""

import pytest
import time_machine

from campaigns.models import WavePriority, WaveStatus
from campaigns.services import waves as services
from outreach.models import Role
from tests.campaigns.conftest import NOW, audience, campaign  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

TWO_PERSON_RULE = "You wrote this wave: another member must approve it."


@pytest.fixture(autouse=True)
def _five_weeks_before_polling_day():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def write_wave(campaign, audience, console_channel):  # noqa: F811
    def write(author, *, priority=WavePriority.NORMAL, submit=True):
        wave = services.wave_create(
            campaign=campaign,
            created_by=author,
            name="E-7: what peace means",
            send_at_relative="E-7d 10:00",
            segment=audience,
            channels=[console_channel],
            priority=priority,
            variants=[
                {"language": "en", "body": "Peace starts with you."},
                {"language": "sw", "body": "Amani inaanza na wewe."},
            ],
        )
        if submit:
            services.wave_submit(wave=wave, by=author)
        wave.refresh_from_db()
        return wave

    return write


@pytest.fixture
def manager(organization, console_as):
    return console_as(organization, Role.MANAGER)


@pytest.fixture
def reviewer(organization, console_as):
    return console_as(organization, Role.REVIEWER)


def review_page(client, wave):
    return client.get(f"/console/waves/{wave.pk}/review/").content.decode()


def test_the_queue_lists_waves_in_review_with_a_link_to_each(write_wave, manager, reviewer):
    wave = write_wave(manager.membership.user)
    draft = write_wave(manager.membership.user, submit=False)
    services.wave_update(wave=draft, by=draft.created_by, name="Still a draft")

    html = reviewer.get("/console/review/").content.decode()

    assert f'href="/console/waves/{wave.pk}/review/"' in html
    assert "Still a draft" not in html


def test_a_reviewer_reads_the_texts_per_language_and_approves(write_wave, manager, reviewer):
    wave = write_wave(manager.membership.user)

    html = review_page(reviewer, wave)
    response = reviewer.post(f"/console/waves/{wave.pk}/review/approve/")

    assert 'data-language="en"' in html
    assert "Peace starts with you." in html
    assert "Amani inaanza na wewe." in html
    assert ">Approve<" in html
    assert "First review" in html
    assert response.status_code == 302
    wave.refresh_from_db()
    assert wave.status == WaveStatus.APPROVED
    assert wave.approved_by == reviewer.membership.user


def test_the_author_cannot_approve_their_own_wave_and_the_page_says_why(
    write_wave, organization, console_as
):
    admin = console_as(organization, Role.ADMIN)  # an admin may review, but not their own
    wave = write_wave(admin.membership.user)

    response = admin.post(f"/console/waves/{wave.pk}/review/approve/")

    html = response.content.decode()
    assert response.status_code == 400
    assert f'<div id="approve-refusal" class="error refusal" role="alert">{TWO_PERSON_RULE}' in html
    wave.refresh_from_db()
    assert wave.status == WaveStatus.IN_REVIEW


def test_a_manager_sees_no_approve_button_and_may_not_approve(write_wave, organization, console_as):
    author = console_as(organization, Role.MANAGER)
    other_manager = console_as(organization, Role.MANAGER)
    wave = write_wave(author.membership.user)

    html = review_page(other_manager, wave)
    refused = other_manager.post(f"/console/waves/{wave.pk}/review/approve/")

    assert "Peace starts with you." in html
    assert ">Approve<" not in html
    assert "Request changes" not in html
    assert refused.status_code == 403
    wave.refresh_from_db()
    assert wave.status == WaveStatus.IN_REVIEW


def test_requesting_changes_needs_a_comment_and_sends_the_wave_back(write_wave, manager, reviewer):
    wave = write_wave(manager.membership.user)

    empty = reviewer.post(f"/console/waves/{wave.pk}/review/request-changes/", {"comment": ""})
    wave.refresh_from_db()
    still_in_review = wave.status
    sent_back = reviewer.post(
        f"/console/waves/{wave.pk}/review/request-changes/",
        {"comment": "Say where the peace meeting is."},
    )

    assert empty.status_code == 400
    assert "This field is required." in empty.content.decode()
    assert still_in_review == WaveStatus.IN_REVIEW
    assert sent_back.status_code == 302
    wave.refresh_from_db()
    assert wave.status == WaveStatus.DRAFT
    assert "Say where the peace meeting is." in review_page(manager, wave)


def test_the_next_review_shows_what_changed_since_the_last_one(write_wave, manager, reviewer):
    wave = write_wave(manager.membership.user)
    services.wave_request_changes(wave=wave, by=reviewer.membership.user, comment="Warmer, please.")
    with time_machine.travel(NOW.replace(minute=5), tick=False):
        services.wave_update(
            wave=wave,
            by=manager.membership.user,
            variants=[
                {"language": "en", "body": "Peace starts with you."},
                {"language": "sw", "body": "Amani huanza na wewe, rafiki."},
            ],
        )
        services.wave_comment(wave=wave, by=manager.membership.user, body="Done, warmer now.")
        services.wave_submit(wave=wave, by=manager.membership.user)

    html = review_page(reviewer, wave)

    changes = html[html.index('id="changes"') : html.index('id="comments"')]
    assert f"Last reviewed by {reviewer.membership.user.username}" in changes
    assert "Texts saved since: EN, SW." in changes
    assert "Draft → In review" in changes
    assert "1 comment since." in changes
    assert 'class="variant changed" lang="sw"' in html
    assert "Amani huanza na wewe, rafiki." in html
    assert "earlier wording is not shown" in changes


def test_a_wave_whose_texts_were_not_saved_again_says_so(write_wave, manager, reviewer):
    wave = write_wave(manager.membership.user)
    services.wave_request_changes(wave=wave, by=reviewer.membership.user, comment="Later, please.")
    with time_machine.travel(NOW.replace(minute=5), tick=False):
        services.wave_update(wave=wave, by=manager.membership.user, send_at_relative="E-6d 10:00")
        services.wave_submit(wave=wave, by=manager.membership.user)

    html = review_page(reviewer, wave)

    assert "No text was saved since." in html
    assert "variant changed" not in html


def test_any_staff_member_comments(write_wave, manager, reviewer):
    wave = write_wave(manager.membership.user)

    response = reviewer.post(f"/console/waves/{wave.pk}/review/comment/", {"body": "Lovely."})

    assert response.status_code == 302
    assert "Lovely." in review_page(manager, wave)


def test_an_admin_approves_an_urgent_wave_for_the_blackout_with_a_reason(
    write_wave, manager, organization, console_as
):
    admin = console_as(organization, Role.ADMIN)
    wave = write_wave(manager.membership.user, priority=WavePriority.URGENT)

    form = review_page(admin, wave)
    no_reason = admin.post(f"/console/waves/{wave.pk}/review/approve-blackout/", {"reason": " "})
    done = admin.post(
        f"/console/waves/{wave.pk}/review/approve-blackout/",
        {"reason": "A rumour of violence in Kisumu must be answered tonight."},
    )

    assert "Approve for the blackout" in form
    assert no_reason.status_code == 400
    assert done.status_code == 302
    wave.refresh_from_db()
    assert wave.blackout_approved_by == admin.membership.user
    assert wave.blackout_approval_reason.startswith("A rumour of violence")
    assert "A rumour of violence in Kisumu must be answered tonight." in review_page(admin, wave)


def test_only_an_admin_sees_and_may_use_the_blackout_approval(write_wave, manager, reviewer):
    wave = write_wave(manager.membership.user, priority=WavePriority.URGENT)

    html = review_page(reviewer, wave)
    refused = reviewer.post(
        f"/console/waves/{wave.pk}/review/approve-blackout/", {"reason": "Because."}
    )

    assert "Approve for the blackout" not in html
    assert refused.status_code == 403
    wave.refresh_from_db()
    assert wave.blackout_approved_by is None


def test_another_organizations_wave_is_not_found_on_review(
    write_wave, manager, other_organization, console_as
):
    wave = write_wave(manager.membership.user)
    stranger = console_as(other_organization, Role.REVIEWER)

    assert stranger.get(f"/console/waves/{wave.pk}/review/").status_code == 404
    assert stranger.post(f"/console/waves/{wave.pk}/review/approve/").status_code == 404
    assert "E-7" not in stranger.get("/console/review/").content.decode()
    wave.refresh_from_db()
    assert wave.status == WaveStatus.IN_REVIEW
