"""Reads of channels for the hot paths: a webhook finds its channel without a query.

Provider webhooks arrive by the thousand during a wave, and each names its channel by
UUID. A process keeps what it loaded for a few seconds; a webhook whose signature does
not verify against the kept channel asks again with `fresh=True`, so a rotated auth
token takes effect at once, and a deactivated channel stops answering within the TTL.
"""

import threading
import uuid

from cachetools import TTLCache

from outreach.models import Channel

TTL_SECONDS = 10.0
# Bounded (unknown UUIDs are kept too: a flood of them cannot grow it), least recent out.
_kept: TTLCache[tuple[uuid.UUID, tuple[str, ...]], Channel | None] = TTLCache(
    maxsize=10_000, ttl=TTL_SECONDS
)
_lock = threading.Lock()
_NOT_KEPT = object()  # None is a kept answer too: no such active channel


def webhook_channel(
    *, channel_uuid: uuid.UUID, kind: str | tuple[str, ...], fresh: bool = False
) -> Channel | None:
    """The active channel of this kind (or one of these kinds) with this UUID, or None."""
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    key = (channel_uuid, kinds)
    if not fresh:
        with _lock:
            kept = _kept.get(key, _NOT_KEPT)  # one lookup: an entry may expire between two
        if kept is not _NOT_KEPT:
            return kept
    channel = (
        Channel.objects.select_related("organization")
        .filter(uuid=channel_uuid, kind__in=kinds, is_active=True)
        .first()
    )
    with _lock:
        _kept[key] = channel
    return channel


def forget_webhook_channels() -> None:
    """Drop what this process keeps (tests, and after a channel changes in this process)."""
    with _lock:
        _kept.clear()
