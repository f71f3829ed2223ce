# ruff: noqa: F811 - the console fixtures are imported by name
"""With a replica configured, funder reports read from it and everything else from default.

"replica" is a second, real connection to the test database (config/settings/test.py: a
TEST mirror of default); the tests here install the router as DATABASE_REPLICA_URL does in
production and watch which connection each request's queries run on. Transactional tests:
the replica connection sees only what default has committed, as a real replica would.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign
from campaigns.selectors.reports import ReportScope, campaign_report
from campaigns.services.campaigns import campaign_create
from outreach.models import Role
from tests.campaigns.conftest import ELECTION_DAY
from tests.console.conftest import console_as, make_member  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[1]
REPORTS = "/api/v1/reports/campaigns/"
ROUTER = "config.db_router.ReplicaRouter"
BOTH = ["default", "replica"]


@pytest.fixture
def routed(settings):
    settings.DATABASE_ROUTERS = [ROUTER]


@pytest.fixture
def shared_campaign(organization) -> Campaign:
    return campaign_create(
        organization=organization,
        created_by=None,
        preset="KE",
        name="Amani 2027",
        election_date=ELECTION_DAY,
    )


@pytest.fixture
def funder(organization, member_client, shared_campaign):
    client = member_client(organization, Role.FUNDER)
    shared_campaign.funders.add(client.membership.user)
    return client


def _sql(queries: CaptureQueriesContext) -> str:
    return "\n".join(query["sql"] for query in queries.captured_queries)


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_funders_report_request_reads_its_figures_from_the_replica(
    routed, funder, shared_campaign
):
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        CaptureQueriesContext(connections["default"]) as default,
    ):
        response = funder.get(f"{REPORTS}{shared_campaign.pk}/", {"by": "region"})

    assert response.status_code == 200
    assert response.json()["campaign"]["name"] == "Amani 2027"
    assert "campaigns_waverollup" in _sql(replica)
    assert "campaigns_waverollup" not in _sql(default)
    assert "authtoken_token" in _sql(default)  # who is asking: never a lagging copy


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_the_funder_list_and_the_console_funder_page_read_from_the_replica(
    routed, funder, shared_campaign
):
    console = Client()
    console.force_login(funder.membership.user)

    with CaptureQueriesContext(connections["replica"]) as replica:
        listed = funder.get(REPORTS)
        page = console.get(f"/console/reports/campaigns/{shared_campaign.pk}/")

    assert [row["name"] for row in listed.json()["results"]] == ["Amani 2027"]
    assert page.status_code == 200
    assert "Amani 2027" in page.content.decode()
    assert "campaigns_campaign" in _sql(replica)
    assert "campaigns_waverollup" in _sql(replica)


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_console_write_runs_no_query_on_the_replica(routed, organization, console_as):
    manager = console_as(organization, Role.MANAGER)
    form = {
        "name": "Amani 2028",
        "country": "KE",
        "election_date": "2028-08-10",
        "timezone": "Africa/Nairobi",
        "quiet_end": "08:00",
        "quiet_start": "18:00",
        "default_language": "en",
        "languages": ["en"],
    }

    with CaptureQueriesContext(connections["replica"]) as replica:
        created = manager.post("/console/campaigns/new/", form)
        shown = manager.get(created["Location"])

    assert created.status_code == 302
    assert "Amani 2028" in shown.content.decode()
    assert replica.captured_queries == []


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_report_read_after_a_write_in_the_same_transaction_reads_default(routed, shared_campaign):
    with transaction.atomic():
        Campaign.objects.filter(pk=shared_campaign.pk).update(name="Amani 2027, renamed")
        shared_campaign.name = "Amani 2027, renamed"
        with CaptureQueriesContext(connections["replica"]) as replica:
            report = campaign_report(ReportScope(campaign=shared_campaign))
        # The replica connection cannot see the uncommitted rename: a separate connection.
        on_replica = Campaign.objects.using("replica").get(pk=shared_campaign.pk).name

    assert replica.captured_queries == []
    assert report["campaign"]["name"] == "Amani 2027, renamed"
    assert on_replica == "Amani 2027"


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_without_the_router_reports_read_default(shared_campaign):
    with CaptureQueriesContext(connections["replica"]) as replica:
        campaign_report(ReportScope(campaign=shared_campaign))

    assert replica.captured_queries == []


@pytest.mark.parametrize(
    ("replica_url", "expected"),
    [
        ("", {"aliases": ["default"], "routers": []}),
        (
            "postgres://amani:secret@postgres-replica:5432/amani",
            {"aliases": ["default", "replica"], "routers": [ROUTER]},
        ),
    ],
)
def test_database_replica_url_adds_the_replica_and_its_router(replica_url, expected):
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'aliases': sorted(settings.DATABASES), "
        "'routers': settings.DATABASE_ROUTERS, "
        "'host': settings.DATABASES.get('replica', {}).get('HOST')}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_SECRET_KEY": "router-test-only",
        "DATABASE_URL": "postgres://amani@127.0.0.1:5432/amani",
        "DATABASE_REPLICA_URL": replica_url,
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(result.stdout)

    assert {key: answer[key] for key in expected} == expected
    assert answer["host"] == ("postgres-replica" if replica_url else None)
