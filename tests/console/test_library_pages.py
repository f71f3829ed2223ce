"""The library's pages: the list, a version's page and its actions by role, writing a template
or a new version, and the review queue. Two other members' focal points approve a version
through the console's forms; one approval is not enough and the owner cannot approve its
own; an adopter sees the version go into its wave, and is told when it is withdrawn."""

import datetime as dt
import re

import pytest
from django.test import Client

from campaigns.models import (
    Adoption,
    CountryApproval,
    LibraryReview,
    LibraryTemplate,
    NetworkNotice,
    TemplateVersion,
    WaveStatus,
)
from campaigns.services import waves as wave_services
from campaigns.services.campaigns import campaign_create
from outreach.models import Role
from outreach.services.organizations import member_add
from tests.support.network import (
    DO_NO_HARM,
    TEXTS,
    approve,
    approved_version,
    make_network_world,
    proposed_version,
)

pytestmark = pytest.mark.django_db
LIBRARY = "/console/library/"
ENGLISH, SWAHILI = (text["body"] for text in TEXTS)


@pytest.fixture
def world():
    return make_network_world()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(response) -> str:
    return response.content.decode()


def new_template(world, **changes) -> dict:
    """The "write a template" form as the author's manager fills it."""
    return {
        "network": str(world.network.pk),
        "name": "Calm after the results",
        "purpose": "post_election_calm",
        "age_band": "18_24",
        "tags": "results, calm",
        "licence": "CC-BY-SA-4.0",
        "body_en": "Whatever the results, Kenya is one. Stay calm, stay safe.",
        "body_sw": "Matokeo yoyote, Kenya ni moja. Tulia, uwe salama.",
        "changelog": "",
        **changes,
    }


def review_form(country="KE", decision="approve", **changes) -> dict:
    ticks = {f"checklist_{key}": "on" for key in DO_NO_HARM}
    return {
        "country": country,
        "decision": decision,
        "reason": "Conflict-sensitive, no group named, facts checked.",
        **ticks,
        **changes,
    }


def review_through_console(member, version, **changes):
    return signed_in(member.admin).post(
        f"{LIBRARY}{version.pk}/review/", review_form(**changes), follow=True
    )


def counts() -> tuple[int, ...]:
    models = (LibraryTemplate, TemplateVersion, LibraryReview, CountryApproval, Adoption)
    return tuple(model.objects.count() for model in models)


def campaign_and_wave(member):
    campaign = campaign_create(
        organization=member.organization,
        created_by=member.manager,
        preset="KE",
        name="Sauti 2027",
        election_date=dt.date.today() + dt.timedelta(days=60),
    )
    wave = wave_services.wave_create(
        campaign=campaign, created_by=member.manager, name="A week before"
    )
    return campaign, wave


# --- the list ------------------------------------------------------------------------------


def test_the_library_lists_a_proposed_version_with_its_languages_countries_and_owner(world):
    version = proposed_version(world)

    response = signed_in(world.second.manager).get(LIBRARY)

    body = page(response)
    assert response.status_code == 200
    assert f'href="/console/library/{version.pk}/">Vote in peace v1</a>' in body
    assert "Vote in peace</td>" in body  # the purpose
    assert "en, sw" in body
    assert f'data-testid="country-{version.pk}-KE">KE: In review<' in body
    assert "Peace Youth Kenya" in body


def test_the_library_filters_by_country_language_purpose_state_and_words(world):
    version = proposed_version(world)
    client = signed_in(world.second.manager)
    listed = f'data-testid="version-{version.pk}"'

    assert listed in page(client.get(LIBRARY, {"country": "ke", "language": "sw"}))
    assert listed in page(client.get(LIBRARY, {"purpose": "peaceful_voting", "q": "sauti"}))
    assert listed not in page(client.get(LIBRARY, {"country": "TZ"}))
    assert listed not in page(client.get(LIBRARY, {"state": "approved"}))
    assert listed not in page(client.get(LIBRARY, {"purpose": "tolerance"}))
    assert listed not in page(client.get(LIBRARY, {"q": "nothing like it"}))


def test_the_library_counts_a_versions_adopters(world):
    version = approved_version(world)
    _, wave = campaign_and_wave(world.second)
    signed_in(world.second.manager).post(f"{LIBRARY}{version.pk}/adopt/", {"wave": wave.pk})

    body = page(signed_in(world.third.manager).get(LIBRARY))

    assert f'data-testid="version-{version.pk}"' in body
    assert "<td>1</td>" in body


def test_another_members_draft_is_neither_listed_nor_found(world):
    draft = proposed_version(world)
    TemplateVersion.objects.filter(pk=draft.pk).update(state="draft")
    client = signed_in(world.second.manager)

    assert f'data-testid="version-{draft.pk}"' not in page(client.get(LIBRARY))
    assert client.get(f"{LIBRARY}{draft.pk}/").status_code == 404
    assert signed_in(world.author.manager).get(f"{LIBRARY}{draft.pk}/").status_code == 200


def test_a_funder_may_not_open_the_library_or_the_network(world):
    funder = member_add(
        organization=world.second.organization, username="sya-funder", role=Role.FUNDER
    ).membership.user
    client = signed_in(funder)

    for url in (LIBRARY, f"{LIBRARY}new/", f"{LIBRARY}reviews/", "/console/network/"):
        assert client.get(url).status_code == 403, url


def test_staff_see_the_library_and_network_in_the_menu_and_a_funder_does_not(world):
    funder = member_add(
        organization=world.second.organization, username="sya-funder", role=Role.FUNDER
    ).membership.user
    reviewer = member_add(
        organization=world.second.organization, username="sya-reviewer", role=Role.REVIEWER
    ).membership.user

    staff_page = page(signed_in(reviewer).get(LIBRARY))
    funder_page = page(signed_in(funder).get("/console/reports/"))

    assert '<a href="/console/library/"' in staff_page
    assert '<a href="/console/network/"' in staff_page
    assert '<a href="/console/library/"' not in funder_page


# --- writing -------------------------------------------------------------------------------


def test_a_manager_writes_a_template_in_the_organizations_languages(world):
    response = signed_in(world.author.manager).post(
        f"{LIBRARY}new/", new_template(world), follow=True
    )

    body = page(response)
    version = TemplateVersion.objects.get(template__name="Calm after the results")
    assert response.redirect_chain[-1][0] == f"{LIBRARY}{version.pk}/"
    assert "The template is saved as a draft" in body
    assert 'data-testid="version-state">Draft<' in body
    assert "Creative Commons Attribution-ShareAlike 4.0" in body
    assert "results, calm" in body
    assert "First version." in body
    assert version.content_hash in body
    assert 'data-testid="rendering-sw-sms"' in body
    assert "GSM-7" in body
    assert "<dd>18-24</dd>" in body  # the age band as people write it, not its code
    assert "<td>SMS</td>" in body
    assert "<td>WhatsApp</td>" in body
    assert "<td>sms</td>" not in body


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "Vote in peace"}, "name", "The network has a template of that name already."),
        ({"purpose": "war"}, "purpose", "Select a valid choice."),
        ({"licence": "mine"}, "licence", "Select a valid choice."),
        ({"body_en": "", "body_sw": ""}, "body_en", "Give the text in at least one language."),
        ({"body_sw": "Habari {unknown}"}, "body_sw", "unknown"),
        ({"body_en": "Amani ✓ " * 100}, "body_en", "at most 10 go in one message"),
        ({"tags": "x" * 41}, "tags", "A tag is at most 40 characters."),
        ({"network": "999999"}, "network", "Select a valid choice."),
    ],
)
def test_a_refused_template_shows_the_fields_error_and_saves_nothing(
    world, changes, field, message
):
    proposed_version(world)
    before = counts()

    response = signed_in(world.author.manager).post(
        f"{LIBRARY}new/", new_template(world, **changes)
    )

    body = page(response)
    assert response.status_code == 400
    assert f'data-field="{field}"' in body
    assert message in body
    assert counts() == before
    assert_points_at_its_error(body, field)


def assert_points_at_its_error(body: str, field: str) -> None:
    """A refused field names its error (and help text) by id, so a screen reader reads it."""
    described = re.search(
        rf'(?:name="{field}"|data-field-group="{field}")[^>]*aria-describedby="([^"]+)"|'
        rf'aria-describedby="([^"]+)"[^>]*(?:name="{field}"|data-field-group="{field}")',
        body,
    )
    assert described, f"the refused {field} does not point at its error"
    for named in (described.group(1) or described.group(2)).split():
        assert f'id="{named}"' in body, f"{field} points at {named}, which is not on the page"
    assert f'id="id_{field}_error"' in body


def test_a_reviewer_may_not_write_a_template(world):
    reviewer = member_add(
        organization=world.author.organization, username="pyk-reviewer", role=Role.REVIEWER
    ).membership.user

    response = signed_in(reviewer).post(f"{LIBRARY}new/", new_template(world))

    assert response.status_code == 403
    assert not LibraryTemplate.objects.filter(name="Calm after the results").exists()


def test_the_owner_writes_a_new_version_with_a_changelog(world):
    first = proposed_version(world)
    url = f"{LIBRARY}templates/{first.template_id}/versions/new/"
    client = signed_in(world.author.manager)
    assert ENGLISH in page(client.get(url))  # the latest text to start from

    response = client.post(
        url,
        {"body_en": "Vote in peace.", "body_sw": SWAHILI, "changelog": "Shorter."},
        follow=True,
    )

    second = TemplateVersion.objects.get(template=first.template, number=2)
    assert response.redirect_chain[-1][0] == f"{LIBRARY}{second.pk}/"
    assert "Vote in peace v2" in page(response)
    assert "Shorter." in page(response)


def test_a_new_version_without_a_changelog_is_refused_next_to_it(world):
    first = proposed_version(world)
    before = counts()

    response = signed_in(world.author.manager).post(
        f"{LIBRARY}templates/{first.template_id}/versions/new/",
        {"body_en": "Vote in peace.", "changelog": " "},
    )

    assert response.status_code == 400
    assert 'data-field="changelog"' in page(response)
    assert "Say what changed since the last version." in page(response)
    assert counts() == before


def test_another_member_cannot_write_a_version_of_a_template_it_does_not_own(world):
    first = proposed_version(world)

    url = f"{LIBRARY}templates/{first.template_id}/versions/new/"
    response = signed_in(world.second.manager).post(url, {"body_en": "x", "changelog": "y"})

    assert response.status_code == 404
    assert TemplateVersion.objects.filter(template=first.template).count() == 1


# --- propose, review, approve --------------------------------------------------------------


def draft(world) -> TemplateVersion:
    signed_in(world.author.manager).post(f"{LIBRARY}new/", new_template(world))
    return TemplateVersion.objects.get(template__name="Calm after the results")


def test_propose_then_two_reviews_through_the_console_approve_it_in_the_country(world):
    version = draft(world)
    proposed = signed_in(world.author.manager).post(
        f"{LIBRARY}{version.pk}/propose/", {"countries": "ke"}, follow=True
    )
    assert 'data-testid="country-state-KE">KE: In review<' in page(proposed)
    queue = page(signed_in(world.second.admin).get(f"{LIBRARY}reviews/"))
    assert f'data-testid="waiting-{version.pk}-KE"' in queue

    first = review_through_console(world.second, version)
    assert "Your decision is logged." in page(first)
    assert 'data-testid="country-state-KE">KE: In review<' in page(first)  # one is not enough
    second = review_through_console(world.third, version)

    body = page(second)
    assert 'data-testid="country-state-KE">KE: Approved<' in body
    assert 'data-testid="version-state">Approved<' in body
    assert "Sauti ya Amani</strong>" in body
    assert "Vijana wa Amani</strong>" in body
    assert body.count("☑") == 10  # both reviews, five ticks each
    listed = page(signed_in(world.author.manager).get(LIBRARY))
    assert f'data-testid="country-{version.pk}-KE">KE: Approved<' in listed
    assert f'data-testid="waiting-{version.pk}-KE"' not in page(
        signed_in(world.second.admin).get(f"{LIBRARY}reviews/")
    )


def test_the_owners_focal_point_cannot_approve_its_own_version(world):
    version = proposed_version(world)
    before = counts()

    response = signed_in(world.author.admin).post(f"{LIBRARY}{version.pk}/review/", review_form())

    assert response.status_code == 400
    assert "Your organization proposed this version" in page(response)
    assert counts() == before


def test_the_same_organization_cannot_approve_twice(world):
    version = proposed_version(world)
    review_through_console(world.second, version)
    before = counts()

    response = signed_in(world.second.admin).post(f"{LIBRARY}{version.pk}/review/", review_form())

    assert response.status_code == 400
    assert "has decided on this in that country already" in page(response)
    assert counts() == before


def test_only_the_focal_point_reviews_for_its_organization(world):
    version = proposed_version(world)
    reviewer = member_add(
        organization=world.second.organization, username="sya-reviewer", role=Role.REVIEWER
    ).membership.user
    client = signed_in(reviewer)

    assert 'id="review"' not in page(client.get(f"{LIBRARY}{version.pk}/"))
    response = client.post(f"{LIBRARY}{version.pk}/review/", review_form())

    assert response.status_code == 400
    assert "Only your organization&#x27;s focal point" in page(response)
    assert not LibraryReview.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"checklist_facts_checked": ""}, "checklist_facts_checked", "every do-no-harm item"),
        ({"reason": ""}, "reason", "This field is required."),
        ({"reason": "   "}, "reason", "This field is required."),
        ({"decision": "maybe"}, "decision", "Select a valid choice."),
        ({"country": "TZ"}, "country", "Select a valid choice."),
    ],
)
def test_a_refused_review_shows_the_fields_error_and_logs_nothing(world, changes, field, message):
    version = proposed_version(world)
    before = counts()

    response = signed_in(world.second.admin).post(
        f"{LIBRARY}{version.pk}/review/", review_form(**changes)
    )

    body = page(response)
    assert response.status_code == 400
    assert f'data-field="{field}"' in body
    assert message in body
    assert counts() == before
    assert_points_at_its_error(body, field)


def test_a_request_for_changes_needs_no_ticks_and_goes_back_to_the_authors(world):
    version = proposed_version(world)

    response = review_through_console(
        world.second,
        version,
        decision="request_changes",
        reason="Name the source of the polling-station figure.",
        **{f"checklist_{key}": "" for key in DO_NO_HARM},
    )

    assert "Your decision is logged." in page(response)  # on the queue: a draft again
    owner = page(signed_in(world.author.manager).get(f"{LIBRARY}{version.pk}/"))
    assert 'data-testid="country-state-KE">KE: Changes requested<' in owner
    assert "Name the source of the polling-station figure." in owner


@pytest.mark.parametrize(
    ("countries", "message"), [("", "This field is required."), ("KE, XX1", "")]
)
def test_a_refused_proposal_shows_the_countries_error_and_changes_nothing(
    world, countries, message
):
    version = draft(world)

    response = signed_in(world.author.manager).post(
        f"{LIBRARY}{version.pk}/propose/", {"countries": countries}
    )

    assert response.status_code == 400
    assert 'data-field="countries"' in page(response)
    assert message in page(response)
    version.refresh_from_db()
    assert version.state == "draft"
    assert not CountryApproval.objects.filter(version=version).exists()


def test_only_the_owner_proposes_and_withdraws(world):
    version = draft(world)
    client = signed_in(world.second.manager)

    assert client.post(f"{LIBRARY}{version.pk}/propose/", {"countries": "KE"}).status_code == 404
    proposed = proposed_version(world)
    refused = client.post(f"{LIBRARY}{proposed.pk}/withdraw/", {"reason": "Mine now."})

    assert refused.status_code == 400
    assert "Only the organization that wrote this template changes it" in page(refused)
    proposed.refresh_from_db()
    assert proposed.state == "in_review"


# --- adopt, fork, deprecate, withdraw ------------------------------------------------------


def test_adopting_from_the_version_page_puts_its_texts_into_the_wave(world):
    version = approved_version(world)
    _, wave = campaign_and_wave(world.second)
    client = signed_in(world.second.manager)
    assert f'<option value="{wave.pk}">Sauti 2027 · A week before (Draft)</option>' in page(
        client.get(f"{LIBRARY}{version.pk}/")
    )

    response = client.post(f"{LIBRARY}{version.pk}/adopt/", {"wave": wave.pk}, follow=True)

    assert response.redirect_chain[-1][0] == f"/console/waves/{wave.pk}/compose/"
    body = page(response)
    assert ENGLISH in body
    assert SWAHILI in body
    assert {v.language: v.body for v in wave.variants.all()} == {"en": ENGLISH, "sw": SWAHILI}
    assert Adoption.objects.get(wave=wave).version == version


def test_a_version_not_approved_offers_no_wave_and_refuses_one(world):
    version = proposed_version(world)
    _, wave = campaign_and_wave(world.second)
    client = signed_in(world.second.manager)
    assert 'id="adopt"' not in page(client.get(f"{LIBRARY}{version.pk}/"))

    response = client.post(f"{LIBRARY}{version.pk}/adopt/", {"wave": wave.pk})

    assert response.status_code == 400
    assert 'data-field="wave"' in page(response)
    assert not Adoption.objects.exists()
    assert not wave.variants.exists()


def test_a_member_forks_a_version_into_a_template_of_its_own(world):
    version = approved_version(world)

    response = signed_in(world.second.manager).post(
        f"{LIBRARY}{version.pk}/fork/", {"name": "Vote in peace, Nakuru"}, follow=True
    )

    fork = LibraryTemplate.objects.get(name="Vote in peace, Nakuru")
    assert fork.forked_from == version
    assert "Forked: your template is a draft of its own." in page(response)
    assert "Vote in peace v1</dd>" in page(response)  # forked from
    origin = page(signed_in(world.second.manager).get(f"{LIBRARY}{version.pk}/"))
    assert "Vote in peace, Nakuru</a>" in origin


def test_a_fork_with_the_name_of_an_existing_template_is_refused_next_to_the_name(world):
    version = approved_version(world)
    before = counts()

    response = signed_in(world.second.manager).post(
        f"{LIBRARY}{version.pk}/fork/", {"name": "vote in peace"}
    )

    assert response.status_code == 400
    assert 'data-field="name"' in page(response)
    assert counts() == before


def test_withdrawing_tells_the_adopter_and_flags_its_unsent_wave(world):
    version = approved_version(world)
    _, wave = campaign_and_wave(world.second)
    signed_in(world.second.manager).post(f"{LIBRARY}{version.pk}/adopt/", {"wave": wave.pk})

    withdrawn = signed_in(world.author.manager).post(
        f"{LIBRARY}{version.pk}/withdraw/",
        {"reason": "A figure in it turned out wrong."},
        follow=True,
    )
    assert "Withdrawn: A figure in it turned out wrong." in page(withdrawn)
    assert f"— {world.author.manager.get_username()} ({world.author.organization.name})" in (
        page(withdrawn)
    )

    network_page = page(signed_in(world.second.manager).get("/console/network/"))
    notice = NetworkNotice.objects.get(organization=world.second.organization, kind="withdrawn")
    assert f'data-testid="notice-{notice.pk}"' in network_page
    assert "was withdrawn (A figure in it turned out wrong.)" in network_page
    wave.refresh_from_db()
    assert wave.status == WaveStatus.DRAFT
    assert Adoption.objects.get(wave=wave).flagged_at is not None


def test_a_withdrawal_without_a_reason_is_refused_next_to_it(world):
    version = approved_version(world)

    response = signed_in(world.author.manager).post(
        f"{LIBRARY}{version.pk}/withdraw/", {"reason": ""}
    )

    assert response.status_code == 400
    assert 'data-field="reason"' in page(response)
    version.refresh_from_db()
    assert version.state == "approved"


def test_deprecating_keeps_it_listed_as_deprecated(world):
    version = approved_version(world)

    response = signed_in(world.author.manager).post(
        f"{LIBRARY}{version.pk}/deprecate/", {"reason": "Version 2 is better."}, follow=True
    )

    assert 'data-testid="version-state">Deprecated<' in page(response)
    again = signed_in(world.author.manager).post(f"{LIBRARY}{version.pk}/deprecate/", {})
    assert again.status_code == 400
    assert "deprecated already" in page(again)


def test_the_owners_actions_are_shown_to_its_managers_only(world):
    version = proposed_version(world)

    owner = page(signed_in(world.author.manager).get(f"{LIBRARY}{version.pk}/"))
    other = page(signed_in(world.second.manager).get(f"{LIBRARY}{version.pk}/"))
    focal = page(signed_in(world.second.admin).get(f"{LIBRARY}{version.pk}/"))

    assert 'id="owner"' in owner
    assert 'id="review"' not in owner
    assert 'id="owner"' not in other
    assert 'id="review"' not in other
    assert 'id="fork"' in other
    assert 'id="review"' in focal
    for label in ("Every fact in it is checked and sourced", "Safe for minors to receive"):
        assert label in focal


def test_the_outcomes_say_fewer_than_k_when_too_few_people_were_reached(world):
    version = approved_version(world)

    body = page(signed_in(world.second.manager).get(f"{LIBRARY}{version.pk}/"))

    assert 'data-testid="outcome-targeted"' in body
    assert "0 organizations adopted it" in body


def test_the_review_queue_is_empty_for_a_member_who_is_not_a_focal_point(world):
    proposed_version(world)

    body = page(signed_in(world.second.manager).get(f"{LIBRARY}reviews/"))

    assert 'data-testid="not-focal"' in body
    assert 'data-testid="nothing-waiting"' in body


def test_the_library_offers_the_review_queue_to_focal_points_only(world):
    proposed_version(world)

    focal = page(signed_in(world.second.admin).get(LIBRARY))
    not_focal = page(signed_in(world.second.manager).get(LIBRARY))

    assert 'data-testid="reviews-waiting"' in focal
    assert "1 waits for your decision" in focal
    assert 'data-testid="reviews-waiting"' not in not_focal
    assert "wait for your decision" not in not_focal


def test_checking_approve_needs_review_rows_in_the_database(world):
    version = proposed_version(world)
    approve(world, version, world.second)

    body = page(signed_in(world.third.admin).get(f"{LIBRARY}{version.pk}/"))

    assert "Sauti ya Amani</strong>" in body
    assert 'id="review"' in body
