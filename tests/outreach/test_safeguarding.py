"""Safeguarding figures: under-age sign-ups refused, erasures and carrier opt-outs, as counts."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from outreach.errors import InvalidInput
from outreach.models import ConsentKind, ConsentSource
from outreach.selectors.safeguarding import safeguarding_figures
from outreach.services.consent import consent_record
from outreach.services.outbound import message_send, reply_queue
from outreach.services.subscribers import subscriber_erase, subscriber_for_address
from tests.support.webhooks import twilio_form

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # ISO week 2026-W10
NEXT_WEDNESDAY = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # ISO week 2026-W11


@pytest.fixture
def world(twilio_post, twilio_channel, twilio_api):
    """Real paths only: texts to the webhook, an erasure, a send Twilio refuses with 21610."""

    class World:
        def text(self, body: str, sender: str) -> None:
            response = twilio_post(twilio_channel, twilio_form(body, sender=sender))
            assert response.status_code == 200

        def under_age_sign_up(self, sender: str) -> None:
            self.text("JOIN", sender)
            self.text("15", sender)

        def erasure(self, address: str) -> None:
            person = subscriber_for_address(channel=twilio_channel, address=address)
            subscriber_erase(subscriber=person)

        def carrier_opt_out(self, address: str) -> None:
            person = subscriber_for_address(channel=twilio_channel, address=address)
            consent_record(subscriber=person, kind=ConsentKind.OPT_IN, source=ConsentSource.STAFF)
            person.refresh_from_db()
            twilio_api.fail_number(address, code=21610)
            message = reply_queue(subscriber=person, body="Amani", reply_key="help", language="en")
            message_send(message_id=message.pk)

    return World()


def test_each_figure_is_counted_from_what_really_happened(world, organization):
    world.under_age_sign_up("+254711000001")
    world.under_age_sign_up("+254711000002")
    world.erasure("+254711000003")
    world.carrier_opt_out("+254711000004")
    world.text("JOIN", "+254711000005")
    world.text("STOP", "+254711000005")

    figures = safeguarding_figures(organization_id=organization.pk)

    assert figures.totals.underage_refused == 2
    assert figures.totals.erased == 1
    assert figures.totals.carrier_opt_outs == 1
    assert figures.totals.opt_outs == 2
    by_source = {row.source: row.count for row in figures.opt_outs_by_source}
    assert by_source == {"keyword": 1, "import": 0, "carrier": 1, "staff": 0}


def test_the_weekly_series_has_one_row_per_iso_week_zeros_included(world, organization):
    with time_machine.travel(MONDAY, tick=True):
        world.under_age_sign_up("+254711000001")
    with time_machine.travel(NEXT_WEDNESDAY, tick=True):
        world.erasure("+254711000002")
        world.carrier_opt_out("+254711000003")

    figures = safeguarding_figures(
        organization_id=organization.pk, date_from=date(2026, 2, 23), date_to=date(2026, 3, 15)
    )

    assert [(row.key, row.start, row.end) for row in figures.series] == [
        ("2026-W09", date(2026, 2, 23), date(2026, 3, 1)),
        ("2026-W10", date(2026, 3, 2), date(2026, 3, 8)),
        ("2026-W11", date(2026, 3, 9), date(2026, 3, 15)),
    ]
    assert [(row.underage_refused, row.erased, row.carrier_opt_outs) for row in figures.series] == [
        (0, 0, 0),
        (1, 0, 0),
        (0, 1, 1),
    ]


def test_the_daily_series_and_the_totals_keep_to_the_period(world, organization):
    with time_machine.travel(MONDAY, tick=True):
        world.under_age_sign_up("+254711000001")
    with time_machine.travel(NEXT_WEDNESDAY, tick=True):
        world.under_age_sign_up("+254711000002")

    figures = safeguarding_figures(
        organization_id=organization.pk,
        date_from=date(2026, 3, 10),
        date_to=date(2026, 3, 12),
        by="day",
    )

    assert figures.totals.underage_refused == 1
    assert [(row.key, row.underage_refused) for row in figures.series] == [
        ("2026-03-10", 0),
        ("2026-03-11", 1),
        ("2026-03-12", 0),
    ]


def test_another_organizations_figures_are_not_counted(world, other_organization):
    world.under_age_sign_up("+254711000001")

    figures = safeguarding_figures(organization_id=other_organization.pk)

    assert figures.totals.underage_refused == 0
    assert figures.series == []


def test_a_daily_series_too_long_to_draw_is_refused_naming_the_period(organization):
    with pytest.raises(InvalidInput) as refused:
        safeguarding_figures(
            organization_id=organization.pk,
            date_from=date(2020, 1, 1),
            date_to=date(2026, 1, 1),
            by="day",
        )

    assert refused.value.field == "from"
