"""Waves: composed, reviewed by a second person, scheduled around election day and the night."""

import datetime as dt

import pytest
import time_machine

from campaigns.models import WaveStatus
from campaigns.services import waves as services
from campaigns.services.campaigns import campaign_update
from outreach.errors import InvalidInput, NotAllowed
from tests.campaigns.conftest import NOW

pytestmark = pytest.mark.django_db

EAT = dt.timezone(dt.timedelta(hours=3))


@pytest.fixture(autouse=True)
def _five_weeks_before_polling_day():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def wave(campaign, audience, author, console_channel):
    return services.wave_create(
        campaign=campaign,
        created_by=author.membership.user,
        name="E-7: what peace means",
        send_at_relative="E-7d 10:00",
        segment=audience,
        channels=[console_channel],
        variants=[
            {"language": "en", "body": "Peace starts with you, {region}. Reply STOP to opt out."},
            {"language": "sw", "body": "Amani inaanza na wewe. Jibu ACHA kusitisha."},
        ],
    )


def approved(wave, reviewer):
    services.wave_submit(wave=wave, by=wave.created_by)
    return services.wave_approve(wave=wave, by=reviewer.membership.user)


def test_a_relative_send_time_is_counted_from_election_day_in_local_time(wave):
    assert wave.requested_at == dt.datetime(2027, 8, 3, 10, 0, tzinfo=EAT)
    assert wave.send_at_relative == "E-7d 10:00"


def test_moving_the_election_date_moves_the_wave(wave, reviewer):
    scheduled = services.wave_schedule(wave=approved(wave, reviewer), by=None)

    campaign_update(campaign=wave.campaign, by=None, election_date=dt.date(2027, 8, 17))

    scheduled.refresh_from_db()
    assert scheduled.requested_at == dt.datetime(2027, 8, 10, 10, 0, tzinfo=EAT)
    assert scheduled.scheduled_for == dt.datetime(2027, 8, 10, 10, 0, tzinfo=EAT)
    assert scheduled.status == WaveStatus.SCHEDULED


def test_the_author_cannot_approve_their_own_wave(wave):
    services.wave_submit(wave=wave, by=wave.created_by)

    with pytest.raises(NotAllowed, match="another member"):
        services.wave_approve(wave=wave, by=wave.created_by)


def test_a_manager_cannot_approve(wave, organization, member_client):
    services.wave_submit(wave=wave, by=wave.created_by)
    other_manager = member_client(organization, "manager").membership.user

    with pytest.raises(NotAllowed, match="reviewer or an admin"):
        services.wave_approve(wave=wave, by=other_manager)


def test_a_reviewer_approves_and_every_transition_is_recorded(wave, reviewer):
    approved(wave, reviewer)

    transitions = list(wave.transitions.values_list("from_status", "to_status", "by__username"))
    assert transitions == [
        ("", "draft", wave.created_by.username),
        ("draft", "in_review", wave.created_by.username),
        ("in_review", "approved", reviewer.membership.user.username),
    ]


def test_editing_an_approved_wave_sends_it_back_to_draft(wave, reviewer):
    approved(wave, reviewer)

    services.wave_update(
        wave=wave, by=wave.created_by, variants=[{"language": "en", "body": "Changed."}]
    )

    wave.refresh_from_db()
    assert wave.status == WaveStatus.DRAFT
    assert wave.transitions.last().note == "edited: needs a new review"
    assert list(wave.variants.values_list("language", flat=True)) == ["en"]


def test_a_wave_due_at_night_is_deferred_to_the_morning(wave, reviewer):
    services.wave_update(wave=wave, by=wave.created_by, send_at_relative="E-7d 19:30")

    scheduled = services.wave_schedule(wave=approved(wave, reviewer), by=None)

    # The Kenyan preset sends only 08:00-18:00 EAT.
    assert scheduled.scheduled_for == dt.datetime(2027, 8, 4, 8, 0, tzinfo=EAT)
    assert scheduled.transitions.last().note == "deferred past quiet hours"


def test_a_wave_due_inside_a_blackout_cannot_be_scheduled(wave, reviewer):
    campaign_update(
        campaign=wave.campaign,
        by=None,
        blackouts=[{"starts_at": "2027-08-03T00:00", "ends_at": "2027-08-04T00:00"}],
    )

    with pytest.raises(InvalidInput, match="blackout") as error:
        services.wave_schedule(wave=approved(wave, reviewer), by=None)
    assert error.value.field == "send_at"


def test_an_urgent_wave_passes_a_blackout_only_with_an_admins_recorded_approval(
    wave, reviewer, admin
):
    campaign_update(
        campaign=wave.campaign,
        by=None,
        blackouts=[{"starts_at": "2027-08-03T00:00", "ends_at": "2027-08-04T00:00"}],
    )
    services.wave_update(
        wave=wave,
        by=wave.created_by,
        priority="urgent",
        variants=[{"language": "en", "body": "Rumour: Party X did not close polling stations."}],
    )
    approved(wave, reviewer)

    with pytest.raises(NotAllowed):
        services.wave_approve_blackout(wave=wave, by=reviewer.membership.user, reason="rumour")
    services.wave_approve_blackout(wave=wave, by=admin.membership.user, reason="rumour rebuttal")
    scheduled = services.wave_schedule(wave=wave, by=None)

    assert scheduled.status == WaveStatus.SCHEDULED
    assert "mentions Party X" in wave.transitions.filter(note__contains="blackout").get().note


def test_the_tick_starts_a_due_wave_and_not_before(wave, reviewer):
    services.wave_schedule(wave=approved(wave, reviewer), by=None)
    due = dt.datetime(2027, 8, 3, 10, 0, tzinfo=EAT)

    assert services.waves_tick(now=due - dt.timedelta(seconds=1)) == []
    assert services.waves_tick(now=due) == [wave.pk]
    wave.refresh_from_db()
    assert wave.status == WaveStatus.SENDING
    assert services.waves_tick(now=due) == []


def test_a_paused_wave_does_not_start_and_resumes_where_it_was(wave, reviewer):
    services.wave_schedule(wave=approved(wave, reviewer), by=None)
    services.wave_pause(wave=wave, by=wave.created_by)
    due = dt.datetime(2027, 8, 3, 10, 0, tzinfo=EAT)

    assert services.waves_tick(now=due) == []
    services.wave_resume(wave=wave, by=wave.created_by)
    assert services.waves_tick(now=due) == [wave.pk]


def test_a_cancelled_wave_never_starts(wave, reviewer):
    services.wave_schedule(wave=approved(wave, reviewer), by=None)
    services.wave_cancel(wave=wave, by=wave.created_by)

    assert services.waves_tick(now=dt.datetime(2027, 8, 3, 10, 0, tzinfo=EAT)) == []
    with pytest.raises(InvalidInput):
        services.wave_cancel(wave=wave, by=wave.created_by)


def test_quiet_hours_that_cross_midnight_defer_at_tick_time(wave, reviewer):
    services.wave_schedule(wave=approved(wave, reviewer), by=None)
    # Quiet hours widened after scheduling: 09:00-08:00 next day leaves only one open hour.
    campaign_update(campaign=wave.campaign, by=None, quiet_start=dt.time(9, 0))
    wave.refresh_from_db()

    assert services.waves_tick(now=dt.datetime(2027, 8, 3, 10, 0, tzinfo=EAT)) == []
    wave.refresh_from_db()
    assert wave.scheduled_for == dt.datetime(2027, 8, 4, 8, 0, tzinfo=EAT)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"send_at_relative": "E-7x"}, "send_at_relative"),
        ({"send_at": dt.datetime(2027, 6, 1, tzinfo=dt.UTC)}, "send_at"),
        ({"variants": [{"language": "en", "body": "Hello {name}"}]}, "variants.0.body"),
        ({"variants": [{"language": "so", "body": "Nabad"}]}, "variants.0.language"),
        ({"variants": [{"language": "en", "body": "x" * 1601}]}, "variants.0.body"),
        ({"priority": "asap"}, "priority"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(wave, change, field):
    before = wave.requested_at

    with pytest.raises(InvalidInput) as error:
        services.wave_update(wave=wave, by=wave.created_by, **change)

    assert error.value.field == field
    wave.refresh_from_db()
    assert wave.requested_at == before


def test_a_relative_time_needs_an_election_date(campaign, author):
    campaign_update(campaign=campaign, by=None, election_date=None)

    with pytest.raises(InvalidInput, match="no election date") as error:
        services.wave_create(
            campaign=campaign, created_by=author.membership.user, name="x", send_at_relative="E-1d"
        )
    assert error.value.field == "send_at_relative"


def test_a_segment_of_another_organization_is_refused(wave, other_organization):
    from campaigns.services.segments import segment_create

    theirs = segment_create(organization=other_organization, created_by=None, name="Theirs")

    with pytest.raises(InvalidInput) as error:
        services.wave_update(wave=wave, by=wave.created_by, segment=theirs.pk)
    assert error.value.field == "segment"


def test_daylight_saving_keeps_the_local_hour(organization, author):
    from campaigns.services.campaigns import campaign_create

    berlin = campaign_create(
        organization=organization,
        created_by=None,
        name="Berlin",
        country="DE",
        timezone="Europe/Berlin",
        election_date=dt.date(2028, 3, 27),
    )

    before = services.wave_create(
        campaign=berlin, created_by=author.membership.user, name="a", send_at_relative="E-2d 10:00"
    )
    after = services.wave_create(
        campaign=berlin, created_by=author.membership.user, name="b", send_at_relative="E-1d 10:00"
    )

    assert before.requested_at.astimezone(dt.UTC).hour == 9  # CET, UTC+1
    assert after.requested_at.astimezone(dt.UTC).hour == 8  # CEST, UTC+2
