"""Issue 16's table: each figure before (on `main` when the issue was filed), now, and its target.

Read from the results the benchmarks of this run left in bench/results/*.json; a benchmark
that did not run (or failed) shows as "not run". `python -m bench summary` prints it again
from the last results; `make bench` prints it at the end of the run.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.harness import ROOT, save

RESULTS = ROOT / "bench" / "results"

Results = dict[str, Any]


@dataclass(frozen=True)
class Row:
    what: str
    before: str
    target: str
    # The figure now and whether it meets the target (None: no target to judge), or None if
    # the benchmark that measures it left no results.
    now: Callable[[Results], tuple[str, bool | None] | None]


def _get(results: Results, *path: str) -> Any:
    value: Any = results
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _fanout(r: Results) -> tuple[str, bool | None] | None:
    seconds = _get(r, "wave_delivery", "fanout", "ours_seconds")
    multiple = _get(r, "wave_delivery", "fanout", "copy_into_messages_time_multiple")
    if seconds is None or multiple is None:
        return None
    people = _get(r, "wave_delivery", "fanout", "subscribers")
    return f"{seconds:.1f} s ({people:,}), {multiple:.2f}x the COPY", multiple <= 1.2


def _fatigue(r: Results) -> tuple[str, bool | None] | None:
    ratio = _get(r, "wave_delivery", "fanout", "second_wave_vs_first")
    if ratio is None:
        return None
    return f"{ratio:.2f}x the first", ratio <= 1.1


def _dispatch(r: Results) -> tuple[str, bool | None] | None:
    per_cpu = _get(
        r, "wave_delivery", "dispatch_zero_latency", "ours_per_worker_cpu_second_by_concurrency"
    )
    if not per_cpu:
        return None
    floor = _get(r, "wave_delivery", "dispatch_zero_latency", "sdk_floor_per_cpu_second")
    by_threads = ", ".join(f"{rate:,.0f} ({threads} threads)" for threads, rate in per_cpu.items())
    best = max(per_cpu.values())
    text = f"{by_threads} per CPU-second"
    if floor is None:
        return text, best >= 1200
    within = floor / best
    return f"{text}; SDK floor {floor:,.0f}, {within:.2f}x ours", best >= 1200 and within <= 1.3


def _callbacks(r: Results) -> tuple[str, bool | None] | None:
    ratio = _get(r, "wave_delivery", "status_callbacks", "ours_vs_floor")
    if ratio is None:
        return None
    return f"{ratio:.2f}x /healthz", ratio >= 0.7


def _webhooks(r: Results) -> tuple[str, bool | None] | None:
    ratio = _get(r, "inbound_webhooks", "ratios", "ours_vs_floor_throughput")
    p99 = _get(r, "inbound_webhooks", "results", "ours (store + enqueue)", "p99_ms")
    if ratio is None:
        return None
    return f"{ratio:.2f}x /healthz, p99 {p99:.0f} ms", ratio >= 0.5


def _api(r: Results) -> tuple[str, bool | None] | None:
    detail = _get(r, "api_requests", "ratios", "organization_vs_floor_throughput")
    listing = _get(r, "api_requests", "ratios", "members_vs_floor_throughput")
    if detail is None or listing is None:
        return None
    return f"{detail:.2f}x / {listing:.2f}x /healthz", detail >= 0.4 and listing >= 0.25


def _report(r: Results) -> tuple[str, bool | None] | None:
    p50 = _get(r, "reports", "ours_api_p50_ms")
    p99 = _get(r, "reports", "ours_api_p99_ms")
    if p50 is None or p99 is None:
        return None
    messages = _get(r, "reports", "messages")
    text = f"p50 {p50:.0f} ms, p99 {p99:.0f} ms ({messages:,} messages, a funder's repeated reads)"
    uncached = _get(r, "reports", "api_uncached_p99_ms")
    if uncached is not None:
        text += f"; the first read after a rollup p99 {uncached:.0f} ms"
    return text, p99 <= 50


def _rollup(r: Results) -> tuple[str, bool | None] | None:
    incremental = _get(r, "reports", "rollup_incremental_seconds_median")
    whole = _get(r, "reports", "rollup_whole_seconds_per_million")
    if incremental is None or whole is None:
        return None
    rows = _get(r, "reports", "rollup_one_wave_rows")
    changed = _get(r, "reports", "rollup_incremental_changed")
    # The target reads as the time to keep a 1,000,000-message wave's cells current, so
    # the incremental figure is judged only when the wave measured had that many messages.
    text = (
        f"{incremental:.2f} s a rollup of a {rows:,}-message wave after {changed:,} receipts"
        f" (counted whole: {whole:.2f} s per 1,000,000)"
    )
    return text, incremental <= 0.5 if rows >= 1_000_000 else None


def _import(r: Results) -> tuple[str, bool | None] | None:
    rate = _get(r, "subscriber_import", "rates", "ours_rows_per_second")
    ratio = _get(r, "subscriber_import", "ratios", "ours_vs_copy")
    if rate is None or ratio is None:
        return None
    return f"{rate:,.0f} rows/s ({ratio:.2f}x COPY)", rate >= 25_000


def _whole_loop(r: Results) -> tuple[str, bool | None] | None:
    rate = _get(r, "election_eve", "throughput_per_second", "delivered_and_reported")
    stop_p99 = _get(r, "election_eve", "stop_to_ledger", "p99_s")
    if rate is None:
        return None
    text = f"{rate:,.0f} messages/s delivered and reported"
    if stop_p99 is None:
        return text, rate >= 500
    return f"{text}; STOP to ledger p99 {stop_p99 * 1000:,.0f} ms", rate >= 500 and stop_p99 <= 1


def _history(r: Results) -> tuple[str, bool | None] | None:
    ratios = _get(r, "history", "last_vs_first")
    if not ratios:
        return None
    worst = max(ratios.values())
    parts = ", ".join(f"{name} {ratio:.2f}x" for name, ratio in ratios.items())
    return f"last wave vs first: {parts}", worst <= 1.1


ROWS = [
    Row("fan-out, 1,000,000 subscribers", "44.3 s, 1.49x the COPY", "<= 1.2x the COPY", _fanout),
    Row("the same with a fatigue cap", "1.56x the first", "<= 1.1x the first", _fatigue),
    Row(
        "dispatch, 0 ms provider",
        "655 (16 threads), 756 (4 threads) per CPU-second",
        ">= 1,200, within 1.3x of the SDK floor",
        _dispatch,
    ),
    Row("signed status callbacks", "0.43x /healthz", ">= 0.7x /healthz", _callbacks),
    Row("signed inbound webhooks", "0.21x /healthz, p99 40 ms", ">= 0.5x /healthz", _webhooks),
    Row("API detail / list", "0.14x / 0.09x /healthz", ">= 0.4x / 0.25x", _api),
    Row("report over 10,000,000 messages", "p50 33 ms, p99 178 ms", "p99 <= 50 ms", _report),
    Row("keeping a wave's report cells", "4.6 s per 1,000,000", "<= 0.5 s per 1,000,000", _rollup),
    Row("CSV import, 100,000 rows", "6,563 rows/s (0.04x COPY)", ">= 25,000 rows/s", _import),
    Row(
        "the whole loop (election_eve)",
        "not measured",
        ">= 500/s; STOP p99 <= 1 s",
        _whole_loop,
    ),
    Row("cost as history grows (history)", "not measured", "20th <= 1.1x the 1st", _history),
]


def load_results(since: float | None = None) -> Results:
    """Each benchmark's last results; with `since`, only those written since then."""
    results: Results = {}
    for path in sorted(RESULTS.glob("*.json")):
        if path.stem == "summary" or (since is not None and path.stat().st_mtime < since):
            continue
        try:
            results[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return results


def table(results: Results) -> list[dict[str, str]]:
    lines = []
    for row in ROWS:
        measured = row.now(results)
        if measured is None:
            now, verdict = "not run", "—"
        else:
            now, met = measured
            verdict = "—" if met is None else ("met" if met else "not met")
        lines.append(
            {
                "what": row.what,
                "before": row.before,
                "now": now,
                "target": row.target,
                "verdict": verdict,
            }
        )
    return lines


def markdown(lines: list[dict[str, str]]) -> str:
    out = ["| what | before (issue 16) | now | target | |", "|---|---|---|---|---|"]
    out += [
        f"| {x['what']} | {x['before']} | {x['now']} | {x['target']} | {x['verdict']} |"
        for x in lines
    ]
    return "\n".join(out)


def run() -> dict:
    started = os.environ.get("BENCH_RUN_STARTED")
    lines = table(load_results(float(started) if started else None))
    print(markdown(lines))
    figures = {"rows": lines}
    save("summary", figures)
    (RESULTS / "summary.md").write_text(markdown(lines) + "\n")
    return figures
