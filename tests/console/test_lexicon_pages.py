"""The lexicon's pages: a manager proposes a term, two other members' focal points approve it,
and then the composer warns; who may do what; bad input shown next to its field, nothing saved."""

import datetime as dt

import pytest
from django.test import Client

from campaigns.models import LexiconTerm, LibraryReview, TermState
from campaigns.services.campaigns import campaign_create
from outreach.models import Role
from outreach.services.organizations import member_add, organization_create
from tests.support.network import make_network_world

pytestmark = pytest.mark.django_db
LEXICON = "/console/library/lexicon/"
PROPOSE = "/console/library/lexicon/propose/"


@pytest.fixture
def world():
    return make_network_world()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def proposal(world, **changes):
    """The propose form as the author's manager fills it."""
    return {
        "network": str(world.network.pk),
        "country": "KE",
        "language": "sw",
        "term": "madoadoa",
        "note": "Used in 2007 to mark a community as stains to be removed.",
        "alternatives": "jirani\nMkenya mwenzangu",
        **changes,
    }


def propose(world) -> LexiconTerm:
    signed_in(world.author.manager).post(PROPOSE, proposal(world))
    return LexiconTerm.objects.get(term="madoadoa")


def review(member, entry, decision="approve", reason="It inflames; the note says why."):
    return signed_in(member.admin).post(
        f"{LEXICON}{entry.pk}/review/", {"decision": decision, "reason": reason}
    )


def composer_warns(member) -> bool:
    campaign = campaign_create(
        organization=member.organization,
        created_by=member.manager,
        preset="KE",
        name="Sauti 2027",
        election_date=dt.date.today() + dt.timedelta(days=60),
    )
    response = signed_in(member.manager).post(
        f"/console/campaigns/{campaign.pk}/waves/check/",
        {"language": "sw", "body_sw": "Tusikubali madoadoa, tupige kura kwa amani."},
    )
    return 'data-testid="lexicon-warning-sw"' in response.content.decode()


def test_a_manager_proposes_a_term_and_the_lexicon_lists_it_in_review(world):
    response = signed_in(world.author.manager).post(PROPOSE, proposal(world), follow=True)

    page = response.content.decode()
    entry = LexiconTerm.objects.get(term="madoadoa")
    assert "is proposed: it counts once two other members approve it." in page
    assert f'data-testid="term-state-{entry.pk}">In review<' in page
    assert "Used in 2007 to mark a community" in page
    assert '<q lang="sw">jirani</q>, <q lang="sw">Mkenya mwenzangu</q>' in page


def test_two_other_members_approvals_make_the_composer_warn(world):
    entry = propose(world)

    first = review(world.second, entry)
    one_approval_warns = composer_warns(world.third)
    second = review(world.third, entry, reason="Heard on the radio in 2007; keep it out.")

    page = signed_in(world.second.manager).get(LEXICON).content.decode()
    assert (first.status_code, second.status_code) == (302, 302)
    assert one_approval_warns is False
    assert f'data-testid="term-state-{entry.pk}">Approved<' in page
    assert "Heard on the radio in 2007; keep it out." in page
    assert composer_warns(world.second)


def test_the_focal_point_sees_a_review_form_and_the_proposer_does_not(world):
    entry = propose(world)

    theirs = signed_in(world.second.admin).get(LEXICON).content.decode()
    ours = signed_in(world.author.admin).get(LEXICON).content.decode()

    action = f'action="{LEXICON}{entry.pk}/review/"'
    assert action in theirs
    assert action not in ours


def test_the_proposing_organization_cannot_approve_its_own_term(world):
    entry = propose(world)

    response = review(world.author, entry)

    assert response.status_code == 400
    assert "two other members review it" in response.content.decode()
    assert not LibraryReview.objects.filter(term=entry).exists()


def test_a_manager_who_is_not_the_focal_point_cannot_review(world):
    entry = propose(world)

    response = signed_in(world.second.manager).post(
        f"{LEXICON}{entry.pk}/review/", {"decision": "approve", "reason": "Looks right."}
    )

    assert response.status_code == 400
    assert "focal point" in response.content.decode()
    assert not LibraryReview.objects.filter(term=entry).exists()


def test_a_reviewer_reads_the_lexicon_but_may_not_propose(world):
    reviewer = member_add(
        organization=world.second.organization, username="sya-reviewer", role=Role.REVIEWER
    ).membership.user
    client = signed_in(reviewer)

    listed = client.get(LEXICON)
    proposed = client.post(PROPOSE, proposal(world))

    assert listed.status_code == 200
    assert "Propose a term" not in listed.content.decode()
    assert proposed.status_code == 403
    assert not LexiconTerm.objects.exists()


def test_a_funder_may_not_open_the_lexicon(world):
    funder = member_add(
        organization=world.second.organization, username="sya-funder", role=Role.FUNDER
    ).membership.user

    assert signed_in(funder).get(LEXICON).status_code == 403


def test_an_organization_outside_the_network_finds_no_term(world):
    entry = propose(world)
    outsider = organization_create(name="Elsewhere", admin_username="elsewhere-admin")
    client = signed_in(outsider.membership.user)

    page = client.get(LEXICON).content.decode()
    reviewed = client.post(f"{LEXICON}{entry.pk}/review/", {"decision": "approve", "reason": "x"})
    withdrawn = client.post(f"{LEXICON}{entry.pk}/withdraw/")

    assert "madoadoa" not in page
    assert (reviewed.status_code, withdrawn.status_code) == (404, 404)
    assert LexiconTerm.objects.get(pk=entry.pk).state == TermState.IN_REVIEW


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"note": "  "}, "note", "This field is required."),
        ({"country": "K1"}, "country", ""),
        ({"language": "Z"}, "language", ""),
        ({"term": ""}, "term", "This field is required."),
        ({"network": "999999"}, "network", "Select a valid choice."),
        ({"network": "abc"}, "network", "Select a valid choice."),
    ],
)
def test_a_bad_proposal_is_shown_next_to_its_field_and_nothing_is_saved(
    world, changes, field, message
):
    response = signed_in(world.author.manager).post(PROPOSE, proposal(world, **changes))

    page = response.content.decode()
    assert response.status_code == 400
    assert f'data-field="{field}"' in page
    assert message in page
    assert not LexiconTerm.objects.exists()


def test_a_term_the_lexicon_has_already_is_refused_on_the_term(world):
    propose(world)

    response = signed_in(world.author.manager).post(PROPOSE, proposal(world, term="MADOADOA"))

    assert response.status_code == 400
    assert 'data-field="term"' in response.content.decode()
    assert "The lexicon has that term already." in response.content.decode()
    assert LexiconTerm.objects.count() == 1


@pytest.mark.parametrize(
    ("posted", "field"),
    [
        ({"decision": "approve", "reason": ""}, "reason"),
        ({"decision": "maybe", "reason": "Not sure."}, "decision"),
    ],
)
def test_a_bad_review_is_shown_next_to_its_field_and_nothing_is_logged(world, posted, field):
    entry = propose(world)

    response = signed_in(world.second.admin).post(f"{LEXICON}{entry.pk}/review/", posted)

    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()
    assert not LibraryReview.objects.filter(term=entry).exists()


def test_the_proposer_withdraws_its_term_and_the_composer_stops_warning(world):
    entry = propose(world)
    review(world.second, entry)
    review(world.third, entry)

    response = signed_in(world.author.manager).post(f"{LEXICON}{entry.pk}/withdraw/", follow=True)

    assert "is withdrawn." in response.content.decode()
    assert LexiconTerm.objects.get(pk=entry.pk).state == TermState.WITHDRAWN
    assert not composer_warns(world.second)


def test_another_member_cannot_withdraw_the_term(world):
    entry = propose(world)

    response = signed_in(world.second.manager).post(f"{LEXICON}{entry.pk}/withdraw/")

    assert response.status_code == 400
    assert "Only the organization that proposed a term withdraws it." in response.content.decode()
    assert LexiconTerm.objects.get(pk=entry.pk).state == TermState.IN_REVIEW


def test_the_list_filters_by_language(world):
    propose(world)

    page = signed_in(world.author.manager).get(LEXICON, {"language": "en"}).content.decode()

    assert 'data-testid="lexicon-empty"' in page
