"""Inbound SMS keywords: who joins, who stops, who asks for help or another language."""

import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from outreach.keywords import (
    DEFAULT_KEYWORDS,
    LANGUAGE_NAMES,
    STRONG_STOP_WORDS,
    Intent,
    Keyword,
    KeywordSet,
    match_keyword,
    normalize,
)

DEFAULTS = KeywordSet.defaults()
DEFAULT_WORDS = frozenset(normalize(k.word) for k in DEFAULT_KEYWORDS)
LONG_DEFAULTS = [k for k in DEFAULT_KEYWORDS if len(k.word) >= 5]


def match(text: str):
    return match_keyword(text, DEFAULTS)


# Examples


@pytest.mark.parametrize("text", ["STOP", "stop", "Stop please!", "  stop.", "STÖP", "¡Stop!"])
def test_it_stops_on_stop_in_any_case_accent_or_punctuation(text):
    result = match(text)

    assert result is not None
    assert (result.intent, result.keyword.word, result.exact) == (Intent.STOP, "STOP", True)


def test_it_stops_on_stop_with_trailing_words():
    result = match("Stop please!")

    assert result is not None
    assert (result.intent, result.argument) == (Intent.STOP, "please")


def test_it_joins_on_join_and_keeps_the_words_after_it_as_the_argument():
    result = match("join   Amani, now!")

    assert result is not None
    assert (result.intent, result.keyword.word, result.exact) == (Intent.JOIN, "JOIN", True)
    assert result.argument == "amani now"
    assert result.target_language is None


@pytest.mark.parametrize(
    ("text", "word", "language"),
    [
        ("JOIN", "JOIN", "en"),
        ("Jiunge", "JIUNGE", "sw"),
        ("paz", "PAZ", "es"),
        ("PAÍX", "PAIX", "fr"),
        ("Amani", "AMANI", None),
    ],
)
def test_it_joins_on_a_join_word_and_tells_its_language(text, word, language):
    result = match(text)

    assert result is not None
    assert (result.intent, result.keyword.word, result.keyword.language) == (
        Intent.JOIN,
        word,
        language,
    )


@pytest.mark.parametrize(
    ("text", "intent", "word"),
    [
        ("UNSUBSCRIBR", Intent.STOP, "UNSUBSCRIBE"),  # substitution
        ("JIUNGEE", Intent.JOIN, "JIUNGE"),  # insertion
        ("JIUNE", Intent.JOIN, "JIUNGE"),  # deletion
        ("JIUGNE", Intent.JOIN, "JIUNGE"),  # transposition
        ("cancle", Intent.STOP, "CANCEL"),  # transposition of a weak stop word
        ("MSADA tafadhali", Intent.HELP, "MSAADA"),
    ],
)
def test_it_forgives_one_typo_in_a_long_keyword(text, intent, word):
    result = match(text)

    assert result is not None
    assert (result.intent, result.keyword.word, result.exact) == (intent, word, False)


@pytest.mark.parametrize("text", ["STOPP", "JION", "HLEP", "Paxz", "AMAN"])
def test_it_never_forgives_a_typo_in_a_short_word_or_keyword(text):
    assert match(text) is None


@pytest.mark.parametrize(("text", "word"), [("HELP", "HELP"), ("msaada!", "MSAADA")])
def test_it_answers_help_words(text, word):
    result = match(text)

    assert result is not None
    assert (result.intent, result.keyword.word) == (Intent.HELP, word)


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("LUGHA SW", "sw"),
        ("lang kiswahili", "sw"),
        ("Langue: français", "fr"),
        ("IDIOMA Español por favor", "es"),
        ("language Kiingereza", "en"),
        ("LANG klingon", None),
        ("LANGUAGE", None),
    ],
)
def test_it_changes_language_to_the_code_or_name_after_the_keyword(text, target):
    result = match(text)

    assert result is not None
    assert (result.intent, result.target_language) == (Intent.LANGUAGE, target)


def test_only_a_language_keyword_carries_a_target_language():
    result = match("JOIN sw")

    assert result is not None
    assert (result.intent, result.target_language) == (Intent.JOIN, None)


@pytest.mark.parametrize(
    ("text", "argument"),
    [
        ("please STOP", ""),
        ("JOIN STOP", ""),
        ("ok stop now", "now"),
        ("I want to unsubscribe.", ""),
        ("help me optout please", "please"),
    ],
)
def test_a_strong_stop_word_anywhere_stops(text, argument):
    result = match(text)

    assert result is not None
    assert (result.intent, result.exact, result.argument) == (Intent.STOP, True, argument)


def test_stop_wins_over_a_join_keyword_before_it():
    result = match("JOIN stop")

    assert result is not None
    assert (result.intent, result.keyword.word) == (Intent.STOP, "STOP")


@pytest.mark.parametrize("text", ["END", "Quit.", "cancel please", "Acha", "ARRÊT", "alto"])
def test_a_weak_stop_word_stops_as_the_first_word(text):
    result = match(text)

    assert result is not None
    assert result.intent is Intent.STOP


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the violence must end", None),
        ("we should not quit", None),
        ("JOIN quit", Intent.JOIN),
        ("START, I will never cancel", Intent.START),
    ],
)
def test_a_weak_stop_word_later_in_the_message_does_not_stop(text, expected):
    result = match(text)

    assert (result.intent if result else None) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "1",
        "2 ",
        "🙏🏾✌️",
        "Habari yako rafiki",
        "Asante sana 🙏🏾",
        "Nimefurahi kusikia kutoka kwenu ✌️🕊️",
        "Merci beaucoup !",
    ],
)
def test_it_ignores_free_text_digits_and_emoji(text):
    assert match(text) is None


# Ambiguity: a typo between two keywords is never guessed


AMANI_AMANA = KeywordSet([Keyword("AMANI", Intent.JOIN), Keyword("AMANA", Intent.HELP)])


def test_a_typo_one_edit_from_two_keywords_matches_neither():
    assert match_keyword("AMANX", AMANI_AMANA) is None


@pytest.mark.parametrize(("text", "intent"), [("AMANII", Intent.JOIN), ("AMANAA", Intent.HELP)])
def test_a_typo_one_edit_from_only_one_keyword_matches_it(text, intent):
    result = match_keyword(text, AMANI_AMANA)

    assert result is not None
    assert (result.intent, result.exact) == (intent, False)


def test_only_the_french_stop_words_are_one_typo_apart_and_three_pairs_are_two_apart():
    words = sorted(normalize(k.word) for k in LONG_DEFAULTS)
    close = {
        (a, b): _distance(a, b) for a in words for b in words if a < b and _distance(a, b) <= 2
    }

    assert close == {
        ("arret", "arrete"): 1,
        ("arrete", "arreter"): 1,
        ("arret", "arreter"): 2,
        ("language", "langue"): 2,
        ("subscribe", "unsubscribe"): 2,
    }


@pytest.mark.parametrize("text", ["ARRETE", "ARRÊTE!", "arrête svp"])
def test_it_stops_on_the_everyday_french_arrete(text):
    assert match(text).intent == Intent.STOP


@pytest.mark.parametrize("text", ["LANGUAE", "NSUBSCRIBE", "USUBSCRIBE"])
def test_a_typo_between_two_default_keywords_matches_neither_even_of_the_same_intent(text):
    assert match(text) is None


# Keyword sets


def test_the_defaults_are_the_default_keywords():
    assert list(DEFAULTS) == list(DEFAULT_KEYWORDS)
    assert len(DEFAULTS) == len(DEFAULT_KEYWORDS)


def test_an_organization_extends_the_defaults_with_its_own_keywords():
    extended = DEFAULTS.extended(
        [Keyword("UMOJA", Intent.JOIN, "sw"), Keyword("join", Intent.JOIN)]
    )

    result = match_keyword("umoja", extended)

    assert result is not None
    assert (result.intent, result.keyword.language) == (Intent.JOIN, "sw")
    assert len(extended) == len(DEFAULTS) + 1  # "join" is already there
    assert match_keyword("umoja", DEFAULTS) is None


@pytest.mark.parametrize(
    ("keywords", "named"),
    [
        ([Keyword("JOIN", Intent.JOIN), Keyword("Join!", Intent.HELP)], "Join!"),
        ([Keyword("PAIX", Intent.JOIN), Keyword("PAÍX", Intent.STOP)], "PAÍX"),
        ([Keyword("", Intent.JOIN)], "''"),
        ([Keyword(" ?! ", Intent.HELP)], "' ?! '"),
        ([Keyword("OPT OUT", Intent.STOP)], "OPT OUT"),
        ([Keyword("123", Intent.JOIN)], "123"),
        ([Keyword("Stop", Intent.JOIN)], "Stop"),
    ],
)
def test_a_misconfigured_keyword_is_refused_by_name(keywords, named):
    with pytest.raises(ValueError, match=named.replace("?", r"\?")):
        KeywordSet(keywords)


def test_an_organization_cannot_give_a_default_word_another_intent():
    with pytest.raises(ValueError, match="AIDE"):
        DEFAULTS.extended([Keyword("AIDE", Intent.JOIN, "fr")])


def test_strong_stop_words_stop_even_in_a_set_without_them():
    result = match_keyword("please unsubscribe", KeywordSet([Keyword("UMOJA", Intent.JOIN)]))

    assert result is not None
    assert (result.intent, result.keyword.word) == (Intent.STOP, "UNSUBSCRIBE")


def test_language_names_are_normalized_and_point_to_iso_codes():
    assert all(normalize(name) == name for name in LANGUAGE_NAMES)
    assert set(LANGUAGE_NAMES.values()) == {"sw", "en", "fr", "es", "pt", "so", "ar"}
    assert all(LANGUAGE_NAMES[code] == code for code in LANGUAGE_NAMES.values())


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("PAÍX", "paix"),
        ("ARRÊT", "arret"),
        ("  Hello,   World!! ", "hello world"),
        ("Straße", "strasse"),
        ("OPT-OUT", "opt out"),
        ("🙏🏾✌️", ""),
        (" \t\n", ""),
    ],
)
def test_normalize_strips_accents_case_punctuation_and_extra_space(text, normalized):
    assert normalize(text) == normalized


# Properties

_SEPARATORS = st.lists(
    st.sampled_from(
        [" ", "  ", "\n", "\t", ".", ",", "!", "?", "¿", "...", "-", " 🙏🏾 ", "✌️", "🕊️"]
    ),
    min_size=1,
    max_size=3,
).map("".join)
_TRAILING_WORD = st.text(st.characters(categories=("Lu", "Ll")), min_size=1, max_size=8).filter(
    lambda word: not set(normalize(word).split()) & STRONG_STOP_WORDS
)


@st.composite
def _keyword_messages(draw):
    keyword = draw(st.sampled_from(DEFAULT_KEYWORDS))
    cased = "".join(draw(st.sampled_from([ch.lower(), ch.upper()])) for ch in keyword.word)
    before = draw(st.just("") | _SEPARATORS)
    trailing = draw(st.lists(st.tuples(_SEPARATORS, _TRAILING_WORD), max_size=4))
    after = draw(st.just("") | _SEPARATORS)
    text = before + cased + "".join(sep + word for sep, word in trailing) + after
    return keyword, text, " ".join(word for _, word in trailing)


@settings(max_examples=300)
@given(_keyword_messages())
def test_any_default_keyword_matches_in_any_case_punctuation_and_trailing_words(message):
    keyword, text, trailing = message

    result = match(text)

    assert result is not None
    assert (result.intent, result.keyword, result.exact) == (keyword.intent, keyword, True)
    assert result.argument == normalize(trailing)


@given(
    before=st.text(),
    stop=st.sampled_from(sorted(STRONG_STOP_WORDS)).flatmap(
        lambda word: st.tuples(*(st.sampled_from([ch, ch.upper()]) for ch in word)).map("".join)
    ),
    separators=st.tuples(_SEPARATORS, _SEPARATORS),
    after=st.text(),
)
def test_any_text_with_a_strong_stop_word_as_a_word_stops(before, stop, separators, after):
    result = match(before + separators[0] + stop + separators[1] + after)

    assert result is not None
    assert result.intent is Intent.STOP


@given(st.text())
def test_normalize_is_idempotent_and_yields_single_spaced_words_of_letters_and_digits(text):
    normalized = normalize(text)

    assert normalize(normalized) == normalized
    assert normalized == " ".join(normalized.split())
    assert all(word.isalnum() for word in normalized.split())


@given(st.text())
def test_matching_never_raises_on_any_text(text):
    result = match(text)

    assert result is None or result.intent in Intent


@st.composite
def _substitutions(draw):
    keyword = draw(st.sampled_from(LONG_DEFAULTS))
    position = draw(st.integers(min_value=0, max_value=len(keyword.word) - 1))
    letter = draw(st.sampled_from(string.ascii_uppercase))
    return keyword, keyword.word[:position] + letter + keyword.word[position + 1 :]


@given(_substitutions())
def test_one_substituted_letter_in_a_long_keyword_still_matches_it(substitution):
    keyword, typo = substitution
    others = DEFAULT_WORDS - {normalize(keyword.word)}
    assume(typo != keyword.word)
    assume(all(_distance(normalize(typo), other) > 1 for other in others))  # a typo of it alone

    result = match(typo)

    assert result is not None
    assert (result.keyword, result.exact) == (keyword, False)


@given(word=st.text("abc", min_size=3, max_size=7), keyword=st.text("abc", min_size=3, max_size=7))
def test_a_word_matches_by_typo_exactly_when_both_are_long_and_one_edit_apart(word, keyword):
    result = match_keyword(word, KeywordSet([Keyword(keyword, Intent.JOIN)]))

    if word == keyword:
        assert result is not None
        assert result.exact
    else:
        forgiven = len(word) >= 5 and len(keyword) >= 5 and _distance(word, keyword) == 1
        assert (result is not None) == forgiven


def _distance(a: str, b: str) -> int:
    """Full Damerau-Levenshtein (optimal string alignment) distance, by dynamic programming."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1,
                d[i][j - 1] + 1,
                d[i - 1][j - 1] + (a[i - 1] != b[j - 1]),
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]
