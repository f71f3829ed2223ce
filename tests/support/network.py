"""A network of three Kenyan organizations, made through the services, for library tests.

Each organization has an admin (its focal point in the network) and a manager. The first
writes templates; the other two review them.
"""

from dataclasses import dataclass

from campaigns.models import Network, TemplateVersion
from campaigns.services import library
from campaigns.services import network as network_services
from outreach.models import Organization, Role, User
from outreach.services.organizations import member_add, organization_create

DO_NO_HARM = {
    "conflict_sensitive": True,
    "no_group_as_threat": True,
    "facts_checked": True,
    "no_silence_breach": True,
    "safe_for_minors": True,
}
TEXTS = [
    {"language": "en", "body": "Your vote is your voice. Vote in peace, whoever you vote for."},
    {"language": "sw", "body": "Kura yako ni sauti yako. Piga kura kwa amani."},
]


@dataclass
class Member:
    organization: Organization
    admin: User  # its focal point
    manager: User


@dataclass
class NetworkWorld:
    network: Network
    author: Member
    second: Member
    third: Member

    @property
    def members(self) -> list[Member]:
        return [self.author, self.second, self.third]


def make_member(name: str, slug_word: str, *, country: str = "KE") -> Member:
    created = organization_create(
        name=name, admin_username=f"{slug_word}-admin", languages=["en", "sw"], country=country
    )
    organization = created.membership.organization
    manager = member_add(
        organization=organization, username=f"{slug_word}-manager", role=Role.MANAGER
    ).membership.user
    return Member(organization, created.membership.user, manager)


def make_network_world(name: str = "East Africa Peace Network") -> NetworkWorld:
    """Three members: the founder invites two, who accept (their admins are focal points)."""
    author = make_member("Peace Youth Kenya", "pyk")
    second = make_member("Sauti ya Amani", "sya")
    third = make_member("Vijana wa Amani", "vwa")
    network = network_services.network_create(
        organization=author.organization, by=author.admin, name=name
    )
    for member in (second, third):
        network_services.network_invite(
            network=network,
            organization=author.organization,
            by=author.admin,
            invitee=member.organization.slug,
        )
        network_services.network_accept(
            network=network, organization=member.organization, by=member.admin
        )
    return NetworkWorld(network, author, second, third)


def proposed_version(
    world: NetworkWorld, *, countries: tuple[str, ...] = ("KE",), name: str = "Vote in peace"
) -> TemplateVersion:
    """A two-language template by the first member, proposed for review."""
    version = library.template_create(
        network=world.network,
        organization=world.author.organization,
        by=world.author.manager,
        name=name,
        purpose="peaceful_voting",
        translations=TEXTS,
        age_band="18_24",
        tags=["election day"],
    )
    return library.version_propose(
        version=version,
        organization=world.author.organization,
        by=world.author.manager,
        countries=list(countries),
    )


def approve(world: NetworkWorld, version: TemplateVersion, member: Member, country: str = "KE"):
    return library.version_review(
        version=version,
        organization=member.organization,
        by=member.admin,
        country=country,
        decision="approve",
        checklist=DO_NO_HARM,
        reason="Conflict-sensitive, no group named, facts checked.",
    )


def approved_version(world: NetworkWorld, *, name: str = "Vote in peace") -> TemplateVersion:
    """A version the two other members approved for Kenya."""
    version = proposed_version(world, name=name)
    approve(world, version, world.second)
    approve(world, version, world.third)
    version.refresh_from_db()
    return version
