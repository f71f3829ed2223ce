"""The composer meets the network's library: start a wave from an approved template, see the
lexicon's warnings as you type, and where a wave's texts came from (a fork once edited, a red
banner once its version is withdrawn)."""

import datetime as dt

import pytest
from django.test import Client

from campaigns.models import Wave, WaveStatus
from campaigns.services import library
from campaigns.services import waves as wave_services
from campaigns.services.campaigns import campaign_create
from campaigns.services.lexicon import term_propose, term_review
from outreach.models import Role
from outreach.services.organizations import member_add
from tests.support.network import TEXTS, approved_version, make_network_world, proposed_version

pytestmark = pytest.mark.django_db
ENGLISH, SWAHILI = (text["body"] for text in TEXTS)


@pytest.fixture
def world():
    return make_network_world()


@pytest.fixture
def adopter(world):
    """The second member's manager, signed in to the console."""
    client = Client()
    client.force_login(world.second.manager)
    return client


@pytest.fixture
def campaign(world):
    return campaign_create(
        organization=world.second.organization,
        created_by=world.second.manager,
        preset="KE",
        name="Sauti 2027",
        election_date=dt.date.today() + dt.timedelta(days=60),
    )


@pytest.fixture
def wave(world, campaign):
    return wave_services.wave_create(
        campaign=campaign, created_by=world.second.manager, name="A week before"
    )


def approved_term(world, *, term="madoadoa", language="sw"):
    """A term the author proposes and the two other members' focal points approve."""
    entry = term_propose(
        network=world.network,
        organization=world.author.organization,
        by=world.author.manager,
        country="KE",
        language=language,
        term=term,
        note="Used in 2007 to mark a community as stains to be removed.",
        alternatives=["jirani", "Mkenya mwenzangu"],
    )
    for member in (world.second, world.third):
        entry = term_review(
            term=entry,
            organization=member.organization,
            by=member.admin,
            decision="approve",
            reason="It inflames; the note says why.",
        )
    return entry


def composer_save(wave, **texts):
    """The composer's form as a manager saves it: the wave's name and these texts."""
    return {
        "name": wave.name,
        "send_at_relative": "",
        "send_at": "",
        "segment": "",
        "priority": "normal",
        "option_rows": "0",
        "action": "save",
        **{f"body_{language}": body for language, body in texts.items()},
    }


def test_the_composer_lists_the_templates_approved_for_the_campaigns_country(world, wave, adopter):
    approved_version(world)

    page = adopter.get(f"/console/waves/{wave.pk}/compose/").content.decode()

    assert "Start from a library template" in page
    assert "<strong>Vote in peace</strong> v1 · Vote in peace · English, Kiswahili" in page
    assert "Peace Youth Kenya, East Africa Peace Network" in page


def test_a_version_still_in_review_is_not_offered(world, wave, adopter):
    proposed_version(world)

    page = adopter.get(f"/console/waves/{wave.pk}/compose/").content.decode()

    assert 'data-testid="library-empty"' in page
    assert "Vote in peace</strong>" not in page


def test_starting_from_a_library_template_fills_the_variants(world, wave, adopter):
    version = approved_version(world)

    response = adopter.post(f"/console/waves/{wave.pk}/adopt/", {"version": version.pk})
    page = adopter.get(response["Location"]).content.decode()

    assert response.status_code == 302
    assert f"{ENGLISH}</textarea>" in page
    assert f"{SWAHILI}</textarea>" in page
    assert "From the library: Vote in peace v1" in page
    assert "Unchanged: the texts are the library's, as approved." in page


def test_a_new_wave_starts_from_a_library_template(world, campaign, adopter):
    version = approved_version(world)

    response = adopter.post(
        f"/console/campaigns/{campaign.pk}/waves/new/from-library/",
        {"version": version.pk, "name": ""},
        follow=True,
    )

    wave = Wave.objects.get(campaign=campaign)
    page = response.content.decode()
    assert (wave.name, wave.status) == ("Vote in peace", WaveStatus.DRAFT)
    assert f"{SWAHILI}</textarea>" in page
    assert "From the library: Vote in peace v1" in page


def test_a_version_not_approved_here_is_refused_next_to_the_choice(world, wave, adopter):
    version = proposed_version(world)

    response = adopter.post(f"/console/waves/{wave.pk}/adopt/", {"version": version.pk})

    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-field="version"' in page
    assert not wave.variants.exists()


def test_a_new_wave_from_a_version_not_offered_leaves_no_wave_behind(world, campaign, adopter):
    version = proposed_version(world)

    response = adopter.post(
        f"/console/campaigns/{campaign.pk}/waves/new/from-library/", {"version": version.pk}
    )

    assert response.status_code == 400
    assert 'data-field="version"' in response.content.decode()
    assert not Wave.objects.filter(campaign=campaign).exists()


def test_a_lexicon_term_warns_as_the_manager_types(world, campaign, adopter):
    approved_term(world)

    response = adopter.post(
        f"/console/campaigns/{campaign.pk}/waves/check/",
        {"language": "sw", "body_sw": "Piga kura kwa amani, hata na Madoadoa."},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="lexicon-warning-sw"' in page
    assert '<strong lang="sw">madoadoa</strong>: Used in 2007 to mark a community' in page
    assert '<q lang="sw">jirani</q>, <q lang="sw">Mkenya mwenzangu</q>' in page


def test_the_lexicon_warns_only_in_the_terms_own_language(world, campaign, adopter):
    approved_term(world)

    response = adopter.post(
        f"/console/campaigns/{campaign.pk}/waves/check/",
        {"language": "en", "body_en": "No madoadoa here: vote in peace."},
    )

    assert "lexicon-warning" not in response.content.decode()


def test_a_term_still_in_review_does_not_warn(world, campaign, adopter):
    term_propose(
        network=world.network,
        organization=world.author.organization,
        by=world.author.manager,
        country="KE",
        language="sw",
        term="madoadoa",
        note="Marks a community as stains.",
    )

    response = adopter.post(
        f"/console/campaigns/{campaign.pk}/waves/check/",
        {"language": "sw", "body_sw": "madoadoa"},
    )

    assert "lexicon-warning" not in response.content.decode()


def test_a_saved_text_with_a_term_is_warned_on_the_composer_but_saved(world, wave, adopter):
    approved_term(world)

    response = adopter.post(
        f"/console/waves/{wave.pk}/compose/",
        composer_save(wave, en=ENGLISH, sw="Hakuna madoadoa, sote ni Wakenya."),
        follow=True,
    )

    page = response.content.decode()
    assert "The wave is saved as a draft." in page
    assert 'data-testid="lexicon-warning-sw"' in page


def test_editing_an_adopted_text_shows_the_fork_and_what_changed(world, wave, adopter):
    version = approved_version(world)
    adopter.post(f"/console/waves/{wave.pk}/adopt/", {"version": version.pk})

    adopter.post(
        f"/console/waves/{wave.pk}/compose/",
        composer_save(wave, en=ENGLISH, sw="Kura yako ni sauti yako. Piga kura kwa utulivu."),
    )

    for url in (f"/console/waves/{wave.pk}/compose/", f"/console/waves/{wave.pk}/"):
        page = adopter.get(url).content.decode()
        assert "From the library: Vote in peace v1" in page
        assert 'data-testid="library-fork"' in page
        assert "<summary>SW</summary>" in page
        assert "+Kura yako ni sauti yako. Piga kura kwa utulivu." in page
        assert "<summary>EN</summary>" not in page


def test_a_withdrawn_version_puts_a_red_banner_on_the_wave(world, wave, adopter):
    version = approved_version(world)
    adopter.post(f"/console/waves/{wave.pk}/adopt/", {"version": version.pk})

    library.version_withdraw(
        version=version,
        organization=world.author.organization,
        by=world.author.manager,
        reason="A county read it as taking sides.",
    )

    for url in (f"/console/waves/{wave.pk}/compose/", f"/console/waves/{wave.pk}/"):
        page = adopter.get(url).content.decode()
        assert 'data-testid="library-withdrawn"' in page
        assert "Vote in peace v1, was withdrawn on" in page
        assert "A county read it as taking sides." in page


def test_a_wave_not_from_the_library_shows_no_provenance(wave, adopter):
    page = adopter.get(f"/console/waves/{wave.pk}/").content.decode()

    assert "library-provenance" not in page


def test_a_reviewer_may_not_adopt(world, wave):
    version = approved_version(world)
    reviewer = member_add(
        organization=world.second.organization, username="sya-reviewer", role=Role.REVIEWER
    ).membership.user
    client = Client()
    client.force_login(reviewer)

    response = client.post(f"/console/waves/{wave.pk}/adopt/", {"version": version.pk})

    assert response.status_code == 403
    assert not wave.variants.exists()
