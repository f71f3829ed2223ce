"""SMS keywords: which intent (join, stop, start, help, language) an inbound text expresses.

Pure Python, no database: an organization's KeywordSet is built once and `match_keyword` is
called on every inbound SMS.
"""

import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import MappingProxyType

# Typos are only forgiven on words this long: short words are too close to each other and to
# ordinary words ("JION", "STOPP", "PAS").
TYPO_MIN_LENGTH = 5


class Intent(StrEnum):
    JOIN = "join"
    STOP = "stop"
    START = "start"
    HELP = "help"
    LANGUAGE = "language"
    LINK = "link"


@dataclass(frozen=True)
class Keyword:
    word: str
    intent: Intent
    language: str | None = None


@dataclass(frozen=True)
class KeywordMatch:
    intent: Intent
    keyword: Keyword
    exact: bool
    argument: str
    target_language: str | None = None
    # The keyword is the text's first word (a strong stop word may also be found later on).
    first: bool = True

    @property
    def everywhere(self) -> bool:
        """A stop on every channel: STOPALL, or a stop followed by "all" / "everything",
        at the start of the text ("we must stop all violence" stops this channel only)."""
        if self.intent is not Intent.STOP or not self.first:
            return False
        first = self.argument.partition(" ")[0]
        return normalize(self.keyword.word) in STOP_EVERYWHERE_WORDS or first in ALL_WORDS


class KeywordSet:
    """An immutable set of keywords with precomputed lookup; built once per organization."""

    __slots__ = ("_by_length", "_exact", "_keywords", "_strong_stops")

    def __init__(self, keywords: Iterable[Keyword]) -> None:
        """Index `keywords`; raise ValueError on an empty word or a word with two intents."""
        exact: dict[str, Keyword] = {}
        for keyword in keywords:
            word = _checked_word(keyword)
            if word not in exact:
                exact[word] = keyword
            elif exact[word].intent != keyword.intent:
                raise ValueError(
                    f"Keyword {keyword.word!r} is configured for both "
                    f"{exact[word].intent} and {keyword.intent}."
                )
        by_length: dict[int, list[tuple[str, Keyword]]] = {}
        for word, keyword in exact.items():
            if len(word) >= TYPO_MIN_LENGTH:
                by_length.setdefault(len(word), []).append((word, keyword))
        self._keywords = tuple(exact.values())
        self._exact = MappingProxyType(exact)
        self._by_length = MappingProxyType({n: tuple(ws) for n, ws in by_length.items()})
        # Strong stop words work in every set, configured or not: an opt-out must never be missed.
        self._strong_stops = MappingProxyType(
            {word: exact.get(word, default) for word, default in _default_strong_stops().items()}
        )

    @classmethod
    def defaults(cls) -> "KeywordSet":
        """The built-in keywords (one shared instance; a KeywordSet is immutable)."""
        return _default_keyword_set()

    def extended(self, extra: Iterable[Keyword]) -> "KeywordSet":
        """These keywords plus `extra` (an organization's own); a repeated word keeps the first."""
        return KeywordSet((*self._keywords, *extra))

    def __iter__(self) -> Iterator[Keyword]:
        return iter(self._keywords)

    def __len__(self) -> int:
        return len(self._keywords)

    def __repr__(self) -> str:
        return f"KeywordSet({[k.word for k in self._keywords]!r})"


DEFAULT_KEYWORDS: tuple[Keyword, ...] = (
    *(Keyword(w, Intent.JOIN, "en") for w in ("JOIN", "SUBSCRIBE")),
    Keyword("AMANI", Intent.JOIN, None),
    Keyword("JIUNGE", Intent.JOIN, "sw"),
    Keyword("PAZ", Intent.JOIN, "es"),
    Keyword("PAIX", Intent.JOIN, "fr"),
    Keyword("REJOINDRE", Intent.JOIN, "fr"),
    Keyword("UNIRME", Intent.JOIN, "es"),
    # Twilio's standard opt-out words, then local ones.
    *(
        Keyword(w, Intent.STOP, "en")
        for w in ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE")
    ),
    *(Keyword(w, Intent.STOP, "sw") for w in ("ACHA", "SITISHA")),
    *(Keyword(w, Intent.STOP, "fr") for w in ("ARRET", "ARRETE", "ARRETER")),
    *(Keyword(w, Intent.STOP, "es") for w in ("PARAR", "ALTO")),
    *(Keyword(w, Intent.START, "en") for w in ("START", "YES", "UNSTOP")),
    Keyword("ANZA", Intent.START, "sw"),
    Keyword("REPRENDRE", Intent.START, "fr"),
    Keyword("EMPEZAR", Intent.START, "es"),
    *(Keyword(w, Intent.HELP, "en") for w in ("HELP", "INFO")),
    Keyword("MSAADA", Intent.HELP, "sw"),
    Keyword("AIDE", Intent.HELP, "fr"),
    Keyword("AYUDA", Intent.HELP, "es"),
    *(Keyword(w, Intent.LANGUAGE, "en") for w in ("LANG", "LANGUAGE")),
    Keyword("LUGHA", Intent.LANGUAGE, "sw"),
    Keyword("LANGUE", Intent.LANGUAGE, "fr"),
    Keyword("IDIOMA", Intent.LANGUAGE, "es"),
    # A code to prove that two of one's addresses (a Telegram chat, a phone) are one person.
    Keyword("LINK", Intent.LINK, "en"),
    Keyword("UNGANISHA", Intent.LINK, "sw"),
    Keyword("LIER", Intent.LINK, "fr"),
    Keyword("VINCULAR", Intent.LINK, "es"),
)

# Stop words that stop every channel of the person, and the words after STOP that do too.
STOP_EVERYWHERE_WORDS: frozenset[str] = frozenset({"stopall"})
ALL_WORDS: frozenset[str] = frozenset(
    {"all", "everything", "yote", "kila", "kabisa", "tout", "tous", "todo", "todos"}
)

# Stop words that opt out wherever they appear; weak ones ("END", "QUIT") only as the first
# word, so "the violence must end" opts nobody out.
STRONG_STOP_WORDS: frozenset[str] = frozenset({"stop", "stopall", "unsubscribe", "optout"})

# Normalized keys: ISO codes, and names in English, Swahili and the language itself.
LANGUAGE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(("sw", "swahili", "kiswahili"), "sw"),
        **dict.fromkeys(("en", "english", "kiingereza", "anglais", "ingles"), "en"),
        **dict.fromkeys(("fr", "french", "francais", "kifaransa"), "fr"),
        **dict.fromkeys(("es", "spanish", "espanol", "kihispania"), "es"),
        **dict.fromkeys(("pt", "portuguese", "portugues", "kireno"), "pt"),
        **dict.fromkeys(("so", "somali", "kisomali"), "so"),
        **dict.fromkeys(("ar", "arabic", "kiarabu", "arabe"), "ar"),
    }
)


def normalize(text: str) -> str:
    """Accent-free, case-folded words of letters and digits separated by single spaces."""
    return " ".join(_strip_marks(text).casefold().split())


def match_keyword(text: str, keywords: KeywordSet) -> KeywordMatch | None:
    """The keyword `text` starts with, or a strong stop word anywhere in it; None for free text.

    A stop wins over everything else; a typo is forgiven only when exactly one keyword is one
    edit away, never by guessing between two.
    """
    words = normalize(text).split(" ")
    first_match = _match_first_word(words, keywords)
    if first_match is not None and first_match.intent is Intent.STOP:
        return first_match
    for position, word in enumerate(words):
        if word in keywords._strong_stops:
            stop = keywords._strong_stops[word]
            return KeywordMatch(
                Intent.STOP, stop, True, " ".join(words[position + 1 :]), first=position == 0
            )
    return first_match


def _match_first_word(words: list[str], keywords: KeywordSet) -> KeywordMatch | None:
    first, argument = words[0], " ".join(words[1:])
    # "" is empty text; digits are menu answers ("1", "2"), never keywords.
    if not first or first.isdigit():
        return None
    keyword, exact = keywords._exact.get(first), True
    if keyword is None:
        keyword, exact = _only_keyword_one_typo_away(first, keywords), False
    if keyword is None:
        return None
    target = None
    if keyword.intent is Intent.LANGUAGE:
        target = LANGUAGE_NAMES.get(argument.partition(" ")[0])
    return KeywordMatch(keyword.intent, keyword, exact, argument, target)


def _only_keyword_one_typo_away(word: str, keywords: KeywordSet) -> Keyword | None:
    if len(word) < TYPO_MIN_LENGTH:
        return None
    found = [
        keyword
        for length in (len(word) - 1, len(word), len(word) + 1)
        for candidate, keyword in keywords._by_length.get(length, ())
        if within_one_edit(word, candidate)
    ]
    # Two candidates are ambiguous even when they share an intent: never guess.
    return found[0] if len(found) == 1 else None


def within_one_edit(a: str, b: str) -> bool:
    """Optimal-string-alignment distance ≤ 1: one insertion, deletion, substitution or swap."""
    if len(a) < len(b):
        a, b = b, a
    if len(a) - len(b) > 1:
        return False
    i = 0
    while i < len(b) and a[i] == b[i]:
        i += 1
    if len(a) != len(b):
        return a[i + 1 :] == b[i:]
    return a[i + 1 :] == b[i + 1 :] or (
        a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :]
    )


def _strip_marks(text: str) -> str:
    # Marks go (accents: "PAÍX" -> "PAIX"); anything else that is not a letter or digit
    # (punctuation, emoji) becomes a space.
    return "".join(
        ch if ch.isalnum() else " "
        for ch in unicodedata.normalize("NFKD", text)
        if not unicodedata.category(ch).startswith("M")
    )


def _checked_word(keyword: Keyword) -> str:
    word = normalize(keyword.word)
    if not word:
        raise ValueError(f"Keyword {keyword.word!r} is empty once normalized.")
    if " " in word or word.isdigit():
        # It could never match: messages are matched word by word, and digits are not keywords.
        raise ValueError(f"Keyword {keyword.word!r} must be one word of letters.")
    if word in STRONG_STOP_WORDS and keyword.intent is not Intent.STOP:
        raise ValueError(
            f"Keyword {keyword.word!r} always means stop; it cannot mean {keyword.intent}."
        )
    return word


@cache
def _default_strong_stops() -> dict[str, Keyword]:
    return {
        normalize(k.word): k for k in DEFAULT_KEYWORDS if normalize(k.word) in STRONG_STOP_WORDS
    }


@cache
def _default_keyword_set() -> KeywordSet:
    return KeywordSet(DEFAULT_KEYWORDS)
