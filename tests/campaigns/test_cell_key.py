"""The cell-key method: a fixed, bounded, zero-mean perturbation chosen by the cell's key."""

from collections import Counter

import pytest
from django.db.models import Value

from campaigns import cell_key


def test_zero_stays_zero_whatever_the_key():
    assert {cell_key.perturbed(0, key, floor=10) for key in range(256)} == {0}


def test_a_count_moves_by_at_most_two_and_never_below_k():
    published = {cell_key.perturbed(50, key, floor=10) for key in range(256)}

    assert published == {48, 49, 50, 51, 52}
    assert {cell_key.perturbed(10, key, floor=10) for key in range(256)} == {10, 11, 12}


def test_the_perturbation_is_symmetric_and_mostly_none():
    drawn = Counter(cell_key.perturbation(key) for key in range(256))

    assert drawn == {-2: 13, -1: 51, 0: 128, 1: 51, 2: 13}
    assert sum(value * count for value, count in drawn.items()) == 0


def test_a_cell_key_wraps_around_the_key_space():
    assert cell_key.perturbation(256 + 3) == cell_key.perturbation(3)


def test_a_derived_key_is_fixed_for_the_same_parts():
    assert cell_key.derived_key("capped", 7, 12) == cell_key.derived_key("capped", 7, 12)
    assert 0 <= cell_key.derived_key("capped", 7, 12) < 256


@pytest.mark.django_db
def test_a_record_key_depends_on_the_record_and_the_seed_only():
    from django.contrib.auth import get_user_model

    users = get_user_model().objects

    def key(record: int, seed: int) -> int:
        return (
            users.annotate(k=cell_key.RecordKey(Value(record), seed=seed, salt="m"))
            .values_list("k", flat=True)
            .first()
        )

    users.create(username="anyone")
    assert key(41, seed=7) == key(41, seed=7)
    assert 0 <= key(41, seed=7) < 256
    assert len({key(record, seed=7) for record in range(40)}) > 20  # spread over the space
    assert [key(r, seed=7) for r in range(20)] != [key(r, seed=8) for r in range(20)]
