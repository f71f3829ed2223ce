"""Who gets a wave, on which channel: one address per person, the first their consent and
the channel's rules allow. The one implementation fan-out writes from and the estimate
counts from.

A wave lists its channels in order of preference. A person (contact) may have several
addresses in the audience (SMS and WhatsApp on the same number, a Telegram chat they
linked); they get the wave once, on the first channel in that order where the address
- is opted in (the audience is opted-in addresses only), and
- may be written to now: a channel with a 24-hour window (WhatsApp, Messenger) only if the
  person wrote on it within the window, or, on WhatsApp, when the variant in their language
  has an approved template of that channel (the template then goes instead of the text).

A fallback (`after`) picks, for a person whose message failed for good, the next address
in the same order after the one that failed, by the same rules.
"""

from dataclasses import dataclass

from django.db.models import QuerySet

from campaigns.models import Wave
from campaigns.selectors.waves import earlier_wave_ids, footer_due_sql
from outreach.models import Channel, Subscriber

_FIRST_ID, _LAST_ID = 0, 2**63 - 1  # every person


@dataclass(frozen=True)
class VariantRow:
    """A variant as it goes out: its text without and with the footer, and its template."""

    language: str
    body: str
    segments: int
    body_with_footer: str
    segments_with_footer: int
    template_id: int | None = None
    template_channel_id: int | None = None
    template_body: str = ""


@dataclass(frozen=True)
class Failed:
    """A person's message that failed for good: the fallback starts after its address."""

    contact_id: int
    channel_id: int
    subscriber_id: int
    fallback_step: int


def wave_channels(wave: Wave) -> list[Channel]:
    """The wave's channels in its order of preference (by id where it has none)."""
    channels = {channel.pk: channel for channel in wave.channels.all()}
    ordered = [channels[pk] for pk in wave.channel_order if pk in channels]
    return ordered + sorted(
        (c for pk, c in channels.items() if pk not in wave.channel_order), key=lambda c: c.pk
    )


def recipients_sql(
    wave: Wave,
    members: QuerySet[Subscriber],
    variants: list[VariantRow],
    *,
    after: list[Failed] | None = None,
    contacts_between: tuple[int, int] | None = None,
) -> tuple[str, list[object]]:
    """SQL (and its parameters) of the wave's recipients among `members`: one row per
    person, with the address, the variant, whether the footer is due, the template it goes
    as (NULL: the text) and its fallback step. With `after`, only those people, each from
    the address after the one that failed. `contacts_between` (a fan-out chunk's id range
    of people) limits the count of earlier messages (the footer rule) to those people."""
    channels = wave_channels(wave)
    if not channels or not variants:
        return "SELECT NULL WHERE false", []
    campaign = wave.campaign
    channel_rows = ", ".join(["(%s::bigint, %s::int, %s::int, %s::bool)"] * len(channels))
    channel_params: list[object] = []
    for rank, channel in enumerate(channels):
        spec = channel.spec
        channel_params += [channel.pk, rank, spec.window_hours, spec.counts_segments]
    variant_rows = ", ".join(
        ["(%s, %s, %s::int, %s, %s::int, %s::bigint, %s::bigint, %s)"] * len(variants)
    )
    variant_params = [
        p
        for v in variants
        for p in (
            v.language,
            v.body,
            v.segments,
            v.body_with_footer,
            v.segments_with_footer,
            v.template_id,
            v.template_channel_id,
            v.template_body,
        )
    ]
    members_sql, members_params = members.values("pk").query.sql_with_params()
    footer_due = footer_due_sql(every=campaign.opt_out_footer_every, earlier="coalesce(c.n, 0)")
    if after:
        failed_rows = ", ".join(["(%s::bigint, %s::bigint, %s::bigint, %s::int)"] * len(after))
        failed_params = [
            p for f in after for p in (f.contact_id, f.channel_id, f.subscriber_id, f.fallback_step)
        ]
        failed_join = f"""
            JOIN (VALUES {failed_rows}) AS f(contact_id, channel_id, subscriber_id, step)
              ON f.contact_id = s.contact_id
            JOIN ch AS fch ON fch.id = f.channel_id
        """
        after_filter = "AND (ch.rank, s.id) > (fch.rank, f.subscriber_id)"
        step = "f.step + 1"
    else:
        failed_join, failed_params, after_filter, step = "", [], "", "0"
    # Only placeholders, ints and Django's own compiled SQL are interpolated.
    sql = f"""
        WITH ch(id, rank, window_hours, counts_segments) AS (VALUES {channel_rows}),
        v(language, body, segments, body_with_footer, segments_with_footer, template_id,
          template_channel_id, template_body) AS (VALUES {variant_rows})
        SELECT DISTINCT ON (s.contact_id)
               s.id AS subscriber_id, s.contact_id, s.channel_id, s.organization_id,
               s.address, s.region_id, v.language, v.body, v.segments,
               v.body_with_footer, v.segments_with_footer, ch.counts_segments,
               ({footer_due}) AS footer_due,
               CASE WHEN ch.window_hours IS NULL
                      OR s.last_inbound_at > now() - make_interval(hours => ch.window_hours)
                    THEN NULL ELSE v.template_id END AS template_id,
               v.template_body,
               {step} AS fallback_step
        FROM outreach_subscriber s
        JOIN ch ON ch.id = s.channel_id
        JOIN v ON v.language = CASE WHEN s.language = ANY(%s) THEN s.language ELSE %s END
        {failed_join}
        LEFT JOIN (
            SELECT contact_id, count(DISTINCT wave_id) AS n FROM outreach_outboundmessage
            WHERE wave_id = ANY(%s) AND contact_id BETWEEN %s AND %s GROUP BY contact_id
        ) c ON c.contact_id = s.contact_id
        WHERE s.id IN ({members_sql})
          AND (ch.window_hours IS NULL
               OR s.last_inbound_at > now() - make_interval(hours => ch.window_hours)
               OR v.template_channel_id = s.channel_id)
          {after_filter}
        ORDER BY s.contact_id, ch.rank, s.id
    """  # noqa: S608
    params = [
        *channel_params,
        *variant_params,
        [v.language for v in variants],
        campaign.default_language,
        *failed_params,
        earlier_wave_ids(wave),
        *(contacts_between or (_FIRST_ID, _LAST_ID)),
        *members_params,
    ]
    return sql, params
