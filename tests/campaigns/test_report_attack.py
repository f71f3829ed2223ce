"""An automated funder asks every question the report API allows and subtracts the answers.

It knows the method (the report says how far a figure may be perturbed) and claims a cell
only when its arithmetic leaves a single possible value. It must not recover any count of
fewer than k people. The same attacker run on the staff's exact figures does recover small
cells, so the world holds something to find.
"""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from campaigns.selectors.reports import DIMENSIONS, ReportScope, campaign_report
from outreach.models import Role

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/reports/campaigns/"
FactKey = tuple[str, str, str, str]  # section, dimension, key, figure


@dataclass(frozen=True)
class Scope:
    wave: int | None
    start: str | None
    end: str | None

    def contains(self, other: "Scope") -> bool:
        same_wave = self.wave is None or self.wave == other.wave
        starts_before = self.start is None or (
            other.start is not None and self.start <= other.start
        )
        ends_after = self.end is None or (other.end is not None and other.end <= self.end)
        return same_wave and starts_before and ends_after


@dataclass(frozen=True)
class Answer:
    scope: Scope
    dimension: str | None
    facts: dict[FactKey, int | None]
    lines: list[tuple[FactKey, list[FactKey]]]  # a total and the cells that add up to it
    noise: int  # how far the report says a figure may be off
    k: int


@dataclass(frozen=True)
class Claim:
    how: str
    scope: Scope
    fact: FactKey
    value: int
    minus: Scope | None = None


def read(body: dict[str, Any], scope: Scope, dimension: str | None) -> Answer:
    """Every count in a report, keyed by where it stands, and the lines that sum to a total."""
    facts: dict[FactKey, int | None] = {}
    lines: list[tuple[FactKey, list[FactKey]]] = []
    figures = [name for name, value in body["totals"].items() if _is_count(name, value)]
    for name in figures:
        facts[("totals", "", "", name)] = body["totals"][name]
    sections = [("series", "day", body["series"]), ("waves", "wave", body["waves"])]
    if body["breakdown"]:
        sections.append(("breakdown", body["breakdown"]["dimension"], body["breakdown"]["rows"]))
    for section, dim, rows in sections:
        for name in figures:
            cells = []
            for row in rows:
                fact = (section, dim, str(row.get("name", row["key"])), name)
                facts[fact] = row["figures"].get(name)
                cells.append(fact)
            lines.append((("totals", "", "", name), cells))
    for error in body["errors"]:
        facts[("errors", error["status"], error["error_code"], "messages")] = error["messages"]
    for poll in body["polls"]:
        for option in poll["options"]:
            facts[("poll", poll["wave"], str(option["number"]), "answers")] = option["answers"]
    noise = (body.get("privacy") or {}).get("max_perturbation", 0)
    return Answer(scope, dimension, facts, lines, noise, body["k"])


def attack(answers: list[Answer]) -> Iterator[Claim]:
    """Subtraction: nested scopes, totals minus published cells, a campaign minus its waves."""
    for answer in answers:  # a total minus the published cells of its line
        for total, cells in answer.lines:
            hidden = [cell for cell in cells if answer.facts[cell] is None]
            shown = [answer.facts[cell] for cell in cells if answer.facts[cell] is not None]
            if len(hidden) == 1 and answer.facts[total] is not None:
                estimate = answer.facts[total] - sum(shown)
                value = _pinned(estimate, answer.noise * (len(shown) + 1), answer.k)
                if value is not None:
                    yield Claim("line", answer.scope, hidden[0], value)
    by_dimension: dict[str | None, list[Answer]] = {}
    for answer in answers:
        by_dimension.setdefault(answer.dimension, []).append(answer)
    for group in by_dimension.values():
        for outer, inner in itertools.permutations(group, 2):  # one scope inside another
            if not outer.scope.contains(inner.scope):
                continue
            for fact, value in outer.facts.items():
                other = inner.facts.get(fact)
                if value is None or other is None:
                    continue
                pinned = _pinned(value - other, 2 * outer.noise, outer.k)
                if pinned is not None:
                    yield Claim("difference", outer.scope, fact, pinned, minus=inner.scope)
        wholes = [answer for answer in group if answer.scope.wave is None]
        for whole in wholes:  # the campaign is the sum of its waves
            parts = [
                answer
                for answer in group
                if answer.scope.wave is not None
                and (answer.scope.start, answer.scope.end) == (whole.scope.start, whole.scope.end)
            ]
            for fact, value in whole.facts.items():
                if value is None:
                    continue
                hidden = [part for part in parts if part.facts.get(fact, 0) is None]
                shown = [part.facts.get(fact, 0) or 0 for part in parts if part not in hidden]
                if len(hidden) == 1:
                    pinned = _pinned(value - sum(shown), whole.noise * len(parts), whole.k)
                    if pinned is not None:
                        yield Claim("waves", hidden[0].scope, fact, pinned)


def recovered(claims: Iterator[Claim], truth: dict[tuple[Scope, str | None], Answer]) -> list:
    """The claims that name a true count of fewer than k people."""
    found = []
    for claim in claims:
        exact = _true_value(claim, truth)
        if exact is not None and exact == claim.value:
            found.append(claim)
    return found


def _true_value(claim: Claim, truth: dict[tuple[Scope, str | None], Answer]) -> int | None:
    dimension = claim.fact[1] if claim.fact[0] == "breakdown" else None
    answer = truth.get((claim.scope, dimension))
    if answer is None or answer.facts.get(claim.fact) is None:
        return None
    value = answer.facts[claim.fact]
    if claim.minus is not None:
        value -= truth[(claim.minus, dimension)].facts.get(claim.fact) or 0
    return value


def _pinned(estimate: int, noise: int, k: int) -> int | None:
    """The single count of 1..k-1 people the arithmetic allows, if it allows only one."""
    low, high = max(0, estimate - noise), estimate + noise
    return low if low == high and 0 < low < k else None


def _is_count(name: str, value: Any) -> bool:
    return not name.endswith("_rate") and name not in ("cost", "currency", "cost_per_delivered")


@pytest.fixture
def funder(organization, member_client, campaign):
    client = member_client(organization, Role.FUNDER)
    campaign.funders.add(client.membership.user)
    return client


def every_question(world) -> Iterator[tuple[Scope, str | None]]:
    days = [None, *(day.isoformat() for day in world.days)]
    waves = [None, *(wave.pk for wave in world.waves)]
    for start, end in itertools.product(days, days):
        if start and end and end < start:
            continue
        for wave, dimension in itertools.product(waves, [None, *sorted(DIMENSIONS)]):
            yield Scope(wave, start, end), dimension


def test_a_funder_asking_every_question_recovers_no_cell_of_fewer_than_k_people(world, funder):
    published, truth = [], {}
    for scope, dimension in every_question(world):
        query = {
            name: value
            for name, value in {
                "wave": scope.wave,
                "from": scope.start,
                "to": scope.end,
                "by": dimension,
            }.items()
            if value is not None
        }
        response = funder.get(f"{REPORTS}{world.campaign.pk}/", query)
        assert response.status_code == 200, response.content
        published.append(read(response.json(), scope, dimension))
        exact = _exact(world, scope, dimension)
        truth[(scope, dimension)] = read(exact, scope, dimension)

    assert len(published) == 13 * 4 * 7  # every period, wave and breakdown
    assert recovered(attack(published), truth) == []
    # The same arithmetic on exact figures finds the people the report protects.
    assert recovered(attack(list(truth.values())), truth) != []


def _exact(world, scope: Scope, dimension: str | None) -> dict[str, Any]:
    import datetime as dt

    wave = next((wave for wave in world.waves if wave.pk == scope.wave), None)
    return campaign_report(
        ReportScope(
            campaign=world.campaign,
            wave=wave,
            date_from=dt.date.fromisoformat(scope.start) if scope.start else None,
            date_to=dt.date.fromisoformat(scope.end) if scope.end else None,
            dimension=dimension,
        ),
        suppress=False,
    )
