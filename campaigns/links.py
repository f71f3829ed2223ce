"""Tracked links: {link:URL} in a variant goes out as a short link on our domain, /l/<code>.

A click is counted per link (wave, variant language, URL) and day, in the campaign's time
zone, and nothing else: no user, IP address, user agent or subscriber is ever stored. Link
previews (messaging apps and crawlers fetching the page to draw a card) are not clicks.
"""

import datetime as dt
import re
import secrets
import string
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection
from django.http import HttpRequest
from django.utils import timezone

from campaigns.models import LinkClickDay, TrackedLink, Wave
from outreach.wave_activity import waves_changed

LINK_PLACEHOLDER = re.compile(r"\{link:([^{}]+)\}")
CODE_ALPHABET = string.digits + string.ascii_letters  # base62
CODE_LENGTH = 7  # 62**7, about 3.5 trillion codes: unguessable enough to make walking them futile
VALID_CODE = re.compile(r"[0-9A-Za-z]{1,16}")

_ATTEMPTS = 5
# Case-insensitive substrings of the user agents of link-preview bots, crawlers and scripts.
# Not okhttp: it is the HTTP client of many Android apps, whose users really do click.
_PREVIEW_AGENTS = (
    "facebookexternalhit",
    "facebookcatalog",
    "whatsapp",
    "twitterbot",
    "slackbot",
    "slack-imgproxy",
    "telegrambot",
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "googlebot",
    "bingbot",
    "applebot",
    "yandex",
    "baiduspider",
    "duckduckbot",
    "pinterest",
    "embedly",
    "redditbot",
    "vkshare",
    "viber",
    "snapchat",
    "iframely",
    "outbrain",
    "bot",
    "crawler",
    "spider",
    "preview",
    "curl",
    "wget",
    "python-requests",
    "go-http-client",
)
# Phone makers whose model names would otherwise match "bot" (e.g. "Android 9; CUBOT P30").
_NOT_BOTS = re.compile(r"cubot", re.IGNORECASE)


def short_link_prefix() -> str:
    """Every short link starts with this, e.g. "https://amani.ke/l/"."""
    return settings.PUBLIC_BASE_URL + "/l/"


def short_link_length() -> int:
    """The exact length of every short link, which is what a {link:URL} costs in a message."""
    return len(short_link_prefix()) + CODE_LENGTH


def render_links(body: str, replace: Callable[[str], str]) -> str:
    """`body` with each {link:URL} replaced by `replace(URL)`."""
    return LINK_PLACEHOLDER.sub(lambda match: replace(match.group(1)), body)


def short_link_for(*, wave: Wave, language: str, url: str) -> str:
    """The short link for `url` in the wave's `language` variant, created on first use."""
    for _ in range(_ATTEMPTS):
        try:
            link, _created = TrackedLink.objects.get_or_create(
                wave=wave,
                language=language,
                url=url,
                defaults={"organization_id": wave.organization_id, "code": _new_code()},
            )
        except IntegrityError:  # the rare code collision: draw another code
            continue
        return short_link_prefix() + link.code
    raise RuntimeError(f"No free short-link code after {_ATTEMPTS} attempts")


def tracked_link_by_code(code: str) -> TrackedLink | None:
    """The link behind a short-link code, or None; any string is safe to pass."""
    if not VALID_CODE.fullmatch(code):
        return None
    return TrackedLink.objects.select_related("wave__campaign").filter(code=code).first()


def is_link_preview(request: HttpRequest) -> bool:
    """Whether the request is a preview, prefetch, crawler or script rather than a person."""
    if request.method == "HEAD":
        return True
    headers = request.headers
    purpose = f"{headers.get('Purpose', '')} {headers.get('Sec-Purpose', '')}".lower()
    if "prefetch" in purpose or headers.get("X-Purpose", "").lower() == "preview":
        return True
    agent = _NOT_BOTS.sub("", headers.get("User-Agent", "")).lower().strip()
    return not agent or any(bot in agent for bot in _PREVIEW_AGENTS)


def link_click_record(link: TrackedLink) -> None:
    """Count one click on `link` for today in the campaign's time zone, atomically."""
    day = timezone.localdate(timezone=ZoneInfo(link.wave.campaign.timezone))
    _count_upsert(link, day)
    waves_changed([link.wave_id])


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _count_upsert(link: TrackedLink, day: dt.date) -> None:
    table = connection.ops.quote_name(LinkClickDay._meta.db_table)
    # Only the model's own table name is interpolated; values are params.
    sql = f"""
        INSERT INTO {table} (link_id, day, clicks) VALUES (%s, %s, 1)
        ON CONFLICT (link_id, day) DO UPDATE SET clicks = {table}.clicks + 1
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [link.pk, day])
