"""A campaign a funder can attack: three waves on three days, replies, STOPs, a poll, failures.

Built through the real pieces: subscribers, waves fanned out by `fanout_wave`, texts that
arrive through `inbound_receive` and are routed by `inbound_handle` (so replies, STOPs and
poll answers are attributed as in production), and the rollups `wave_rollup` computes.
Only the provider's side is stood in for: each message is marked sent (and delivered,
failed or undelivered) on its wave's day, as the status callbacks would.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from campaigns.models import Campaign, Variant, Wave, WaveStatus
from campaigns.services.fanout import fanout_wave
from campaigns.services.polls import poll_set
from campaigns.services.rollups import wave_rollup
from campaigns.services.segments import segment_create
from outreach.models import (
    Channel,
    ConsentStatus,
    Organization,
    OutboundMessage,
    OutboundStatus,
    Region,
    Subscriber,
)
from outreach.services.inbound import inbound_handle, inbound_receive
from tests.support.people import make_subscriber

REGIONS = {"Nairobi": 24, "Mombasa": 14, "Kisumu": 4}
POLL = [
    {"names": {"en": "Pledge a peaceful vote"}, "labels": ["pledge"]},
    {"names": {"en": "Talk to a mentor"}, "labels": ["mentor"]},
]


@dataclass
class World:
    campaign: Campaign
    waves: list[Wave]
    days: list[dt.date]  # the campaign-local day each wave went out
    people: dict[str, list[Subscriber]] = field(default_factory=dict)  # by region

    def local(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), ZoneInfo(self.campaign.timezone))


def build_world(
    *, organization: Organization, channel: Channel, campaign: Campaign, capture
) -> World:
    """Seed the world; `capture` is pytest-django's django_capture_on_commit_callbacks."""
    campaign.fatigue_cap_per_week = None
    campaign.save(update_fields=["fatigue_cap_per_week"])
    zone = ZoneInfo(campaign.timezone)
    today = timezone.now().astimezone(zone).date()
    days = [today - dt.timedelta(days=offset) for offset in (3, 2, 1)]
    world = World(campaign=campaign, waves=[], days=days)
    number = iter(range(10_000))
    for region_name, size in REGIONS.items():
        region = Region.objects.create(organization=organization, name=region_name)
        world.people[region_name] = [
            make_subscriber(
                organization=organization,
                channel=channel,
                address=f"+2547120{next(number):05d}",
                language="en",
                region=region,
                age_band="18_24" if index % 2 else "25_29",
                gender="female" if index % 3 else "male",
                consent_status=ConsentStatus.OPTED_IN,
                onboarding_step="done",
            )
            for index in range(size)
        ]
    segment = segment_create(organization=organization, created_by=None, name="Everyone")
    for index, day in enumerate(days):
        wave = Wave.objects.create(
            organization=organization,
            campaign=campaign,
            name=f"Day {index + 1}",
            segment=segment,
            status=WaveStatus.SENDING,
        )
        wave.channels.set([channel])
        Variant.objects.create(wave=wave, language="en", body="Reply 1 to pledge peace.")
        if index == 1:
            poll_set(wave=wave, options=POLL)
        fanout_wave(wave_id=wave.pk)
        provider_reports(wave, sent_at=world.local(day, 10))
        world.waves.append(wave)

    texts = Texts(channel, capture)
    kisumu, mombasa, nairobi = (world.people[name] for name in ("Kisumu", "Mombasa", "Nairobi"))
    # One person in Kisumu stops on day 2, one in Mombasa on day 3: cells of one.
    texts.send(kisumu[0], "STOP", world.local(days[1], 15))
    texts.send(mombasa[0], "STOP", world.local(days[2], 16))
    # Free replies: many in Nairobi on day 1, one in Kisumu on day 3.
    for person in nairobi[:12]:
        texts.send(person, "Amani kwa wote, asante sana", world.local(days[0], 12))
    texts.send(kisumu[1], "We are ready for peace here", world.local(days[2], 11))
    # Poll answers to day 2's wave; three come after midnight, campaign time, on day 3
    # (22:30 UTC on day 2).
    for person in nairobi[:11]:
        texts.send(person, "1", world.local(days[1], 13))
    for person in nairobi[11:14]:
        texts.send(person, "2", world.local(days[2], 1, 30))
    for wave in world.waves:
        wave_rollup(wave_id=wave.pk)
    return world


class Texts:
    """Texts from subscribers, through the real inbound path."""

    def __init__(self, channel: Channel, capture) -> None:
        self.channel, self.capture, self.counter = channel, capture, iter(range(100_000))

    def send(self, person: Subscriber, body: str, at: dt.datetime) -> None:
        with self.capture(execute=False):  # replies are not sent: nothing here reads them
            inbound, _ = inbound_receive(
                channel=self.channel,
                provider_message_id=f"world-in-{next(self.counter)}",
                from_address=person.address,
                body=body,
                received_at=at,
            )
            inbound_handle(inbound_id=inbound.pk)


def provider_reports(wave: Wave, *, sent_at: dt.datetime) -> None:
    """What Twilio's status callbacks would leave: sent on the wave's day, most delivered."""
    messages = list(OutboundMessage.objects.filter(wave_id=wave.pk).order_by("pk"))
    for index, message in enumerate(messages):
        status, code = OutboundStatus.DELIVERED, ""
        if index in (0, 1):
            status, code = OutboundStatus.FAILED, "30006"
        elif index == 2:
            status, code = OutboundStatus.UNDELIVERED, "30003"
        OutboundMessage.objects.filter(pk=message.pk).update(
            status=status,
            error_code=code,
            provider_message_id=f"SM{message.pk:032d}",
            sent_at=sent_at,
            price=Decimal("0.04"),
            price_unit="USD",
        )
