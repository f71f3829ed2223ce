"""The demo's network: three members and their focal points, a two-language template that two
of them approved for Kenya and the demo adopted into a wave of its campaign, whose outcomes
the library publishes once the demo's beat has delivered it; a version in review; lexicons
that warn the composer."""

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count
from django.test import Client
from rest_framework.test import APIClient

from campaigns.management.commands.demo_ticker import Command as DemoTicker
from campaigns.management.commands.seed_demo_network import (
    FIRST_TEXTS,
    NETWORK,
    TEMPLATE,
    TERMS,
)
from campaigns.models import (
    CHECKLIST,
    Adoption,
    LexiconTerm,
    LibraryReview,
    LibraryTemplate,
    Network,
    NetworkMember,
    TemplateVersion,
    Wave,
    WaveRollup,
    WaveStatus,
)
from campaigns.selectors.library import network_members, review_queue
from campaigns.selectors.library_outcomes import version_outcomes
from config.celery import app as celery_app
from outreach.models import Organization, OutboundMessage, User

EAT = ZoneInfo("Africa/Nairobi")
# A weekday morning in Nairobi: inside the demo campaign's sending window (08:00-18:00).
MORNING = dt.datetime(2027, 7, 6, 9, 0, tzinfo=EAT)
LATER = MORNING + dt.timedelta(minutes=10)  # past the adopting wave's send time
README_POLL_ANSWERER = "+254700900000"  # the README's WhatsApp line: the demo wave's poll
LOGIN = re.compile(r"^  (sauti-admin|vijana-admin)\s+admin\s+(\S+)\s+([0-9a-f]{40})$", re.M)


def seed() -> str:
    out = io.StringIO()
    with time_machine.travel(MORNING, tick=False):
        call_command("seed_demo", stdout=io.StringIO())
        call_command("seed_demo_campaign", stdout=io.StringIO())
        call_command("seed_demo_network", stdout=out)
    return out.getvalue()


@pytest.fixture
def printed(db) -> str:
    """What `make run` prints of the network."""
    return seed()


@pytest.fixture
def demo(printed) -> Organization:
    return Organization.objects.get(name="Amani Demo")


@pytest.fixture
def first(printed) -> TemplateVersion:
    return TemplateVersion.objects.get(template__name=TEMPLATE, number=1)


def manager_console() -> Client:
    client = Client()
    client.force_login(User.objects.get(username="demo-manager"))
    return client


def test_the_network_has_the_demo_and_two_partners_each_with_a_focal_point(demo):
    network = Network.objects.get(name=NETWORK)

    members = {m.organization.name: m.focal_point.username for m in network_members(network)}
    assert members == {
        "Amani Demo": "demo-reviewer",
        "Sauti ya Amani Demo": "sauti-admin",
        "Vijana wa Amani Demo": "vijana-admin",
    }
    assert set(NetworkMember.objects.values_list("status", flat=True)) == {"active"}


def test_the_partners_focal_points_sign_in_with_the_printed_logins(printed):
    logins = LOGIN.findall(printed)

    assert [username for username, *_ in logins] == ["sauti-admin", "vijana-admin"]
    for username, password, token in logins:
        assert Client().login(username=username, password=password)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        me = api.get("/api/v1/me/")
        assert me.status_code == 200
        assert me.json()["username"] == username


def test_the_template_is_approved_for_kenya_by_the_two_other_members_on_the_checklist(first):
    assert first.state == "approved"
    assert first.template.owner.name == "Sauti ya Amani Demo"
    assert {t.language: t.body for t in first.translations.all()} == {
        text["language"]: text["body"] for text in FIRST_TEXTS
    }
    assert list(first.country_states.values_list("country", "state")) == [("KE", "approved")]
    reviews = LibraryReview.objects.filter(version=first)
    assert sorted(reviews.values_list("organization_name", "reviewer_name", "decision")) == [
        ("Amani Demo", "demo-reviewer", "approve"),
        ("Vijana wa Amani Demo", "vijana-admin", "approve"),
    ]
    for review in reviews:
        assert review.checklist == dict.fromkeys(CHECKLIST, True)


def test_a_wave_of_the_demo_campaign_adopts_it_in_both_languages(first):
    adoption = Adoption.objects.get(version=first)
    wave = adoption.wave

    assert adoption.organization.name == "Amani Demo"
    assert adoption.forked_at is None
    assert wave.campaign.name == "Amani 2027 (simulated demo data)"
    assert wave.status == WaveStatus.SCHEDULED
    assert wave.approved_by.username == "demo-reviewer"  # the two-person rule, as for any wave
    assert {v.language: v.body for v in wave.variants.all()} == {
        text["language"]: text["body"] for text in FIRST_TEXTS
    }


@pytest.mark.django_db(transaction=True)  # dispatch sends on threads of its own
def test_once_the_demo_beat_delivered_the_wave_the_library_publishes_its_outcomes():
    seed()
    version = TemplateVersion.objects.get(template__name=TEMPLATE, number=1)
    wave = Wave.objects.get(library_adoption__version=version)
    assert version_outcomes(version)["waves"] == 0  # scheduled: nothing sent yet

    ticker = DemoTicker(stdout=io.StringIO())
    with time_machine.travel(LATER, tick=False):
        for _ in range(5):  # a few beats: start, fan out and send, finish, roll up
            ticker.tick_once()
            wave.refresh_from_db()
            if wave.status == WaveStatus.SENT:
                ticker.tick_once()
                break

    assert wave.status == WaveStatus.SENT
    exact = version_outcomes(version, suppress=False)
    published = version_outcomes(version)
    # Sixty people of three counties: far more than the network's k of 10.
    assert exact["figures"]["targeted"] == 60, what_the_wave_holds(wave)
    assert exact["figures"]["delivered"] > 50
    assert published["suppressed"] is False
    assert published["adopters"] == 1
    assert published["waves"] == 1
    for figure in ("targeted", "sent", "delivered", "delivery_rate"):
        assert published["figures"][figure] is not None, figure
    assert abs(published["figures"]["delivered"] - exact["figures"]["delivered"]) <= 2
    # The README's WhatsApp poll answer stays the demo wave's: the network wave missed them.
    reached = OutboundMessage.objects.filter(
        wave_id=wave.pk, subscriber__contact__addresses__address=README_POLL_ANSWERER
    )
    assert not reached.exists()


def test_a_second_version_waits_in_the_demo_reviewers_queue(demo):
    queue = review_queue(demo, User.objects.get(username="demo-reviewer"))

    assert [(v.template.name, v.number, country) for v, country in queue] == [(TEMPLATE, 2, "KE")]
    assert review_queue(demo, User.objects.get(username="demo-manager")) == []


def test_the_lexicon_page_lists_the_approved_terms_with_notes_and_alternatives(printed):
    client = Client()
    client.force_login(User.objects.get(username="demo-reviewer"))

    page = client.get("/console/library/lexicon/").content.decode()

    for _country, _language, term, note, alternatives, _by in TERMS:
        assert term in page
        assert note.replace("'", "&#x27;") in page
        assert alternatives[0] in page
    assert set(LexiconTerm.objects.values_list("state", flat=True)) == {"approved"}


def test_the_composer_warns_of_a_kenyan_lexicon_term_as_the_manager_types(first):
    campaign = Adoption.objects.get(version=first).wave.campaign

    response = manager_console().post(
        f"/console/campaigns/{campaign.pk}/waves/check/",
        {"language": "sw", "body_sw": "Hakuna madoadoa hapa, piga kura kwa amani."},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="lexicon-warning-sw"' in page
    assert '<strong lang="sw">madoadoa</strong>: ' in page
    assert '<q lang="sw">majirani zetu</q>' in page


def test_seeding_again_adds_nothing_and_keeps_the_wave(printed):
    counts = [
        model.objects.count()
        for model in (Network, NetworkMember, LibraryTemplate, TemplateVersion, LexiconTerm)
    ]
    counts += [LibraryReview.objects.count(), Adoption.objects.count(), Wave.objects.count()]

    again = seed()

    assert [
        model.objects.count()
        for model in (Network, NetworkMember, LibraryTemplate, TemplateVersion, LexiconTerm)
    ] + [LibraryReview.objects.count(), Adoption.objects.count(), Wave.objects.count()] == counts
    assert len(LOGIN.findall(again)) == 2


def what_the_wave_holds(wave: Wave) -> dict:
    """Why a wave's outcomes could be missing: its messages, its cells and when they were
    counted (a failure message, read when the assertion above fails)."""
    wave.refresh_from_db()
    return {
        "messages": dict(
            OutboundMessage.objects.filter(wave_id=wave.pk)
            .values_list("status")
            .annotate(n=Count("pk"))
        ),
        "cells": WaveRollup.objects.filter(wave_id=wave.pk).count(),
        "fanned_out_at": wave.fanned_out_at,
        "rolled_up_at": wave.rolled_up_at,
        "eager": celery_app.conf.task_always_eager,
    }
