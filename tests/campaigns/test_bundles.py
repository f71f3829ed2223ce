"""Signed bundles: a network's vetted material goes from one server to another, and only intact.

The exporting server is this test's database, its material made through the library services.
The importing server is either a second database, migrated and driven by `manage.py` in
subprocesses with a key of its own, or (to look at one refusal at a time) the same database
after the exporting network is gone, as if it lived elsewhere.
"""

import base64
import copy
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from campaigns import bundles
from campaigns.models import (
    LibraryTemplate,
    Network,
    NetworkNotice,
    TemplateVersion,
    TrustedServer,
)
from campaigns.selectors.bundles import bundle_export
from campaigns.services import lexicon, library
from campaigns.services import network as network_services
from campaigns.services import waves as wave_services
from campaigns.services.bundles import bundle_import, trusted_server_add
from campaigns.services.campaigns import campaign_create
from campaigns.services.segments import segment_create
from outreach.errors import InvalidInput, NotAllowed
from outreach.models import ChannelKind, Role
from outreach.selectors import presets
from outreach.services.channels import channel_create
from tests.support.network import approved_version, make_network_world

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
OTHER_SEED = base64.b64encode(bytes(range(32))).decode()  # the importing server's own key


@pytest.fixture
def world():
    world = make_network_world()
    world.version = approved_version(world)
    term = lexicon.term_propose(
        network=world.network,
        organization=world.author.organization,
        by=world.author.manager,
        country="KE",
        language="sw",
        term="madoadoa",
        note="Used in 2007 to mark neighbours as outsiders to be driven out.",
        alternatives=["majirani", "wakenya wenzetu"],
    )
    for member in (world.second, world.third):
        lexicon.term_review(
            term=term,
            organization=member.organization,
            by=member.admin,
            decision="approve",
            reason="It inflames; the alternatives are right.",
        )
    world.term = term
    return world


@pytest.fixture
def bundle(world) -> dict[str, Any]:
    return bundle_export(
        network=world.network, organization=world.author.organization, by=world.author.admin
    )


@pytest.fixture
def elsewhere(world, bundle):
    """The bundle's network gone from here, and a network to import into, as on another server;
    this server trusts the key the bundle was signed with."""
    Network.objects.filter(pk=world.network.pk).delete()
    network = network_services.network_create(
        organization=world.second.organization, by=world.second.admin, name="Amani Uganda"
    )
    trusted_server_add(name="Nairobi", public_key=bundle["server"]["public_key"])
    return network


def import_into(network, world, document):
    return bundle_import(
        document, network=network, organization=world.second.organization, by=world.second.admin
    )


def resigned(document: dict[str, Any]) -> dict[str, Any]:
    """The document signed again with this server's key, as a trusted server that got it wrong
    (or turned) would hand it over."""
    return bundles.sign(document)


class TestExport:
    def test_a_bundle_carries_the_approved_version_its_reviews_and_the_lexicon(self, world, bundle):
        assert bundle["format"] == "amani.bundle"
        assert bundle["version"] == 1
        assert bundle["server"] == bundles.server_identity()
        assert bundle["network"] == {"slug": world.network.slug, "name": world.network.name}
        [template] = bundle["templates"]
        assert template["uid"] == str(world.version.template.uid)
        assert template["owner_name"] == "Peace Youth Kenya"
        [version] = template["versions"]
        assert version["content_hash"] == world.version.content_hash
        assert version["state"] == "approved"
        assert {t["language"] for t in version["translations"]} == {"en", "sw"}
        assert version["country_states"][0]["country"] == "KE"
        assert version["country_states"][0]["state"] == "approved"
        assert {r["organization_name"] for r in version["reviews"]} == {
            "Sauti ya Amani",
            "Vijana wa Amani",
        }
        [term] = bundle["lexicon"]
        assert term["term"] == "madoadoa"
        assert len(term["reviews"]) == 2

    def test_a_bundle_names_people_only_by_the_names_on_the_review_log(self, world, bundle):
        keys = set(_keys(bundle))

        assert not keys & {"id", "user", "reviewer", "organization", "email", "phone", "created_by"}
        assert not keys & {"proposed_by", "proposed_by_organization", "added_by"}
        assert "@" not in json.dumps(bundle)
        assert "+254" not in json.dumps(bundle)
        names = {r["reviewer_name"] for r in bundle["templates"][0]["versions"][0]["reviews"]}
        assert names == {
            world.second.admin.get_full_name() or world.second.admin.username,
            world.third.admin.get_full_name() or world.third.admin.username,
        }

    def test_drafts_and_versions_in_review_stay_home(self, world):
        world.version.template.versions.update(state="in_review")
        bundle = bundle_export(
            network=world.network, organization=world.author.organization, by=world.author.admin
        )
        assert bundle["templates"] == []

    def test_a_manager_may_not_export(self, world):
        with pytest.raises(NotAllowed):
            bundle_export(
                network=world.network,
                organization=world.author.organization,
                by=world.author.manager,
            )

    def test_an_organization_that_left_may_not_export(self, world):
        network_services.network_leave(
            network=world.network, organization=world.third.organization, by=world.third.admin
        )
        with pytest.raises(NotAllowed):
            bundle_export(
                network=world.network, organization=world.third.organization, by=world.third.admin
            )

    def test_the_signature_covers_everything_but_itself(self, bundle):
        bundles.verify(bundle, bundle["server"]["public_key"])


class TestImport:
    def test_the_bundle_comes_in_with_its_provenance(self, world, bundle, elsewhere):
        summary = import_into(elsewhere, world, bundle)

        assert summary["created"] == {"templates": 1, "versions": 1, "terms": 1, "presets": 0}
        template = LibraryTemplate.objects.get(network=elsewhere)
        assert str(template.uid) == bundle["templates"][0]["uid"]
        assert template.owner is None
        assert template.owner_name == "Peace Youth Kenya"
        assert template.origin["server"] == "Nairobi"
        assert template.origin["key_id"] == bundle["server"]["key_id"]
        assert template.origin["exported_at"] == bundle["exported_at"]
        assert template.origin["bundle_hash"] == bundles.bundle_hash(bundle)
        version = template.versions.get()
        assert version.content_hash == bundle["templates"][0]["versions"][0]["content_hash"]
        assert version.country_states.get().state == "approved"
        reviews = list(version.reviews.values("organization", "organization_name", "reviewer"))
        assert {r["organization_name"] for r in reviews} == {"Sauti ya Amani", "Vijana wa Amani"}
        assert all(r["organization"] is None and r["reviewer"] is None for r in reviews)
        assert elsewhere.lexicon.get().term == "madoadoa"

    def test_importing_the_same_bundle_twice_changes_nothing(self, world, bundle, elsewhere):
        import_into(elsewhere, world, bundle)
        before = _snapshot(elsewhere)

        summary = import_into(elsewhere, world, bundle)

        assert summary["created"] == {"templates": 0, "versions": 0, "terms": 0, "presets": 0}
        assert summary["unchanged"]["versions"] == 1
        assert summary["unchanged"]["terms"] == 1
        assert _snapshot(elsewhere) == before

    def test_a_changed_text_is_refused_naming_its_hash(self, world, bundle, elsewhere):
        tampered = copy.deepcopy(bundle)
        tampered["templates"][0]["versions"][0]["translations"][0]["body"] = "Vote for Party X."

        with pytest.raises(InvalidInput) as refused:
            import_into(elsewhere, world, resigned(tampered))

        assert refused.value.field == "templates.0.versions.0.content_hash"
        assert not LibraryTemplate.objects.filter(network=elsewhere).exists()

    def test_a_changed_term_is_refused_naming_its_hash(self, world, bundle, elsewhere):
        tampered = copy.deepcopy(bundle)
        tampered["lexicon"][0]["alternatives"] = []

        with pytest.raises(InvalidInput) as refused:
            import_into(elsewhere, world, resigned(tampered))

        assert refused.value.field == "lexicon.0.content_hash"
        assert not elsewhere.lexicon.exists()
        assert not LibraryTemplate.objects.filter(network=elsewhere).exists()

    def test_a_changed_hash_is_refused_naming_the_signature(self, world, bundle, elsewhere):
        tampered = copy.deepcopy(bundle)
        version = tampered["templates"][0]["versions"][0]
        version["translations"][0]["body"] = "Vote for Party X."
        version["content_hash"] = bundles.content_hash(
            bundles_version_content(tampered["templates"][0]["uid"], version)
        )

        with pytest.raises(InvalidInput) as refused:
            import_into(elsewhere, world, tampered)

        assert refused.value.field == "signature"
        assert not LibraryTemplate.objects.filter(network=elsewhere).exists()

    def test_an_unknown_signer_is_refused(self, world, bundle, elsewhere):
        TrustedServer.objects.all().delete()

        with pytest.raises(InvalidInput) as refused:
            import_into(elsewhere, world, bundle)

        assert refused.value.field == "server.key_id"
        assert "not a server this one trusts" in refused.value.message

    def test_a_bundle_signed_by_another_key_than_its_server_claims_is_refused(
        self, world, bundle, elsewhere
    ):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        forged = bundles.sign(copy.deepcopy(bundle), Ed25519PrivateKey.generate())

        with pytest.raises(InvalidInput) as refused:
            import_into(elsewhere, world, forged)

        assert refused.value.field == "signature.key_id"

    def test_a_uid_held_here_with_other_content_is_refused_naming_it(
        self, world, bundle, elsewhere
    ):
        import_into(elsewhere, world, bundle)
        changed = copy.deepcopy(bundle)
        version = changed["templates"][0]["versions"][0]
        version["changelog"] = "Quietly rewritten."
        version["content_hash"] = bundles.content_hash(
            bundles_version_content(changed["templates"][0]["uid"], version)
        )

        with pytest.raises(InvalidInput) as refused:
            import_into(elsewhere, world, resigned(changed))

        assert refused.value.field == "templates.0.versions.0.uid"
        held = TemplateVersion.objects.get(uid=version["uid"])
        assert held.changelog != "Quietly rewritten."

    def test_an_imported_version_is_adopted_like_any_other(self, world, bundle, elsewhere):
        import_into(elsewhere, world, bundle)
        version = TemplateVersion.objects.get(template__network=elsewhere)
        wave = _wave_of(world.second)

        adoption = library.version_adopt(version=version, wave=wave, by=world.second.manager)

        assert adoption.version == version
        assert {v.language: v.body for v in wave.variants.all()} == {
            t["language"]: t["body"] for t in bundle["templates"][0]["versions"][0]["translations"]
        }

    def test_presets_travel_and_one_held_here_differently_is_kept(self, world, elsewhere):
        bundle = bundle_export(
            network=elsewhere, organization=world.second.organization, by=world.second.admin
        )
        countries = [item["data"]["country"] for item in bundle["presets"]]
        assert "KE" in countries
        index = countries.index("KE")
        changed = copy.deepcopy(bundle)
        changed["presets"][index]["data"]["name"] = "Kenya, as another server has it"
        changed["presets"][index]["content_hash"] = bundles.content_hash(
            changed["presets"][index]["data"]
        )

        same = import_into(elsewhere, world, bundle)
        differing = import_into(elsewhere, world, resigned(changed))

        assert same["unchanged"]["presets"] == len(countries)
        assert differing["presets_kept"] == ["KE"]
        assert (
            presets.preset_as_data(presets.preset_for("KE"))["name"]
            != changed["presets"][index]["data"]["name"]
        )

    def test_a_preset_this_server_lacks_comes_in_with_its_origin(self, world, elsewhere):
        bundle = bundle_export(
            network=elsewhere, organization=world.second.organization, by=world.second.admin
        )
        presets.preset_for("MX").delete()  # as a server that never held Mexico's

        summary = import_into(elsewhere, world, bundle)

        mexico = presets.preset_for("MX")
        assert summary["created"]["presets"] == 1
        assert summary["unchanged"]["presets"] == len(bundle["presets"]) - 1
        assert bundles.content_hash(presets.preset_as_data(mexico)) == mexico.content_hash
        assert {"server", "key_id", "exported_at", "bundle_hash"} <= set(mexico.origin)

    @pytest.mark.parametrize(
        ("raw", "field"),
        [
            (b'{"format": "amani.bundle", "version": 1, "templ', "bundle"),
            (b"\xff\xfe garbage", "bundle"),
            (b"[1, 2, 3]", "bundle"),
            (b'{"format": "other"}', "format"),
            (b'{"format": "amani.bundle", "version": 2}', "version"),
        ],
    )
    def test_a_file_that_is_no_bundle_is_refused_naming_the_field(
        self, world, elsewhere, raw, field
    ):
        with pytest.raises(InvalidInput) as refused:
            import_into(elsewhere, world, raw)

        assert refused.value.field == field

    def test_a_manager_may_not_import(self, world, bundle, elsewhere):
        with pytest.raises(NotAllowed):
            bundle_import(
                bundle,
                network=elsewhere,
                organization=world.second.organization,
                by=world.second.manager,
            )


class TestWithdrawalTravels:
    def test_a_version_withdrawn_at_its_origin_is_withdrawn_where_it_was_imported(self, world):
        first = bundle_export(
            network=world.network, organization=world.author.organization, by=world.author.admin
        )
        library.version_withdraw(
            version=world.version,
            organization=world.author.organization,
            by=world.author.manager,
            reason="Read as mocking one community's candidate.",
        )
        later = bundle_export(
            network=world.network, organization=world.author.organization, by=world.author.admin
        )
        assert later["templates"][0]["versions"][0]["state"] == "withdrawn"
        Network.objects.filter(pk=world.network.pk).delete()
        network = network_services.network_create(
            organization=world.second.organization, by=world.second.admin, name="Amani Uganda"
        )
        trusted_server_add(name="Nairobi", public_key=first["server"]["public_key"])
        import_into(network, world, first)
        imported = TemplateVersion.objects.get(template__network=network)
        wave = _wave_of(world.second)
        library.version_adopt(version=imported, wave=wave, by=world.second.manager)
        wave_services.wave_submit(wave=wave, by=world.second.manager)

        summary = import_into(network, world, later)

        imported.refresh_from_db()
        wave.refresh_from_db()
        assert summary["withdrawn"] == 1
        assert imported.state == "withdrawn"
        assert "mocking" in imported.withdrawn_reason
        who = f"{world.author.manager.get_username()} ({world.author.organization.name})"
        assert imported.ended_by_name == who  # who withdrew it there
        assert imported.ended_by is None  # no person of this server
        assert wave.status == "draft"
        assert wave.library_adoption.flagged_at is not None
        assert NetworkNotice.objects.filter(
            organization=world.second.organization, kind="withdrawn", wave=wave
        ).exists()
        assert import_into(network, world, later)["withdrawn"] == 0  # once is enough


class TestTheApi:
    def test_an_admin_exports_and_another_server_imports_over_http(
        self, world, member_client
    ) -> None:
        exporter = member_client(world.author.organization, Role.ADMIN)
        response = exporter.get(f"/api/v1/networks/{world.network.pk}/bundle/")
        assert response.status_code == 200, response.content
        bundle = response.json()
        assert bundle["templates"][0]["uid"] == str(world.version.template.uid)

        Network.objects.filter(pk=world.network.pk).delete()
        network = network_services.network_create(
            organization=world.second.organization, by=world.second.admin, name="Amani Uganda"
        )
        trusted_server_add(name="Nairobi", public_key=bundle["server"]["public_key"])
        importer = member_client(world.second.organization, Role.ADMIN)
        url = f"/api/v1/networks/{network.pk}/bundle/"

        first = importer.post(url, bundle, format="json")
        again = importer.post(url, bundle, format="json")

        assert first.status_code == 200, first.content
        assert first.json()["created"]["versions"] == 1
        assert again.json()["created"] == {"templates": 0, "versions": 0, "terms": 0, "presets": 0}
        listed = importer.get(url).json()
        assert listed["templates"][0]["owner_name"] == "Peace Youth Kenya"

    def test_truncated_json_is_a_400_naming_the_bundle(self, world, member_client) -> None:
        admin = member_client(world.author.organization, Role.ADMIN)

        response = admin.post(
            f"/api/v1/networks/{world.network.pk}/bundle/",
            data='{"format": "amani.bundle", "vers',
            content_type="application/json",
        )

        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["bundle"]

    def test_a_tampered_bundle_is_a_400_naming_the_signature(self, world, member_client) -> None:
        admin = member_client(world.author.organization, Role.ADMIN)
        url = f"/api/v1/networks/{world.network.pk}/bundle/"
        bundle = admin.get(url).json()
        trusted_server_add(name="Ourselves", public_key=bundle["server"]["public_key"])
        bundle["network"]["name"] = "Someone else's network"

        response = admin.post(url, bundle, format="json")

        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["signature"]

    def test_a_manager_gets_403_and_a_stranger_404(self, world, member_client) -> None:
        url = f"/api/v1/networks/{world.network.pk}/bundle/"
        manager = member_client(world.author.organization, Role.MANAGER)
        stranger_network = network_services.network_create(
            organization=world.author.organization, by=world.author.admin, name="Elsewhere"
        )
        outsider = member_client(world.second.organization, Role.ADMIN)

        assert manager.get(url).status_code == 403
        assert outsider.get(f"/api/v1/networks/{stranger_network.pk}/bundle/").status_code == 404


class TestBetweenTwoDatabases:
    def test_a_bundle_goes_to_another_server_once_and_intact(self, world, bundle, tmp_path):
        path = tmp_path / "bundle.json"
        path.write_text(json.dumps(bundle), encoding="utf-8")
        with OtherServer() as other:
            other.manage("migrate", "--no-input", "-v0")
            other.manage("create_org", "--name", "Peace Uganda", "--admin", "pu-admin")
            other.manage(
                "shell",
                "-c",
                "from campaigns.services.network import network_create; "
                "from outreach.models import Organization, User; "
                "network_create(organization=Organization.objects.get(slug='peace-uganda'), "
                "by=User.objects.get(username='pu-admin'), name='Amani Uganda')",
            )
            refused = other.manage(
                "bundle_import", str(path), "--network", "amani-uganda",
                "--organization", "peace-uganda", check=False,
            )  # fmt: skip
            assert refused.returncode != 0
            assert "server.key_id" in refused.stderr
            assert other.rows()["templates"] == []

            other.manage(
                "bundle_trust", "--name", "Nairobi", "--public-key", bundle["server"]["public_key"]
            )
            args = ("bundle_import", str(path), "--network", "amani-uganda")
            first = other.manage(*args, "--organization", "peace-uganda")
            before = other.rows()
            second = other.manage(*args, "--organization", "peace-uganda")

            assert json.loads(first.stdout)["created"]["versions"] == 1
            assert json.loads(second.stdout)["created"]["versions"] == 0
            assert other.rows() == before
            [template] = before["templates"]
            assert template[0] == str(world.version.template.uid)
            assert template[1:3] == (None, "Peace Youth Kenya")
            assert template[3]["server"] == "Nairobi"
            assert template[3]["key_id"] == bundle["server"]["key_id"]
            assert before["versions"] == [
                (str(world.version.uid), 1, world.version.content_hash, "approved")
            ]
            assert before["states"] == [("KE", "approved")]
            assert sorted(before["reviews"]) == [
                (None, "Sauti ya Amani", None, "approve"),
                (None, "Vijana wa Amani", None, "approve"),
            ]
            assert before["terms"] == [("madoadoa", "approved")]
            key = other.manage("bundle_key").stdout
            assert bundle["server"]["public_key"] not in key  # a server of its own


def bundles_version_content(template_uid: str, version: dict[str, Any]) -> dict[str, Any]:
    from campaigns.content_hash import version_content

    return version_content(
        template_uid=template_uid,
        number=version["number"],
        changelog=version["changelog"],
        translations={t["language"]: t["body"] for t in version["translations"]},
    )


def _wave_of(member):
    campaign = campaign_create(
        organization=member.organization,
        created_by=member.manager,
        preset="KE",
        name="Uganda-Kenya border 2027",
        election_date=dt.date.today() + dt.timedelta(days=60),
    )
    return wave_services.wave_create(
        campaign=campaign,
        created_by=member.manager,
        name="E-7 peace",
        send_at_relative="E-7d 10:00",
        segment=segment_create(organization=member.organization, created_by=None, name="All"),
        channels=[
            channel_create(
                organization=member.organization,
                name="Console",
                kind=ChannelKind.CONSOLE,
                country="KE",
            )
        ],
        variants=[{"language": "en", "body": "Our own words."}],
    )


def _keys(value: Any):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def _snapshot(network) -> dict[str, list]:
    templates = LibraryTemplate.objects.filter(network=network)
    versions = TemplateVersion.objects.filter(template__network=network)
    return {
        "templates": list(templates.values()),
        "versions": list(versions.values()),
        "reviews": list(versions.values("reviews__id", "reviews__reason")),
        "terms": list(network.lexicon.values()),
    }


class OtherServer:
    """A second Amani server: a database of its own beside the test's, and a key of its own."""

    def __enter__(self) -> "OtherServer":
        database = connection.settings_dict
        self.name = f"{database['NAME']}_other"
        self.dsn = (
            f"postgresql://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}"
        )
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}"', f'CREATE DATABASE "{self.name}"')
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"{self.dsn}/{self.name}",
            "AMANI_SERVER_NAME": "Kampala",
            "AMANI_BUNDLE_SIGNING_KEY": OTHER_SEED,
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        }
        return self

    def __exit__(self, *exc: object) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check:
            assert done.returncode == 0, f"manage.py {args[0]}: {done.stderr}"
        return done

    def rows(self) -> dict[str, list[tuple]]:
        """What the other server holds of the library, as its tables say."""
        return {
            "templates": self._query(
                "SELECT uid::text, owner_id, owner_name, origin FROM campaigns_librarytemplate"
            ),
            "versions": self._query(
                "SELECT uid::text, number, content_hash, state FROM campaigns_templateversion"
            ),
            "states": self._query("SELECT country, state FROM campaigns_countryapproval"),
            "reviews": self._query(
                "SELECT organization_id, organization_name, reviewer_id, decision "
                "FROM campaigns_libraryreview WHERE version_id IS NOT NULL"
            ),
            "terms": self._query("SELECT term, state FROM campaigns_lexiconterm"),
        }

    def _query(self, sql: str) -> list[tuple]:
        with psycopg.connect(f"{self.dsn}/{self.name}") as db:
            return db.execute(sql).fetchall()

    def _admin(self, *statements: str) -> None:
        with psycopg.connect(f"{self.dsn}/postgres", autocommit=True) as db:
            for statement in statements:
                db.execute(statement)
