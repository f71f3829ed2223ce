"""What the library's texts achieved: each version's outcomes, summed across its adopters.

For a version, the waves that used it as adopted — in every adopter's campaigns — are
read from their rollup cells (the cells funders' reports read) and summed: people
targeted, messages sent and delivered, replies, opt-outs, and the delivery, reply and
opt-out rates. A wave whose adopted text was edited (a fork) is not the version any more:
it is left out, and only counted in `forks`.

The figures are published as every funder figure is (campaigns.selectors.reports): one
describing fewer than k people is withheld (None, with the reason "below_k"), and every
other is perturbed by the cell-key method, so an adopter that subtracts the outcomes it
saw before another member's wave from those after cannot tell that wave's exact count.
k is the largest of the network's `min_cell_size` and each adopter's own k. No person,
number, campaign or wave of another organization is named.
"""

from collections.abc import Hashable, Iterable
from typing import Any

from campaigns import cell_key
from campaigns.models import Adoption, LibraryTemplate, TemplateVersion
from campaigns.selectors.reports import RATES, CellSum, Publisher, wave_set_cells
from campaigns.suppression import BELOW_K, effective_k

FIGURES = ("targeted", "sent", "delivered", "replies", "opt_outs")
OUTCOME_RATES = ("delivery_rate", "reply_rate", "opt_out_rate")
NO_BASE = "no_base"  # a rate of nothing: none sent, or none delivered


def version_outcomes(version: TemplateVersion, *, suppress: bool = True) -> dict[str, Any]:
    """One version's outcomes across every adopter's unforked waves, suppressed below k.

    `suppress=False` gives the exact figures: for tests and the server's operators only,
    never for a member (they would show other organizations' small counts).
    """
    return versions_outcomes([version], suppress=suppress)[version.pk]


def versions_outcomes(
    versions: Iterable[TemplateVersion], *, suppress: bool = True
) -> dict[int, dict[str, Any]]:
    """`version_outcomes` for many versions at once (a listing), by version id.

    One read of the adoptions and one scan of the rollups serve them all.
    """
    versions = list(versions)
    ids = [version.pk for version in versions]
    adoptions = _adoptions(TemplateVersion.objects.filter(pk__in=ids).values("pk"))
    by_version = {pk: [a for a in adoptions if a.version_id == pk] for pk in ids}
    rows = TemplateVersion.objects.filter(pk__in=ids).values_list(
        "pk", "uid", "number", "template__name", "template__network__min_cell_size"
    )
    named = {pk: {"uid": str(uid), "template": name, "number": n} for pk, uid, n, name, _ in rows}
    networks = {pk: network_k for pk, *_, network_k in rows}
    outcomes = _outcomes(by_version, networks, suppress=suppress)
    for pk, outcome in outcomes.items():
        outcome["version"] = named[pk]
    return outcomes


def template_outcomes(template: LibraryTemplate, *, suppress: bool = True) -> dict[str, Any]:
    """A template's outcomes: every version's unforked waves summed, suppressed below k."""
    adoptions = _adoptions(TemplateVersion.objects.filter(template=template).values("pk"))
    outcome = _outcomes(
        {template.pk: adoptions},
        {template.pk: template.network.min_cell_size},
        suppress=suppress,
    )[template.pk]
    outcome["template"] = {"uid": str(template.uid), "name": template.name}
    outcome["versions"] = len({adoption.version_id for adoption in adoptions})
    return outcome


def _adoptions(versions: Any) -> list[Adoption]:
    return list(
        Adoption.objects.filter(version__in=versions)
        .select_related("organization", "wave")
        .order_by("pk")
    )


def _outcomes(
    adoptions: dict[Hashable, list[Adoption]],
    network_k: dict[Hashable, int],
    *,
    suppress: bool,
) -> dict[Any, dict[str, Any]]:
    """The published outcome of each group of adoptions (a version's, a template's)."""
    ks = {name: _k(network_k[name], group) for name, group in adoptions.items()}
    counted = {
        name: [a.wave_id for a in group if a.forked_at is None and a.wave.fanned_out_at]
        for name, group in adoptions.items()
    }
    cells = wave_set_cells(counted, k=max(ks.values(), default=effective_k(None)))
    return {
        name: {
            "adopters": len({a.organization_id for a in group if a.forked_at is None}),
            "waves": len(counted[name]),
            "forks": sum(1 for a in group if a.forked_at is not None),
            **_published(cells[name], k=ks[name], suppress=suppress),
        }
        for name, group in adoptions.items()
    }


def _k(network_k: int, adoptions: list[Adoption]) -> int:
    """The largest k of the network and of every adopter (forks' adopters too)."""
    adopters = [effective_k(a.organization.report_min_cell_size) for a in adoptions]
    return effective_k(max([effective_k(network_k), *adopters]))


def _published(cell: CellSum, *, k: int, suppress: bool) -> dict[str, Any]:
    publisher = Publisher(k=k, suppress=suppress)
    totals = publisher.totals(cell, currency="")
    withheld = publisher.withheld(cell)
    figures = {name: totals[name] for name in (*FIGURES, *OUTCOME_RATES)}
    reasons = {name: BELOW_K for name in FIGURES if name in withheld}
    for rate in OUTCOME_RATES:
        part, whole = RATES[rate]
        if figures[rate] is None:
            below = part in withheld or whole in withheld
            reasons[rate] = BELOW_K if below else NO_BASE
    return {
        "k": k,
        "privacy": {
            "k": k,
            "method": "cell-key" if suppress else "none",
            "max_perturbation": cell_key.MAX_PERTURBATION if suppress else 0,
        },
        "suppressed": suppress and all(figures[name] is None for name in FIGURES),
        "figures": figures,
        "withheld": reasons,
    }
