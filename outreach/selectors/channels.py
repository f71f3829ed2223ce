"""Reads of channels for the hot paths: a webhook finds its channel without a query.

Provider webhooks arrive by the thousand during a wave, and each names its channel by
UUID. A process keeps what it loaded for a few seconds; a webhook whose signature does
not verify against the kept channel asks again with `fresh=True`, so a rotated auth
token takes effect at once, and a deactivated channel stops answering within the TTL.
"""

import threading
import time
import uuid

from outreach.models import Channel

TTL_SECONDS = 10.0
_kept: dict[tuple[uuid.UUID, tuple[str, ...]], tuple[float, Channel | None]] = {}
_lock = threading.Lock()


def webhook_channel(
    *, channel_uuid: uuid.UUID, kind: str | tuple[str, ...], fresh: bool = False
) -> Channel | None:
    """The active channel of this kind (or one of these kinds) with this UUID, or None."""
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    key = (channel_uuid, kinds)
    now = time.monotonic()
    kept = _kept.get(key)
    if kept is not None and not fresh and kept[0] > now:
        return kept[1]
    channel = (
        Channel.objects.select_related("organization")
        .filter(uuid=channel_uuid, kind__in=kinds, is_active=True)
        .first()
    )
    with _lock:
        if len(_kept) > 10_000:  # bounded: unknown UUIDs are kept too
            _kept.clear()
        _kept[key] = (now + TTL_SECONDS, channel)
    return channel


def forget_webhook_channels() -> None:
    """Drop what this process keeps (tests, and after a channel changes in this process)."""
    with _lock:
        _kept.clear()
