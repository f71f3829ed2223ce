"""Which language a free reply is in: measured on replies young people really send by SMS.

data/replies.csv holds free replies in the four languages of a Kenyan organization, written
as they come in (slang, abbreviations, no accents, Kiswahili with Sheng and English mixed in)
before the detector was tuned; every one goes through the detection the router uses.
"""

import csv
from collections import Counter
from pathlib import Path

import pytest

from outreach.language import detect_language
from outreach.models import Organization

REPLIES = Path(__file__).parent / "data" / "replies.csv"
LANGUAGES = ["en", "sw", "fr", "es"]
REQUIRED_ACCURACY = 0.95


@pytest.fixture
def organization() -> Organization:
    return Organization(name="Vijana wa Amani", languages=LANGUAGES, default_language="en")


def labelled_replies() -> list[tuple[str, str]]:
    with REPLIES.open(encoding="utf-8", newline="") as file:
        return [(row["language"], row["text"]) for row in csv.DictReader(file)]


def confusion_matrix(results: list[tuple[str, str | None]]) -> str:
    """Rows are the labelled language, columns the detected one ("-": no language claimed)."""
    counts = Counter(results)
    columns = [*LANGUAGES, None]
    lines = ["labelled \\ detected " + " ".join(f"{c or '-':>4}" for c in columns)]
    for label in LANGUAGES:
        cells = " ".join(f"{counts[(label, column)]:>4}" for column in columns)
        lines.append(f"{label:>19} {cells}")
    return "\n".join(lines)


def test_the_labelled_set_is_at_least_20_replies_of_5_words_or_more_per_language():
    replies = labelled_replies()

    per_language = Counter(language for language, _ in replies)
    assert len(replies) >= 80
    assert set(per_language) == set(LANGUAGES)
    assert min(per_language.values()) >= 20
    assert all(len(text.split()) >= 5 for _, text in replies)


def test_free_replies_in_the_organizations_languages_are_detected_95_percent_right(
    organization,
):
    replies = labelled_replies()

    results = [
        (label, (detect_language(text, allowed=organization.languages) or (None,))[0])
        for label, text in replies
    ]

    right = sum(label == detected for label, detected in results)
    accuracy = right / len(results)
    matrix = confusion_matrix(results)
    print(f"\n{matrix}\naccuracy {right}/{len(results)} = {accuracy:.1%}")
    assert accuracy >= REQUIRED_ACCURACY, matrix


def test_only_the_organizations_languages_are_ever_claimed():
    portuguese = "obrigado pela mensagem, vamos votar em paz este ano"

    detected = detect_language(portuguese, allowed=["en", "sw"])

    assert detected is None or detected[0] in ("en", "sw")


def test_a_reply_too_short_to_judge_claims_no_language(organization):
    assert detect_language("poa sana", allowed=organization.languages) is None
    assert detect_language("ok 👍", allowed=organization.languages) is None


def test_the_same_reply_always_gets_the_same_language(organization):
    text = "hii election tusipigane wasee, tuko pamoja"

    answers = {detect_language(text, allowed=organization.languages) for _ in range(5)}

    assert len(answers) == 1
    assert next(iter(answers))[0] == "sw"
