"""Journey 3: in the phone simulator a subscriber joins, onboards, answers a poll, stops.

The clock is not pinned: PostgreSQL stamps a sent message with its own now() (fan-out,
dispatch), so a pinned Python clock would date the poll answer before the wave that it
answers. The rehearsal campaign has no quiet hours instead (quiet_start == quiet_end),
so its wave may go at any hour the test runs.
"""

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from campaigns.selectors.reports import ReportScope, campaign_report
from campaigns.services import waves as wave_services
from campaigns.services.campaigns import campaign_create
from campaigns.services.segments import segment_create
from outreach.models import AgeBand, ConsentEvent, Role, Subscriber
from outreach.services.channels import regions_load_preset

POLL = [
    {
        "names": {"en": "Pledge a peaceful vote", "sw": "Ahadi ya kura ya amani"},
        "labels": ["pledge"],
    },
    {"names": {"en": "Talk to a mentor", "sw": "Ongea na mshauri"}, "labels": ["mentor"]},
]
WAVE_TEXT = "Will you vote in peace? Reply 1 to pledge, 2 to talk to a mentor."


def test_a_subscriber_rehearses_join_onboarding_a_poll_and_stop(
    organization, console_channel, make_member, sign_in
):
    regions_load_preset(organization=organization, preset="KE-counties")
    manager = make_member(organization, Role.MANAGER)
    reviewer = make_member(organization, Role.REVIEWER)
    page = sign_in(manager.user.username)

    page.get_by_role("link", name="Simulator").click()
    page.get_by_label("Console channel").select_option(label=console_channel.name)
    page.get_by_label("Pretend sender").fill("0712 000 111")
    page.get_by_role("button", name="Use this phone").click()
    chat = page.get_by_role("log", name="Conversation")

    def text(body: str) -> None:
        page.get_by_label("Message").fill(body)
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_label("Message")).to_have_value("")

    text("JOIN")
    expect(chat).to_contain_text("Welcome to Peace Youth Kenya peace messages!")
    expect(chat).to_contain_text("How old are you?")
    text("19")
    expect(chat).to_contain_text("Which county do you live in?")
    text("Kisumu")
    expect(chat).to_contain_text("Thank you! You will get messages of peace")
    subscriber = Subscriber.objects.get(address="+254712000111")
    assert (subscriber.age_band, subscriber.region.name) == (AgeBand.A18_24, "Kisumu")

    page.evaluate("window.notReloaded = true")
    campaign = campaign_create(
        organization=organization,
        created_by=manager.user,
        preset="KE",
        name="Amani 2027",
        election_date=timezone.localdate() + dt.timedelta(days=60),
        quiet_start=dt.time(0, 0),  # the same start and end: no quiet hours
        quiet_end=dt.time(0, 0),
    )
    wave = wave_services.wave_create(
        campaign=campaign,
        created_by=manager.user,
        name="Pledge",
        send_at=timezone.now() + dt.timedelta(minutes=1),
        segment=segment_create(organization=organization, created_by=None, name="Everyone"),
        channels=[console_channel],
        variants=[
            {"language": "en", "body": WAVE_TEXT},
            {"language": "sw", "body": "Utapiga kura kwa amani? Jibu 1 kuahidi, 2 kwa mshauri."},
        ],
        poll={"options": POLL},
    )
    wave_services.wave_submit(wave=wave, by=manager.user)
    wave_services.wave_approve(wave=wave, by=reviewer.user)
    wave_services.wave_schedule(wave=wave, by=manager.user)
    wave.refresh_from_db()
    assert wave_services.waves_tick(now=wave.scheduled_for) == [wave.pk]

    expect(chat).to_contain_text(WAVE_TEXT)  # the pane's own 2-second refresh
    assert page.evaluate("window.notReloaded") is True

    text("1")
    expect(chat).to_contain_text("Pledge a peaceful vote")
    report = campaign_report(ReportScope(campaign=campaign), suppress=False)
    assert [option["answers"] for option in report["polls"][0]["options"]] == [1, 0]

    text("STOP")
    expect(chat).to_contain_text("You will get no more messages from Peace Youth Kenya")
    ledger = ConsentEvent.objects.filter(subscriber=subscriber).order_by("occurred_at")
    assert list(ledger.values_list("kind", "keyword_as_texted")) == [
        ("opt_in", "JOIN"),
        ("opt_out", "STOP"),
    ]
