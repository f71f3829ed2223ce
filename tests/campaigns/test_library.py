"""The network's library: the two-organization review rule, adopt, fork and withdraw."""

import datetime as dt

import pytest
import time_machine

from campaigns.models import (
    CountryState,
    NetworkNotice,
    NoticeKind,
    TemplateVersion,
    VersionState,
    WaveStatus,
)
from campaigns.selectors.library import (
    adoptable_versions,
    fork_changes,
    library_versions,
    renderings,
    review_queue,
)
from campaigns.services import library
from campaigns.services import network as network_services
from campaigns.services import waves as wave_services
from campaigns.services.campaigns import campaign_create
from campaigns.services.segments import segment_create
from outreach.errors import InvalidInput, NotAllowed
from outreach.models import ChannelKind
from outreach.services.channels import channel_create
from tests.support.network import (
    DO_NO_HARM,
    approve,
    approved_version,
    make_member,
    make_network_world,
    proposed_version,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_network_world()


def adopting_wave(member, name="E-7 peace"):
    campaign = campaign_create(
        organization=member.organization,
        created_by=member.manager,
        preset="KE",
        name=f"{member.organization.name} 2027: {name}",
        election_date=dt.date.today() + dt.timedelta(days=60),
    )
    return wave_services.wave_create(
        campaign=campaign,
        created_by=member.manager,
        name=name,
        send_at_relative="E-7d 10:00",
        segment=segment_create(
            organization=member.organization, created_by=None, name=f"Everyone for {name}"
        ),
        channels=[
            channel_create(
                organization=member.organization,
                name=f"Console {name}",
                kind=ChannelKind.CONSOLE,
                country="KE",
            )
        ],
        variants=[{"language": "en", "body": "Our own words."}],
    )


class TestProposing:
    def test_a_new_template_is_a_draft_version_with_a_content_hash(self, world):
        version = library.template_create(
            network=world.network,
            organization=world.author.organization,
            by=world.author.manager,
            name="Tolerance",
            purpose="tolerance",
            translations=[{"language": "sw", "body": "Sisi sote ni Wakenya."}],
        )
        assert version.state == VersionState.DRAFT
        assert version.number == 1
        assert len(version.content_hash) == 64

    def test_a_draft_is_seen_only_by_its_owner(self, world):
        library.template_create(
            network=world.network,
            organization=world.author.organization,
            by=world.author.manager,
            name="Tolerance",
            purpose="tolerance",
            translations=[{"language": "sw", "body": "Sisi sote ni Wakenya."}],
        )
        assert library_versions(world.author.organization).count() == 1
        assert library_versions(world.second.organization).count() == 0

    def test_proposing_asks_every_other_member_for_a_review(self, world):
        version = proposed_version(world)
        assert version.state == VersionState.IN_REVIEW
        notices = NetworkNotice.objects.filter(kind=NoticeKind.REVIEW_WANTED, version=version)
        assert {n.organization for n in notices} == {
            world.second.organization,
            world.third.organization,
        }
        assert review_queue(world.second.organization, world.second.admin) == [(version, "KE")]

    def test_a_text_over_ten_sms_segments_is_refused_naming_its_translation(self, world):
        with pytest.raises(InvalidInput) as refused:
            library.template_create(
                network=world.network,
                organization=world.author.organization,
                by=world.author.manager,
                name="Too long",
                purpose="tolerance",
                translations=[
                    {"language": "en", "body": "ok"},
                    {"language": "sw", "body": "平" * 700},
                ],
            )
        assert refused.value.field == "translations.1.body"

    def test_a_non_member_cannot_share_into_the_network(self, world):
        outsider = make_member("Outside Org", "out")
        with pytest.raises(NotAllowed):
            library.template_create(
                network=world.network,
                organization=outsider.organization,
                by=outsider.manager,
                name="Intruder",
                purpose="tolerance",
                translations=[{"language": "en", "body": "Hello."}],
            )

    def test_renderings_give_sms_encoding_and_segments(self, world):
        version = proposed_version(world)
        swahili = version.translations.get(language="sw")
        sms = next(r for r in renderings(swahili) if r.channel == "sms")
        assert sms.encoding == "GSM-7"
        assert sms.segments >= 1
        assert sms.fits


class TestTheTwoOrganizationRule:
    def test_the_owner_cannot_approve_its_own_version(self, world):
        version = proposed_version(world)
        with pytest.raises(NotAllowed):
            approve(world, version, world.author)

    def test_one_approval_is_not_enough(self, world):
        version = proposed_version(world)
        approve(world, version, world.second)
        version.refresh_from_db()
        assert version.state == VersionState.IN_REVIEW
        assert version.country_states.get(country="KE").state == CountryState.IN_REVIEW

    def test_two_other_organizations_approve_it_for_that_country(self, world):
        version = approved_version(world)
        assert version.state == VersionState.APPROVED
        assert version.country_states.get(country="KE").state == CountryState.APPROVED
        log = [(r.organization_name, r.decision, r.country) for r in version.reviews.all()]
        assert log == [
            ("Sauti ya Amani", "approve", "KE"),
            ("Vijana wa Amani", "approve", "KE"),
        ]

    def test_one_organization_cannot_approve_twice(self, world):
        version = proposed_version(world)
        approve(world, version, world.second)
        with pytest.raises(InvalidInput) as refused:
            approve(world, version, world.second)
        assert refused.value.field == "country"

    def test_approval_is_per_country(self, world):
        version = proposed_version(world, countries=("KE", "MX"))
        approve(world, version, world.second)
        approve(world, version, world.third)
        version.refresh_from_db()
        states = dict(version.country_states.values_list("country", "state"))
        assert states == {"KE": CountryState.APPROVED, "MX": CountryState.IN_REVIEW}

    def test_only_the_focal_point_reviews_for_an_organization(self, world):
        version = proposed_version(world)
        with pytest.raises(NotAllowed):
            library.version_review(
                version=version,
                organization=world.second.organization,
                by=world.second.manager,
                country="KE",
                decision="approve",
                checklist=DO_NO_HARM,
                reason="Looks fine.",
            )

    def test_an_approval_needs_every_do_no_harm_item(self, world):
        version = proposed_version(world)
        with pytest.raises(InvalidInput) as refused:
            library.version_review(
                version=version,
                organization=world.second.organization,
                by=world.second.admin,
                country="KE",
                decision="approve",
                checklist={**DO_NO_HARM, "safe_for_minors": False},
                reason="Mostly fine.",
            )
        assert refused.value.field == "checklist.safe_for_minors"
        assert version.reviews.count() == 0

    def test_changes_requested_send_the_version_back_to_its_authors(self, world):
        version = proposed_version(world)
        library.version_review(
            version=version,
            organization=world.second.organization,
            by=world.second.admin,
            country="KE",
            decision="request_changes",
            checklist={},
            reason="'whoever you vote for' reads as a jab in Kisumu.",
        )
        version.refresh_from_db()
        assert version.state == VersionState.DRAFT
        assert NetworkNotice.objects.filter(
            organization=world.author.organization, kind=NoticeKind.CHANGES_REQUESTED
        ).exists()

    def test_a_newer_approved_version_deprecates_the_older_one(self, world):
        first = approved_version(world)
        second = library.version_create(
            template=first.template,
            organization=world.author.organization,
            by=world.author.manager,
            translations=[{"language": "en", "body": "Vote in peace. Your vote is your voice."}],
            changelog="Shorter.",
        )
        library.version_propose(
            version=second,
            organization=world.author.organization,
            by=world.author.manager,
            countries=["KE"],
        )
        approve(world, second, world.second)
        approve(world, second, world.third)
        first.refresh_from_db()
        assert first.state == VersionState.DEPRECATED
        assert first.deprecated_at is not None  # when, and why, as a deprecation by hand says
        assert first.withdrawn_reason == "Superseded by version 2 in KE."
        assert second.number == 2


class TestAdoptForkWithdraw:
    def test_adopting_puts_the_translations_into_the_wave(self, world):
        version = approved_version(world)
        wave = adopting_wave(world.second)
        assert adoptable_versions(world.second.organization, wave.campaign) == [version]
        adoption = library.version_adopt(version=version, wave=wave, by=world.second.manager)
        texts = dict(wave.variants.values_list("language", "body"))
        assert texts == {
            "en": "Your vote is your voice. Vote in peace, whoever you vote for.",
            "sw": "Kura yako ni sauti yako. Piga kura kwa amani.",
        }
        assert wave.library_adoption == adoption
        assert adoption.forked_at is None

    def test_a_version_in_review_cannot_be_adopted(self, world):
        version = proposed_version(world)
        with pytest.raises(InvalidInput) as refused:
            library.version_adopt(
                version=version, wave=adopting_wave(world.second), by=world.second.manager
            )
        assert refused.value.field == "version"

    def test_editing_an_adopted_text_makes_a_fork_that_records_the_change(self, world):
        version = approved_version(world)
        wave = adopting_wave(world.second)
        library.version_adopt(version=version, wave=wave, by=world.second.manager)
        wave_services.wave_update(
            wave=wave,
            by=world.second.manager,
            variants=[
                {"language": "en", "body": "Your vote is your voice. Vote in peace, Kisumu."},
                {"language": "sw", "body": "Kura yako ni sauti yako. Piga kura kwa amani."},
            ],
        )
        adoption = wave.library_adoption
        adoption.refresh_from_db()
        assert adoption.forked_at is not None
        [change] = adoption.changes
        assert change["language"] == "en"
        assert change["original"].endswith("whoever you vote for.")
        assert "+Your vote is your voice. Vote in peace, Kisumu." in change["diff"]

    def test_forking_into_the_library_remembers_the_original(self, world):
        version = approved_version(world)
        fork = library.template_fork(
            version=version,
            organization=world.third.organization,
            by=world.third.manager,
            name="Vote in peace (coast)",
            translations=[{"language": "sw", "body": "Kura yako ni sauti yako, Pwani."}],
        )
        assert fork.template.forked_from == version
        assert fork.state == VersionState.DRAFT
        changes = {c["language"]: c for c in fork_changes(fork)}
        assert changes["sw"]["now"] == "Kura yako ni sauti yako, Pwani."
        assert changes["en"]["now"] == ""  # the fork dropped English

    def test_only_the_owner_changes_or_withdraws_a_template(self, world):
        version = approved_version(world)
        with pytest.raises(NotAllowed):
            library.version_withdraw(
                version=version,
                organization=world.second.organization,
                by=world.second.manager,
                reason="Not ours.",
            )

    def test_withdrawal_notifies_adopters_and_holds_their_unsent_waves(self, world):
        version = approved_version(world)
        wave = adopting_wave(world.second)
        library.version_adopt(version=version, wave=wave, by=world.second.manager)
        wave_services.wave_submit(wave=wave, by=world.second.manager)
        wave_services.wave_approve(wave=wave, by=world.second.admin)
        library.version_withdraw(
            version=version,
            organization=world.author.organization,
            by=world.author.manager,
            reason="Read as mocking one community's candidate.",
        )
        wave.refresh_from_db()
        assert wave.status == WaveStatus.DRAFT
        assert "withdrawn" in wave.transitions.last().note
        adoption = wave.library_adoption
        adoption.refresh_from_db()
        assert adoption.flagged_at is not None
        notice = NetworkNotice.objects.get(
            organization=world.second.organization, kind=NoticeKind.WITHDRAWN
        )
        assert notice.wave == wave
        assert "mocking" in notice.text
        assert TemplateVersion.objects.get(pk=version.pk).state == VersionState.WITHDRAWN
        assert adoptable_versions(world.second.organization, wave.campaign) == []

    def test_a_withdrawal_and_a_deprecation_say_who_when_and_why(self, world):
        withdrawn, deprecated = approved_version(world), approved_version(world, name="Vote, v2")
        by, organization = world.author.manager, world.author.organization
        who = f"{by.get_username()} ({organization.name})"
        at = dt.datetime(2027, 7, 1, 9, 30, tzinfo=dt.UTC)

        with time_machine.travel(at, tick=False):
            library.version_withdraw(
                version=withdrawn, organization=organization, by=by, reason="A wrong date."
            )
            library.version_deprecate(
                version=deprecated, organization=organization, by=by, reason="Version 2 is out."
            )

        withdrawn.refresh_from_db()
        deprecated.refresh_from_db()
        assert (withdrawn.withdrawn_at, withdrawn.ended_by, withdrawn.ended_by_name) == (
            at,
            by,
            who,
        )
        assert withdrawn.withdrawn_reason == "A wrong date."
        assert (deprecated.deprecated_at, deprecated.ended_by_name) == (at, who)
        assert deprecated.withdrawn_at is None
        assert deprecated.withdrawn_reason == "Version 2 is out."

    def test_an_organization_that_left_keeps_its_adopted_waves(self, world):
        version = approved_version(world)
        wave = adopting_wave(world.second)
        library.version_adopt(version=version, wave=wave, by=world.second.manager)
        network_services.network_leave(
            network=world.network, organization=world.second.organization, by=world.second.admin
        )
        assert dict(wave.variants.values_list("language", "body"))["sw"].startswith("Kura")
        with pytest.raises(NotAllowed):
            library.version_adopt(
                version=version, wave=adopting_wave(world.second, "E-1"), by=world.second.manager
            )


class TestMembership:
    def test_an_invited_organization_is_not_a_member_until_it_accepts(self):
        author = make_member("Peace Youth Kenya", "pyk")
        guest = make_member("Sauti ya Amani", "sya")
        network = network_services.network_create(
            organization=author.organization, by=author.admin, name="Coast Network"
        )
        network_services.network_invite(
            network=network,
            organization=author.organization,
            by=author.admin,
            invitee=guest.organization.slug,
        )
        assert library_versions(guest.organization).count() == 0
        assert NetworkNotice.objects.filter(
            organization=guest.organization, kind=NoticeKind.INVITED
        ).exists()
        place = network_services.network_accept(
            network=network, organization=guest.organization, by=guest.admin
        )
        assert place.status == "active"
        assert place.focal_point == guest.admin

    def test_only_an_admin_acts_for_the_organization_in_a_network(self, world):
        with pytest.raises(NotAllowed):
            network_services.network_leave(
                network=world.network,
                organization=world.second.organization,
                by=world.second.manager,
            )

    def test_the_focal_point_must_be_staff_of_the_organization(self, world):
        with pytest.raises(InvalidInput) as refused:
            network_services.network_set_focal_point(
                network=world.network,
                organization=world.second.organization,
                by=world.second.admin,
                user_id=world.third.admin.pk,
            )
        assert refused.value.field == "focal_point"
