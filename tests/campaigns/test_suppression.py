"""Small-cell suppression: funders never learn about fewer than k young people, not even by
subtracting the published cells from a published total."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.suppression import (
    Cell,
    Suppressed,
    effective_k,
    suppress_breakdown,
    suppress_table,
)

K = 10


def cell(key: str, population: int) -> Cell:
    return Cell(key, population, {"targeted": population, "delivered": population, "replies": 1})


def breakdown(**populations: int) -> list[Cell]:
    return [cell(key, population) for key, population in populations.items()]


def withheld(results: list[Suppressed]) -> dict[str, str]:
    return {result.key: result.reason for result in results if result.suppressed}


# effective_k


@pytest.mark.parametrize(
    ("configured", "expected"),
    [(None, 10), (0, 10), (3, 5), (5, 5), (7, 7), (25, 25)],
)
def test_k_defaults_to_ten_and_never_drops_below_five(configured, expected):
    assert effective_k(configured) == expected


# One breakdown


def test_a_cell_below_k_is_suppressed():
    results = suppress_breakdown(breakdown(Nairobi=40, Garissa=3, Kisumu=25), k=K)

    garissa = results[1]
    assert garissa.suppressed
    assert garissa.reason == "below_k"
    assert garissa.figures == {"targeted": None, "delivered": None, "replies": None}


def test_cells_at_or_above_k_are_published_with_their_figures():
    cells = [Cell("sw", 10, {"targeted": 10, "delivered": 9, "replies": None, "rate": 0.9})]
    cells.append(Cell("en", 55, {"targeted": 55, "delivered": 50, "replies": 4, "rate": 0.91}))

    results = suppress_breakdown(cells, k=K)

    assert results == [
        Suppressed("sw", False, "", {"targeted": 10, "delivered": 9, "replies": None, "rate": 0.9}),
        Suppressed("en", False, "", {"targeted": 55, "delivered": 50, "replies": 4, "rate": 0.91}),
    ]


def test_nothing_is_withheld_when_every_cell_reaches_k():
    assert withheld(suppress_breakdown(breakdown(a=10, b=11, c=300), k=K)) == {}


def test_a_zero_cell_is_published_as_zeros():
    cells = [Cell("fr", 0, {"targeted": 0, "replies": 0}), cell("en", 40), cell("sw", 30)]

    results = suppress_breakdown(cells, k=K)

    assert results[0] == Suppressed("fr", False, "", {"targeted": 0, "replies": 0})


def test_a_single_suppressed_cell_gets_a_complementary_partner():
    results = suppress_breakdown(breakdown(Nairobi=40, Garissa=3, Kisumu=25), k=K)

    assert withheld(results) == {"Garissa": "below_k", "Kisumu": "complementary"}


def test_the_partner_is_the_smallest_non_zero_cell_and_never_a_zero():
    results = suppress_breakdown(breakdown(**{"18-24": 30, "15-17": 4, "25-34": 0, "x": 12}), k=K)

    assert withheld(results) == {"15-17": "below_k", "x": "complementary"}


def test_a_partner_smaller_than_k_is_itself_below_k():
    results = suppress_breakdown(breakdown(a=4, b=6, c=50), k=K)

    assert withheld(results) == {"a": "below_k", "b": "below_k"}


def test_cover_grows_until_the_hidden_cells_together_reach_k():
    results = suppress_breakdown(breakdown(a=3, b=4, c=12, d=14, e=50), k=K)

    assert withheld(results) == {"a": "below_k", "b": "below_k", "c": "complementary"}


def test_two_small_cells_that_together_reach_k_need_no_partner():
    results = suppress_breakdown(breakdown(a=4, b=7, c=12), k=K)

    assert withheld(results) == {"a": "below_k", "b": "below_k"}


def test_ties_between_partners_are_broken_by_key():
    results = suppress_breakdown(breakdown(Mombasa=20, Garissa=2, Kisumu=20, Nakuru=30), k=K)

    assert withheld(results) == {"Garissa": "below_k", "Kisumu": "complementary"}


def test_suppression_cannot_be_undone_by_subtracting_from_the_total():
    cells = breakdown(**{"2026-11-20": 3, "2026-11-21": 0, "2026-11-22": 15, "2026-11-23": 60})
    total = sum(c.population for c in cells)

    results = suppress_breakdown(cells, k=K)

    published = sum(c.population for c, r in zip(cells, results, strict=True) if not r.suppressed)
    hidden = [c.population for c, r in zip(cells, results, strict=True) if r.suppressed]
    assert total - published >= K
    assert len([population for population in hidden if population]) >= 2


def test_without_a_published_total_no_partner_is_needed():
    results = suppress_breakdown(
        breakdown(Nairobi=40, Garissa=3, Kisumu=25), k=K, total_published=False
    )

    assert withheld(results) == {"Garissa": "below_k"}


def test_a_breakdown_whose_total_is_below_k_is_suppressed_entirely():
    for total_published in (True, False):
        results = suppress_breakdown(
            breakdown(female=6, male=0, other=2), k=K, total_published=total_published
        )

        assert all(result.suppressed for result in results)
        assert all(value is None for result in results for value in result.figures.values())


def test_a_breakdown_of_nobody_is_published_as_zeros():
    results = suppress_breakdown(breakdown(female=0, male=0), k=K)

    assert withheld(results) == {}


def test_an_empty_breakdown_stays_empty():
    assert suppress_breakdown([], k=K) == []


def test_the_output_keeps_the_input_order():
    keys = ["sms", "whatsapp", "telegram", "voice"]

    results = suppress_breakdown(breakdown(sms=50, whatsapp=2, telegram=30, voice=12), k=K)

    assert [result.key for result in results] == keys


def test_a_larger_k_suppresses_more():
    cells = breakdown(a=12, b=30, c=40)

    assert withheld(suppress_breakdown(cells, k=10)) == {}
    assert withheld(suppress_breakdown(cells, k=15)) == {"a": "below_k", "b": "complementary"}


def test_k_below_five_is_refused():
    with pytest.raises(ValueError, match="at least 5"):
        suppress_breakdown(breakdown(a=3, b=40), k=4)


def test_a_negative_population_is_refused():
    with pytest.raises(ValueError, match="negative"):
        suppress_breakdown(breakdown(a=-1, b=40), k=K)


def test_a_key_given_twice_is_refused():
    with pytest.raises(ValueError, match="each key once"):
        suppress_breakdown([cell("a", 3), cell("a", 40)], k=K)


# A table: rows and columns both have published totals


def table(**rows: dict[str, int]) -> dict[str, list[Cell]]:
    return {
        row: [cell(key, p) for key, p in populations.items()] for row, populations in rows.items()
    }


def withheld_cells(results: dict[str, list[Suppressed]]) -> dict[tuple[str, str], str]:
    return {
        (row, result.key): result.reason
        for row, row_results in results.items()
        for result in row_results
        if result.suppressed
    }


def test_a_table_protects_the_columns_as_well_as_the_rows():
    results = suppress_table(
        table(
            Nairobi={"d1": 3, "d2": 40, "d3": 50},
            Mombasa={"d1": 30, "d2": 45, "d3": 60},
        ),
        k=K,
    )

    assert withheld_cells(results) == {
        ("Nairobi", "d1"): "below_k",
        ("Nairobi", "d2"): "complementary",
        ("Mombasa", "d1"): "complementary",
        ("Mombasa", "d2"): "complementary",
    }


def test_a_table_without_small_cells_is_published_whole():
    results = suppress_table(table(a={"x": 10, "y": 20}, b={"x": 30, "y": 0}), k=K)

    assert withheld_cells(results) == {}


def test_a_small_row_total_suppresses_the_whole_row_and_its_columns_get_cover():
    results = suppress_table(
        table(Lamu={"sw": 4, "en": 0}, Nairobi={"sw": 40, "en": 50}, Kisumu={"sw": 30, "en": 20}),
        k=K,
    )

    hidden = withheld_cells(results)
    assert hidden[("Lamu", "sw")] == "below_k"
    assert hidden[("Lamu", "en")] == "below_k"
    assert hidden[("Kisumu", "sw")] == "complementary"


def test_a_cell_pinned_by_its_row_total_has_the_zeros_beside_it_hidden():
    # Westlands.A is its row's whole total; hidden alone it would give away Kibra.A = 53 - 50.
    results = suppress_table(table(Westlands={"A": 50, "B": 0}, Kibra={"A": 3, "B": 20}), k=K)

    assert withheld_cells(results) == {
        ("Kibra", "A"): "below_k",
        ("Kibra", "B"): "complementary",
        ("Westlands", "A"): "complementary",
        ("Westlands", "B"): "complementary",
    }


def test_table_rows_keep_their_order_and_may_lack_keys():
    results = suppress_table(table(b={"x": 50, "y": 60}, a={"y": 70}), k=K)

    assert list(results) == ["b", "a"]
    assert [r.key for r in results["a"]] == ["y"]


def test_a_table_refuses_k_below_five():
    with pytest.raises(ValueError, match="at least 5"):
        suppress_table(table(a={"x": 3, "y": 40}), k=3)


# Properties


def check_line(populations: list[int], hidden: list[bool], k: int) -> None:
    """Subtracting the published cells from the line total reveals no small group."""
    total = sum(populations)
    hidden_non_zero = [p for p, h in zip(populations, hidden, strict=True) if h and p > 0]
    for population, is_hidden in zip(populations, hidden, strict=True):
        if 0 < population < k:
            assert is_hidden
    if 0 < total < k:
        assert all(hidden)
        return
    assert sum(hidden_non_zero) == 0 or sum(hidden_non_zero) >= k
    assert len(hidden_non_zero) != 1 or all(hidden)


populations_strategy = st.integers(min_value=0, max_value=40) | st.integers(0, 12)


@given(
    populations=st.lists(populations_strategy, max_size=9),
    k=st.integers(min_value=5, max_value=20),
)
def test_no_breakdown_reveals_a_small_group_by_subtraction(populations, k):
    cells = [cell(f"c{index}", p) for index, p in enumerate(populations)]

    results = suppress_breakdown(cells, k=k)

    hidden = [result.suppressed for result in results]
    check_line(populations, hidden, k)
    total = sum(populations)
    if not 0 < total < k:  # a whole line is only hidden when its total is below k
        assert len([p for p, h in zip(populations, hidden, strict=True) if h and p > 0]) != 1
    assert [result.key for result in results] == [c.key for c in cells]
    for result in results:
        assert result.suppressed == (result.reason in ("below_k", "complementary"))
        if result.suppressed:
            assert set(result.figures.values()) == {None}


@given(
    populations=st.lists(populations_strategy, max_size=9),
    k=st.integers(min_value=5, max_value=20),
)
def test_without_a_total_only_cells_below_k_are_withheld(populations, k):
    cells = [cell(f"c{index}", p) for index, p in enumerate(populations)]

    results = suppress_breakdown(cells, k=k, total_published=False)

    for population, result in zip(populations, results, strict=True):
        expected = 0 < population < k or 0 < sum(populations) < k
        assert result.suppressed == expected


@given(
    populations=st.lists(populations_strategy, min_size=1, max_size=8),
    k=st.integers(min_value=5, max_value=20),
    data=st.data(),
)
def test_the_decisions_do_not_depend_on_the_input_order(populations, k, data):
    cells = [cell(f"c{index}", p) for index, p in enumerate(populations)]
    shuffled = data.draw(st.permutations(cells))

    def decisions(cells: list[Cell]) -> dict[str, str]:
        return {r.key: r.reason for r in suppress_breakdown(cells, k=k)}

    assert decisions(shuffled) == decisions(cells)


@given(
    grid=st.lists(
        st.lists(st.none() | populations_strategy, min_size=4, max_size=4),
        min_size=1,
        max_size=4,
    ),
    k=st.integers(min_value=5, max_value=15),
)
def test_no_table_row_or_column_reveals_a_small_group_by_subtraction(grid, k):
    rows = {
        f"r{i}": [cell(f"c{j}", p) for j, p in enumerate(line) if p is not None]
        for i, line in enumerate(grid)
    }

    results = suppress_table(rows, k=k)

    hidden = {
        (row, result.key): result.suppressed
        for row, row_results in results.items()
        for result in row_results
    }
    population = {(row, c.key): c.population for row, cells in rows.items() for c in cells}
    lines = [[(row, c.key) for c in cells] for row, cells in rows.items()]
    for j in range(4):
        lines.append([(row, f"c{j}") for row in rows if (row, f"c{j}") in population])
    for line in lines:
        check_line([population[c] for c in line], [hidden[c] for c in line], k)
