"""The console in English, Kiswahili, French and Spanish: chosen in the header, offered by the
organization's languages, and every string of the catalogues translated and compiled."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from outreach.models import Role
from tests.support.network import make_network_world, proposed_version

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.LOCALE_PATHS[0])
CONSOLE_LANGUAGES = ("sw", "fr", "es")


def choose(client: Client, language: str) -> None:
    """What the header's switcher posts."""
    chosen = client.post(reverse("set_language"), {"language": language, "next": "/console/"})
    assert chosen.status_code == 302


def test_the_sign_in_page_is_in_kiswahili_once_chosen(client):
    choose(client, "sw")

    page = client.get(reverse("console:sign-in")).content.decode()

    assert '<html lang="sw">' in page
    assert "Ingia kwenye Amani" in page
    assert "Jina la mtumiaji" in page
    assert "Nenosiri" in page
    assert "Sign in to Amani" not in page


def test_the_home_page_is_in_kiswahili_once_chosen(organization, console_as):
    client = console_as(organization, Role.MANAGER)
    choose(client, "sw")

    page = client.get(reverse("console:home")).content.decode()

    assert '<html lang="sw">' in page
    assert "Ruka hadi maudhui" in page  # skip to content
    assert "Toka" in page  # sign out
    assert "Skip to content" not in page


@pytest.mark.parametrize(
    ("language", "sign_in"),
    [("fr", "Se connecter à Amani"), ("es", "Iniciar sesión en Amani"), ("en", "Sign in to Amani")],
)
def test_the_sign_in_page_speaks_each_console_language(client, language, sign_in):
    choose(client, language)

    assert sign_in in client.get(reverse("console:sign-in")).content.decode()


def test_an_organization_writing_english_and_kiswahili_is_offered_those_two(
    organization, console_as
):
    assert organization.languages == ["en", "sw"]
    client = console_as(organization, Role.REVIEWER)

    page = client.get(reverse("console:home")).content.decode()

    switcher = re.search(r'<select id="language".*?</select>', page, re.S)
    assert switcher, page
    offered = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', switcher.group(0))
    assert offered == [("en", "English"), ("sw", "Kiswahili")]


def po_entries(path: Path) -> list[tuple[str, str, list[str], list[str]]]:
    """(msgctxt, msgid, its msgstr or msgstr[n] texts, its flags) of each live entry."""
    entries, entry, field = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("#~"):
            continue  # obsolete: not compiled, not shown
        if not line.strip():
            if entry is not None:
                entries.append(entry)
            entry, field = None, None
            continue
        if entry is None:
            entry = {"msgctxt": "", "msgid": "", "msgid_plural": "", "msgstr": {}, "flags": []}
        if line.startswith("#,"):
            entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            _append(entry, field, _unquote(line))
        else:
            keyword, _, rest = line.partition(" ")
            field = keyword
            _append(entry, field, _unquote(rest))
    return [
        (e["msgctxt"], e["msgid"], list(e["msgstr"].values()), e["flags"])
        for e in entries
        if e["msgid"]  # the header
    ]


def _append(entry: dict, field: str, text: str) -> None:
    if field.startswith("msgstr"):
        entry["msgstr"][field] = entry["msgstr"].get(field, "") + text
    else:
        entry[field] += text


def _unquote(quoted: str) -> str:
    return quoted.strip()[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")


def catalogue(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", CONSOLE_LANGUAGES)
def test_every_string_has_a_checked_translation_and_the_compiled_catalogue_holds_it(language):
    entries = po_entries(catalogue(language))
    compiled = catalogue(language).with_suffix(".mo")
    with compiled.open("rb") as mo:
        translations = gettext.GNUTranslations(mo)

    assert len(entries) >= 20
    for msgctxt, msgid, msgstrs, flags in entries:
        assert "fuzzy" not in flags, f"{language}: {msgid!r} is fuzzy: check it, then unflag it"
        assert all(text.strip() for text in msgstrs), f"{language}: {msgid!r} is untranslated"
        for name in re.findall(r"%\((\w+)\)s", msgid):
            assert all(f"%({name})s" in text for text in msgstrs), f"{language}: {msgid!r}"
        key = f"{msgctxt}\x04{msgid}" if msgctxt else msgid
        # The .mo holds each entry under its msgid (plurals under the singular).
        assert key in translations._catalog or (key, 0) in translations._catalog, (
            f"{language}: {msgid!r} is in the .po but not in the .mo: run compilemessages"
        )
        compiled_text = translations._catalog.get(key, translations._catalog.get((key, 0)))
        assert compiled_text == msgstrs[0], f"{language}: the .mo is older than the .po"


def test_a_library_version_page_in_kiswahili_shows_its_state_and_purpose_in_kiswahili():
    world = make_network_world()
    version = proposed_version(world, name="Siku ya kura")
    client = Client()
    client.force_login(world.second.manager)
    choose(client, "sw")

    page = client.get(reverse("console:library-version", args=[version.pk])).content.decode()

    state = re.search(r'data-testid="version-state">([^<]+)<', page)
    assert state, page
    assert state.group(1) == "Linakaguliwa"  # in review
    assert 'data-testid="country-state-KE">KE: Linakaguliwa<' in page
    assert "<dt>Lengo</dt><dd>Piga kura kwa amani</dd>" in page  # vote in peace
    assert "In review" not in page
