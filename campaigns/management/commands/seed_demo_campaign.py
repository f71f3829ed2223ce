"""`make run`: a finished demo wave, so the demo's reports have something to show.

Simulated data, said so in the campaign's name: 120 people across six counties sign up by
SMS (with consent in the ledger), a third of them on WhatsApp too, from the same number
(so the same person: outreach.services.subscribers), having written there today (their
24-hour window is open). They get a wave over WhatsApp, then SMS, with a poll and a
tracked link: those with WhatsApp get it there, the others by SMS; some SMS deliveries
fail, some WhatsApp messages are read, some people reply, answer the poll, click. The
campaign is shared with the demo funder. Safe to run again: it does nothing the second
time.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from campaigns.links import link_click_record, short_link_for
from campaigns.models import Campaign, Variant, Wave, WaveStatus
from campaigns.services.campaigns import campaign_create
from campaigns.services.fanout import fanout_wave
from campaigns.services.polls import poll_answer_record, poll_set
from campaigns.services.rollups import wave_rollup
from campaigns.services.segments import segment_create
from outreach.models import (
    Channel,
    ChannelKind,
    ConsentKind,
    ConsentSource,
    InboundIntent,
    InboundMessage,
    Organization,
    OutboundMessage,
    OutboundStatus,
    Region,
    User,
)
from outreach.services.consent import consent_record
from outreach.services.subscribers import subscriber_for_address

NAME = "Amani 2027 (simulated demo data)"
COUNTIES = ["Nairobi", "Mombasa", "Kisumu", "Nakuru", "Uasin Gishu", "Garissa"]
PEOPLE = 120
ON_WHATSAPP_EVERY = 3  # one person in three is on WhatsApp as well
# What each console reports of a simulated message: its provider id's prefix and its price
# (a reply inside the person's WhatsApp window is free of charge).
SIMULATED_AS = {
    ChannelKind.CONSOLE: ("SMdemo", "0.0400"),
    ChannelKind.CONSOLE_WHATSAPP: ("wamid.demo", "0.0000"),
}


class Command(BaseCommand):
    help = "Give the demo organization a finished, simulated wave and a report to look at."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(name="Amani Demo").first()
        if organization is None:
            self.stderr.write("Run seed_demo first.")
            return
        if Campaign.objects.filter(organization=organization, name=NAME).exists():
            return
        sms = Channel.objects.get(organization=organization, kind=ChannelKind.CONSOLE)
        whatsapp = Channel.objects.get(organization=organization, kind=ChannelKind.CONSOLE_WHATSAPP)
        campaign = campaign_create(
            organization=organization, created_by=None, preset="KE", name=NAME
        )
        funder = User.objects.filter(username="demo-funder").first()
        if funder is not None:
            campaign.funders.add(funder)
        regions = list(Region.objects.filter(organization=organization, name__in=COUNTIES))
        for n in range(PEOPLE):
            number = f"+2547009{n:05d}"
            person = subscriber_for_address(channel=sms, address=number)
            person.language = "sw" if n % 3 else "en"
            person.region = regions[n % len(regions)] if regions else None
            person.age_band = ["18_24", "25_29", "30_34"][n % 3]
            person.gender = ["female", "male"][n % 2]
            person.onboarding_step = "done"
            person.save()
            addresses = [(sms, person)]
            if n % ON_WHATSAPP_EVERY == 0:
                # The same number on WhatsApp: the same person, with the profile above.
                on_whatsapp = subscriber_for_address(channel=whatsapp, address=number)
                on_whatsapp.last_inbound_at = timezone.now()
                on_whatsapp.save(update_fields=["last_inbound_at"])
                addresses.append((whatsapp, on_whatsapp))
            for channel, address in addresses:
                consent_record(
                    subscriber=address,
                    kind=ConsentKind.OPT_IN,
                    source=ConsentSource.IMPORT,
                    channel=channel,
                    evidence={"demo": "simulated sign-up"},
                )
        wave = Wave.objects.create(
            organization=organization,
            campaign=campaign,
            name="E-7 pledge",
            segment=segment_create(organization=organization, created_by=None, name="Demo all"),
            status=WaveStatus.SENDING,
            channel_order=[whatsapp.pk, sms.pk],  # WhatsApp first, then SMS
        )
        wave.channels.set([whatsapp, sms])
        link = "{link:https://example.org/peace-pledge}"
        Variant.objects.create(
            wave=wave, language="en", body=f"Reply 1 to pledge a peaceful vote, 2 to talk. {link}"
        )
        Variant.objects.create(
            wave=wave, language="sw", body=f"Jibu 1 kuahidi kura ya amani, 2 kuongea. {link}"
        )
        poll = poll_set(
            wave=wave,
            options=[
                {"names": {"en": "Pledge a peaceful vote", "sw": "Ahadi ya amani"}},
                {"names": {"en": "Talk to a mentor", "sw": "Ongea na mshauri"}},
            ],
        )
        fanout_wave(wave_id=wave.pk)
        self._simulate(wave, poll)
        Wave.objects.filter(pk=wave.pk).update(status=WaveStatus.SENT)
        wave_rollup(wave_id=wave.pk)
        self.stdout.write(f"  Demo report: /api/v1/reports/campaigns/{campaign.pk}/?by=region")

    def _simulate(self, wave: Wave, poll: Any) -> None:
        now = timezone.now()
        messages = OutboundMessage.objects.filter(wave_id=wave.pk).select_related("channel")
        for n, message in enumerate(messages.order_by("pk")):
            on_whatsapp = message.channel.kind == ChannelKind.CONSOLE_WHATSAPP
            # WhatsApp reports reads; none fails here, so no fallback by SMS is owed.
            status, code = OutboundStatus.READ if on_whatsapp else OutboundStatus.DELIVERED, ""
            if on_whatsapp and n % 5 == 0:
                status = OutboundStatus.DELIVERED
            elif not on_whatsapp and n % 17 == 0:
                status, code = OutboundStatus.UNDELIVERED, "30003"
            elif not on_whatsapp and n % 23 == 0:
                status, code = OutboundStatus.FAILED, "30006"
            prefix, price = SIMULATED_AS[message.channel.kind]
            OutboundMessage.objects.filter(pk=message.pk).update(
                status=status,
                error_code=code,
                provider_message_id=f"{prefix}{message.pk:026d}",
                sent_at=now,
                price=price,
                price_unit="USD",
            )
            if n % 4 == 0 and status in (OutboundStatus.DELIVERED, OutboundStatus.READ):
                inbound = InboundMessage.objects.create(
                    organization_id=wave.organization_id,
                    channel=message.channel,
                    subscriber=message.subscriber,
                    provider_message_id=f"demo-in-{message.pk}",
                    body="1" if n % 8 == 0 else "Asante",
                    received_at=now,
                    handled_at=now,
                    intent=InboundIntent.POLL_ANSWER if n % 8 == 0 else InboundIntent.FREE_REPLY,
                    wave_id=wave.pk,
                )
                if n % 8 == 0:
                    poll_answer_record(
                        poll=poll, subscriber=message.subscriber, number=1, inbound=inbound
                    )
        for language in ("en", "sw"):
            short_link_for(wave=wave, language=language, url="https://example.org/peace-pledge")
        for n, tracked in enumerate(wave.links.all()):
            for _ in range(12 + 5 * n):
                link_click_record(tracked)
