import pytest

from outreach.services.organizations import organization_create


@pytest.fixture
def mexican_organization():
    """An organization in Mexico, writing Spanish: the MX preset's campaigns and regions."""
    return organization_create(
        name="Jóvenes por la Paz",
        admin_username="jpp-admin",
        country="MX",
        timezone="America/Mexico_City",
        default_language="es",
        languages=["es"],
    ).membership.organization
