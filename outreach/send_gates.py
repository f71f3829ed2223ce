"""Whether a wave's messages may go out now: asked by dispatch right before each provider call.

Outreach knows waves only by id. The campaigns app registers the one gate that knows
them (cancelled, paused, outside the campaign's sending window or in a blackout); a
message with no wave, or a wave the gate says nothing of, is open.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Hold:
    """Why a wave's messages may not go out now, and until when."""

    reason: str  # shown on the message (error_message) and to staff
    until: datetime | None = None  # the next opening; None: until someone resumes it
    final: bool = False  # cancelled: never again


Gate = Callable[[set[int], datetime], dict[int, Hold]]
HoldsFor = Callable[[Iterable[int | None], datetime], dict[int, Hold]]

_gates: list[Gate] = []


def register_gate(gate: Gate) -> None:
    """Called once from an AppConfig.ready(): `gate(wave_ids, now)` returns the held waves."""
    if gate not in _gates:
        _gates.append(gate)


def holds_for(wave_ids: Iterable[int | None], now: datetime) -> dict[int, Hold]:
    """The waves among `wave_ids` that may not send at `now`, each with its hold."""
    ids = {int(wave_id) for wave_id in wave_ids if wave_id}
    holds: dict[int, Hold] = {}
    if not ids:
        return holds
    for gate in _gates:
        for wave_id, hold in gate(ids, now).items():
            # A final hold (cancel) outranks a pause, which outranks a window.
            current = holds.get(wave_id)
            if current is None or (hold.final, hold.until is None) > (
                current.final,
                current.until is None,
            ):
                holds[wave_id] = hold
    return holds


class KeptHolds:
    """One dispatcher's memory of the gate's answers, each kept `seconds`.

    A wave's window is asked about once a second, not once a group. Cancel and pause do not
    wait for it: they take the messages back in the database, which the fence sees at once.
    """

    def __init__(self, seconds: float = 1.0) -> None:
        self.seconds = seconds
        self._kept: dict[int, tuple[float, Hold | None]] = {}

    def holds_for(self, wave_ids: Iterable[int | None], now: datetime) -> dict[int, Hold]:
        """`holds_for`, from memory where the answer is fresh enough."""
        ids = {int(wave_id) for wave_id in wave_ids if wave_id}
        clock = time.monotonic()
        stale = {wave_id for wave_id in ids if self._kept.get(wave_id, (0.0, None))[0] <= clock}
        if stale:
            fresh = holds_for(stale, now)
            for wave_id in stale:
                self._kept[wave_id] = (clock + self.seconds, fresh.get(wave_id))
        return {wave_id: hold for wave_id in ids if (hold := self._kept[wave_id][1]) is not None}
