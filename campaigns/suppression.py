"""Small-cell suppression for the aggregate reports funders see.

A breakdown (counts by county, language, age band, gender, channel, day) publishes one cell per
key. A cell describing fewer than k people is withheld ("below_k"); when the total is published,
more cells are withheld ("complementary") so a withheld cell cannot be recovered by subtracting
the published cells from the total. Pure functions; no models, no database.

Populations decide suppression; figures (targeted, delivered, replies, ...) follow their cell.
Zero-population cells reveal no one and are published, and never count as cover: the withheld
non-zero cells of a breakdown are either none, or at least two that together reach k.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

DEFAULT_K = 10
MIN_K = 5
MAX_K = 100  # rollups keep a cell's people exactly up to this many (cell_key.SMALL_SET)

BELOW_K = "below_k"
COMPLEMENTARY = "complementary"

Figures = dict[str, int | float | None]
Coord = TypeVar("Coord", tuple[str], tuple[str, str], tuple[int])


@dataclass(frozen=True)
class Cell:
    """One cell of a breakdown: its key, how many people it describes, and its metrics."""

    key: str
    population: int
    figures: Figures


@dataclass(frozen=True)
class Suppressed:
    """What is published for a cell: its figures, or all None and why it was withheld."""

    key: str
    suppressed: bool
    reason: str  # "" | "below_k" | "complementary"
    figures: Figures


def effective_k(k: int | None) -> int:
    """The organization's k, defaulting to 10, never below 5 nor above MAX_K."""
    return min(MAX_K, max(MIN_K, k or DEFAULT_K))


def suppress_breakdown(
    cells: list[Cell], *, k: int, total_published: bool = True
) -> list[Suppressed]:
    """Withhold the cells below k and, if the total is published, their complementary cover."""
    _check(cells, k)
    coords = [(cell.key,) for cell in cells]
    line = [(coord, cell.population) for coord, cell in zip(coords, cells, strict=True)]
    state = _below_k(line, k)
    total = sum(cell.population for cell in cells)
    if total_published or 0 < total < k:
        _protect(line, state, k)
    return [_result(cell, state.get(coord, "")) for coord, cell in zip(coords, cells, strict=True)]


def withheld_in_line(
    populations: Sequence[int],
    *,
    k: int,
    total_published: bool = True,
    already: Iterable[int] = (),
) -> list[str]:
    """One figure of a line of cells: why each entry is withheld ("" when published).

    `populations` are the people each entry's figure describes; `already` the entries
    withheld for another reason (their row describes too few people), which count as
    cover like any other withheld entry.
    """
    if k < MIN_K:
        raise ValueError(f"k must be at least {MIN_K}, got {k}; use effective_k()")
    line = [((index,), population) for index, population in enumerate(populations)]
    state: dict[tuple[int], str] = {(index,): COMPLEMENTARY for index in already}
    state |= {coord: reason for coord, reason in _below_k(line, k).items() if coord not in state}
    total = sum(populations)
    if total_published or 0 < total < k:
        _protect(line, state, k)
    return [state.get((index,), "") for index in range(len(populations))]


def suppress_table(rows: dict[str, list[Cell]], *, k: int) -> dict[str, list[Suppressed]]:
    """Suppress a 2-D table whose row and column totals are both published.

    Rows are the dict's entries; a column is the cells sharing a key across rows (a row may lack
    a key). The 1-D rule is applied to every row and every column until nothing changes.
    """
    for cells in rows.values():
        _check(cells, k)
    lines: list[list[tuple[tuple[str, str], int]]] = []
    columns: dict[str, list[tuple[tuple[str, str], int]]] = {}
    for row, cells in rows.items():
        # Coordinates are (key, row) so ties break by key within a row and by row within a column.
        lines.append([((cell.key, row), cell.population) for cell in cells])
        for cell in cells:
            columns.setdefault(cell.key, []).append(((cell.key, row), cell.population))
    lines.extend(columns.values())

    state = _below_k([entry for line in lines[: len(rows)] for entry in line], k)
    changed = True
    while changed:  # the withheld set only grows, so this reaches a fixpoint
        changed = False
        for line in lines:
            changed |= _protect(line, state, k)
    return {
        row: [_result(cell, state.get((cell.key, row), "")) for cell in cells]
        for row, cells in rows.items()
    }


def _check(cells: Sequence[Cell], k: int) -> None:
    if k < MIN_K:
        raise ValueError(f"k must be at least {MIN_K}, got {k}; use effective_k()")
    keys = [cell.key for cell in cells]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a breakdown has each key once, got {sorted(keys)}")
    for cell in cells:
        if cell.population < 0:
            raise ValueError(f"cell '{cell.key}' has a negative population: {cell.population}")


def _below_k(line: Sequence[tuple[Coord, int]], k: int) -> dict[Coord, str]:
    return {coord: BELOW_K for coord, population in line if 0 < population < k}


def _protect(line: Sequence[tuple[Coord, int]], state: dict[Coord, str], k: int) -> bool:
    """Withhold more of a line whose total is published until subtraction reveals no small cell.

    Returns whether anything new was withheld. `state` maps withheld coordinates to a reason.
    """
    total = sum(population for _, population in line)
    if total == 0:  # all zeros: nothing to reveal
        return False
    if total < k:  # the total itself is a small cell: withhold the whole line
        return _withhold([coord for coord, _ in line], state, BELOW_K)
    if not any(coord in state for coord, _ in line):
        return False

    def exposed() -> bool:
        hidden = [population for coord, population in line if coord in state and population > 0]
        return len(hidden) < 2 or sum(hidden) < k

    candidates = sorted(
        (population, coord) for coord, population in line if population > 0 and coord not in state
    )
    changed = False
    for _, coord in candidates:
        if not exposed():
            break
        changed |= _withhold([coord], state, COMPLEMENTARY)
    if exposed():
        # Only in a table: the single withheld non-zero cell equals the line total minus zeros.
        # Withholding the zeros too keeps it from being pinned, so it can still cover its
        # other line; the zeros' own lines then get cover in turn.
        changed |= _withhold([coord for coord, _ in line], state, COMPLEMENTARY)
    return changed


def _withhold(coords: Sequence[Coord], state: dict[Coord, str], reason: str) -> bool:
    new = [coord for coord in coords if coord not in state]
    for coord in new:
        state[coord] = reason
    return bool(new)


def _result(cell: Cell, reason: str) -> Suppressed:
    if reason:
        return Suppressed(cell.key, True, reason, dict.fromkeys(cell.figures))
    return Suppressed(cell.key, False, "", dict(cell.figures))
