"""The Django admin is for superusers only, who see every organization; members have the console."""

import pytest
from django.urls import reverse

from outreach.models import Membership, Role, User
from outreach.services.organizations import member_add

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-42"


def _member(organization, role: str, username: str | None = None) -> User:
    user = member_add(
        organization=organization,
        username=username or f"{role}-{organization.slug}",
        role=role,
        password=PASSWORD,
    ).membership.user
    User.objects.filter(pk=user.pk).update(is_staff=True)  # is_staff alone opens nothing
    user.refresh_from_db()
    return user


def test_every_model_has_an_admin_with_columns_filters_and_search(admin_client):
    for url in [
        "admin:outreach_organization_changelist",
        "admin:outreach_membership_changelist",
        "admin:outreach_user_changelist",
        "admin:outreach_serviceheartbeat_changelist",
        "admin:campaigns_segment_changelist",
        "admin:campaigns_wave_changelist",
        "admin:campaigns_network_changelist",
        "admin:campaigns_networkmember_changelist",
        "admin:campaigns_templateversion_changelist",
        "admin:campaigns_lexiconterm_changelist",
    ]:
        assert admin_client.get(reverse(url), {"q": "x"}).status_code == 200


def test_a_superuser_sees_the_members_of_every_organization(
    organization, other_organization, admin_client
):
    page = admin_client.get(reverse("admin:outreach_membership_changelist"))

    assert page.status_code == 200
    assert b"pyk-admin" in page.content
    assert b"sya-admin" in page.content


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.REVIEWER, Role.FUNDER])
@pytest.mark.parametrize(
    "url",
    [
        "admin:index",
        "admin:outreach_membership_changelist",
        "admin:outreach_subscriber_changelist",
        "admin:campaigns_wave_changelist",
    ],
)
def test_a_member_even_with_is_staff_gets_the_admins_sign_in_page(organization, client, role, url):
    client.force_login(_member(organization, role))

    page = client.get(reverse(url))

    assert page.status_code == 302
    assert page["Location"].startswith(reverse("admin:login"))


def test_a_member_signed_in_elsewhere_is_told_the_admin_is_not_theirs(organization, client):
    client.force_login(_member(organization, Role.ADMIN))

    page = client.get(reverse("admin:login"))

    assert page.status_code == 200
    assert b"not authorized to access this page" in page.content


def test_a_members_password_does_not_open_the_admin_and_points_to_the_console(organization, client):
    user = _member(organization, Role.ADMIN, username="org-admin-with-staff")

    page = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})

    assert page.status_code == 200
    assert "/console/" in page.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_superuser_signs_in_to_the_admin(client, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.invalid", PASSWORD)

    signed_in = client.post(reverse("admin:login"), {"username": "root", "password": PASSWORD})

    assert signed_in.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_member_cannot_use_the_admins_subscriber_lookup(organization, client, two_people):
    client.force_login(_member(organization, Role.MANAGER))

    found = client.post(reverse("admin:outreach_subscriber_lookup"), {"number": "0712345678"})

    assert found.status_code == 302
    assert found["Location"].startswith(reverse("admin:login"))


def test_the_admin_cannot_demote_an_organizations_last_admin(organization, admin_client):
    admin = Membership.objects.get(organization=organization, role=Role.ADMIN)

    page = admin_client.post(
        reverse("admin:outreach_membership_change", args=[admin.pk]), {"role": Role.MANAGER}
    )

    assert b"must keep at least one admin" in page.content
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_an_admin_edit_after_a_stop_leaves_the_person_stopped(organization, admin_client):
    from outreach.models import ConsentKind, ConsentSource, ConsentStatus, OnboardingStep
    from outreach.services.channels import channel_create
    from outreach.services.consent import consent_record
    from outreach.services.subscribers import subscriber_for_address

    channel = channel_create(organization=organization, name="Console", kind="console")
    person = subscriber_for_address(channel=channel, address="+254712345678")
    consent_record(subscriber=person, kind=ConsentKind.OPT_IN, source=ConsentSource.KEYWORD)
    url = reverse("admin:outreach_subscriber_change", args=[person.pk])
    page = admin_client.get(url)  # the superuser opens the page …
    form = {field: "" for field in ("region", "age_band", "gender")} | {
        "language": "sw",
        "tags": "[]",
    }
    # … meanwhile the person texts STOP and their onboarding moves on.
    consent_record(subscriber=person, kind=ConsentKind.OPT_OUT, source=ConsentSource.KEYWORD)
    type(person).objects.filter(pk=person.pk).update(onboarding_step=OnboardingStep.DONE)

    saved = admin_client.post(url, form)

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


def test_the_subscriber_list_search_matches_no_number_in_its_url(admin_client, two_people):
    page = admin_client.get(reverse("admin:outreach_subscriber_changelist"), {"q": "+254712345678"})

    assert page.status_code == 200
    assert page.context["cl"].result_count == 2


def test_a_superuser_finds_a_subscriber_by_number_with_a_posted_form(admin_client, two_people):
    found = admin_client.post(reverse("admin:outreach_subscriber_lookup"), {"number": "0712345678"})

    assert found.status_code == 302
    assert found["Location"] == reverse("admin:outreach_subscriber_change", args=[two_people[0].pk])
    listing = admin_client.get(reverse("admin:outreach_subscriber_changelist")).content.decode()
    assert f'action="{reverse("admin:outreach_subscriber_lookup")}" method="post"' in listing


def test_the_admin_shows_a_library_version_with_its_review_log_but_never_edits_it(admin_client):
    from tests.support.network import approved_version, make_network_world

    version = approved_version(make_network_world())
    page = admin_client.get(reverse("admin:campaigns_templateversion_change", args=[version.pk]))
    assert page.status_code == 200
    assert "Sauti ya Amani" in page.content.decode()
    assert b'name="_save"' not in page.content
