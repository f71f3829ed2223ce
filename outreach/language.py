"""Which language a subscriber writes in, when no keyword told us.

langdetect is seeded, so the same text always gives the same answer; it is only
asked about text long enough to judge, only among the organization's languages,
and only believed above a confidence threshold.
"""

from collections.abc import Collection

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

DetectorFactory.seed = 0

MIN_WORDS = 3
MIN_LETTERS = 12
CONFIDENCE_THRESHOLD = 0.80


def detect_language(text: str, *, allowed: Collection[str]) -> tuple[str, float] | None:
    """The most probable allowed language and its probability, or None when unsure."""
    words = text.split()
    if len(words) < MIN_WORDS or sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    try:
        candidates = detect_langs(text)
    except LangDetectException:
        return None
    for candidate in candidates:
        if candidate.lang in allowed and candidate.prob >= CONFIDENCE_THRESHOLD:
            return candidate.lang, round(candidate.prob, 3)
    return None
