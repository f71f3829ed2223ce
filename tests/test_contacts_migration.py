"""The migration to contacts and addresses (issue 13) keeps every consent event and every
count in the reports: data written in the old shape, migrated, then read by today's code."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import F
from django.utils import timezone

from campaigns.models import Wave
from campaigns.selectors.reports import ReportScope, campaign_report
from campaigns.services.rollups import wave_rollup
from outreach.models import ConsentEvent, Contact, OutboundMessage, Subscriber

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("outreach", "0011_inbound_unrouted_per_sender"),
    ("campaigns", "0007_report_people_and_cell_keys"),
]
STATUSES = ["delivered"] * 8 + ["failed"] * 2 + ["undelivered"] * 2


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def write_the_old_shape(apps) -> dict:
    """One organization, twelve subscribers on one SMS channel, their consent, a wave."""
    organization = apps.get_model("outreach", "Organization").objects.create(
        name="Amani", slug="amani"
    )
    channel = apps.get_model("outreach", "Channel").objects.create(
        organization=organization, name="SMS", kind="console", country="KE"
    )
    old_subscriber = apps.get_model("outreach", "Subscriber")
    old_event = apps.get_model("outreach", "ConsentEvent")
    now = timezone.now()
    people = [
        old_subscriber.objects.create(
            organization=organization,
            channel=channel,
            address=f"+2547110002{n:02d}",
            language="sw" if n % 2 else "en",
            consent_status="opted_out" if n < 2 else "opted_in",
        )
        for n in range(12)
    ]
    for n, person in enumerate(people):
        old_event.objects.create(
            organization=organization,
            subscriber=person,
            channel=channel,
            kind="opt_in",
            source="keyword",
            occurred_at=now - dt.timedelta(days=3),
            keyword_as_texted="JOIN",
        )
        if n < 2:
            old_event.objects.create(
                organization=organization,
                subscriber=person,
                channel=channel,
                kind="opt_out",
                source="keyword",
                occurred_at=now - dt.timedelta(days=1),
                keyword_as_texted="STOP",
            )
    campaign = apps.get_model("campaigns", "Campaign").objects.create(
        organization=organization,
        name="Amani 2027",
        country="KE",
        timezone="Africa/Nairobi",
        default_language="en",
        languages=["en", "sw"],
        report_key_seed=42,
    )
    wave = apps.get_model("campaigns", "Wave").objects.create(
        organization=organization, campaign=campaign, name="E-7", status="sent"
    )
    wave.channels.add(channel)
    message = apps.get_model("outreach", "OutboundMessage")
    for n, (person, status) in enumerate(zip(people, STATUSES, strict=True)):
        message.objects.create(
            organization=organization,
            channel=channel,
            subscriber=person,
            to_address=person.address,
            kind="wave",
            body="Amani",
            language=person.language,
            status=status,
            provider_message_id=f"console-{n}",
            sent_at=now - dt.timedelta(hours=2),
            wave_id=wave.pk,
        )
    events = list(
        old_event.objects.order_by("id").values_list(
            "id", "subscriber_id", "kind", "source", "occurred_at", "keyword_as_texted"
        )
    )
    return {"wave": wave.pk, "channel": channel.pk, "events": events}


def test_every_subscriber_becomes_a_contact_and_the_ledger_and_counts_stay():
    try:
        old = write_the_old_shape(migrate(BEFORE))
        migrate(latest())

        # Every consent event is there, unchanged, each now naming its address's scheme.
        events = list(
            ConsentEvent.objects.order_by("id").values_list(
                "id", "subscriber_id", "kind", "source", "occurred_at", "keyword_as_texted"
            )
        )
        assert events == old["events"]
        assert set(ConsentEvent.objects.values_list("scheme", flat=True)) == {"tel"}
        # Each subscriber is one address of a person of its own, and their messages say so.
        assert Contact.objects.count() == Subscriber.objects.count() == 12
        assert all(s.contact_id == s.pk and s.scheme == "tel" for s in Subscriber.objects.all())
        assert not OutboundMessage.objects.exclude(contact_id=F("subscriber_id")).exists()
        wave = Wave.objects.get(pk=old["wave"])
        assert wave.channel_order == [old["channel"]]

        wave_rollup(wave_id=wave.pk)
        report = campaign_report(ReportScope(campaign=wave.campaign), suppress=False)
        totals = report["totals"]
        assert (totals["targeted"], totals["delivered"]) == (12, 8)
        assert (totals["failed"], totals["undelivered"]) == (2, 2)
    finally:
        migrate(latest())
