"""`manage.py bundle_key`: this server's name, key id and public key, to hand to another server."""

from typing import Any

from django.core.management.base import BaseCommand

from campaigns.bundles import server_identity


class Command(BaseCommand):
    help = "Print this server's bundle-signing identity (its name, key id and public key)."

    def handle(self, *args: Any, **options: Any) -> None:
        server = server_identity()
        self.stdout.write(f"name: {server['name']}")
        self.stdout.write(f"key_id: {server['key_id']}")
        self.stdout.write(f"public_key: {server['public_key']}")
        self.stdout.write(
            "On the other server: manage.py bundle_trust "
            f"--name '{server['name']}' --public-key {server['public_key']}"
        )
