from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outreach.errors import InvalidInput
from outreach.services.organizations import organization_create


class Command(BaseCommand):
    help = (
        "Create an organization and its first admin; prints the admin's API token on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The organization's name.")
        parser.add_argument("--admin", required=True, help="Username of its first admin.")
        parser.add_argument("--email", default="", help="The admin's email address.")
        parser.add_argument("--country", default="KE", help="ISO 3166-1 alpha-2 (default KE).")
        parser.add_argument("--timezone", default="Africa/Nairobi", help="IANA time zone.")
        parser.add_argument("--default-language", default="en", help="ISO 639 code (default en).")
        parser.add_argument(
            "--languages",
            default="",
            help="Comma-separated ISO 639 codes (default: the default language).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        languages = [code.strip() for code in options["languages"].split(",") if code.strip()]
        try:
            new_admin = organization_create(
                name=options["name"],
                admin_username=options["admin"],
                admin_email=options["email"],
                country=options["country"],
                timezone=options["timezone"],
                default_language=options["default_language"],
                languages=languages or None,
            )
        except InvalidInput as error:
            raise CommandError(f"--{(error.field or 'name').replace('_', '-')}: {error}") from error
        organization = new_admin.membership.organization
        self.stdout.write(
            f"Created organization '{organization.name}' (slug {organization.slug}) "
            f"with admin '{new_admin.membership.user.username}'. API token:"
        )
        self.stdout.write(new_admin.api_token)
