"""How many people were subscribed, day by day: the audience's size over time.

Counted in people (contacts), not addresses: a person is subscribed on a day when at least
one of their addresses is opted in at the day's end, as the consent ledger says. The
ledger is read once, in order; each address's opt-in or opt-out moves its person's count
of subscribed addresses, and a person counts from their first subscribed address to the
end of their last. Erased people's events name nobody any more and are left out.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connection

from outreach.models import ConsentKind, Organization

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class AudienceDay:
    day: dt.date  # in the organization's time zone
    people: int  # subscribed at the day's end


def audience_history(
    organization: Organization, *, days: int = DEFAULT_DAYS, today: dt.date | None = None
) -> list[AudienceDay]:
    """People subscribed at the end of each of the `days` days up to `today` (local), oldest
    first, zeros included."""
    zone = ZoneInfo(organization.timezone)
    today = today or dt.datetime.now(zone).date()
    first = today - dt.timedelta(days=days - 1)
    changes = _people_changes_by_day(organization.pk, zone.key, today)
    people = sum(n for day, n in changes.items() if day < first)
    history = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        people += changes.get(day, 0)
        history.append(AudienceDay(day=day, people=people))
    return history


def _people_changes_by_day(organization_id: int, zone: str, last: dt.date) -> dict[dt.date, int]:
    """Per local day up to `last`: people who became subscribed minus people who left."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH events AS (
                SELECT s.contact_id, e.occurred_at, e.id, e.kind,
                       lag(e.kind) OVER (
                           PARTITION BY e.subscriber_id ORDER BY e.occurred_at, e.id
                       ) AS before
                FROM outreach_consentevent e
                JOIN outreach_subscriber s ON s.id = e.subscriber_id
                WHERE e.organization_id = %(organization)s
                  AND (e.occurred_at AT TIME ZONE %(zone)s)::date <= %(last)s
            ),
            addresses AS (
                SELECT contact_id, occurred_at, id,
                       CASE WHEN kind = %(opt_in)s AND before IS DISTINCT FROM %(opt_in)s THEN 1
                            WHEN kind = %(opt_out)s AND before = %(opt_in)s THEN -1
                            ELSE 0 END AS step
                FROM events
            ),
            people AS (
                SELECT occurred_at, step,
                       sum(step) OVER (
                           PARTITION BY contact_id ORDER BY occurred_at, id
                       ) AS subscribed
                FROM addresses
                WHERE step <> 0
            )
            SELECT (occurred_at AT TIME ZONE %(zone)s)::date AS day, sum(
                       CASE WHEN step = 1 AND subscribed = 1 THEN 1
                            WHEN step = -1 AND subscribed = 0 THEN -1
                            ELSE 0 END
                   ) AS change
            FROM people
            GROUP BY 1
            """,
            {
                "organization": organization_id,
                "zone": zone,
                "last": last,
                "opt_in": ConsentKind.OPT_IN.value,
                "opt_out": ConsentKind.OPT_OUT.value,
            },
        )
        return {day: int(change) for day, change in cursor.fetchall()}
