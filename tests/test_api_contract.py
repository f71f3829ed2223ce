"""The API keeps the promises of its own schema, as a client written from `/api/schema/` sees it.

Schemathesis draws requests for every operation in the live schema and sends them to the
WSGI application (no server process) as an admin, a manager, a funder or no one, against a
world seeded through the services. Each answer must be no 5xx and must match what the
schema declares for its status, error bodies included. Every request is rolled back, so
each one meets the same world; the draws are fixed (derandomized, one seed) and bounded.
"""

import copy
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from campaigns.services import waves as wave_services
from campaigns.services.campaigns import campaign_create, campaign_share
from campaigns.services.segments import segment_create
from config.wsgi import application
from outreach.models import ChannelKind, Region, Role, Subscriber
from outreach.services.channels import channel_create, regions_load_preset
from outreach.services.organizations import member_add, organization_create
from outreach.services.subscriber_import import subscribers_import
from tests.support.module_rows import rows_for_module

EXAMPLES_PER_OPERATION = 20
ROLES = ("admin", "manager", "funder", "anonymous")
CHECKS = [not_a_server_error, response_schema_conformance]


def _served_schema() -> dict:
    """The document /api/schema/ serves, made by the same generator and renderer (no request:
    every request runs in a transaction, and collection has no database)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


SERVED_SCHEMA = _served_schema()
schema = schemathesis.openapi.from_dict(
    SERVED_SCHEMA,
    config=SchemathesisConfig.from_dict(
        {
            "seed": 20270810,
            "generation": {"deterministic": True},
            # Fuzzing only: the coverage phase takes minutes, and `given` (the role) excludes
            # the phase of the schema's own examples.
            "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}},
        }
    ),
)
schema.app = application  # requests go straight to the WSGI application


@dataclass
class World:
    """What the seeded organization holds: each member's token and the ids behind each path."""

    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[int]] = field(default_factory=dict)

    def ids_for(self, path: str) -> list[int]:
        resource = path.removeprefix("/api/v1/").split("/{id}")[0]
        return self.ids.get(resource, [])


@pytest.fixture(scope="module")
def seeded_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The world, seeded once for the module (tests/support/module_rows.py)."""
    yield from rows_for_module(django_db_blocker, _seed_world)


@pytest.fixture
def world(db: None, seeded_world: World) -> World:
    return copy.deepcopy(seeded_world)


def _seed_world() -> World:
    admin = organization_create(
        name="Contract Youth", admin_username="contract-admin", languages=["en", "sw"]
    )
    organization = admin.membership.organization
    manager = member_add(organization=organization, username="contract-manager", role=Role.MANAGER)
    funder = member_add(organization=organization, username="contract-funder", role=Role.FUNDER)
    channel = channel_create(
        organization=organization, name="Console", kind=ChannelKind.CONSOLE, country="KE"
    )
    regions_load_preset(organization=organization, preset="KE-counties")
    imported = subscribers_import(
        organization=organization,
        channel=channel,
        file=(
            "phone,language,region,age,gender,consent_date,consent_method,consent_text_version\n"
            "0712300001,sw,Kisumu,19,female,2026-06-20,paper_form,2027-06-v1\n"
            "0712300002,,,,,2026-06-20,paper_form,2027-06-v1\n"
        ),
        dry_run=False,
        recorded_by=None,
    )
    assert imported.imported, imported.errors
    campaign = campaign_create(
        organization=organization,
        created_by=manager.membership.user,
        preset="KE",
        name="Amani 2027",
        election_date=dt.date.today() + dt.timedelta(days=60),
    )
    campaign_share(campaign=campaign, funder_ids=[funder.membership.user_id])
    segment = segment_create(
        organization=organization, created_by=manager.membership.user, name="Everyone"
    )
    draft = wave_services.wave_create(
        campaign=campaign,
        created_by=manager.membership.user,
        name="E-7",
        send_at_relative="E-7d 10:00",
        segment=segment,
        channels=[channel],
        variants=[{"language": "en", "body": "Peace in {region}."}],
    )
    approved = wave_services.wave_create(
        campaign=campaign,
        created_by=manager.membership.user,
        name="E-1",
        send_at_relative="E-1d 10:00",
        segment=segment,
        channels=[channel],
        variants=[
            {"language": "en", "body": "Peace in {region}."},
            {"language": "sw", "body": "Amani {region}."},
        ],
    )
    wave_services.wave_submit(wave=approved, by=manager.membership.user)
    wave_services.wave_approve(wave=approved, by=admin.membership.user)
    return World(
        tokens={"admin": admin.api_token, "manager": manager.api_token, "funder": funder.api_token},
        ids={
            "campaigns": [campaign.pk],
            "reports/campaigns": [campaign.pk],
            "channels": [channel.pk],
            "members": [admin.membership.pk, manager.membership.pk, funder.membership.pk],
            "regions": list(
                Region.objects.filter(organization=organization).values_list("pk", flat=True)[:2]
            ),
            "segments": [segment.pk],
            "subscribers": list(
                Subscriber.objects.filter(organization=organization).values_list("pk", flat=True)
            ),
            "waves": [draft.pk, approved.pk],
        },
    )


@pytest.fixture
def requests_keep_the_test_transaction() -> Iterator[None]:
    """As Django's test client does: a request's end must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@schema.parametrize()
@schema.given(role=st.sampled_from(ROLES), known_object=st.integers(min_value=0, max_value=3))
def test_every_answer_is_one_the_schema_declares(
    case: schemathesis.Case,
    role: str,
    known_object: int,
    world: World,
    requests_keep_the_test_transaction: None,
) -> None:
    known = world.ids_for(case.path)
    if known and "id" in (case.path_parameters or {}) and known_object < len(known):
        case.path_parameters["id"] = known[known_object]
    token = world.tokens.get(role)
    headers = {"Authorization": f"Token {token}"} if token else {}
    with _rolled_back():
        case.call_and_validate(headers=headers, checks=CHECKS)


@contextmanager
def _rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_schema_under_test_is_the_one_served(client) -> None:
    served = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    assert served == SERVED_SCHEMA
