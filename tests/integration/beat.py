"""A fast beat for integration tests: the tasks of `celery beat`'s schedule, run in this process.

Production's beat sweeps every 30 s; a test with a lease of a few seconds cannot wait that
long. This runs every interval task of `app.conf.beat_schedule` `--speedup` times as often
(never more often than every `--least` seconds), in-process like the demo's ticker, and
outlives a lost database or broker as `celery beat` does: a failed tick is logged and the
next one tries again on a fresh connection.

    python -m tests.integration.beat --speedup 30 --least 0.5
"""

import argparse
import importlib
import logging
import time

import django

# Report cells and liveness are not what these tests are about, and rollups are heavy.
SKIPPED = frozenset({"campaigns.tasks.rollup", "outreach.tasks.record_heartbeat"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--speedup", type=float, default=30.0)
    parser.add_argument("--least", type=float, default=0.5)
    options = parser.parse_args()
    django.setup()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    from django.db import close_old_connections, connections

    from config.celery import app

    periods = {
        entry["task"]: max(options.least, float(entry["schedule"]) / options.speedup)
        for entry in app.conf.beat_schedule.values()
        if isinstance(entry["schedule"], int | float) and entry["task"] not in SKIPPED
    }
    for name in periods:
        importlib.import_module(name.rsplit(".", 1)[0])  # registers the task
    due = dict.fromkeys(periods, 0.0)
    while True:
        now = time.monotonic()
        for name, period in periods.items():
            if due[name] > now:
                continue
            due[name] = now + period
            close_old_connections()
            try:
                result = app.tasks[name].apply(throw=True).get()
                if result:
                    logging.info("%s: %s", name, result)
            except Exception:
                logging.exception("%s failed; the next tick tries again", name)
                for connection in connections.all():
                    connection.close()  # a restarted database: reconnect next time
        time.sleep(max(0.05, min(due.values()) - time.monotonic()))


if __name__ == "__main__":
    main()
