"""Poll answers: which option a young person's free-text SMS reply chooses, in four languages."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.poll_answers import (
    FILLER_WORDS,
    NO_WORDS,
    NUMBER_WORDS,
    YES_WORDS,
    normalise_answer,
)

# "Reply 1 to pledge a peaceful vote, 2 if you want to talk to a mentor"
PLEDGE_OR_MENTOR = [["pledge", "ahadi", "promesse", "promesa"], ["mentor", "mshauri", "mentora"]]
TWO_BARE = [[], []]
THREE_BARE = [[], [], []]
TEN_BARE = [[] for _ in range(10)]


def answer(text: str, options: list[list[str]] = PLEDGE_OR_MENTOR) -> int | None:
    return normalise_answer(text, options=options)


# Digits


@pytest.mark.parametrize("text", ["1", " 1 ", "1.", "#1", "(1)", "option 1", "1!", "01", "\uff11"])
def test_a_digit_in_any_wrapping_chooses_its_option(text):
    assert answer(text) == 1


@pytest.mark.parametrize("text", ["2", "2)", "*2*", "2?", "Option 2."])
def test_the_second_digit_chooses_the_second_option(text):
    assert answer(text) == 2


@pytest.mark.parametrize("text", ["3", "0", "12", "-3", "99999999999999999999999999999999999"])
def test_a_digit_outside_the_options_is_no_answer(text):
    assert answer(text) is None


def test_a_digit_is_an_answer_up_to_the_number_of_options():
    assert answer("3", options=THREE_BARE) == 3
    assert answer("4", options=THREE_BARE) is None


def test_a_number_too_long_to_convert_is_no_answer():
    assert answer("1" * 5000) is None


def test_a_poll_without_options_has_no_answer():
    assert answer("1", options=[]) is None


# Number words


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("one", 1),
        ("two", 2),
        ("three", 3),
        ("four", 4),
        ("five", 5),
        ("six", 6),
        ("seven", 7),
        ("eight", 8),
        ("nine", 9),
        ("ten", 10),
    ],
)
def test_an_english_number_word_chooses_its_option(text, option):
    assert answer(text, TEN_BARE) == option


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("moja", 1),
        ("mbili", 2),
        ("tatu", 3),
        ("nne", 4),
        ("tano", 5),
        ("sita", 6),
        ("saba", 7),
        ("nane", 8),
        ("tisa", 9),
        ("kumi", 10),
    ],
)
def test_a_swahili_number_word_chooses_its_option(text, option):
    assert answer(text, TEN_BARE) == option


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("un", 1),
        ("une", 1),
        ("deux", 2),
        ("trois", 3),
        ("quatre", 4),
        ("cinq", 5),
        ("six", 6),
        ("sept", 7),
        ("huit", 8),
        ("neuf", 9),
        ("dix", 10),
    ],
)
def test_a_french_number_word_chooses_its_option(text, option):
    assert answer(text, TEN_BARE) == option


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("uno", 1),
        ("una", 1),
        ("dos", 2),
        ("tres", 3),
        ("cuatro", 4),
        ("cinco", 5),
        ("seis", 6),
        ("siete", 7),
        ("ocho", 8),
        ("nueve", 9),
        ("diez", 10),
    ],
)
def test_a_spanish_number_word_chooses_its_option(text, option):
    assert answer(text, TEN_BARE) == option


@pytest.mark.parametrize(
    ("text", "option"),
    [("DEUX", 2), ("Uno", 1), ("TRÈS", 3), ("Mbili!", 2), ("«Trois»", 3), ("DÍEZ", 10)],
)
def test_a_number_word_is_read_in_any_case_and_accent(text, option):
    assert answer(text, TEN_BARE) == option


@pytest.mark.parametrize("text", ["tatu", "three", "trois", "tres"])
def test_a_number_word_beyond_the_options_is_no_answer(text):
    assert answer(text, TWO_BARE) is None


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("un mentor", TEN_BARE),  # French "a"
        ("una pregunta", TEN_BARE),  # Spanish "a"
        ("tres bien", TEN_BARE),  # French "very"
        ("la paix", TWO_BARE),  # French "the", Swahili "no"
        ("si quiero saber", TWO_BARE),  # Spanish "if"
        ("y yo", TWO_BARE),  # Spanish "and"
    ],
)
def test_an_everyday_word_that_spells_an_answer_is_not_one_inside_a_sentence(text, options):
    assert answer(text, options) is None


# Yes and no


@pytest.mark.parametrize(
    "text",
    ["yes", "Y", "yeah", "yep", "ndiyo", "Ndio", "ndyo", "sawa", "OUI", "si", "sí", "Yes please!"],
)
def test_yes_in_any_language_chooses_the_first_of_two_options(text):
    assert answer(text, TWO_BARE) == 1


@pytest.mark.parametrize(
    "text", ["no", "N", "nope", "Hapana", "la", "non", "No gracias", "NO!", "Non merci"]
)
def test_no_in_any_language_chooses_the_second_of_two_options(text):
    assert answer(text, TWO_BARE) == 2


@pytest.mark.parametrize("text", ["yes", "ndiyo", "no", "hapana", "oui", "non"])
def test_yes_and_no_are_no_answer_when_a_poll_has_three_options(text):
    assert answer(text, THREE_BARE) is None


def test_yes_or_no_leading_a_reply_still_answers():
    assert answer("Ndiyo nitapiga kura kwa amani", TWO_BARE) == 1
    assert answer("hapana asante", TWO_BARE) == 2


# The poll's own labels


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("pledge", 1),
        ("AHADI", 1),
        ("Promesse!", 1),
        ("promesa.", 1),
        ("mentor", 2),
        ("Mshauri 🙏", 2),
        ("'mentora'", 2),
    ],
)
def test_a_label_chooses_its_option_in_any_case_or_punctuation(text, option):
    assert answer(text) == option


def test_a_label_is_matched_without_its_accents():
    assert answer("PAIX", options=[["paix"], ["guerre"]]) == 1
    assert answer("réponse", options=[["vote"], ["reponse"]]) == 2


@pytest.mark.parametrize(
    ("text", "option"),
    [("pledge I will vote in peace", 1), ("mshauri tafadhali", 2), ("Mentor, asap", 2)],
)
def test_a_reply_whose_first_word_is_a_label_chooses_it(text, option):
    assert answer(text) == option


def test_a_label_of_several_words_chooses_its_option():
    options = [["peaceful vote"], ["talk to a mentor"]]

    assert answer("Talk to a mentor!", options=options) == 2
    assert answer("peaceful vote", options=options) == 1


def test_a_label_later_in_the_reply_is_not_an_answer_by_itself():
    assert answer("I would love a mentor") is None


def test_a_polls_own_label_wins_over_the_generic_meaning_of_its_word():
    # "Reply NO if you have not registered to vote, YES if you have."
    options = [["no"], ["yes"]]

    assert answer("yes", options=options) == 2
    assert answer("no", options=options) == 1


def test_a_label_shared_by_two_options_is_no_answer():
    assert answer("amani", options=[["amani"], ["amani", "mentor"]]) is None


@pytest.mark.parametrize("options", [[[], ["", "!!", "👍"]], [["  "], []]])
def test_labels_without_letters_or_digits_are_ignored(options):
    assert answer("2", options=options) == 2
    assert answer("👍", options=options) is None


# Typos


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("ndiyoo", 1),  # insertion
        ("hapaa", 2),  # deletion
        ("hapnaa", 2),  # adjacent transposition
        ("ndiyp", 1),  # substitution
    ],
)
def test_one_typo_in_a_long_yes_or_no_word_is_forgiven(text, option):
    assert answer(text, TWO_BARE) == option


@pytest.mark.parametrize(
    ("text", "option"), [("pledgr", 1), ("plegde", 1), ("mshaur", 2), ("mentorr", 2)]
)
def test_one_typo_in_a_long_label_is_forgiven(text, option):
    assert answer(text) == option


@pytest.mark.parametrize(("text", "option"), [("sevem", 7), ("cuatra", 4), ("quatro", 4)])
def test_one_typo_in_a_long_number_word_is_forgiven(text, option):
    assert answer(text, TEN_BARE) == option


@pytest.mark.parametrize(("text", "options"), [("mojaa", TEN_BARE), ("ndyoo", TWO_BARE)])
def test_a_typo_in_a_word_shorter_than_five_letters_is_not_forgiven(text, options):
    assert answer(text, options) is None


def test_two_typos_are_not_forgiven():
    assert answer("plwdgr") is None


def test_a_typo_that_could_be_either_option_is_no_answer():
    options = [["peace"], ["piece"]]

    assert answer("peice", options=options) is None
    assert answer("peace", options=options) == 1


def test_a_typo_is_not_forgiven_inside_a_sentence():
    assert answer("pledgr today I think") is None


@pytest.mark.parametrize(("text", "options"), [("there", TEN_BARE), ("weight", TEN_BARE)])
def test_a_real_word_one_letter_from_a_number_is_not_read_as_a_typo(text, options):
    assert answer(text, options) is None


# Words around the answer


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("1 please", 1),
        ("jibu 2", 2),
        ("answer: 2", 2),
        ("nachagua 1", 1),
        ("I choose 2", 2),
        ("Jibu ni 1, asante", 1),
        ("Je choisis 2 merci", 2),
        ("Elijo la opción 1", 1),
        ("my answer is two", 2),
        ("nachagua mbili tafadhali", 2),
        ("s'il vous plaît deux", 2),
        ("uno por favor", 1),
        ("I have chosen 2", 2),
    ],
)
def test_words_around_an_answer_are_ignored(text, option):
    assert answer(text) == option


@pytest.mark.parametrize(
    "text", ["1 or 2", "1 2", "1,2", "1/2", "moja au mbili", "1, then deux", "pledge 2", "mentor 1"]
)
def test_a_reply_naming_two_different_options_is_ambiguous(text):
    assert answer(text) is None


def test_yes_and_no_together_are_ambiguous():
    assert answer("yes or no", TWO_BARE) is None
    assert answer("ndiyo hapana", TWO_BARE) is None


def test_naming_the_same_option_twice_is_still_that_option():
    assert answer("1 pledge") == 1
    assert answer("yes 1", TWO_BARE) == 1


def test_a_long_message_that_merely_contains_a_digit_is_no_answer():
    assert answer("I will vote peacefully with my 2 brothers on election day") is None


def test_a_long_message_that_starts_with_its_answer_chooses_it():
    assert answer("1 I pledge to vote peacefully with all my friends") == 1


def test_a_long_message_that_starts_with_one_option_and_names_another_is_ambiguous():
    assert answer("1 or 2 I cannot decide which one is better for me") is None


def test_a_reply_of_only_politeness_is_no_answer():
    assert answer("please, thank you!") is None
    assert answer("asante sana") is None


@pytest.mark.parametrize("text", ["👍 1", "1 👍", "✅1✅", "🙏🏾 1 🙏🏾"])
def test_emoji_around_an_answer_are_ignored(text):
    assert answer(text) == 1


@pytest.mark.parametrize("text", ["", "   ", "👍", "?!", "hello", "habari yako"])
def test_a_reply_without_an_answer_is_none(text):
    assert answer(text) is None


# The word lists themselves


def test_no_filler_word_is_also_an_answer_word():
    answers = set(NUMBER_WORDS) | YES_WORDS | NO_WORDS

    assert FILLER_WORDS.isdisjoint(answers)


def test_yes_and_no_words_never_overlap():
    assert YES_WORDS.isdisjoint(NO_WORDS)


# Properties

answer_words = sorted(
    {*NUMBER_WORDS, *YES_WORDS, *NO_WORDS, "pledge", "mentor", "ndiyoo", "pledgr"}
)
reply_words = (
    st.sampled_from(answer_words)
    | st.sampled_from(sorted(FILLER_WORDS))
    | st.integers(-5, 20).map(str)
    | st.text(max_size=8)
)
replies = st.text() | st.lists(reply_words, max_size=9).map(" ".join)
labels = st.sampled_from(answer_words) | st.text(max_size=12)
polls = st.lists(st.lists(labels, max_size=3), max_size=6)


@given(text=replies, options=polls)
def test_any_reply_is_none_or_an_option_of_the_poll(text, options):
    result = normalise_answer(text, options=options)

    assert result is None or (type(result) is int and 1 <= result <= len(options))


@given(options=polls.filter(bool), data=st.data(), wrap=st.sampled_from(["{}", " #{}. ", "({})!"]))
def test_a_bare_option_number_always_chooses_that_option(options, data, wrap):
    option = data.draw(st.integers(1, len(options)))

    assert normalise_answer(wrap.format(option), options=options) == option


@given(options=polls.filter(lambda poll: len(poll) >= 2), data=st.data())
def test_two_different_option_numbers_are_always_ambiguous(options, data):
    first, second = data.draw(
        st.lists(st.integers(1, len(options)), min_size=2, max_size=2, unique=True)
    )

    assert normalise_answer(f"{first} or {second}", options=options) is None
