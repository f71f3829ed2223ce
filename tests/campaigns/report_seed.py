"""A campaign a funder gets a report of, seeded through the real services only.

Thirty-six young people in three counties sign up on paper (the import). Three waves are
written, approved and scheduled, start on their days (the tick), fan out, and go out
through the console channel one message at a time (the reply task's send path); the
receipts come back through the status inbox, and the next day replies, poll answers and
STOPs come in through the inbound service. The waves' report cells are then rolled up,
so `campaign_report` reads what it reads in production.
"""

import datetime as dt
from dataclasses import dataclass

import time_machine
from django.contrib.auth.models import AbstractBaseUser

from campaigns.links import link_click_record
from campaigns.models import Campaign, Wave
from campaigns.services import waves as wave_services
from campaigns.services.fanout import fanout_wave
from campaigns.services.rollups import wave_rollup
from campaigns.services.segments import segment_create
from outreach.models import (
    Channel,
    ChannelKind,
    OutboundMessage,
    OutboundStatus,
    Region,
    Subscriber,
)
from outreach.services.channels import channel_create
from outreach.services.inbound import inbound_handle, inbound_receive
from outreach.services.outbound import message_send
from outreach.services.status import status_receive, status_reports_apply_all
from outreach.services.subscriber_import import subscribers_import
from tests.campaigns.conftest import NOW

COUNTIES = {"Nairobi": 16, "Mombasa": 12, "Kisumu": 8}  # Kisumu is below k = 10
PLEDGE = {
    "options": [
        {"names": {"en": "Pledge a peaceful vote", "sw": "Ahadi ya kura ya amani"}},
        {"names": {"en": "Talk to a mentor", "sw": "Ongea na mshauri"}},
    ]
}


@dataclass(frozen=True)
class WavePlan:
    """One wave of the seeded campaign and what happens to its messages."""

    name: str
    send_at_relative: str
    failed: int  # the first messages fail (30006), then one is undelivered (30003)
    replies: int  # the next people reply the day after
    stops: int  # and after them some text STOP
    poll: bool = False
    clicks: int = 0


WAVES = [
    WavePlan("E-7 pledge", "E-7d 10:00", failed=2, replies=12, stops=2, poll=True, clicks=9),
    WavePlan("E-3 reminder", "E-3d 10:00", failed=1, replies=8, stops=1),
    WavePlan("E-1 election eve", "E-1d 10:00", failed=0, replies=5, stops=0),
]


def seed_reported_campaign(
    *,
    campaign: Campaign,
    author: AbstractBaseUser,
    reviewer: AbstractBaseUser,
    plans: list[WavePlan] = WAVES,
    counties: dict[str, int] = COUNTIES,
) -> list[Wave]:
    """Sign `counties` people up, send `plans` on their days, bring receipts and replies in."""
    channel = channel_create(
        organization=campaign.organization,
        name="Report console",
        kind=ChannelKind.CONSOLE,
        country="KE",
        messages_per_second=500,  # the whole wave in one go: no waiting for tokens
    )
    with time_machine.travel(NOW, tick=False):  # signed up, written and approved weeks ahead
        _sign_up(campaign, channel, counties)
        segment = segment_create(organization=campaign.organization, created_by=None, name="All")
        waves = [_compose(campaign, channel, segment, plan, author, reviewer) for plan in plans]
    for wave, plan in zip(waves, plans, strict=True):
        _send(wave, plan, channel)
    for wave in waves:
        wave_rollup(wave_id=wave.pk)
    return waves


def _sign_up(campaign: Campaign, channel: Channel, counties: dict[str, int]) -> None:
    organization = campaign.organization
    rows = ["phone,language,region,age,gender,consent_date,consent_method,consent_text_version"]
    n = 0
    for county, people in counties.items():
        Region.objects.get_or_create(organization=organization, name=county)
        for _ in range(people):
            language = "en" if n % 3 == 0 else "sw"
            gender = "female" if n % 2 else "male"
            rows.append(
                f"07{12_300_000 + n:08d},{language},{county},{18 + n % 12},{gender},"
                "2027-06-20,paper_form,2027-06-v1"
            )
            n += 1
    report = subscribers_import(
        organization=organization,
        channel=channel,
        file="\n".join(rows) + "\n",
        dry_run=False,
        recorded_by=None,
    )
    assert report.imported, report.errors


def _compose(campaign, channel, segment, plan: WavePlan, author, reviewer) -> Wave:
    link = " {link:https://peace.example/pledge}" if plan.clicks else ""
    poll = " Reply 1 to pledge a peaceful vote, 2 to talk to a mentor." if plan.poll else ""
    wave = wave_services.wave_create(
        campaign=campaign,
        created_by=author,
        name=plan.name,
        send_at_relative=plan.send_at_relative,
        segment=segment,
        channels=[channel],
        variants=[
            {"language": "en", "body": f"Peace in {{region}}, from {{campaign}}.{poll}{link}"},
            {"language": "sw", "body": f"Amani {{region}}: tuchague kwa amani.{link}"},
        ],
        **({"poll": PLEDGE} if plan.poll else {}),
    )
    wave_services.wave_submit(wave=wave, by=author)
    wave_services.wave_approve(wave=wave, by=reviewer)
    return wave_services.wave_schedule(wave=wave, by=None)


def _send(wave: Wave, plan: WavePlan, channel: Channel) -> None:
    wave.refresh_from_db()
    due = wave.scheduled_for
    with time_machine.travel(due, tick=False):
        assert wave.pk in wave_services.waves_tick(now=due)
        fanout_wave(wave_id=wave.pk)
        messages = list(
            OutboundMessage.objects.filter(wave_id=wave.pk, status=OutboundStatus.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for message_id in messages:
            assert message_send(message_id=message_id).status == OutboundStatus.SENT
    # PostgreSQL stamps a send with its own now(), the test transaction's start, which
    # time_machine cannot move: date the wave's messages at its send time, as in production.
    OutboundMessage.objects.filter(wave_id=wave.pk).update(created_at=due)
    OutboundMessage.objects.filter(wave_id=wave.pk, sent_at__isnull=False).update(sent_at=due)
    sent = list(
        OutboundMessage.objects.filter(wave_id=wave.pk)
        .exclude(provider_message_id="")
        .order_by("pk")
        .select_related("subscriber")
    )
    with time_machine.travel(due + dt.timedelta(minutes=2), tick=False):
        for index, message in enumerate(sent):
            status, code = "delivered", ""
            if index < plan.failed:
                status, code = "failed", "30006"
            elif index == plan.failed:
                status, code = "undelivered", "30003"
            status_receive(
                channel=channel,
                provider_message_id=message.provider_message_id,
                provider_status=status,
                status=status,  # Twilio's words for these are ours
                error_code=code,
            )
        status_reports_apply_all()
    answering = [m.subscriber for m in sent[plan.failed + 1 :]]
    with time_machine.travel(due + dt.timedelta(days=1, hours=-1), tick=False):
        for index, person in enumerate(answering[: plan.replies + plan.stops]):
            if index >= plan.replies:
                body = "STOP"
            elif plan.poll and index % 2 == 0:
                body = "1" if index % 4 == 0 else "2"
            else:
                body = "Asante, tutapiga kura kwa amani"
            _text(channel, person, body, key=f"{wave.pk}-{index}")
        for tracked in wave.links.all()[:1]:
            for _ in range(plan.clicks):
                link_click_record(tracked)


def _text(channel: Channel, person: Subscriber, body: str, *, key: str) -> None:
    inbound, _ = inbound_receive(
        channel=channel,
        provider_message_id=f"in-{key}",
        from_address=person.address,
        body=body,
        received_at=dt.datetime.now(tz=dt.UTC),
    )
    inbound_handle(inbound_id=inbound.pk)
