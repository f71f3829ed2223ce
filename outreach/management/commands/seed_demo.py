import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

from outreach.channel_kinds import spec_of
from outreach.models import Channel, ChannelKind, Organization, Role, User
from outreach.services.channels import regions_load_preset
from outreach.services.organizations import member_add, organization_create

DEMO_ORGANIZATION = "Amani Demo"
DEMO_MEMBERS = [
    ("demo-admin", Role.ADMIN),
    ("demo-manager", Role.MANAGER),
    ("demo-reviewer", Role.REVIEWER),
    ("demo-funder", Role.FUNDER),
]
# One console channel per kind: each records what it would send and reports it delivered, so
# SMS-, WhatsApp-, Telegram- and Messenger-like conversations run with no account. SMS
# first, so that a fresh demo's SMS console is channel 1.
DEMO_CHANNELS = [
    ("Console SMS", ChannelKind.CONSOLE, '"0712345678"'),
    ("Console WhatsApp", ChannelKind.CONSOLE_WHATSAPP, '"0712345678"'),
    ("Console Telegram", ChannelKind.CONSOLE_TELEGRAM, '"123456789"'),
    ("Console Messenger", ChannelKind.CONSOLE_MESSENGER, '"6021458379124567"'),
]
# What the SMS console was called before the demo had one per kind.
FORMER_SMS_CONSOLE = "Demo console"


class Command(BaseCommand):
    help = (
        "Seed the demo organization with an admin, a manager, a reviewer and a funder and "
        "a console channel per kind (SMS, WhatsApp, Telegram, Messenger), give each member "
        "a fresh password, and print their logins. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(name=DEMO_ORGANIZATION).first()
        if organization is None:
            organization = organization_create(
                name=DEMO_ORGANIZATION,
                admin_username=DEMO_MEMBERS[0][0],
                admin_email="admin@demo.amani.invalid",
                languages=["en", "sw"],
            ).membership.organization
        channels = _console_channels(organization)
        regions_load_preset(organization=organization, preset="KE-counties")
        logins = []
        for username, role in DEMO_MEMBERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                new_member = member_add(organization=organization, username=username, role=role)
                user = new_member.membership.user
            # A fresh random password on every run: the demo never ships a known password.
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.save(update_fields=["password"])
            token, _ = Token.objects.get_or_create(user=user)
            logins.append((username, role, password, token.key))

        base_url = options["base_url"]
        self.stdout.write(f"\nDemo organization '{organization.name}' is ready.")
        self.stdout.write(f"  API docs:  {base_url}/api/docs/  (Authorize: 'Token <key>')")
        self.stdout.write(f"  Console:   {base_url}/console/  (every login below, the funder too)")
        self.stdout.write(f"  Admin:     {base_url}/admin/  (superusers only: createsuperuser)")
        self.stdout.write(f"  Health:    {base_url}/healthz and {base_url}/readyz")
        self.stdout.write("  Try a subscriber (the answer holds the replies; this log too):")
        for (name, _kind, sender), channel in zip(DEMO_CHANNELS, channels, strict=True):
            body = '"/start"' if channel.kind == ChannelKind.CONSOLE_TELEGRAM else '"JIUNGE"'
            self.stdout.write(
                f"    {name + ':':<19} POST {base_url}/api/v1/channels/{channel.pk}"
                f'/simulate-inbound/ {{"sender": {sender}, "body": {body}}}'
            )
        self.stdout.write("")
        self.stdout.write(f"  {'username':<15} {'role':<9} {'password':<14} api token")
        for username, role, password, token in logins:
            self.stdout.write(f"  {username:<15} {role:<9} {password:<14} {token}")
        self.stdout.write("")


def _console_channels(organization: Organization) -> list[Channel]:
    """The demo's console channels, in DEMO_CHANNELS' order, created when missing."""
    Channel.objects.filter(
        organization=organization, name=FORMER_SMS_CONSOLE, kind=ChannelKind.CONSOLE
    ).update(name=DEMO_CHANNELS[0][0])
    channels = []
    for name, kind, _sender in DEMO_CHANNELS:
        channel, _ = Channel.objects.get_or_create(
            organization=organization,
            name=name,
            defaults={
                "kind": kind,
                "country": "KE",
                "messages_per_second": spec_of(kind).default_rate,
            },
        )
        channels.append(channel)
    return channels
