"""Organizations add their own keywords; the router uses them at once."""

import pytest

from outreach.keywords import Intent, match_keyword
from outreach.models import Keyword as KeywordRow
from outreach.models import Role
from outreach.selectors.conversation import keyword_set_for

pytestmark = pytest.mark.django_db


def test_a_manager_adds_a_join_keyword_the_router_then_knows(organization, member_client):
    response = member_client(organization, Role.MANAGER).post(
        "/api/v1/keywords/", {"word": "UMOJA", "intent": "join", "language": "sw"}
    )

    assert response.status_code == 201, response.json()
    match = match_keyword("umoja!", keyword_set_for(organization))
    assert match.intent == Intent.JOIN
    assert match.keyword.language == "sw"


def test_a_built_in_stop_word_cannot_be_turned_into_a_join(organization, member_client):
    response = member_client(organization, Role.MANAGER).post(
        "/api/v1/keywords/", {"word": "stop", "intent": "join"}
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["word"]


def test_a_keyword_language_must_be_the_organizations(organization, member_client):
    response = member_client(organization, Role.MANAGER).post(
        "/api/v1/keywords/", {"word": "NAMAAN", "intent": "join", "language": "so"}
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["language"]


def test_a_funder_cannot_see_keywords(organization, member_client):
    assert member_client(organization, Role.FUNDER).get("/api/v1/keywords/").status_code == 403


def test_a_keyword_the_organization_has_already_is_refused_naming_word(organization, member_client):
    manager = member_client(organization, Role.MANAGER)
    assert manager.post("/api/v1/keywords/", {"word": "UMOJA", "intent": "join"}).status_code == 201

    response = manager.post("/api/v1/keywords/", {"word": "UMOJA", "intent": "join"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["word"]
    assert KeywordRow.objects.filter(organization=organization).count() == 1


def test_renaming_a_keyword_onto_another_is_refused_naming_word(organization, member_client):
    manager = member_client(organization, Role.MANAGER)
    manager.post("/api/v1/keywords/", {"word": "UMOJA", "intent": "join"})
    other = manager.post("/api/v1/keywords/", {"word": "AMANIYA", "intent": "join"}).json()

    response = manager.patch(f"/api/v1/keywords/{other['id']}/", {"word": "UMOJA"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["word"]
    assert KeywordRow.objects.get(pk=other["id"]).word == "AMANIYA"


def test_a_keyword_differing_only_in_case_and_accents_is_refused_naming_word(
    organization, member_client
):
    manager = member_client(organization, Role.MANAGER)
    manager.post("/api/v1/keywords/", {"word": "UMOJA", "intent": "join"})

    response = manager.post("/api/v1/keywords/", {"word": "Umojá", "intent": "join"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["word"]
