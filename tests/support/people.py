"""Subscribers made directly for tests, each one address of a person (contact) of its own.

Most tests meet people the way Amani does (a keyword through a webhook, an import); these
are for tests that need many addresses in a given state at once.
"""

from collections.abc import Iterable

from outreach.models import Channel, Contact, Subscriber


def make_subscriber(**fields: object) -> Subscriber:
    """`Subscriber.objects.create(**fields)`, with a contact of its own and the channel's
    scheme unless given."""
    (subscriber,) = with_contacts([Subscriber(**fields)])
    subscriber.save()
    return subscriber


def with_contacts(subscribers: Iterable[Subscriber]) -> list[Subscriber]:
    """Give each unsaved subscriber a new contact (one query for them all) and its
    channel's scheme; for `Subscriber.objects.bulk_create`."""
    people = list(subscribers)
    contacts = Contact.objects.bulk_create(
        Contact(organization_id=person.organization_id) for person in people
    )
    channels: dict[int, Channel] = {}
    for person, contact in zip(people, contacts, strict=True):
        person.contact = contact
        if person.channel_id not in channels:
            channels[person.channel_id] = Channel.objects.get(pk=person.channel_id)
        person.scheme = channels[person.channel_id].scheme
    return people


def opted_in(subscriber: Subscriber) -> Subscriber:
    """The subscriber opted in through the ledger, as a JOIN would."""
    from outreach.models import ConsentKind, ConsentSource
    from outreach.services.consent import consent_record

    consent_record(
        subscriber=subscriber,
        kind=ConsentKind.OPT_IN,
        source=ConsentSource.KEYWORD,
        keyword_as_texted="JOIN",
    )
    subscriber.refresh_from_db()
    return subscriber
