"""What a wave's message costs and says, per language variant, before it is approved.

Pure functions on text; no database. A variant is a template with placeholders:
{region}, {campaign} and {link:URL}; literal braces are doubled, "{{" and "}}", as in str.format.
`message_as_sent` builds the text a subscriber gets, opt-out footer included when it is due;
fan-out stores what it builds, and previews, segment counts and costs measure it, on a
worst-case rendering (the longest region name, a tracked short link), so the segment count
shown is the one subscribers will really cost.
"""

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

from langdetect import detect_langs
from langdetect.lang_detect_exception import LangDetectException

from campaigns.links import short_link_length, short_link_prefix

# Importing outreach.language seeds langdetect's factory, so the same text gets the same answer.
from outreach.language import CONFIDENCE_THRESHOLD, MIN_LETTERS, MIN_WORDS
from outreach.sms_encoding import sms_length

PLACEHOLDERS = ("region", "campaign", "link")

# Links are sent as tracked short links on our own domain, e.g. https://amani.ke/l/a1B2c3D,
# all of one length: short_link_length() (campaigns.links).

LANGUAGE_NAMES_EN = {
    "en": "English",
    "sw": "Kiswahili",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "so": "Somali",
    "ar": "Arabic",
}

# Added to a subscriber's first message of a campaign and every Nth (Campaign.opt_out_footer_every).
OPT_OUT_FOOTERS = {
    "en": "Reply STOP to opt out.",
    "sw": "Jibu STOP kujiondoa.",
    "fr": "Répondez STOP pour arrêter.",
    "es": "Responde STOP para salir.",
}

_USE = "use {region}, {campaign} or {link:URL}"
_FOUR_PLACES = Decimal("0.0001")
_PLACEHOLDER_LIKE = re.compile(r"\{[^{}]*\}")
_URL_LIKE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


class PlaceholderError(ValueError):
    """A template's placeholders cannot be rendered; the message names the placeholder."""


@dataclass(frozen=True)
class Placeholder:
    """One placeholder in a template: {link:https://x.org/a} is ("link", "https://x.org/a").

    `start` and `end` delimit the whole "{...}" in the template (end exclusive); `argument` is
    None when there is no ":" and "" for "{link:}".
    """

    name: str
    argument: str | None
    start: int
    end: int

    @property
    def source(self) -> str:
        """The placeholder as written, braces included."""
        argument = "" if self.argument is None else f":{self.argument}"
        return f"{{{self.name}{argument}}}"


@dataclass(frozen=True)
class LanguageCheck:
    """Whether a variant's text looks like its declared language; a warning, never an error."""

    declared: str
    detected: str | None  # top langdetect candidate; None when the text is too short to judge
    confidence: float | None
    matches: bool | None  # None when not judged, or judged too unsure to say
    warning: str | None


@dataclass(frozen=True)
class VariantStats:
    """What one language variant will cost and say, rendered at its longest."""

    encoding: str
    characters: int
    units: int
    segments: int
    cost_per_message: Decimal | None  # None when no price is known
    currency: str | None
    over_limit: bool  # segments > max_segments
    language: LanguageCheck


def find_placeholders(text: str) -> list[Placeholder]:
    """The placeholders in a template, in order, whatever their names.

    Raises PlaceholderError only for brace syntax (unclosed "{", stray "}", nested braces);
    names and arguments are checked by validate_placeholders.
    """
    return [placeholder for placeholder in _parse(text) if isinstance(placeholder, Placeholder)]


def validate_placeholders(text: str) -> None:
    """Raise PlaceholderError naming the first placeholder that cannot be rendered."""
    for placeholder in find_placeholders(text):
        if problem := _placeholder_problem(placeholder):
            raise PlaceholderError(problem)


def opt_out_footer(language: str) -> str:
    """The opt-out footer in `language`; English where we have none in it."""
    return OPT_OUT_FOOTERS.get(language, OPT_OUT_FOOTERS["en"])


def message_as_sent(
    template: str,
    *,
    language: str,
    campaign_name: str,
    region: str,
    link: Callable[[str], str],
    with_footer: bool,
) -> str:
    """The message a subscriber gets: placeholders filled, literal braces, and the footer.

    The one place the sent text is built: fan-out stores it; the preview shows it; segment
    counts and cost estimates measure it. `link(URL)` is the short link sent for URL.
    Raises PlaceholderError when the template is not valid.
    """
    validate_placeholders(template)
    values = {"region": region, "campaign": campaign_name}

    def filled(piece: str | Placeholder) -> str:
        if isinstance(piece, str):
            return piece
        return link(piece.argument or "") if piece.name == "link" else values[piece.name]

    text = "".join(filled(piece) for piece in _parse(template))
    return f"{text} {opt_out_footer(language)}" if with_footer else text


def longest_short_link(url: str = "") -> str:
    """A stand-in for a short link not made yet: every short link is this long."""
    prefix = short_link_prefix()
    return prefix + "x" * (short_link_length() - len(prefix))


def render_for_length(text: str, *, campaign_name: str, longest_region: str) -> str:
    """The template at its longest (footer aside): real names, a short link, literal braces.

    Raises PlaceholderError when the template is not valid.
    """
    return message_as_sent(
        text,
        language="en",
        campaign_name=campaign_name,
        region=longest_region,
        link=longest_short_link,
        with_footer=False,
    )


def check_language(text: str, declared: str) -> LanguageCheck:
    """Whether the text, placeholders and URLs aside, looks like the declared language.

    Not judged (detected None) below MIN_WORDS words or MIN_LETTERS letters; a different top
    candidate only warns when langdetect is at least CONFIDENCE_THRESHOLD sure of it.
    """
    prose = _URL_LIKE.sub(" ", _PLACEHOLDER_LIKE.sub(" ", text))
    words = [word for word in prose.split() if any(ch.isalpha() for ch in word)]
    if len(words) < MIN_WORDS or sum(ch.isalpha() for ch in prose) < MIN_LETTERS:
        return LanguageCheck(declared, detected=None, confidence=None, matches=None, warning=None)
    try:
        top = detect_langs(prose)[0]
    except LangDetectException:  # no usable features, e.g. only digits and punctuation
        return LanguageCheck(declared, detected=None, confidence=None, matches=None, warning=None)
    confidence = round(top.prob, 3)
    if _primary(top.lang) == _primary(declared):
        return LanguageCheck(declared, top.lang, confidence, matches=True, warning=None)
    if confidence < CONFIDENCE_THRESHOLD:
        return LanguageCheck(declared, top.lang, confidence, matches=None, warning=None)
    warning = (
        f"This text looks like {_language_name(top.lang)} ({confidence:.2f}), "
        f"not {_language_name(declared)} ({declared})."
    )
    return LanguageCheck(declared, top.lang, confidence, matches=False, warning=warning)


def variant_stats(
    text: str,
    *,
    declared_language: str,
    campaign_name: str,
    longest_region: str,
    price_per_segment: Decimal | None,
    currency: str | None,
    max_segments: int = 10,
    with_footer: bool = False,
) -> VariantStats:
    """Encoding, length, segments and cost of the worst-case message, and its language check.

    `with_footer` measures the message that carries the opt-out footer (a subscriber's first).
    Raises PlaceholderError when the template is not valid, and ValueError for a price without
    a currency.
    """
    if price_per_segment is not None and not currency:
        raise ValueError("A price per segment needs a currency")
    length = sms_length(
        message_as_sent(
            text,
            language=declared_language,
            campaign_name=campaign_name,
            region=longest_region,
            link=longest_short_link,
            with_footer=with_footer,
        )
    )
    cost = None
    if price_per_segment is not None:
        cost = (price_per_segment * length.segments).quantize(_FOUR_PLACES, ROUND_HALF_UP)
    return VariantStats(
        encoding=length.encoding,
        characters=length.characters,
        units=length.units,
        segments=length.segments,
        cost_per_message=cost,
        currency=currency if cost is not None else None,
        over_limit=length.segments > max_segments,
        language=check_language(text, declared_language),
    )


def estimate_cost(
    stats_and_audience: Mapping[str, tuple[VariantStats, int]],
) -> tuple[Decimal | None, str | None]:
    """Total cost of a wave over its languages: cost per message times audience, and currency.

    (None, None) when a variant with an audience has no price; (0, None) when nobody is
    reached. Raises ValueError when priced variants use different currencies.
    """
    reached = [(stats, count) for stats, count in stats_and_audience.values() if count > 0]
    currencies = {stats.currency for stats, _ in reached if stats.cost_per_message is not None}
    if len(currencies) > 1:
        raise ValueError(f"Variants are priced in different currencies: {sorted(currencies)}")
    if any(stats.cost_per_message is None for stats, _ in reached):
        return None, None
    total = sum((stats.cost_per_message * count for stats, count in reached), Decimal(0))
    return total.quantize(_FOUR_PLACES), (currencies.pop() if currencies else None)


def _parse(text: str) -> Iterator[str | Placeholder]:
    """The template as literal text pieces and placeholders; raises on brace syntax."""
    literal_start = position = 0
    while position < len(text):
        ch = text[position]
        if ch not in "{}":
            position += 1
            continue
        if text.startswith(ch * 2, position):  # "{{" and "}}" are literal braces
            yield text[literal_start:position] + ch
            position = literal_start = position + 2
            continue
        if ch == "}":
            raise PlaceholderError(
                f"Stray }} at character {position + 1}: write }}}} for a literal brace"
            )
        end = _closing_brace(text, position)
        yield text[literal_start:position]
        name, colon, argument = text[position + 1 : end].partition(":")
        yield Placeholder(name, argument if colon else None, start=position, end=end + 1)
        position = literal_start = end + 1
    yield text[literal_start:]


def _closing_brace(text: str, opening: int) -> int:
    """Index of the "}" closing the "{" at `opening`; raises if unclosed or nested."""
    for position in range(opening + 1, len(text)):
        if text[position] == "}":
            return position
        if text[position] == "{":
            raise PlaceholderError(
                f"Nested braces in {text[opening : position + 1]}...: placeholders cannot "
                "contain { or }"
            )
    raise PlaceholderError(
        f"Unclosed {{ in {text[opening : opening + 30]!r}: close it with }}, "
        "or write {{ for a literal brace"
    )


def _placeholder_problem(placeholder: Placeholder) -> str | None:
    """Why this placeholder cannot be rendered, or None."""
    source = placeholder.source
    if placeholder.name not in PLACEHOLDERS:
        return f"Unknown placeholder {source}: {_USE}"
    if placeholder.name != "link":
        if placeholder.argument is not None:
            return f"{source} takes no argument: write {{{placeholder.name}}}"
        return None
    if not placeholder.argument:
        return f"{source} needs a URL: write {{link:https://...}}"
    if not _is_web_url(placeholder.argument):
        return f"{source} needs an http:// or https:// URL with a host"
    return None


def _is_web_url(url: str) -> bool:
    """Whether `url` is an http(s) URL with a host and no whitespace."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # e.g. an invalid port or a malformed IPv6 host
        return False
    has_space = any(ch.isspace() for ch in url)
    return parts.scheme in ("http", "https") and bool(hostname) and not has_space


def _language_name(code: str) -> str:
    return LANGUAGE_NAMES_EN.get(code, code)


def _primary(code: str) -> str:
    """The primary subtag of a language code: "pt-BR" -> "pt"."""
    return code.split("-")[0].lower()
