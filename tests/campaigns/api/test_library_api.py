"""The network's library through the API, as three organizations' staff would use it.

One writes a template; the focal points of the two others review it (one approval leaves
it in review, the second approves it); a manager of the second adopts it into a wave, edits
it (a fork), and sees it withdrawn: a notice, and the wave back in draft, flagged.
"""

import datetime as dt
from typing import Any

import jsonschema
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from campaigns.services import waves as wave_services
from campaigns.services.campaigns import campaign_create
from campaigns.services.segments import segment_create
from outreach.models import ChannelKind, Role, User
from outreach.services.channels import channel_create
from outreach.services.organizations import member_add
from tests.support.network import DO_NO_HARM, TEXTS, make_member, make_network_world

pytestmark = pytest.mark.django_db

REASON = "Conflict-sensitive, no group named, facts checked."


def client_of(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def world():
    return make_network_world()


def write_template(world, **changes) -> dict:
    body = {
        "network": world.network.pk,
        "name": "Vote in peace",
        "purpose": "peaceful_voting",
        "age_band": "18_24",
        "tags": ["Election day"],
        "licence": "CC-BY-SA-4.0",
        "translations": TEXTS,
        **changes,
    }
    response = client_of(world.author.manager).post("/api/v1/library/templates/", body)
    assert response.status_code == 201, response.json()
    return response.json()


def proposed(world) -> int:
    version = write_template(world)["versions"][0]["id"]
    response = client_of(world.author.manager).post(
        f"/api/v1/library/versions/{version}/propose/", {"countries": ["KE"]}
    )
    assert response.status_code == 200, response.json()
    return version


def review(member, version: int, **changes):
    body = {"country": "KE", "decision": "approve", "checklist": DO_NO_HARM, "reason": REASON}
    return client_of(member.admin).post(
        f"/api/v1/library/versions/{version}/reviews/", {**body, **changes}
    )


def approved(world) -> int:
    version = proposed(world)
    assert review(world.second, version).status_code == 201
    assert review(world.third, version).status_code == 201
    return version


def wave_of(member) -> int:
    """A draft wave of one of the member's Kenyan campaigns (English and Kiswahili)."""
    campaign = campaign_create(
        organization=member.organization,
        created_by=member.manager,
        preset="KE",
        name="Amani 2027",
        election_date=dt.date.today() + dt.timedelta(days=60),
    )
    wave = wave_services.wave_create(
        campaign=campaign,
        created_by=member.manager,
        name="E-7 peace",
        send_at_relative="E-7d 10:00",
        segment=segment_create(organization=member.organization, created_by=None, name="Everyone"),
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
    return wave.pk


class TestWriting:
    def test_a_manager_writes_a_template_and_gets_it_with_its_first_draft_version(self, world):
        body = write_template(world)

        assert (body["name"], body["purpose"], body["licence"]) == (
            "Vote in peace",
            "peaceful_voting",
            "CC-BY-SA-4.0",
        )
        assert body["tags"] == ["election day"]
        assert body["owner_name"] == "Peace Youth Kenya"
        assert body["yours"] is True
        (version,) = body["versions"]
        assert (version["number"], version["state"]) == (1, "draft")
        assert version["languages"] == ["en", "sw"]
        assert len(version["content_hash"]) == 64

    def test_a_version_shows_each_translation_rendered_per_channel(self, world):
        version = write_template(world)["versions"][0]["id"]

        body = client_of(world.author.manager).get(f"/api/v1/library/versions/{version}/").json()

        english = next(t for t in body["translations"] if t["language"] == "en")
        assert english["body"] == TEXTS[0]["body"]
        sms = next(r for r in english["renderings"] if r["channel"] == "sms")
        assert (sms["encoding"], sms["segments"], sms["fits"]) == ("GSM-7", 1, True)
        assert {r["channel"] for r in english["renderings"]} == {
            "sms",
            "whatsapp",
            "telegram",
            "messenger",
        }
        assert body["template"]["name"] == "Vote in peace"
        assert body["changelog"] == "First version."
        assert (body["reviews"], body["adoptions"], body["forked_from"]) == ([], 0, None)
        assert body["outcomes"]["waves"] == 0

    def test_the_next_version_needs_a_changelog_and_is_numbered_two(self, world):
        template = write_template(world)["id"]
        client = client_of(world.author.manager)

        without = client.post(
            f"/api/v1/library/templates/{template}/versions/", {"translations": TEXTS[:1]}
        )
        second = client.post(
            f"/api/v1/library/templates/{template}/versions/",
            {"translations": TEXTS[:1], "changelog": "English only."},
        )

        assert without.status_code == 400
        assert list(without.json()["error"]["fields"]) == ["changelog"]
        assert second.status_code == 201, second.json()
        assert (second.json()["number"], second.json()["languages"]) == (2, ["en"])

    def test_another_members_draft_is_not_in_its_library_until_proposed(self, world):
        version = write_template(world)["versions"][0]["id"]
        other = client_of(world.second.manager)

        before = other.get("/api/v1/library/versions/").json()["results"]
        hidden = other.get(f"/api/v1/library/versions/{version}/")
        client_of(world.author.manager).post(
            f"/api/v1/library/versions/{version}/propose/", {"countries": ["KE"]}
        )
        after = other.get("/api/v1/library/versions/").json()["results"]

        assert before == []
        assert hidden.status_code == 404
        assert [v["id"] for v in after] == [version]
        assert other.get("/api/v1/library/templates/").json()["results"][0]["yours"] is False


class TestTheTwoOrganizationRule:
    def test_the_owner_cannot_approve_its_own_version(self, world):
        version = proposed(world)

        response = review(world.author, version)

        assert response.status_code == 403
        body = client_of(world.author.manager).get(f"/api/v1/library/versions/{version}/")
        assert body.json()["reviews"] == []

    def test_one_approval_leaves_it_in_review_and_the_second_approves_it(self, world):
        version = proposed(world)

        first = review(world.second, version)
        waiting = client_of(world.third.admin).get("/api/v1/library/reviews/waiting/").json()
        second = review(world.third, version)

        assert first.status_code == 201, first.json()
        assert first.json()["state"] == "in_review"
        assert [(w["version"]["id"], w["country"]) for w in waiting] == [(version, "KE")]
        assert second.status_code == 201, second.json()
        body = second.json()
        assert body["state"] == "approved"
        assert [(c["country"], c["state"]) for c in body["country_states"]] == [("KE", "approved")]
        assert [
            (r["organization"], r["reviewer_name"], r["decision"]) for r in body["reviews"]
        ] == [
            ("Sauti ya Amani", "sya-admin", "approve"),
            ("Vijana wa Amani", "vwa-admin", "approve"),
        ]
        assert body["reviews"][0]["checklist"] == DO_NO_HARM
        assert body["reviews"][0]["reason"] == REASON
        assert client_of(world.third.admin).get("/api/v1/library/reviews/waiting/").json() == []

    def test_an_approval_without_the_whole_checklist_is_refused_by_item(self, world):
        version = proposed(world)

        response = review(world.second, version, checklist={**DO_NO_HARM, "facts_checked": False})

        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["checklist.facts_checked"]

    def test_a_request_for_changes_tells_the_author(self, world):
        version = proposed(world)

        response = review(
            world.second, version, decision="request_changes", checklist={}, reason="Cite it."
        )
        notices = client_of(world.author.manager).get("/api/v1/library/notices/").json()

        assert response.status_code == 201, response.json()
        assert response.json()["country_states"][0]["state"] == "changes_requested"
        assert "changes_requested" in [n["kind"] for n in notices["results"]]

    def test_only_the_focal_point_reviews_for_its_organization(self, world):
        version = proposed(world)
        reviewer = member_add(
            organization=world.second.organization, username="sya-reviewer", role=Role.REVIEWER
        ).membership.user
        body = {"country": "KE", "decision": "approve", "checklist": DO_NO_HARM, "reason": "ok"}

        response = client_of(reviewer).post(f"/api/v1/library/versions/{version}/reviews/", body)

        assert response.status_code == 403


class TestAdoptForkWithdraw:
    def test_adopted_then_edited_then_withdrawn_as_the_adopter_sees_it(self, world):
        version = approved(world)
        wave = wave_of(world.second)
        adopter = client_of(world.second.manager)

        adopted = adopter.post(f"/api/v1/library/versions/{version}/adopt/", {"wave": wave})

        assert adopted.status_code == 201, adopted.json()
        body = adopted.json()
        assert {v["language"]: v["body"] for v in body["variants"]} == {
            t["language"]: t["body"] for t in TEXTS
        }
        assert body["library"] == {
            "version": version,
            "template_name": "Vote in peace",
            "number": 1,
            "forked": False,
            "changes": [],
            "flagged": False,
            "flag_reason": "",
        }

        edited = adopter.patch(
            f"/api/v1/waves/{wave}/",
            {
                "variants": [
                    TEXTS[0],
                    {"language": "sw", "body": "Kura yako ni sauti yako. Piga kura kwa utulivu."},
                ]
            },
        )

        assert edited.status_code == 200, edited.json()
        library = edited.json()["library"]
        assert library["forked"] is True
        assert [c["language"] for c in library["changes"]] == ["sw"]
        assert "+Kura yako ni sauti yako. Piga kura kwa utulivu." in library["changes"][0]["diff"]

        assert adopter.post(f"/api/v1/waves/{wave}/submit/").status_code == 200
        approved_wave = client_of(world.second.admin).post(f"/api/v1/waves/{wave}/approve/")
        assert approved_wave.json()["status"] == "approved"

        withdrawn = client_of(world.author.manager).post(
            f"/api/v1/library/versions/{version}/withdraw/", {"reason": "A fact was wrong."}
        )

        assert withdrawn.status_code == 200, withdrawn.json()
        assert withdrawn.json()["state"] == "withdrawn"
        assert withdrawn.json()["withdrawn_reason"] == "A fact was wrong."
        author = world.author
        assert withdrawn.json()["ended_by_name"] == (
            f"{author.manager.get_username()} ({author.organization.name})"
        )
        notices = adopter.get("/api/v1/library/notices/?unread=true").json()["results"]
        notice = next(n for n in notices if n["kind"] == "withdrawn")
        assert notice["wave"] == wave
        assert "A fact was wrong." in notice["text"]
        now = adopter.get(f"/api/v1/waves/{wave}/").json()
        assert now["status"] == "draft"
        assert (now["library"]["flagged"], now["library"]["flag_reason"]) == (
            True,
            "A fact was wrong.",
        )
        read = adopter.post(f"/api/v1/library/notices/{notice['id']}/read/")
        assert read.status_code == 200
        assert read.json()["read_at"] is not None
        unread = adopter.get("/api/v1/library/notices/?unread=true").json()["results"]
        assert notice["id"] not in [n["id"] for n in unread]
        adopted_view = adopter.get(f"/api/v1/library/versions/{version}/").json()
        assert adopted_view["adoptions"] == 1

    def test_a_version_not_approved_for_the_campaigns_country_cannot_be_adopted(self, world):
        version = proposed(world)
        wave = wave_of(world.second)

        response = client_of(world.second.manager).post(
            f"/api/v1/library/versions/{version}/adopt/", {"wave": wave}
        )

        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["version"]

    def test_another_organizations_wave_is_no_wave_to_adopt_into(self, world):
        version = approved(world)
        wave = wave_of(world.third)

        response = client_of(world.second.manager).post(
            f"/api/v1/library/versions/{version}/adopt/", {"wave": wave}
        )

        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["wave"]

    def test_a_fork_into_the_library_is_a_draft_that_remembers_its_origin(self, world):
        version = approved(world)

        response = client_of(world.second.manager).post(
            f"/api/v1/library/versions/{version}/fork/",
            {
                "name": "Vote in peace, Nakuru",
                "translations": [{"language": "sw", "body": "Nakuru, piga kura kwa amani."}],
            },
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["state"], body["number"]) == ("draft", 1)
        assert body["template"]["owner_name"] == "Sauti ya Amani"
        assert body["forked_from"] == {
            "version": version,
            "template_name": "Vote in peace",
            "number": 1,
        }
        assert {c["language"] for c in body["fork_changes"]} == {"en", "sw"}

    def test_a_deprecated_version_says_so(self, world):
        version = approved(world)

        response = client_of(world.author.manager).post(
            f"/api/v1/library/versions/{version}/deprecate/", {"reason": "v2 is shorter."}
        )

        assert response.status_code == 200, response.json()
        assert response.json()["state"] == "deprecated"
        again = client_of(world.author.manager).post(
            f"/api/v1/library/versions/{version}/deprecate/", {}
        )
        assert again.status_code == 400
        assert list(again.json()["error"]["fields"]) == ["state"]


class TestTheList:
    def test_the_library_filters_by_country_language_purpose_state_and_words(self, world):
        version = approved(world)
        client = client_of(world.third.manager)

        def ids(query: str) -> list[int]:
            response = client.get(f"/api/v1/library/versions/?{query}")
            assert response.status_code == 200, response.json()
            return [v["id"] for v in response.json()["results"]]

        assert ids(f"network={world.network.pk}") == [version]
        assert ids("country=KE&state=approved") == [version]
        assert ids("country=UG") == []
        assert ids("language=sw") == [version]
        assert ids("language=fr") == []
        assert ids("purpose=peaceful_voting") == [version]
        assert ids("purpose=tolerance") == []
        assert ids("q=amani") == [version]
        assert ids("q=fumigation") == []

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("state=lost", "state"),
            ("purpose=war", "purpose"),
            ("network=abc", "network"),
            ("network=0", "network"),
            ("network=99999999", "network"),
            ("country=KEN", "country"),
        ],
    )
    def test_a_bad_filter_is_a_400_naming_it(self, world, query, field):
        response = client_of(world.author.manager).get(f"/api/v1/library/versions/?{query}")

        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == [field]


BAD_POSTS = [
    ("templates/", {"network": None}, "network"),
    ("templates/", {"network": "one"}, "network"),
    ("templates/", {"purpose": "war"}, "purpose"),
    ("templates/", {"age_band": "old"}, "age_band"),
    ("templates/", {"licence": "mine"}, "licence"),
    ("templates/", {"tags": "election"}, "tags"),
    ("templates/", {"translations": []}, "translations"),
    ("templates/", {"translations": "hello"}, "translations"),
    (
        "templates/",
        {"translations": [{"language": "xx1", "body": "Hi"}]},
        "translations.0.language",
    ),
    ("templates/", {"translations": [{"language": "en"}]}, "translations.0.body"),
    ("templates/", {"translations": [{"language": "en", "body": "{nope}"}]}, "translations.0.body"),
    ("templates/", {"colour": "red"}, "colour"),
    ("templates/", {"name": "Vote in peace"}, "name"),
    ("templates/", {"network": 99999999}, "network"),
    ("templates/{template}/versions/", {"translations": TEXTS}, "changelog"),
    ("templates/{template}/versions/", {"changelog": "x"}, "translations"),
    ("versions/{version}/propose/", {}, "countries"),
    ("versions/{version}/propose/", {"countries": "KE"}, "countries"),
    ("versions/{version}/propose/", {"countries": ["XX"]}, "countries.0"),
    ("versions/{version}/propose/", {"countries": ["KEN"]}, "countries.0"),
    ("versions/{version}/withdraw/", {}, "reason"),
    ("versions/{version}/withdraw/", {"reason": ["why"]}, "reason"),
    ("versions/{version}/deprecate/", {"reason": 5, "extra": 1}, "extra"),
    ("versions/{version}/fork/", {}, "name"),
    ("versions/{version}/fork/", {"name": "F", "translations": {"en": "x"}}, "translations"),
    ("versions/{version}/adopt/", {}, "wave"),
    ("versions/{version}/adopt/", {"wave": "first"}, "wave"),
    ("versions/{version}/adopt/", {"wave": 10**30}, "wave"),
]


@pytest.mark.parametrize(("path", "body", "field"), BAD_POSTS)
def test_bad_input_is_a_400_naming_the_field(world, path, body, field):
    first = write_template(world)
    if path == "templates/":
        body = {
            "network": world.network.pk,
            "name": "Another",
            "purpose": "tolerance",
            "translations": TEXTS,
            **body,
        }
    url = "/api/v1/library/" + path.format(template=first["id"], version=first["versions"][0]["id"])

    response = client_of(world.author.manager).post(url, body, format="json")

    assert response.status_code == 400, response.json()
    assert named(field, response.json()), response.json()


def test_a_template_with_nothing_names_every_field_it_needs(world):
    response = client_of(world.author.manager).post("/api/v1/library/templates/", {})

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"network", "name", "purpose", "translations"}


def named(field: str, body: dict) -> bool:
    """Whether the error names the field (a list's own error is "translations.non_field_errors")."""
    return any(key == field or key.startswith(f"{field}.") for key in body["error"]["fields"])


BAD_REVIEWS = [
    ({"decision": "maybe"}, "decision"),
    ({"decision": None}, "decision"),
    ({"country": "UG"}, "country"),
    ({"country": "KENYA"}, "country"),
    ({"reason": ""}, "reason"),
    ({"checklist": ["facts_checked"]}, "checklist"),
    ({"checklist": {**DO_NO_HARM, "pretty": True}}, "checklist.pretty"),
    ({"checklist": {**DO_NO_HARM, "facts_checked": "sort of"}}, "checklist.facts_checked"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_REVIEWS)
def test_a_bad_review_is_a_400_naming_the_field_and_logs_nothing(world, changes, field):
    version = proposed(world)

    response = review(world.second, version, **changes)

    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"], response.json()
    body = client_of(world.second.manager).get(f"/api/v1/library/versions/{version}/").json()
    assert (body["reviews"], body["state"]) == ([], "in_review")


class TestRoles:
    def test_a_reviewer_reads_the_library_but_cannot_share(self, world):
        reviewer = client_of(
            member_add(
                organization=world.author.organization, username="pyk-reviewer", role=Role.REVIEWER
            ).membership.user
        )

        listed = reviewer.get("/api/v1/library/templates/")
        shared = reviewer.post(
            "/api/v1/library/templates/",
            {
                "network": world.network.pk,
                "name": "Mine",
                "purpose": "tolerance",
                "translations": TEXTS,
            },
        )

        assert listed.status_code == 200
        assert shared.status_code == 403

    def test_a_funder_reaches_nothing_of_the_library(self, world):
        version = approved(world)
        funder = member_add(
            organization=world.second.organization, username="sya-funder", role=Role.FUNDER
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {funder.api_token}")

        for path in (
            "/api/v1/library/templates/",
            "/api/v1/library/versions/",
            f"/api/v1/library/versions/{version}/",
            "/api/v1/library/reviews/waiting/",
            "/api/v1/library/notices/",
            "/api/v1/library/lexicon/",
        ):
            assert client.get(path).status_code == 403, path
        adopt = client.post(f"/api/v1/library/versions/{version}/adopt/", {"wave": 1})
        assert adopt.status_code == 403

    def test_only_the_owner_withdraws_and_a_manager_of_another_member_is_refused(self, world):
        version = approved(world)

        response = client_of(world.second.manager).post(
            f"/api/v1/library/versions/{version}/withdraw/", {"reason": "I dislike it."}
        )

        assert response.status_code == 403
        body = client_of(world.author.manager).get(f"/api/v1/library/versions/{version}/")
        assert body.json()["state"] == "approved"


class TestIsolation:
    def test_another_networks_library_is_a_404_everywhere(self, world):
        version = approved(world)
        outsider = make_member("Amani Uganda", "aug", country="UG")
        template = client_of(world.author.manager).get("/api/v1/library/templates/").json()
        template_id = template["results"][0]["id"]
        client = client_of(outsider.manager)
        admin = client_of(outsider.admin)

        assert client.get("/api/v1/library/versions/").json()["results"] == []
        assert client.get("/api/v1/library/templates/").json()["results"] == []
        assert client.get(f"/api/v1/library/versions/{version}/").status_code == 404
        assert client.get(f"/api/v1/library/templates/{template_id}/").status_code == 404
        assert (
            client.post(f"/api/v1/library/versions/{version}/fork/", {"name": "Stolen"}).status_code
            == 404
        )
        assert (
            client.post(
                f"/api/v1/library/versions/{version}/adopt/", {"wave": wave_of(outsider)}
            ).status_code
            == 404
        )
        assert review(outsider, version).status_code == 404
        assert admin.get("/api/v1/library/reviews/waiting/").json() == []
        notice = client_of(world.second.manager).get("/api/v1/library/notices/").json()
        foreign = notice["results"][0]["id"]
        assert client.post(f"/api/v1/library/notices/{foreign}/read/").status_code == 404


class TestLexicon:
    def propose(self, world, **changes):
        body = {
            "network": world.network.pk,
            "country": "KE",
            "language": "sw",
            "term": "madoadoa",
            "note": "Stains: used of communities to be driven out.",
            "alternatives": ["majirani", "wakenya wenzetu"],
            **changes,
        }
        return client_of(world.author.manager).post("/api/v1/library/lexicon/", body)

    def decide(self, member, term: int, decision="approve"):
        return client_of(member.admin).post(
            f"/api/v1/library/lexicon/{term}/reviews/", {"decision": decision, "reason": "Seen."}
        )

    def test_a_term_warns_once_two_other_members_approved_it(self, world):
        proposed_term = self.propose(world)
        term = proposed_term.json()["id"]
        check = {"text": "Hakuna MADOADOA hapa.", "country": "KE", "language": "sw"}
        checker = client_of(world.second.manager)

        before = checker.post("/api/v1/library/lexicon/check/", check).json()
        own = self.decide(world.author, term)
        first = self.decide(world.second, term)
        second = self.decide(world.third, term)
        after = checker.post("/api/v1/library/lexicon/check/", check).json()

        assert proposed_term.status_code == 201, proposed_term.json()
        assert proposed_term.json()["state"] == "in_review"
        assert before == {"hits": []}
        assert own.status_code == 403
        assert first.json()["state"] == "in_review"
        assert second.status_code == 201, second.json()
        assert second.json()["state"] == "approved"
        assert [r["organization"] for r in second.json()["reviews"]] == [
            "Sauti ya Amani",
            "Vijana wa Amani",
        ]
        assert after == {
            "hits": [
                {
                    "term": "madoadoa",
                    "note": "Stains: used of communities to be driven out.",
                    "alternatives": ["majirani", "wakenya wenzetu"],
                    "network": "East Africa Peace Network",
                }
            ]
        }
        english = {**check, "language": "en"}
        assert checker.post("/api/v1/library/lexicon/check/", english).json() == {"hits": []}

        wave = wave_of(world.second)
        composed = checker.patch(
            f"/api/v1/waves/{wave}/",
            {"variants": [{"language": "sw", "body": "Hakuna madoadoa Nakuru."}, TEXTS[0]]},
        )
        variants = {v["language"]: v for v in composed.json()["variants"]}
        assert [h["term"] for h in variants["sw"]["lexicon_warnings"]] == ["madoadoa"]
        assert variants["en"]["lexicon_warnings"] == []
        assert composed.json()["library"] is None

    def test_the_proposer_withdraws_its_term_and_others_may_not(self, world):
        term = self.propose(world).json()["id"]

        by_other = client_of(world.second.manager).post(f"/api/v1/library/lexicon/{term}/withdraw/")
        by_owner = client_of(world.author.manager).post(f"/api/v1/library/lexicon/{term}/withdraw/")

        assert by_other.status_code == 403
        assert by_owner.status_code == 200
        assert by_owner.json()["state"] == "withdrawn"
        listed = client_of(world.third.manager).get("/api/v1/library/lexicon/?state=withdrawn")
        assert [t["id"] for t in listed.json()["results"]] == [term]

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"country": "XX"}, "country"),
            ({"language": "zz9"}, "language"),
            ({"term": ""}, "term"),
            ({"note": ""}, "note"),
            ({"alternatives": "majirani"}, "alternatives"),
            ({"network": "east"}, "network"),
            ({"network": 99999999}, "network"),
            ({"colour": "red"}, "colour"),
        ],
    )
    def test_a_bad_term_is_a_400_naming_the_field(self, world, changes, field):
        response = self.propose(world, **changes)

        assert response.status_code == 400, response.json()
        assert field in response.json()["error"]["fields"]

    @pytest.mark.parametrize(
        ("path", "body", "field"),
        [
            ("{term}/reviews/", {"decision": "maybe", "reason": "x"}, "decision"),
            ("{term}/reviews/", {"decision": "approve"}, "reason"),
            ("check/", {"text": "x", "country": "KE"}, "language"),
            ("check/", {"text": ["x"], "country": "KE", "language": "sw"}, "text"),
        ],
    )
    def test_a_bad_review_or_check_is_a_400_naming_the_field(self, world, path, body, field):
        term = self.propose(world).json()["id"]

        response = client_of(world.second.admin).post(
            "/api/v1/library/lexicon/" + path.format(term=term), body, format="json"
        )

        assert response.status_code == 400, response.json()
        assert field in response.json()["error"]["fields"]

    def test_another_networks_term_is_a_404_and_a_reviewer_cannot_propose(self, world):
        term = self.propose(world).json()["id"]
        outsider = make_member("Amani Uganda", "aug", country="UG")
        reviewer = member_add(
            organization=world.second.organization, username="sya-reviewer", role=Role.REVIEWER
        ).membership.user

        assert (
            client_of(outsider.manager).get(f"/api/v1/library/lexicon/{term}/").status_code == 404
        )
        assert client_of(outsider.manager).get("/api/v1/library/lexicon/").json()["results"] == []
        assert client_of(reviewer).get(f"/api/v1/library/lexicon/{term}/").status_code == 200
        assert self_propose(reviewer, world).status_code == 403


def self_propose(user: User, world):
    return client_of(user).post(
        "/api/v1/library/lexicon/",
        {
            "network": world.network.pk,
            "country": "KE",
            "language": "en",
            "term": "stains",
            "note": "Of people.",
        },
    )


class TestTheSchema:
    """What the API answers, with a whole flow's data in it, is what /api/schema/ declares."""

    def test_every_library_answer_matches_its_declared_schema(self, world, client):
        document = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
        version = approved(world)
        wave = wave_of(world.second)
        adopter = client_of(world.second.manager)
        adopter.post(f"/api/v1/library/versions/{version}/adopt/", {"wave": wave})
        adopter.patch(
            f"/api/v1/waves/{wave}/", {"variants": [{"language": "en", "body": "Edited."}]}
        )
        client_of(world.author.manager).post(
            f"/api/v1/library/versions/{version}/withdraw/", {"reason": "Wrong."}
        )
        template = adopter.get("/api/v1/library/templates/").json()["results"][0]["id"]

        for path, template_path in [
            ("/api/v1/networks/", "/api/v1/networks/"),
            (f"/api/v1/networks/{world.network.pk}/", "/api/v1/networks/{id}/"),
            ("/api/v1/library/templates/", "/api/v1/library/templates/"),
            (f"/api/v1/library/templates/{template}/", "/api/v1/library/templates/{id}/"),
            ("/api/v1/library/versions/", "/api/v1/library/versions/"),
            (f"/api/v1/library/versions/{version}/", "/api/v1/library/versions/{id}/"),
            ("/api/v1/library/notices/", "/api/v1/library/notices/"),
            ("/api/v1/library/reviews/waiting/", "/api/v1/library/reviews/waiting/"),
            (f"/api/v1/waves/{wave}/", "/api/v1/waves/{id}/"),
        ]:
            response = adopter.get(path)
            assert response.status_code == 200, path
            declared = document["paths"][template_path]["get"]["responses"]["200"]
            schema = declared["content"]["application/json"]["schema"]
            validator = jsonschema.Draft7Validator(
                {**as_json_schema(schema), "components": as_json_schema(document["components"])}
            )
            errors = [
                f"{list(e.absolute_path)}: {e.message}"
                for e in validator.iter_errors(response.json())
            ]
            assert not errors, (path, errors[:5])


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema says it (null is one of the types)."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if not node.get("nullable"):
        return converted
    if "enum" in converted:
        converted["enum"] = [*converted["enum"], None]
    if "type" in converted:
        converted["type"] = [converted["type"], "null"]
        return converted
    return {"anyOf": [converted, {"type": "null"}]}
