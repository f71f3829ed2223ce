"""Polls and pledges: a wave asks, subscribers answer by SMS in their own words.

A wave may carry a poll ("Reply 1 to pledge a peaceful vote, 2 to talk to a mentor").
A free-text reply from someone the wave reached within the attribution window is read by
`campaigns.poll_answers.normalise_answer` ("1", "one", "moja", "ndiyo", a label …). One
answer counts per subscriber and poll — the last one; earlier answers stay as history —
and a reply confirms the answer in the subscriber's language.
"""

from django.db import transaction
from django.utils import timezone

from campaigns.models import Poll, PollAnswer, PollOption, Wave
from campaigns.poll_answers import normalise_answer
from outreach.errors import InvalidInput
from outreach.models import InboundIntent, InboundMessage, Subscriber
from outreach.services.inbound import HandledReply

MAX_OPTIONS = 9
CONFIRMATIONS = {
    "en": "Thank you! Your answer: {option}. Reply STOP to opt out.",
    "sw": "Asante! Jibu lako: {option}. Jibu STOP kujiondoa.",
    "fr": "Merci ! Votre réponse : {option}. Répondez STOP pour arrêter.",
    "es": "¡Gracias! Tu respuesta: {option}. Responde STOP para salir.",
}


@transaction.atomic
def poll_set(*, wave: Wave, options: list[dict] | None) -> Poll | None:
    """Give a draft wave its poll's options (or none: `options` empty or None)."""
    Poll.objects.filter(wave=wave).delete()
    if not options:
        return None
    if len(options) > MAX_OPTIONS:
        raise InvalidInput(f"A poll has at most {MAX_OPTIONS} options.", field="poll.options")
    poll = Poll.objects.create(wave=wave)
    for index, option in enumerate(options):
        names = option.get("names") or {}
        labels = [str(label).strip() for label in option.get("labels") or [] if str(label).strip()]
        if not names or not all(isinstance(v, str) and v.strip() for v in names.values()):
            raise InvalidInput(
                "Each option needs a name in at least one language.",
                field=f"poll.options.{index}.names",
            )
        PollOption.objects.create(poll=poll, number=index + 1, names=names, labels=labels)
    return poll


def poll_reply_handler(
    subscriber: Subscriber, inbound: InboundMessage, wave_id: int | None
) -> HandledReply | None:
    """Registered with the inbound router: a reply answering the last wave's poll."""
    if wave_id is None:
        return None
    poll = Poll.objects.filter(wave_id=wave_id).prefetch_related("options").first()
    if poll is None:
        return None
    options = sorted(poll.options.all(), key=lambda option: option.number)
    number = normalise_answer(
        inbound.body, options=[[*option.labels, *option.names.values()] for option in options]
    )
    if number is None:
        return None
    option = options[number - 1]
    poll_answer_record(poll=poll, subscriber=subscriber, number=number, inbound=inbound)
    language = subscriber.language if subscriber.language in CONFIRMATIONS else "en"
    name = option.names.get(subscriber.language) or next(iter(option.names.values()))
    return HandledReply(
        intent=InboundIntent.POLL_ANSWER,
        reply_key="poll_answer",
        body=CONFIRMATIONS[language].format(option=name),
        language=language,
    )


def poll_answer_record(
    *, poll: Poll, subscriber: Subscriber, number: int, inbound: InboundMessage | None = None
) -> PollAnswer:
    """The person's answer now counts, whichever of their addresses it came on; their
    earlier answers are kept, no longer current."""
    with transaction.atomic():
        PollAnswer.objects.filter(
            poll=poll, subscriber__contact_id=subscriber.contact_id, is_current=True
        ).update(is_current=False)
        return PollAnswer.objects.create(
            organization_id=poll.wave.organization_id,
            poll=poll,
            subscriber=subscriber,
            option_number=number,
            language=subscriber.language,
            inbound=inbound,
            answered_at=inbound.received_at if inbound else timezone.now(),
        )
