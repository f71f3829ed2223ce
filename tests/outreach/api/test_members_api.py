"""A member's entry names their user, so a manager can share a campaign with a funder."""

import pytest

from outreach.models import Role

pytestmark = pytest.mark.django_db


def test_a_funders_member_entry_names_the_user_a_campaign_is_shared_with(
    organization, member_client
):
    from campaigns.services.campaigns import campaign_create

    manager = member_client(organization, Role.MANAGER)
    funder = member_client(organization, Role.FUNDER)
    campaign = campaign_create(organization=organization, created_by=None, name="Amani 2027")

    [entry] = manager.get("/api/v1/members/?role=funder").json()["results"]
    shared = manager.put(
        f"/api/v1/campaigns/{campaign.pk}/funders/", {"funders": [entry["user"]]}, format="json"
    )

    assert entry["user"] == funder.membership.user_id
    assert shared.status_code == 200
    assert funder.get("/api/v1/reports/campaigns/").json()["count"] == 1
