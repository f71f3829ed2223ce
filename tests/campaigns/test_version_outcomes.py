"""A library version's outcomes: its adopters' waves summed, and suppressed like any funder figure.

Two members of a network adopt one approved version into waves of their own campaigns,
through the library and wave services; the waves go out through the console channel, the
receipts come back through the status inbox, replies and STOPs through the inbound
service, and the waves are rolled up (tests.campaigns.report_seed). One of the first
member's waves is edited after adopting: a fork, which the version's outcomes leave out.
"""

import json

import pytest
import time_machine

from campaigns import cell_key
from campaigns.models import Campaign, Network, TemplateVersion, Wave
from campaigns.selectors.library_outcomes import (
    template_outcomes,
    version_outcomes,
    versions_outcomes,
)
from campaigns.selectors.reports import ReportScope, campaign_report
from campaigns.services import library
from campaigns.services import waves as wave_services
from campaigns.services.campaigns import campaign_create
from campaigns.services.rollups import wave_rollup
from campaigns.services.segments import segment_create
from outreach.models import ChannelKind, Organization, Region, Subscriber
from outreach.services.channels import channel_create
from tests.campaigns.conftest import ELECTION_DAY, NOW
from tests.campaigns.report_seed import WavePlan, _send, _sign_up
from tests.support.module_rows import rows_for_module
from tests.support.network import TEXTS, Member, approved_version, make_network_world

pytestmark = pytest.mark.django_db

COUNTIES = {"Nairobi": 14, "Mombasa": 8}  # 22 people in each adopter's campaign
ADOPTED = WavePlan("E-7 vote in peace", "E-7d 10:00", failed=1, replies=6, stops=2)
FORKED = WavePlan("E-3 vote in peace, edited", "E-3d 10:00", failed=0, replies=5, stops=1)
SMALL = WavePlan("E-1 Mombasa", "E-1d 10:00", failed=0, replies=3, stops=0)
FIGURES = ("targeted", "sent", "delivered", "replies", "opt_outs")
RATES = {
    "delivery_rate": ("delivered", "sent"),
    "reply_rate": ("replies", "delivered"),
    "opt_out_rate": ("opt_outs", "delivered"),
}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> dict[str, int]:
    """The network, its version, and the adopters' sent waves, seeded once for the module."""

    def seed() -> dict[str, int]:
        world = make_network_world("Outcomes Network")
        version = approved_version(world)
        first, first_waves = _adopter(world.second, version, [ADOPTED, FORKED], fork=FORKED)
        second, second_waves = _adopter(world.third, version, [ADOPTED])
        return {
            "network": world.network.pk,
            "version": version.pk,
            "first_campaign": first.pk,
            "first_adopted": first_waves[0].pk,
            "first_forked": first_waves[1].pk,
            "second_campaign": second.pk,
            "second_adopted": second_waves[0].pk,
        }

    yield from rows_for_module(django_db_blocker, seed)


@pytest.fixture
def version(db, seeded) -> TemplateVersion:
    return TemplateVersion.objects.get(pk=seeded["version"])


@pytest.fixture
def waves(db, seeded) -> dict[str, Wave]:
    return {
        name: Wave.objects.get(pk=seeded[name])
        for name in ("first_adopted", "first_forked", "second_adopted")
    }


def _adopter(
    member: Member, version: TemplateVersion, plans: list[WavePlan], *, fork: WavePlan | None = None
) -> tuple[Campaign, list[Wave]]:
    """A member's campaign whose waves adopt the version (one edited into a fork), sent."""
    campaign = campaign_create(
        organization=member.organization,
        created_by=None,
        preset="KE",
        name=f"{member.organization.name} 2027",
        election_date=ELECTION_DAY,
    )
    campaign.fatigue_cap_per_week = None  # every wave reaches everyone still opted in
    campaign.save(update_fields=["fatigue_cap_per_week"])
    channel = channel_create(
        organization=member.organization,
        name="Outcomes console",
        kind=ChannelKind.CONSOLE,
        country="KE",
        messages_per_second=500,
    )
    with time_machine.travel(NOW, tick=False):
        _sign_up(campaign, channel, COUNTIES)
        segment = segment_create(organization=member.organization, created_by=None, name="All")
        waves = [
            _adopting_wave(member, version, campaign, channel, segment, plan, fork=plan is fork)
            for plan in plans
        ]
    for wave, plan in zip(waves, plans, strict=True):
        _send(wave, plan, channel)
        wave_rollup(wave_id=wave.pk)
    return campaign, waves


def _adopting_wave(member, version, campaign, channel, segment, plan, *, fork=False) -> Wave:
    wave = wave_services.wave_create(
        campaign=campaign,
        created_by=member.manager,
        name=plan.name,
        send_at_relative=plan.send_at_relative,
        segment=segment,
        channels=[channel],
        variants=[{"language": "en", "body": "Our own words, replaced by the library's."}],
    )
    library.version_adopt(version=version, wave=wave, by=member.manager)
    if fork:
        wave_services.wave_update(
            wave=wave,
            by=member.manager,
            variants=[
                {"language": "en", "body": "Your vote is your voice. Vote in peace, Nairobi."},
                {"language": "sw", "body": "Kura yako ni sauti yako. Piga kura kwa amani."},
            ],
        )
    wave_services.wave_submit(wave=wave, by=member.manager)
    wave_services.wave_approve(wave=wave, by=member.admin)
    return wave_services.wave_schedule(wave=wave, by=None)


def own_report(wave: Wave) -> dict:
    """The adopter's own exact report of one of its waves."""
    return campaign_report(ReportScope(campaign=wave.campaign, wave=wave), suppress=False)


def exact_sum(*waves: Wave) -> dict[str, int]:
    reports = [own_report(wave)["totals"] for wave in waves]
    return {name: sum(report[name] for report in reports) for name in FIGURES}


def pinned(estimate: int, noise: int, k: int) -> int | None:
    """The one count of 1..k-1 people a difference allows, if the noise allows only one."""
    low, high = max(0, estimate - noise), estimate + noise
    return low if low == high and 0 < low < k else None


def test_the_figures_summed_across_adopters_equal_their_own_reports_added(version, waves):
    outcome = version_outcomes(version, suppress=False)

    summed = exact_sum(waves["first_adopted"], waves["second_adopted"])
    assert {name: outcome["figures"][name] for name in FIGURES} == summed
    assert summed["targeted"] == 2 * sum(COUNTIES.values())
    for rate, (part, whole) in RATES.items():
        assert outcome["figures"][rate] == round(summed[part] / summed[whole], 4), rate
    assert (outcome["adopters"], outcome["waves"], outcome["forks"]) == (2, 2, 1)


def test_members_see_the_sum_perturbed_a_little_and_small_figures_withheld(version, waves):
    outcome = version_outcomes(version)

    exact = exact_sum(waves["first_adopted"], waves["second_adopted"])
    assert outcome["k"] == outcome["privacy"]["k"] == 10
    assert outcome["privacy"]["method"] == "cell-key"
    noise = outcome["privacy"]["max_perturbation"]
    assert noise == cell_key.MAX_PERTURBATION
    for name in ("targeted", "sent", "delivered", "replies"):
        published = outcome["figures"][name]
        assert published is not None, name
        assert abs(published - exact[name]) <= noise, name
        assert published >= outcome["k"], name
    assert exact["opt_outs"] == 2 * ADOPTED.stops < outcome["k"]
    assert outcome["figures"]["opt_outs"] is None
    assert outcome["figures"]["opt_out_rate"] is None
    assert outcome["withheld"] == {"opt_outs": "below_k", "opt_out_rate": "below_k"}
    assert outcome["suppressed"] is False


def test_the_sum_shows_what_no_adopters_own_wave_could_show_alone(version, waves):
    own = campaign_report(
        ReportScope(campaign=waves["first_adopted"].campaign, wave=waves["first_adopted"])
    )

    assert own["totals"]["replies"] is None  # six people's replies: fewer than k
    assert version_outcomes(version)["figures"]["replies"] is not None  # twelve people's


def test_with_fewer_people_than_the_networks_k_every_figure_is_withheld(version, seeded):
    Network.objects.filter(pk=seeded["network"]).update(min_cell_size=50)  # 44 people reached

    outcome = version_outcomes(version)

    assert outcome["k"] == 50
    assert outcome["suppressed"] is True
    assert set(outcome["figures"].values()) == {None}
    assert set(outcome["withheld"]) == set(outcome["figures"])
    assert set(outcome["withheld"].values()) == {"below_k"}
    assert (outcome["adopters"], outcome["waves"]) == (2, 2)  # organizations, not people


def test_an_adopters_own_larger_k_applies_to_the_whole_sum(version, waves):
    Organization.objects.filter(pk=waves["second_adopted"].organization_id).update(
        report_min_cell_size=60
    )

    outcome = version_outcomes(version)

    assert outcome["k"] == 60
    assert set(outcome["figures"].values()) == {None}


def test_a_forked_adoption_is_not_counted(version, waves):
    forked = waves["first_forked"]
    assert forked.library_adoption.forked_at is not None
    assert own_report(forked)["totals"]["targeted"] > 0  # it went out and was rolled up

    outcome = version_outcomes(version, suppress=False)

    assert outcome["forks"] == 1
    with_fork = exact_sum(waves["first_adopted"], waves["second_adopted"], forked)
    assert outcome["figures"]["targeted"] != with_fork["targeted"]
    assert (
        outcome["figures"]["targeted"]
        == exact_sum(waves["first_adopted"], waves["second_adopted"])["targeted"]
    )


def test_no_person_number_campaign_or_wave_is_in_the_outcomes(version, waves):
    shown = json.dumps(
        [version_outcomes(version), template_outcomes(version.template)], ensure_ascii=False
    )

    addresses = list(Subscriber.objects.values_list("address", flat=True))
    assert addresses
    for address in addresses:
        assert address not in shown
        assert address.lstrip("+")[-9:] not in shown  # nor the national number
    for wave in waves.values():
        assert wave.name not in shown
        assert wave.campaign.name not in shown
    assert not _keys(json.loads(shown)) & {"people", "ids", "contact", "subscriber", "address"}


def test_another_adopters_small_wave_cannot_be_read_off_the_difference(version, waves):
    before = version_outcomes(version)
    before_exact = version_outcomes(version, suppress=False)
    small = _small_adopted_wave(waves["second_adopted"], version)

    after = version_outcomes(version)
    after_exact = version_outcomes(version, suppress=False)

    truth = own_report(small)["totals"]
    assert 0 < truth["targeted"] < after["k"]  # a wave of fewer than k people
    noise = after["privacy"]["max_perturbation"]
    differences = 0
    for name in FIGURES:
        if before["figures"][name] is None or after["figures"][name] is None:
            continue
        estimate = after["figures"][name] - before["figures"][name]
        assert abs(estimate - truth[name]) <= 2 * noise, name  # the arithmetic is right
        assert pinned(estimate, 2 * noise, after["k"]) is None, name  # and pins nothing
        differences += 1
    assert differences >= 3  # targeted, sent, delivered at least were published both times
    # The same subtraction on exact figures gives the wave's people away.
    exact_targeted = after_exact["figures"]["targeted"] - before_exact["figures"]["targeted"]
    assert pinned(exact_targeted, 0, after["k"]) == truth["targeted"]
    # The same records always give the same figures: asking again averages nothing out.
    assert version_outcomes(version) == after


def test_many_versions_at_once_give_what_each_gives_alone(version):
    template = version.template
    unadopted = library.template_create(  # a template of its own nobody adopted yet
        network=template.network,
        organization=template.owner,
        by=template.created_by,
        name="Count every vote",
        purpose="civic_information",
        translations=TEXTS,
    )

    both = versions_outcomes([version, unadopted])

    assert both[version.pk] == version_outcomes(version)
    assert both[unadopted.pk] == version_outcomes(unadopted)
    nothing = both[unadopted.pk]
    assert (nothing["adopters"], nothing["waves"], nothing["forks"]) == (0, 0, 0)
    assert {name: nothing["figures"][name] for name in FIGURES} == dict.fromkeys(FIGURES, 0)
    assert nothing["withheld"] == dict.fromkeys(RATES, "no_base")


def test_a_template_with_one_adopted_version_has_that_versions_outcomes(version):
    by_template = template_outcomes(version.template)
    by_version = version_outcomes(version)

    assert by_template["figures"] == by_version["figures"]
    assert by_template["versions"] == 1
    assert by_template["template"]["name"] == version.template.name


def _small_adopted_wave(earlier: Wave, version: TemplateVersion) -> Wave:
    """One more wave of the second adopter, to its eight people in Mombasa, sent."""
    campaign, organization = earlier.campaign, earlier.organization
    channel = earlier.channels.get()
    member = Member(
        organization,
        earlier.approved_by,
        earlier.created_by,  # its admin and manager
    )
    with time_machine.travel(NOW, tick=False):
        segment = segment_create(
            organization=organization,
            created_by=None,
            name="Mombasa",
            regions=[Region.objects.get(organization=organization, name="Mombasa")],
        )
        wave = _adopting_wave(member, version, campaign, channel, segment, SMALL)
    _send(wave, SMALL, channel)
    wave_rollup(wave_id=wave.pk)
    return wave


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for inner in value.values() for key in _keys(inner)}
    if isinstance(value, list):
        return {key for inner in value for key in _keys(inner)}
    return set()
