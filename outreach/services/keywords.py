"""Writes on an organization's own keywords (the built-in ones live in outreach.keywords)."""

from django.db import IntegrityError, transaction

from outreach.errors import InvalidInput
from outreach.keywords import normalize
from outreach.models import Keyword, Organization
from outreach.selectors.conversation import forget_webhook_keywords


@transaction.atomic
def keyword_create(
    *, organization: Organization, word: str, intent: str, language: str = ""
) -> Keyword:
    """Add a keyword; a word the organization has already (in any case or accents) is refused."""
    keyword = Keyword(organization=organization, word=word, intent=intent, language=language)
    return _save(keyword)


@transaction.atomic
def keyword_update(*, keyword: Keyword, **changes: str) -> Keyword:
    """Change a keyword's word, intent or language; renaming onto another keyword is refused."""
    unknown = sorted(set(changes) - {"word", "intent", "language"})
    if unknown:
        raise InvalidInput(f"'{unknown[0]}' is not a keyword setting.", field=unknown[0])
    for name, value in changes.items():
        setattr(keyword, name, value)
    return _save(keyword)


def _save(keyword: Keyword) -> Keyword:
    _refuse_taken(keyword)
    try:
        with transaction.atomic():
            keyword.save()
    except IntegrityError as error:  # a concurrent save of the same word
        raise InvalidInput(_taken(keyword.word), field="word") from error
    transaction.on_commit(forget_webhook_keywords)
    return keyword


def _refuse_taken(keyword: Keyword) -> None:
    # The router compares words normalized, so "Umoja" would shadow "UMOJA" without a clash.
    word = normalize(keyword.word)
    others = Keyword.objects.filter(organization_id=keyword.organization_id).exclude(pk=keyword.pk)
    if any(normalize(other) == word for other in others.values_list("word", flat=True)):
        raise InvalidInput(_taken(keyword.word), field="word")


def _taken(word: str) -> str:
    return f"The organization has the keyword {word!r} already."
