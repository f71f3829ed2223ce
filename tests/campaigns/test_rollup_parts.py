"""Incremental rollups: after every change a wave goes through, the cells a rollup leaves
(recounting only the blocks of people whose messages changed) are the cells a whole recount
of the same rows leaves, row for row, with the same people and keys."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.test import TestCase

from campaigns.models import (
    Variant,
    Wave,
    WaveErrorRollup,
    WaveRollup,
    WaveRollupPart,
    WaveRollupPeople,
    WaveStatus,
)
from campaigns.services.fanout import fanout_wave
from campaigns.services.rollups import BLOCK_BITS, wave_rollup, waves_rollup_due
from campaigns.services.segments import segment_create
from outreach.models import ChannelKind, ConsentStatus, OutboundMessage, OutboundStatus, Region
from outreach.services.channels import channel_create
from outreach.services.outbound import message_send
from outreach.services.status import status_reports_apply_all
from outreach.services.subscribers import subscriber_erase, subscriber_update
from tests.campaigns.conftest import DUE
from tests.campaigns.report_world import Texts
from tests.support.people import make_subscriber

pytestmark = pytest.mark.django_db

FAR_BLOCK = 3  # the second group of people: contact ids from 3 << BLOCK_BITS
PER_BLOCK = 24


@pytest.fixture
def sent_wave(organization, campaign):
    """A wave fanned out to 48 people in two blocks of contact ids and sent, but for one
    person in each block, through the console channel (which reports most delivered and a
    few undelivered, as a provider would); its first rollup counts it whole."""
    channel = channel_create(
        organization=organization,
        name="Rollup console",
        kind=ChannelKind.CONSOLE,
        country="KE",
        messages_per_second=500,
    )
    regions = [Region.objects.create(organization=organization, name=n) for n in ("Lamu", "Embu")]
    people = [_person(organization, channel, regions, index) for index in range(PER_BLOCK)]
    with connection.cursor() as cursor:  # the next people far from the first: another block
        cursor.execute(
            "SELECT setval('outreach_contact_id_seq', %s)", [(FAR_BLOCK << BLOCK_BITS) + 1]
        )
    people += [
        _person(organization, channel, regions, index) for index in range(PER_BLOCK, 2 * PER_BLOCK)
    ]
    segment = segment_create(organization=organization, created_by=None, name="All")
    wave = Wave.objects.create(
        organization=organization,
        campaign=campaign,
        name="E-3",
        segment=segment,
        status=WaveStatus.SENDING,
    )
    wave.channels.set([channel])
    Variant.objects.create(wave=wave, language="en", body="Vote in peace.")
    Variant.objects.create(wave=wave, language="sw", body="Piga kura kwa amani.")
    fanout_wave(wave_id=wave.pk)
    held = {people[PER_BLOCK - 1].pk, people[-1].pk}  # one waiting in each block
    with time_machine.travel(DUE, tick=False):  # inside the campaign's sending window
        for message in OutboundMessage.objects.filter(wave_id=wave.pk).order_by("pk"):
            if message.subscriber_id not in held:
                assert message_send(message_id=message.pk).status == OutboundStatus.SENT
    wave_rollup(wave_id=wave.pk)
    return wave, channel, people, regions


def _person(organization, channel, regions, index):
    return make_subscriber(
        organization=organization,
        channel=channel,
        address=f"+2547130{index:05d}",
        language="en" if index % 3 else "sw",
        region=regions[index % 2],
        age_band="18_24" if index % 2 else "25_29",
        gender="female" if index % 4 else "male",
        consent_status=ConsentStatus.OPTED_IN,
        onboarding_step="done",
    )


def test_every_rollup_after_each_change_leaves_the_cells_of_a_whole_recount(sent_wave):
    wave, channel, people, regions = sent_wave
    assert {contact >> BLOCK_BITS for contact in _contacts(wave)} == {0, FAR_BLOCK}
    texts = Texts(channel, TestCase.captureOnCommitCallbacks)

    # The console channel's receipts: delivered, and undelivered for a few.
    status_reports_apply_all()
    assert _rolled_up(wave) == _recounted(wave)
    statuses = set(_messages(wave).values_list("status", flat=True))
    assert {OutboundStatus.DELIVERED, OutboundStatus.UNDELIVERED} <= statuses

    # Replies, and a STOP from one not yet sent to (their message is cancelled).
    at = dt.datetime.now(tz=dt.UTC) + dt.timedelta(hours=1)
    for person in people[:3] + people[PER_BLOCK : PER_BLOCK + 2]:
        texts.send(person, "Asante, amani kwa wote", at)
    texts.send(people[-1], "STOP", at)
    assert _rolled_up(wave) == _recounted(wave)
    assert OutboundStatus.CANCELED in set(_messages(wave).values_list("status", flat=True))

    # Someone in the far block moves: their messages change cells, and the near block's
    # parts are not recounted.
    near = set(WaveRollupPart.objects.filter(wave_id=wave.pk, block=0).values_list("pk", flat=True))
    moved = people[PER_BLOCK + 1]
    subscriber_update(subscriber=moved, region=regions[0], age_band="30_34", gender="other")
    cells = _rolled_up(wave)
    near_after = WaveRollupPart.objects.filter(wave_id=wave.pk, block=0)
    assert set(near_after.values_list("pk", flat=True)) == near
    assert cells == _recounted(wave)
    assert any(cell["age_band"] == "30_34" for cell, _ in cells[0])

    # Erasures: the people's messages stay, counted with the erased.
    subscriber_erase(subscriber=people[2])
    subscriber_erase(subscriber=people[PER_BLOCK + 3])
    assert _rolled_up(wave) == _recounted(wave)

    # The last message goes out late, with a price.
    waiting = _messages(wave).get(subscriber=people[PER_BLOCK - 1])
    with time_machine.travel(DUE + dt.timedelta(hours=2), tick=False):
        assert message_send(message_id=waiting.pk).status == OutboundStatus.SENT
    status_reports_apply_all()
    _messages(wave).filter(pk=waiting.pk).update(price=Decimal("0.05"), price_unit="USD")
    assert _rolled_up(wave) == _recounted(wave)


def test_a_quiet_wave_keeps_its_cells_and_a_changed_one_is_due(sent_wave):
    wave, _, _, _ = sent_wave
    before = _snapshot(wave)
    assert wave_rollup(wave_id=wave.pk) == len(before[0])
    assert _snapshot(wave) == before
    status_reports_apply_all()  # the console channel's own delivery reports
    assert wave.pk in waves_rollup_due()
    delivered = OutboundMessage.objects.filter(wave_id=wave.pk, status=OutboundStatus.DELIVERED)
    assert sum(cell["delivered"] for cell, _ in _snapshot(wave)[0]) == delivered.count() > 40
    assert _snapshot(wave) == _recounted(wave)


def _messages(wave):
    return OutboundMessage.objects.filter(wave_id=wave.pk)


def _contacts(wave):
    return OutboundMessage.objects.filter(wave_id=wave.pk).values_list("contact_id", flat=True)


def _rolled_up(wave):
    wave_rollup(wave_id=wave.pk)
    return _snapshot(wave)


def _recounted(wave):
    """The cells of a whole recount, undone after (the next rollup builds on the last one)."""
    savepoint = transaction.savepoint()
    wave_rollup(wave_id=wave.pk, whole=True)
    cells = _snapshot(wave)
    transaction.savepoint_rollback(savepoint)
    return cells


def _snapshot(wave):
    """The wave's cells, each with the people lists behind its figures, and its error rows,
    in a stable order and without their row ids."""

    def fields(row, model):
        return {
            f.attname: getattr(row, f.attname)
            for f in model._meta.concrete_fields
            if f.attname not in ("id", "rollup_id")
        }

    cells = []
    for cell in WaveRollup.objects.filter(wave_id=wave.pk):
        people = {p.figure: p.ids for p in WaveRollupPeople.objects.filter(rollup=cell)}
        cells.append((fields(cell, WaveRollup), people))
    errors = [fields(row, WaveErrorRollup) for row in WaveErrorRollup.objects.filter(wave=wave)]
    return sorted(cells, key=repr), sorted(errors, key=repr)


def test_a_lease_or_in_flight_mark_leaves_no_block_to_recount_and_a_receipt_does(sent_wave):
    from campaigns.models import WaveRollupChange

    wave, _, people, _ = sent_wave
    WaveRollupChange.objects.filter(wave_id=wave.pk).delete()
    waiting = _messages(wave).filter(subscriber=people[-1])

    waiting.update(lease_expires_at=dt.datetime.now(tz=dt.UTC), attempts=1)
    waiting.update(in_flight_at=dt.datetime.now(tz=dt.UTC))

    assert not WaveRollupChange.objects.filter(wave_id=wave.pk).exists()
    waiting.update(status=OutboundStatus.FAILED, error_code="30008")
    assert set(
        WaveRollupChange.objects.filter(wave_id=wave.pk).values_list("block", flat=True)
    ) == {FAR_BLOCK}
    assert _rolled_up(wave) == _recounted(wave)
