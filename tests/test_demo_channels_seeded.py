"""The demo's console channels as seeded: one per kind, SMS first, a wave over WhatsApp then SMS
once per person, a WhatsApp address of an SMS number the same person; seeding again.

The demo is seeded once for the module (tests/support/module_rows.py) and each test reads it
in a transaction rolled back after it; the conversations through simulate-inbound, which
commit as a webhook would, are in test_demo_channels.py.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from campaigns.models import Wave
from campaigns.selectors.recipients import wave_channels
from outreach.models import Channel, ChannelKind, ConsentEvent, Contact, OutboundMessage, Subscriber
from tests.support.module_rows import rows_for_module
from tests.test_demo_channels import CONSOLES, _Quiet


def _seed() -> None:
    call_command("seed_demo", stdout=_Quiet())
    call_command("seed_demo_campaign", stdout=_Quiet())


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    yield from rows_for_module(django_db_blocker, _seed, run_on_commit=True)


@pytest.fixture
def demo(db: None, seeded: None) -> None:
    """The seeded demo, as `make run` leaves it."""


def test_the_demo_has_a_console_channel_of_each_kind_and_sms_is_the_first(demo):
    channels = dict(Channel.objects.order_by("pk").values_list("name", "kind"))

    assert channels == CONSOLES
    assert list(channels) == list(CONSOLES)  # a fresh demo's SMS console is channel 1


def test_seeding_again_adds_no_channel_and_renames_the_old_sms_console(demo):
    Channel.objects.filter(kind=ChannelKind.CONSOLE).update(name="Demo console")

    call_command("seed_demo", stdout=_Quiet())

    assert dict(Channel.objects.values_list("name", "kind")) == CONSOLES


def test_the_demo_wave_goes_over_whatsapp_then_sms_once_per_person(demo):
    wave = Wave.objects.get()

    assert [c.kind for c in wave_channels(wave)] == [
        ChannelKind.CONSOLE_WHATSAPP,
        ChannelKind.CONSOLE,
    ]
    messages = OutboundMessage.objects.filter(wave_id=wave.pk)
    assert messages.count() == Contact.objects.count() == 120
    on_whatsapp = messages.filter(channel__kind=ChannelKind.CONSOLE_WHATSAPP)
    # Everyone with a WhatsApp address got it there, and nobody got it twice.
    assert on_whatsapp.count() == Subscriber.objects.filter(scheme="whatsapp").count() == 40
    assert not messages.filter(
        channel__kind=ChannelKind.CONSOLE, contact_id__in=on_whatsapp.values("contact_id")
    ).exists()
    # Each address has its own consent, as a real sign-up would.
    assert ConsentEvent.objects.count() == Subscriber.objects.count() == 160


def test_a_whatsapp_address_of_an_sms_number_is_the_same_person(demo):
    sms = Subscriber.objects.get(scheme="tel", address="+254700900000")
    whatsapp = Subscriber.objects.get(scheme="whatsapp", address="+254700900000")

    assert whatsapp.contact_id == sms.contact_id
    assert (whatsapp.language, whatsapp.region_id) == (sms.language, sms.region_id)
