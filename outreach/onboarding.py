"""Reading onboarding answers — an age, a region — from whatever a young person texts back."""

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from outreach.keywords import normalize
from outreach.models import AgeBand, Region
from outreach.replies import SKIP_WORDS

REGION_MENU_LIMIT = 9  # a numbered menu only when it fits one SMS
_NUMBER = re.compile(r"\b(\d{1,3})\b")
_BAND = re.compile(r"\b(\d{2})\s*(?:-|to|hadi|a|à)\s*(\d{2})\b")
_BAND_OF_RANGE = {
    (13, 17): AgeBand.A13_17,
    (18, 24): AgeBand.A18_24,
    (25, 29): AgeBand.A25_29,
    (30, 34): AgeBand.A30_34,
}


@dataclass(frozen=True)
class AgeAnswer:
    age: int | None  # exact age, when given
    band: str  # "" when under the minimum age


def is_skip(text: str) -> bool:
    words = normalize(text).split()
    return bool(words) and words[0] in SKIP_WORDS


def parse_age(text: str, *, minimum_age: int) -> AgeAnswer | None:
    """An age ("19", "I am 19", "18-24") as a band, or None when the text holds no age."""
    normalized = normalize(text.replace("-", " - "))
    band_match = _BAND.search(text.lower())
    if band_match:
        low, high = int(band_match.group(1)), int(band_match.group(2))
        band = _BAND_OF_RANGE.get((low, high))
        if band:
            return AgeAnswer(age=None, band=band if low >= minimum_age else "")
    number = _NUMBER.search(normalized)
    if not number:
        return None
    age = int(number.group(1))
    if not 5 <= age <= 120:
        return None
    return AgeAnswer(age=age, band="" if age < minimum_age else band_for_age(age))


def band_for_age(age: int) -> str:
    if age >= 35:
        return AgeBand.A35_PLUS
    for (low, high), band in _BAND_OF_RANGE.items():
        if low <= age <= high:
            return band
    return ""


def region_menu(regions: Sequence[Region]) -> str:
    """ " (1 Nairobi, 2 Mombasa …)" when the list is short enough to number, else ""."""
    if not regions or len(regions) > REGION_MENU_LIMIT:
        return ""
    return " (" + ", ".join(f"{i} {region.name}" for i, region in enumerate(regions, 1)) + ")"


def parse_region(text: str, regions: Sequence[Region]) -> Region | None:
    """A region by menu number, name or alias; one typo or so is forgiven, a tie is not."""
    normalized = normalize(text)
    if not normalized:
        return None
    if normalized.isdigit():
        index = int(normalized)
        if len(regions) <= REGION_MENU_LIMIT and 1 <= index <= len(regions):
            return regions[index - 1]
        return None
    names: dict[str, Region] = {}
    for region in regions:
        for name in [region.name, *region.aliases]:
            names.setdefault(normalize(name), region)
    candidates = [normalized, *_suffixes(normalized)]
    for candidate in candidates:
        if candidate in names:
            return names[candidate]
    close = difflib.get_close_matches(normalized, list(names), n=2, cutoff=0.8)
    if len(close) == 1 or (len(close) == 2 and names[close[0]] == names[close[1]]):
        return names[close[0]]
    if len(close) == 2:
        first = difflib.SequenceMatcher(None, normalized, close[0]).ratio()
        second = difflib.SequenceMatcher(None, normalized, close[1]).ratio()
        return names[close[0]] if first - second >= 0.1 else None
    return None


def _suffixes(normalized: str) -> list[str]:
    # "I live in Kisumu" / "naishi Kisumu": try the trailing words too.
    words = normalized.split()
    return [" ".join(words[i:]) for i in range(1, len(words))]
