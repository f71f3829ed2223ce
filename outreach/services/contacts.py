"""Contacts: one person's addresses joined, only on proof.

Two addresses become one contact when they are the same phone number on SMS and WhatsApp
(outreach.services.subscribers.subscriber_for_address), or when the person proves both
ends: they ask for a code on one (LINK), it is sent there, and they type it on the other
(LINK 12345678) within LINK_CODE_TTL. Staff never join people by guessing.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from outreach.models import Contact, LinkCode, Subscriber
from outreach.redis_client import redis_client
from outreach.services.subscribers import PERSON_FIELDS

LINK_CODE_TTL = timedelta(minutes=15)
LINK_CODE_DIGITS = 8
# Codes one address may ask for, and wrong codes it may type, in an hour: a code is a door,
# not a slot machine (10^8 codes, 5 tries an hour).
LINK_CODES_PER_HOUR = 5
WRONG_CODES_PER_HOUR = 5


def link_code_issue(*, subscriber: Subscriber) -> str | None:
    """A fresh code for this address (sent to it); None when it asked too often."""
    hour_ago = timezone.now() - timedelta(hours=1)
    if (
        LinkCode.objects.filter(subscriber=subscriber, created_at__gte=hour_ago).count()
        >= LINK_CODES_PER_HOUR
    ):
        return None
    live = LinkCode.objects.filter(
        subscriber__organization_id=subscriber.organization_id,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    while True:  # unique among the organization's live codes: a code names one address
        code = "".join(secrets.choice("0123456789") for _ in range(LINK_CODE_DIGITS))
        if not live.filter(code_hash=_hash(subscriber.organization_id, code)).exists():
            break
    LinkCode.objects.create(
        subscriber=subscriber,
        code_hash=_hash(subscriber.organization_id, code),
        expires_at=timezone.now() + LINK_CODE_TTL,
    )
    return code


@transaction.atomic
def link_code_redeem(*, subscriber: Subscriber, code: str) -> bool:
    """Join this address's person with the one the code was sent to; True when it did.

    A code works once, within its time, in its organization, typed on another address;
    an address that typed WRONG_CODES_PER_HOUR wrong ones in the last hour is not heard."""
    if _wrong_codes(subscriber) >= WRONG_CODES_PER_HOUR:
        return False
    found = (
        LinkCode.objects.select_for_update()
        .select_related("subscriber")
        .filter(
            code_hash=_hash(subscriber.organization_id, code.strip()),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            subscriber__organization_id=subscriber.organization_id,
        )
        .exclude(subscriber_id=subscriber.pk)
        .first()
    )
    if found is None:
        _count_wrong_code(subscriber)
        return False
    LinkCode.objects.filter(pk=found.pk).update(used_at=timezone.now())
    if found.subscriber.contact_id != subscriber.contact_id:
        contacts_merge(keep_id=found.subscriber.contact_id, other_id=subscriber.contact_id)
    return True


@transaction.atomic
def contacts_merge(*, keep_id: int, other_id: int) -> None:
    """Make `other_id`'s addresses `keep_id`'s: one person from now on, and in the counts
    of their messages so far (a report's people are contacts). The kept profile is the
    first person's, its blanks filled from the other's."""
    # Both people's addresses locked first, in one order: a merge the other way round, an
    # erasure or a new address of either waits instead of finding a contact half moved.
    list(Contact.objects.select_for_update().filter(pk__in=[keep_id, other_id]).order_by("pk"))
    list(
        Subscriber.objects.select_for_update()
        .filter(contact_id__in=[keep_id, other_id])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    keep = Subscriber.objects.filter(contact_id=keep_id).order_by("pk").first()
    other = Subscriber.objects.filter(contact_id=other_id).order_by("pk").first()
    moved = list(Subscriber.objects.filter(contact_id=other_id).values_list("pk", flat=True))
    Subscriber.objects.filter(pk__in=moved).update(contact_id=keep_id)
    with connection.cursor() as cursor:
        # A wave that reached both already: the moved message becomes a later step of it,
        # so (wave, person, step) stays unique.
        cursor.execute(
            """
            UPDATE outreach_outboundmessage m
            SET contact_id = %(keep)s,
                fallback_step = m.fallback_step + coalesce(
                    (SELECT max(k.fallback_step) + 1 FROM outreach_outboundmessage k
                     WHERE k.wave_id = m.wave_id AND k.contact_id = %(keep)s), 0)
            WHERE m.subscriber_id = ANY(%(moved)s)
            """,
            {"keep": keep_id, "moved": moved},
        )
    Contact.objects.filter(pk=other_id).delete()
    if keep is None or other is None:
        return
    profile = {
        field: getattr(keep, field) or getattr(other, field)
        for field in PERSON_FIELDS
        if field != "language_source"
    }
    Subscriber.objects.filter(contact_id=keep_id).update(**profile, updated_at=timezone.now())


def _wrong_codes(subscriber: Subscriber) -> int:
    client = redis_client()
    if client is None:
        return 0
    try:
        return int(client.get(_wrong_key(subscriber)) or 0)
    except redis.RedisError:
        return WRONG_CODES_PER_HOUR  # unsure: not heard now, the person can try again later


def _count_wrong_code(subscriber: Subscriber) -> None:
    client = redis_client()
    if client is None:
        return
    try:
        with client.pipeline() as pipe:
            pipe.incr(_wrong_key(subscriber)).expire(_wrong_key(subscriber), 3600).execute()
    except redis.RedisError:
        pass


def _wrong_key(subscriber: Subscriber) -> str:
    return f"amani:link:wrong:{subscriber.pk}"


def _hash(organization_id: int, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{organization_id}:{code}".encode(), hashlib.sha256).hexdigest()
