"""Tracked links: short links on our domain, counted per wave, language and day, not person."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from campaigns.links import (
    CODE_LENGTH,
    is_link_preview,
    render_links,
    short_link_for,
    short_link_length,
    short_link_prefix,
)
from campaigns.models import LinkClickDay, TrackedLink
from campaigns.services import waves as services
from campaigns.services.fanout import fanout_wave
from campaigns.services.test_sends import wave_test_send
from outreach.models import OutboundKind, OutboundMessage
from outreach.sms_encoding import sms_length
from tests.campaigns.conftest import NOW

pytestmark = pytest.mark.django_db

EAT = dt.timezone(dt.timedelta(hours=3))
DUE = dt.datetime(2027, 8, 3, 10, 0, tzinfo=EAT)
PLEDGE = "https://peace.example/pledge"
BROWSER = (
    "Mozilla/5.0 (Linux; Android 13; TECNO KI7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture(autouse=True)
def _before_polling_day():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def sending_wave(campaign, audience, author, reviewer, console_channel):
    wave = services.wave_create(
        campaign=campaign,
        created_by=author.membership.user,
        name="E-7",
        send_at_relative="E-7d 10:00",
        segment=audience,
        channels=[console_channel],
        variants=[
            {"language": "en", "body": f"Take the peace pledge: {{link:{PLEDGE}}}"},
            {"language": "sw", "body": f"Ahidi amani: {{link:{PLEDGE}}}"},
        ],
    )
    services.wave_submit(wave=wave, by=wave.created_by)
    services.wave_approve(wave=wave, by=reviewer.membership.user)
    services.wave_schedule(wave=wave, by=None)
    assert services.waves_tick(now=DUE) == [wave.pk]
    return wave


@pytest.fixture
def link(sending_wave) -> TrackedLink:
    short_link_for(wave=sending_wave, language="en", url=PLEDGE)
    return TrackedLink.objects.get(wave=sending_wave, language="en")


@pytest.fixture
def phone() -> Client:
    """A person following the link in their phone's browser."""
    return Client(HTTP_USER_AGENT=BROWSER)


def clicks(link: TrackedLink) -> dict[dt.date, int]:
    return dict(link.click_days.values_list("day", "clicks"))


# Short links


def test_a_short_link_is_on_our_domain_with_a_seven_character_base62_code(sending_wave):
    short = short_link_for(wave=sending_wave, language="en", url=PLEDGE)

    code = short.removeprefix(settings.PUBLIC_BASE_URL + "/l/")
    assert short.startswith(short_link_prefix())
    assert len(code) == CODE_LENGTH
    assert code.isascii()
    assert code.isalnum()
    assert len(short) == short_link_length()


def test_the_same_wave_language_and_url_get_the_same_short_link(sending_wave):
    first = short_link_for(wave=sending_wave, language="en", url=PLEDGE)
    again = short_link_for(wave=sending_wave, language="en", url=PLEDGE)
    swahili = short_link_for(wave=sending_wave, language="sw", url=PLEDGE)

    assert first == again
    assert swahili != first
    assert TrackedLink.objects.count() == 2


def test_a_code_collision_draws_another_code(sending_wave, monkeypatch):
    from campaigns import links

    short_link_for(wave=sending_wave, language="en", url=PLEDGE)
    taken = TrackedLink.objects.get().code
    codes = iter([taken, "Fresh12"])
    monkeypatch.setattr(links, "_new_code", lambda: next(codes))

    short = short_link_for(wave=sending_wave, language="sw", url=PLEDGE)

    assert short == short_link_prefix() + "Fresh12"


def test_render_links_replaces_each_link_placeholder():
    body = render_links("a {link:https://x.org/1} b {link:https://x.org/2}", str.upper)

    assert body == "a HTTPS://X.ORG/1 b HTTPS://X.ORG/2"


# Fan-out and test sends


def test_fan_out_sends_one_tracked_short_link_per_language_however_many_subscribers(
    sending_wave,
):
    fanout_wave(wave_id=sending_wave.pk)

    links = dict(TrackedLink.objects.values_list("language", "code"))
    english = OutboundMessage.objects.filter(language="en").values_list("body", flat=True)
    assert set(links) == {"en", "sw"}
    assert OutboundMessage.objects.count() == 4
    assert {body.split()[4] for body in english} == {short_link_prefix() + links["en"]}
    assert PLEDGE not in "".join(OutboundMessage.objects.values_list("body", flat=True))


def test_the_segment_count_is_that_of_the_message_with_its_real_short_link(sending_wave):
    footer = " Reply STOP to opt out."
    words = "a" * (161 - len(footer) - 1 - short_link_length())
    sending_wave.variants.filter(language="en").update(body=f"{words} {{link:{PLEDGE}}}")

    fanout_wave(wave_id=sending_wave.pk)

    message = OutboundMessage.objects.filter(language="en").first()
    assert len(message.body) == 161
    assert message.segments == sms_length(message.body).segments == 2


def test_a_test_send_shows_staff_the_tracked_short_link(sending_wave, author):
    wave_test_send(
        wave=sending_wave, by=author.membership.user, numbers=["0722000000"], language="en"
    )

    message = OutboundMessage.objects.get(kind=OutboundKind.TEST)
    code = TrackedLink.objects.get(wave=sending_wave, language="en").code
    assert message.body == f"[TEST] Take the peace pledge: {short_link_prefix()}{code}"


# Following a short link


def test_following_a_short_link_redirects_and_counts_one_click_today(phone, link):
    response = phone.get(f"/l/{link.code}")

    assert response.status_code == 302
    assert response["Location"] == PLEDGE
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert clicks(link) == {NOW.date(): 1}


def test_clicks_add_up_on_one_row_per_day(phone, link):
    for _ in range(3):
        phone.get(f"/l/{link.code}")

    assert clicks(link) == {NOW.date(): 3}


def test_the_day_is_the_campaigns_local_day(phone, link):
    late_evening_utc = dt.datetime(2027, 7, 1, 22, 30, tzinfo=dt.UTC)  # 01:30 on 2 July in Nairobi

    with time_machine.travel(late_evening_utc, tick=False):
        phone.get(f"/l/{link.code}")

    assert clicks(link) == {dt.date(2027, 7, 2): 1}


def test_a_short_link_needs_no_login_session_or_csrf(link):
    response = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER).get(f"/l/{link.code}")

    assert response.status_code == 302
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies


def test_a_head_request_redirects_but_counts_nothing(phone, link):
    response = phone.head(f"/l/{link.code}")

    assert response.status_code == 302
    assert response["Location"] == PLEDGE
    assert clicks(link) == {}


@pytest.mark.parametrize(
    "agent",
    [
        "WhatsApp/2.23.20.0 A",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "TelegramBot (like TwitterBot)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "curl/8.5.0",
        "",
    ],
)
def test_a_link_preview_redirects_but_counts_nothing(link, agent):
    response = Client(HTTP_USER_AGENT=agent).get(f"/l/{link.code}")

    assert response.status_code == 302
    assert clicks(link) == {}


@pytest.mark.parametrize(
    "headers",
    [{"Purpose": "prefetch"}, {"Sec-Purpose": "prefetch;prerender"}, {"X-Purpose": "preview"}],
)
def test_a_prefetch_redirects_but_counts_nothing(phone, link, headers):
    response = phone.get(f"/l/{link.code}", headers=headers)

    assert response.status_code == 302
    assert clicks(link) == {}


@pytest.mark.parametrize(
    "agent",
    [
        BROWSER,
        "okhttp/4.12.0",  # the HTTP client of many Android apps: people, not bots
        "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 Mobile Safari/537.36",
    ],
)
def test_people_on_phones_are_not_taken_for_previews(rf, agent):
    assert not is_link_preview(rf.get("/l/abc", HTTP_USER_AGENT=agent))


def test_an_unknown_code_is_a_small_html_404_and_counts_nothing(phone, link):
    response = phone.get("/l/Nope123")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "This link does not exist or has expired." in response.content.decode()
    assert not LinkClickDay.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/l/" + "a" * 5000,
        "/l/%E2%9C%8C%EF%B8%8Famani",
        "/l/abc%2Fdef",
        "/l/abc%00def",
        "/l/abc%20def",
        "/l/%27%3B%20DROP%20TABLE",
        "/l/",
    ],
)
def test_odd_codes_are_404_never_500(phone, link, path):
    response = phone.get(path)

    assert response.status_code == 404
    assert not LinkClickDay.objects.exists()


def test_a_short_link_answers_only_get_and_head(phone, link):
    assert phone.post(f"/l/{link.code}").status_code == 405
    assert not LinkClickDay.objects.exists()


# Privacy


def test_clicks_carry_no_personal_data():
    click_fields = {field.name for field in LinkClickDay._meta.get_fields()}
    link_fields = {field.name for field in TrackedLink._meta.get_fields()}

    assert click_fields == {"id", "link", "day", "clicks"}
    assert link_fields == {
        "id",
        "organization",
        "wave",
        "language",
        "url",
        "code",
        "created_at",
        "click_days",
    }
