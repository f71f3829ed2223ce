"""The cell-key method: every published count is perturbed by its records' keys.

Statistics offices use it for tables users define themselves (the Australian Bureau of
Statistics' TableBuilder, Eurostat's census hub). Every record — a message, a reply, an
opt-out, a poll answer — carries a fixed pseudo-random key in 0..255, derived from its id
and the campaign's secret seed. A cell's key is the sum of its records' keys modulo 256,
and the cell's perturbation is read from a fixed table by that key. So the same records
always get the same perturbation, however and however often they are asked for, while two
cells that differ by a few records get unrelated perturbations: subtracting one published
figure from another leaves the perturbations in the result, and a funder cannot tell a
difference of 1 from one of 0, 2 or 3. Figures describing fewer than k people are withheld
besides (campaigns.suppression).

Pure functions and one SQL expression; no models.
"""

import hashlib
import secrets
from typing import Any

from django.db.models import BigIntegerField, Func

KEY_SPACE = 256
# The perturbation and how many of the 256 cell keys draw it: symmetric, mean zero,
# variance 0.8; a published count is its true value ± at most MAX_PERTURBATION.
PERTURBATION = ((-2, 13), (-1, 51), (0, 128), (1, 51), (2, 13))
MAX_PERTURBATION = max(abs(value) for value, _ in PERTURBATION)
if sum(weight for _, weight in PERTURBATION) != KEY_SPACE:  # pragma: no cover
    raise ImportError("the perturbation table must cover every cell key once")

# A cell's distinct people are kept exactly up to this many (rollups keep their ids up
# to here); k may not exceed it.
SMALL_SET = 100


def new_seed() -> int:
    """A campaign's secret seed for its records' keys (never shown to anyone)."""
    return secrets.randbits(62)


def perturbation(cell_key: int) -> int:
    """The perturbation a cell of this key gets (the same key, the same perturbation)."""
    slot = cell_key % KEY_SPACE
    for value, weight in PERTURBATION:
        if slot < weight:
            return value
        slot -= weight
    raise AssertionError("the table covers every key")  # pragma: no cover


def perturbed(count: int, cell_key: int, *, floor: int) -> int:
    """What is published for a count: 0 stays 0; any other count moves by its key.

    `floor` is k: a published count is never below it, so no published figure looks like
    a small cell (the count itself describes at least k people, or it would be withheld).
    """
    if count == 0:
        return 0
    return max(floor, count + perturbation(cell_key))


def derived_key(*parts: Any) -> int:
    """A record key for records the database does not hold one by one (e.g. fatigue caps)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=2).digest()
    return digest[0]


class RecordKey(Func):
    """SQL: the record key of a row, from its id and the campaign's seed (0..255).

    `hashtextextended` is PostgreSQL's seeded 64-bit text hash; `& 255` keeps 8 bits.
    """

    output_field = BigIntegerField()

    def __init__(self, expression: Any, *, seed: int, salt: str) -> None:
        super().__init__(expression)
        self.seed = int(seed)
        self.salt = salt

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:  # type: ignore[override]
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"(hashtextextended(%s || ({sql})::text, %s) & 255)",
            [self.salt, *params, self.seed],
        )
