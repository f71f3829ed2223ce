"""Which language a subscriber writes in, when no keyword told us.

langdetect is seeded, so the same text always gives the same answer; it is only asked about
text long enough to judge, and only chooses among the organization's languages: its prior
gives every other language no chance at all, so a Sheng-laced Kiswahili reply is weighed
against English, French and Spanish rather than lost to Somali or Indonesian. The most
probable of them is believed above ALLOWED_CONFIDENCE (measured on tests/outreach/data/
replies.csv: 100 SMS replies in en, sw, fr and es, all right).
"""

from collections.abc import Collection

from langdetect import DetectorFactory, detector_factory
from langdetect.detector import Detector
from langdetect.lang_detect_exception import LangDetectException

DetectorFactory.seed = 0

MIN_WORDS = 3
MIN_LETTERS = 12
# For an unrestricted guess (a variant's language check in campaigns.composition).
CONFIDENCE_THRESHOLD = 0.80
# Among the organization's languages only: the winner of most of langdetect's seven trials.
ALLOWED_CONFIDENCE = 0.55


def detect_language(text: str, *, allowed: Collection[str]) -> tuple[str, float] | None:
    """The most probable allowed language and its probability, or None when unsure."""
    words = text.split()
    if len(words) < MIN_WORDS or sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    try:
        detector = _detector()
        # Only the allowed languages have a prior: no other can be the answer.
        detector.set_prior_map(dict.fromkeys(allowed, 1.0))
        detector.append(text)
        candidates = detector.get_probabilities()
    except LangDetectException:  # no usable features, or none of `allowed` is known
        return None
    top = next((c for c in candidates if c.lang in allowed), None)
    if top is None or top.prob < ALLOWED_CONFIDENCE:
        return None
    return top.lang, round(top.prob, 3)


def _detector() -> Detector:
    # langdetect's own shared factory (profiles loaded once per process, as detect_langs does).
    detector_factory.init_factory()
    return detector_factory._factory.create()
