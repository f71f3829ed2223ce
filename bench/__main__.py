"""`make bench`: run every benchmark, or those named (`python -m bench api_requests`)."""

import importlib
import os
import subprocess
import sys
import time

BENCHMARKS = [
    "api_requests",
    "inbound_webhooks",
    "subscriber_import",
    "wave_delivery",
    "reports",
    "stop_latency",
    "election_eve",
    "history",
    "capacity",  # last to measure: the model multiplies what a quiet machine measures
    "summary",  # issue 16's table from the results this run left
]


def main(names: list[str]) -> None:
    names = names or BENCHMARKS
    if len(names) > 1:
        # Each benchmark configures Django for a database of its own: one process each.
        # The summary counts only the results this run writes, never an older run's.
        os.environ["BENCH_RUN_STARTED"] = str(time.time())
        for name in names:
            subprocess.run([sys.executable, "-m", "bench", name], check=False)
        return
    for name in names:
        if name not in BENCHMARKS:
            sys.exit(f"Unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}.")
        module = importlib.import_module(f"bench.{name}")
        print(f"\n== {name}: {module.__doc__.strip().splitlines()[0]}")
        started = time.perf_counter()
        module.run()
        print(f"  ({time.perf_counter() - started:.0f} s; figures in bench/results/{name}.json)")


if __name__ == "__main__":
    main(sys.argv[1:])
