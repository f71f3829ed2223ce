"""The Django admin is the managers' console: each member sees only their organizations."""

import pytest
from django.urls import reverse

from outreach.models import Membership, Organization, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    def as_member(organization: Organization, role: str):
        membership = Membership.objects.filter(organization=organization, role=role).first()
        client.force_login(membership.user)
        return client

    return as_member


def test_every_model_has_an_admin_with_columns_filters_and_search(admin_client):
    for url in [
        "admin:outreach_organization_changelist",
        "admin:outreach_membership_changelist",
        "admin:outreach_user_changelist",
        "admin:outreach_serviceheartbeat_changelist",
    ]:
        assert admin_client.get(reverse(url), {"q": "x"}).status_code == 200


def test_a_manager_sees_only_the_members_of_their_organization(
    organization, other_organization, member_client, login
):
    member_client(organization, Role.MANAGER)

    page = login(organization, Role.MANAGER).get(reverse("admin:outreach_membership_changelist"))

    assert page.status_code == 200
    assert b"pyk-admin" in page.content
    assert b"sya-admin" not in page.content


def test_a_manager_cannot_open_another_organization(
    organization, other_organization, member_client, login
):
    member_client(organization, Role.MANAGER)
    client = login(organization, Role.MANAGER)

    page = client.get(reverse("admin:outreach_organization_change", args=[other_organization.pk]))

    assert page.status_code == 302  # Django's admin redirects away from what you may not see


def test_a_manager_may_view_but_not_change_roles(organization, member_client, login):
    reviewer = member_client(organization, Role.REVIEWER).membership
    member_client(organization, Role.MANAGER)
    client = login(organization, Role.MANAGER)
    url = reverse("admin:outreach_membership_change", args=[reviewer.pk])

    client.post(url, {"role": Role.ADMIN})

    assert client.get(url).status_code == 200
    reviewer.refresh_from_db()
    assert reviewer.role == Role.REVIEWER


def test_an_admin_cannot_demote_the_last_admin_in_the_console(organization, login):
    admin = Membership.objects.get(organization=organization, role=Role.ADMIN)
    client = login(organization, Role.ADMIN)

    page = client.post(
        reverse("admin:outreach_membership_change", args=[admin.pk]), {"role": Role.MANAGER}
    )

    assert b"must keep at least one admin" in page.content
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_a_funder_has_no_console(organization, member_client, client):
    funder = member_client(organization, Role.FUNDER).membership.user
    client.force_login(funder)

    page = client.get(reverse("admin:index"))

    assert page.status_code == 302
    assert "/admin/login/" in page["Location"]


def test_a_console_edit_after_a_stop_leaves_the_person_stopped(organization, member_client, login):
    from outreach.models import ConsentKind, ConsentSource, ConsentStatus, OnboardingStep
    from outreach.services.channels import channel_create
    from outreach.services.consent import consent_record
    from outreach.services.subscribers import subscriber_for_address

    channel = channel_create(organization=organization, name="Console", kind="console")
    person = subscriber_for_address(channel=channel, address="+254712345678")
    consent_record(subscriber=person, kind=ConsentKind.OPT_IN, source=ConsentSource.KEYWORD)
    member_client(organization, Role.MANAGER)
    client = login(organization, Role.MANAGER)
    url = reverse("admin:outreach_subscriber_change", args=[person.pk])
    page = client.get(url)  # the manager opens the page …
    form = {field: "" for field in ("region", "age_band", "gender")} | {
        "language": "sw",
        "tags": "[]",
    }
    # … meanwhile the person texts STOP and their onboarding moves on.
    consent_record(subscriber=person, kind=ConsentKind.OPT_OUT, source=ConsentSource.KEYWORD)
    type(person).objects.filter(pk=person.pk).update(onboarding_step=OnboardingStep.DONE)

    saved = client.post(url, form)

    person.refresh_from_db()
    assert page.status_code == 200
    assert saved.status_code == 302
    assert person.language == "sw"
    assert person.consent_status == ConsentStatus.OPTED_OUT
    assert person.onboarding_step == OnboardingStep.DONE
    assert b"+254712345678" not in page.content


@pytest.fixture
def two_people(organization):
    from outreach.services.channels import channel_create
    from outreach.services.subscribers import subscriber_for_address

    channel = channel_create(organization=organization, name="Console", kind="console")
    return [
        subscriber_for_address(channel=channel, address=number)
        for number in ("+254712345678", "+254722000111")
    ]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.MANAGER])
def test_the_subscriber_list_search_matches_no_number_in_its_url(
    organization, member_client, login, two_people, role
):
    member_client(organization, role)

    page = login(organization, role).get(
        reverse("admin:outreach_subscriber_changelist"), {"q": "+254712345678"}
    )

    assert page.status_code == 200
    assert page.context["cl"].result_count == 2


def test_a_manager_finds_a_subscriber_by_number_with_a_posted_form(
    organization, member_client, login, two_people
):
    member_client(organization, Role.MANAGER)
    client = login(organization, Role.MANAGER)

    found = client.post(reverse("admin:outreach_subscriber_lookup"), {"number": "0712345678"})

    assert found.status_code == 302
    assert found["Location"] == reverse("admin:outreach_subscriber_change", args=[two_people[0].pk])
    listing = client.get(reverse("admin:outreach_subscriber_changelist")).content.decode()
    assert f'action="{reverse("admin:outreach_subscriber_lookup")}" method="post"' in listing


def test_a_reviewer_cannot_find_a_subscriber_by_number_in_the_console(
    organization, member_client, login, two_people
):
    member_client(organization, Role.REVIEWER)

    found = login(organization, Role.REVIEWER).post(
        reverse("admin:outreach_subscriber_lookup"), {"number": "0712345678"}
    )

    assert found.status_code == 403
