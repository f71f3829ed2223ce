"""Poll answers: which option of an SMS poll a free-text reply chooses.

Pure Python, no database. A wave carries a poll ("Reply 1 to pledge a peaceful vote, 2 if you
want to talk to a mentor"); replies come back as free text in English, Swahili, French or
Spanish, and `normalise_answer` turns one into an option number, or None when it is not a clear
answer. When in doubt it answers None: a wrong option is worse than an unanswered poll.

How a reply is read:
- It is split into words of letters and words of digits; accents, case, punctuation and emoji
  go ("#1", "(1)", "1." and "👍 1" are all "1").
- Politeness and answer markers ("please", "jibu", "I choose", "s'il vous plaît") are dropped
  from both ends, leaving the core of the reply.
- The core's first word(s) may be the answer: a digit, one of the poll's labels, a number word
  or, in a two-option poll, yes/no. Labels come first: they were written for this poll.
- A short reply (at most six words) may also carry its number anywhere ("I have chosen 2").
- Every other digit, number word, yes/no or label in a short reply must agree with the answer;
  two different options ("1 or 2", "moja au mbili") are ambiguous. In a long reply only digits
  that are options count against it, and a long reply must start with its answer.
- A one-letter typo is forgiven on a whole core of words of five letters or more, never when
  it could be read as two different options, and never on a real word (NOT_TYPOS: "there" is
  not "three").
"""

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from outreach.keywords import within_one_edit

# Typos are only forgiven on words this long (the reply's and the known word): short words are
# too close to each other ("tatu", "tano") and to ordinary words.
TYPO_MIN_LENGTH = 5

# A reply longer than this is free text: a digit in it is not an answer unless it leads.
MAX_ANSWER_WORDS = 6

# A number with more digits than this is no option; int() of a huge one would raise.
_MAX_DIGITS = 3


def _number_words(*words_by_language: Sequence[str | tuple[str, ...]]) -> dict[str, int]:
    numbers: dict[str, int] = {}
    for words in words_by_language:
        for value, spellings in enumerate(words, start=1):
            for word in (spellings,) if isinstance(spellings, str) else spellings:
                numbers[word] = value
    return numbers


NUMBER_WORDS: Mapping[str, int] = MappingProxyType(
    _number_words(
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
        ("moja", "mbili", "tatu", "nne", "tano", "sita", "saba", "nane", "tisa", "kumi"),
        (("un", "une"), "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix"),
        (
            ("uno", "una"),
            "dos",
            "tres",
            "cuatro",
            "cinco",
            "seis",
            "siete",
            "ocho",
            "nueve",
            "diez",
        ),
    )
)

# Only in polls of exactly two options: yes chooses option 1, no option 2.
YES_WORDS: frozenset[str] = frozenset(
    {"yes", "y", "yeah", "yep", "ndiyo", "ndio", "ndyo", "sawa", "oui", "si"}
)
NO_WORDS: frozenset[str] = frozenset({"no", "n", "nope", "hapana", "la", "non"})

# Answer words that are also everyday words in another of the four languages (articles, "if",
# "and", "very", "new"): they answer only when they are the whole core of the reply, so
# "la paix" or "un mentor" is not read as "la" (no) or "un" (one).
WEAK_WORDS: frozenset[str] = frozenset(
    {"un", "une", "uno", "una", "one", "tres", "neuf", "si", "la", "y", "n"}
)

# Dropped from both ends of a reply: how people wrap an answer ("jibu 2", "1 please").
FILLER_WORDS: frozenset[str] = frozenset(
    {
        # English
        *("i", "im", "m", "d", "ll", "choose", "chose", "pick", "select", "want", "would"),
        *("like", "option", "opt", "number", "num", "nr", "answer", "reply", "my"),
        *("is", "it", "its", "s", "the", "please", "pls", "plz", "thanks", "thank", "you"),
        *("thx", "choice", "ok", "okay"),
        # Swahili
        *("jibu", "majibu", "nachagua", "ninachagua", "chagua", "chaguo", "namba", "nambari"),
        *("ni", "tafadhali", "asante", "nataka", "naomba", "mimi", "langu"),
        # French
        *("je", "j", "choisis", "choisir", "prends", "veux", "reponse", "ma", "mon", "numero"),
        *("c", "est", "il", "vous", "plait", "merci", "choix"),
        # Spanish
        *("elijo", "escojo", "opcion", "respuesta", "mi", "es", "el", "por", "favor"),
        *("gracias", "quiero"),
    }
)

# Real words one letter away from an answer word: never read as a typo of it.
NOT_TYPOS: frozenset[str] = frozenset(
    {"there", "threw", "weight", "height", "sever", "nuevo", "nueva", "mbali", "quarte"}
)

# Runs of digits, or of letters: "#1" -> "1", "option1" -> "option 1", "s'il" -> "s il".
_TOKEN = re.compile(r"\d+|[^\W\d_]+")


@dataclass(frozen=True)
class _Entry:
    """Words that choose an option when a reply's core starts with them."""

    words: tuple[str, ...]
    option: int
    weak: bool = False


def normalise_answer(text: str, *, options: list[list[str]]) -> int | None:
    """The 1-based option a reply chooses, or None if it is not an answer to this poll.

    `options[i]` holds option i+1's own words ("pledge", "ahadi"); it may be empty, and digits,
    number words and (in a two-option poll) yes/no work without them.
    """
    count = len(options)
    words = _words(text)
    if count == 0 or not words:
        return None
    labels = _label_entries(options)
    generic = _generic_entries(two_options=count == 2)
    fillers = FILLER_WORDS - {word for entry in labels for word in entry.words}

    start, end = 0, len(words)
    while start < end and words[start] in fillers:
        start += 1
    while end > start and words[end - 1] in fillers:
        end -= 1
    answer, used = _leading_answer(words[start:end], labels, generic)
    long = _word_count(text) > MAX_ANSWER_WORDS
    others = [word for i, word in enumerate(words) if not start <= i < start + used]
    if not answer and (long or not any(word.isdecimal() for word in others)):
        return None
    chosen = answer | _mentioned_options(others, labels, generic, count=count, long=long)
    if len(chosen) != 1:
        return None
    (option,) = chosen
    return option if 1 <= option <= count else None


def _words(text: str) -> list[str]:
    """The reply's words of letters and of digits, accent-free and case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    unmarked = "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M"))
    return _TOKEN.findall(unmarked.casefold())


def _leading_answer(
    core: list[str], labels: list[_Entry], generic: list[_Entry]
) -> tuple[set[int], int]:
    """The options the core's first words choose, and how many words that took."""
    if not core:
        return set(), 0
    if core[0].isdecimal():
        return {_option_number(core[0])}, 1
    for entries in (labels, generic):
        found = [entry for entry in entries if _starts(core, entry, typo=False)]
        if found:
            longest = max(len(entry.words) for entry in found)
            return {entry.option for entry in found if len(entry.words) == longest}, longest
    # A typo only on a whole core: in "there is no way" "there" is not a typo of "three".
    found = [
        entry
        for entry in (*labels, *generic)
        if len(entry.words) == len(core) and _starts(core, entry, typo=True)
    ]
    return {entry.option for entry in found}, len(core) if found else 0


def _mentioned_options(
    words: list[str], labels: list[_Entry], generic: list[_Entry], *, count: int, long: bool
) -> set[int]:
    """Options that words outside the answer name: they must agree with it."""
    single_words: dict[str, set[int]] = {}
    for entry in generic:
        if len(entry.words) == 1 and not entry.weak:
            single_words.setdefault(entry.words[0], set()).add(entry.option)
    # A label overrides the generic meaning of its word: it was written for this poll.
    single_labels = [entry for entry in labels if len(entry.words) == 1]
    for entry in single_labels:
        single_words.pop(entry.words[0], None)
    for entry in single_labels:
        single_words.setdefault(entry.words[0], set()).add(entry.option)
    mentioned: set[int] = set()
    for word in words:
        if word.isdecimal():
            number = _option_number(word)
            if not long or 1 <= number <= count:
                mentioned.add(number)
        elif not long:
            mentioned |= single_words.get(word, set())
    return mentioned


def _starts(core: list[str], entry: _Entry, *, typo: bool) -> bool:
    if len(entry.words) > len(core) or (entry.weak and len(entry.words) != len(core)):
        return False
    return all(
        said == known or (typo and _one_typo_apart(said, known))
        for said, known in zip(core, entry.words, strict=False)
    )


def _one_typo_apart(said: str, known: str) -> bool:
    return (
        min(len(said), len(known)) >= TYPO_MIN_LENGTH
        and said not in NOT_TYPOS
        and within_one_edit(said, known)
    )


def _option_number(digits: str) -> int:
    # 0 is never an option, so any number too long to be one becomes 0.
    significant = digits.lstrip("0")
    return int(significant) if 0 < len(significant) <= _MAX_DIGITS else 0


def _word_count(text: str) -> int:
    return sum(1 for chunk in text.split() if any(ch.isalnum() for ch in chunk))


def _label_entries(options: list[list[str]]) -> list[_Entry]:
    return [
        _Entry(tuple(words), option)
        for option, labels in enumerate(options, start=1)
        for label in labels
        if (words := _words(label))
    ]


def _generic_entries(*, two_options: bool) -> list[_Entry]:
    entries = [_Entry((word,), n, word in WEAK_WORDS) for word, n in NUMBER_WORDS.items()]
    if two_options:
        entries += [_Entry((word,), 1, word in WEAK_WORDS) for word in YES_WORDS]
        entries += [_Entry((word,), 2, word in WEAK_WORDS) for word in NO_WORDS]
    return entries
