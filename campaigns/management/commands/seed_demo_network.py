"""`make run`: the demo organization in a network of three, sharing a reviewed library.

Simulated data: two partner organizations (Sauti ya Amani Demo, Vijana wa Amani Demo) join
the demo organization in the Kenya Peace Messaging Network, each with its focal point (the
demo's is demo-reviewer). Everything goes through the library's services, as members would:
Sauti ya Amani Demo proposes a template in English and Kiswahili for Kenya; the two other
members' focal points approve it against the do-no-harm checklist; the demo's manager adopts
it into a wave of the demo campaign, which the demo's reviewer approves and the manager
schedules. The demo's beat then sends it through the console channel, within the campaign's
sending window (08:00-18:00 in Nairobi), and its outcomes reach the library. A second
version waits in the reviewers' queues, and the lexicons warn of a few terms documented in
hate-speech lexicons of Kenyan elections (and two polarizing labels of Mexican politics).
Safe to run again: what exists is kept (a partner that left joins again, the demo's focal
point is demo-reviewer again), and the partners' logins get fresh passwords.
"""

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from campaigns.management.commands.seed_demo_campaign import NAME as DEMO_CAMPAIGN
from campaigns.models import (
    CHECKLIST,
    Adoption,
    Campaign,
    LexiconTerm,
    LibraryTemplate,
    MemberStatus,
    Network,
    NetworkMember,
    Segment,
    TemplateVersion,
    Wave,
    WaveStatus,
)
from campaigns.services import lexicon, library
from campaigns.services import network as network_services
from campaigns.services import waves as wave_services
from campaigns.services.segments import segment_create
from outreach.models import Channel, ChannelKind, Organization, Region, Role, User
from outreach.services.organizations import organization_create

NETWORK = "Kenya Peace Messaging Network"
DEMO_ORGANIZATION = "Amani Demo"
TEMPLATE = "Vote in peace, Kenya"
DO_NO_HARM = dict.fromkeys(CHECKLIST, True)
FIRST_TEXTS = [
    {
        "language": "en",
        "body": "Your vote is your voice, and your neighbour's vote is theirs. "
        "Whoever wins, we stay one Kenya. Vote in peace.",
    },
    {
        "language": "sw",
        "body": "Kura yako ni sauti yako, na kura ya jirani yako ni yake. "
        "Yeyote atakayeshinda, sisi ni Kenya moja. Piga kura kwa amani.",
    },
]
SECOND_TEXTS = [
    {"language": "en", "body": "Your vote is your voice. Whoever wins, we stay one Kenya."},
    {
        "language": "sw",
        "body": "Kura yako ni sauti yako. Yeyote atakayeshinda, sisi ni Kenya moja.",
    },
]
WAVE = "Vote in peace (network library)"
# Counties where the 2007-08 post-election violence was worst. Not Garissa: the README's
# WhatsApp poll answer is a Garissa person's, and must stay with the demo wave's poll.
SEGMENT = "Nakuru, Uasin Gishu and Kisumu"
COUNTIES = ["Nakuru", "Uasin Gishu", "Kisumu"]
SENDS_IN = dt.timedelta(minutes=2)  # the send time must be ahead when it is submitted


@dataclass(frozen=True)
class Partner:
    name: str
    username: str  # its admin: the focal point, who also writes for it


PARTNERS = [
    Partner("Sauti ya Amani Demo", "sauti-admin"),
    Partner("Vijana wa Amani Demo", "vijana-admin"),
]
KENYAN_LEXICONS = "Documented in hate-speech lexicons of Kenyan elections (PeaceTech Lab's)"
# (country, language, term, note, alternatives, proposing member: "author" or "demo")
TERMS = [
    (
        "KE",
        "sw",
        "madoadoa",
        f"'Stains'. {KENYAN_LEXICONS}: brands neighbours of another community as blemishes "
        "on a region, used in calls to drive them out (2007-08 and since).",
        ["wakazi wote", "majirani zetu"],
        "author",
    ),
    (
        "KE",
        "en",
        "stains",
        f"The English of 'madoadoa'. {KENYAN_LEXICONS}: said of a community to call for "
        "expelling it from a region.",
        ["every resident", "our neighbours"],
        "author",
    ),
    (
        "KE",
        "sw",
        "kwekwe",
        f"'Weeds'. {KENYAN_LEXICONS}: people to be uprooted from the land, a call to expel a "
        "community.",
        ["wakazi wote", "wananchi"],
        "author",
    ),
    (
        "KE",
        "sw",
        "watu wa kuja",
        f"'People who came'. {KENYAN_LEXICONS}: casts residents as outsiders with no right "
        "to live or vote where they do.",
        ["wakazi", "wananchi wa hapa"],
        "author",
    ),
    (
        "KE",
        "en",
        "fumigation",
        f"{KENYAN_LEXICONS} (2017): removing opponents or a community as one removes pests.",
        ["vote them out peacefully", "win at the ballot"],
        "author",
    ),
    (
        "MX",
        "es",
        "chairos",
        "A polarizing label of Mexican politics for the left's supporters: it mocks voters "
        "instead of answering them, and hardens camps before an election.",
        ["quienes piensan distinto", "votantes de otro partido"],
        "demo",
    ),
    (
        "MX",
        "es",
        "fifís",
        "A polarizing label of Mexican politics for opponents cast as a privileged elite: "
        "it divides voters into camps and enemies.",
        ["quienes piensan distinto", "votantes de otro partido"],
        "demo",
    ),
]


@dataclass
class Member:
    organization: Organization
    focal_point: User  # reviews for the organization
    writer: User  # writes templates and terms, composes waves


class Command(BaseCommand):
    help = (
        "Put the demo organization in a network of three (two simulated partners) with a "
        "reviewed two-language template adopted into a wave of the demo campaign, a version "
        "in review and lexicon terms, and print the partners' logins. Safe to run again."
    )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        demo = Organization.objects.filter(name=DEMO_ORGANIZATION).first()
        campaign = Campaign.objects.filter(organization=demo, name=DEMO_CAMPAIGN).first()
        if demo is None or campaign is None:
            self.stderr.write("Run seed_demo and seed_demo_campaign first.")
            return
        ours = Member(
            demo,
            User.objects.get(username="demo-reviewer"),
            User.objects.get(username="demo-manager"),
        )
        author, other = (_partner(partner) for partner in PARTNERS)
        network = _network(ours, [author, other], admin=User.objects.get(username="demo-admin"))
        first = _first_version(network, author, reviewers=[ours, other])
        _second_version(network, author)
        for country, language, term, note, alternatives, proposer in TERMS:
            by, reviewers = (
                (author, [ours, other]) if proposer == "author" else (ours, [author, other])
            )
            _term(network, by, reviewers, country, language, term, note, alternatives)
        wave = _adopting_wave(first, campaign, ours)

        self.stdout.write(f"\nNetwork '{network.name}': {demo.name} and two simulated partners.")
        self.stdout.write(
            f"  '{TEMPLATE}' v1 (en, sw), by {author.organization.name}, approved for KE by "
            f"the other two, is adopted by the demo wave '{wave.name}': {_when(wave)}."
        )
        self.stdout.write("  v2 waits in the review queues of demo-reviewer and vijana-admin.")
        self.stdout.write(
            "  Focal points: demo-reviewer (Amani Demo), and each partner's admin below."
        )
        self.stdout.write(f"  {'username':<15} {'role':<9} {'password':<14} api token")
        for partner in PARTNERS:
            user = User.objects.get(username=partner.username)
            password = secrets.token_urlsafe(9)  # fresh on every run, as seed_demo's
            user.set_password(password)
            user.save(update_fields=["password"])
            token, _ = Token.objects.get_or_create(user=user)
            self.stdout.write(f"  {user.username:<15} {Role.ADMIN:<9} {password:<14} {token.key}")
        self.stdout.write("")


def _when(wave: Wave) -> str:
    if wave.status != WaveStatus.SCHEDULED or wave.scheduled_for is None:
        return str(wave.status)
    local = wave_services.wave_times(wave).scheduled_local
    return (
        f"scheduled for {local:%Y-%m-%d %H:%M} {wave.campaign.timezone}" if local else "scheduled"
    )


def _partner(partner: Partner) -> Member:
    """A simulated partner organization with its admin, created when missing."""
    organization = Organization.objects.filter(name=partner.name).first()
    if organization is None:
        organization = organization_create(
            name=partner.name, admin_username=partner.username, languages=["en", "sw"]
        ).membership.organization
    admin = User.objects.get(username=partner.username)
    return Member(organization, admin, admin)


def _network(ours: Member, partners: list[Member], *, admin: User) -> Network:
    """The network, founded by the demo organization; the partners invited and joined."""
    network = Network.objects.filter(name=NETWORK).first()
    if network is None:
        network = network_services.network_create(
            organization=ours.organization,
            by=admin,
            name=NETWORK,
            description="Kenyan peace-messaging organizations sharing reviewed texts "
            "(simulated demo data).",
        )
    for partner in partners:
        place = NetworkMember.objects.filter(network=network, organization=partner.organization)
        if place.filter(status=MemberStatus.ACTIVE).exists():
            continue
        network_services.network_invite(
            network=network,
            organization=ours.organization,
            by=admin,
            invitee=partner.organization.slug,
        )
        network_services.network_accept(
            network=network, organization=partner.organization, by=partner.focal_point
        )
    place = network_services.active_member(network, ours.organization)
    if place.focal_point_id != ours.focal_point.pk:
        network_services.network_set_focal_point(
            network=network, organization=ours.organization, by=admin, user_id=ours.focal_point.pk
        )
    return network


def _first_version(network: Network, author: Member, *, reviewers: list[Member]) -> TemplateVersion:
    """The template's first version: proposed for Kenya, approved by the two reviewers."""
    template = LibraryTemplate.objects.filter(network=network, name=TEMPLATE).first()
    if template is not None:
        return template.versions.get(number=1)
    version = library.template_create(
        network=network,
        organization=author.organization,
        by=author.writer,
        name=TEMPLATE,
        purpose="peaceful_voting",
        translations=FIRST_TEXTS,
        age_band="18_24",
        tags=["election day", "unity"],
    )
    version = library.version_propose(
        version=version, organization=author.organization, by=author.writer, countries=["KE"]
    )
    for reviewer in reviewers:
        library.version_review(
            version=version,
            organization=reviewer.organization,
            by=reviewer.focal_point,
            country="KE",
            decision="approve",
            checklist=DO_NO_HARM,
            reason="Names no group or candidate, takes no side, and asks only for a peaceful "
            "vote; both texts say the same.",
        )
    version.refresh_from_db()
    return version


def _second_version(network: Network, author: Member) -> None:
    """A shorter second version, proposed for Kenya: it waits for the reviewers' decisions."""
    template = LibraryTemplate.objects.get(network=network, name=TEMPLATE)
    if template.versions.filter(number=2).exists():
        return
    version = library.version_create(
        template=template,
        organization=author.organization,
        by=author.writer,
        translations=SECOND_TEXTS,
        changelog="Shorter: one SMS with the opt-out footer, in both languages.",
    )
    library.version_propose(
        version=version, organization=author.organization, by=author.writer, countries=["KE"]
    )


def _term(
    network: Network,
    by: Member,
    reviewers: list[Member],
    country: str,
    language: str,
    term: str,
    note: str,
    alternatives: list[str],
) -> None:
    """One lexicon term, proposed and approved by the two other members' focal points."""
    if LexiconTerm.objects.filter(
        network=network, country=country, language=language, term__iexact=term
    ).exists():
        return
    entry = lexicon.term_propose(
        network=network,
        organization=by.organization,
        by=by.writer,
        country=country,
        language=language,
        term=term,
        note=note,
        alternatives=alternatives,
    )
    for reviewer in reviewers:
        lexicon.term_review(
            term=entry,
            organization=reviewer.organization,
            by=reviewer.focal_point,
            decision="approve",
            reason="Documented as inflammatory; the note and alternatives are right.",
        )


def _adopting_wave(version: TemplateVersion, campaign: Campaign, ours: Member) -> Wave:
    """The demo campaign's wave that adopts the version: composed, approved, scheduled."""
    adoption = Adoption.objects.filter(version=version, organization=ours.organization).first()
    if adoption is not None:
        return adoption.wave
    organization = ours.organization
    segment = Segment.objects.filter(organization=organization, name=SEGMENT).first()
    if segment is None:
        segment = segment_create(
            organization=organization,
            created_by=ours.writer,
            name=SEGMENT,
            regions=list(Region.objects.filter(organization=organization, name__in=COUNTIES)),
        )
    sms = Channel.objects.get(organization=organization, kind=ChannelKind.CONSOLE)
    wave = wave_services.wave_create(
        campaign=campaign,
        created_by=ours.writer,
        name=WAVE,
        send_at=timezone.now() + SENDS_IN,
        segment=segment,
        channels=[sms],
    )
    library.version_adopt(version=version, wave=wave, by=ours.writer)
    wave = wave_services.wave_submit(wave=wave, by=ours.writer)
    wave = wave_services.wave_approve(wave=wave, by=ours.focal_point)
    # Within the campaign's sending window it goes in a moment; else when the window opens.
    return wave_services.wave_schedule(wave=wave, by=ours.writer)
