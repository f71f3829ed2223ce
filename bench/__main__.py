"""`make bench`: run every benchmark, or those named (`python -m bench api_requests`)."""

import importlib
import sys
import time

BENCHMARKS = [
    "api_requests",
    "inbound_webhooks",
    "subscriber_import",
    "wave_delivery",
    "reports",
]


def main(names: list[str]) -> None:
    for name in names or BENCHMARKS:
        if name not in BENCHMARKS:
            sys.exit(f"Unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}.")
        module = importlib.import_module(f"bench.{name}")
        print(f"\n== {name}: {module.__doc__.strip().splitlines()[0]}")
        started = time.perf_counter()
        module.run()
        print(f"  ({time.perf_counter() - started:.0f} s; figures in bench/results/{name}.json)")


if __name__ == "__main__":
    main(sys.argv[1:])
