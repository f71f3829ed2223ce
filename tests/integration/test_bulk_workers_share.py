"""Past one machine, in small: two bulk workers, each pinned to a CPU of its own, share a wave.

Two prefork Celery workers (as `docker compose up --scale worker-bulk=2` runs them), each
with every process of its group pinned to one CPU with `taskset` (separate CPU quotas; when
`taskset` is missing or the machine has one CPU the workers run unpinned, and the test says
so in its failure messages). One wave of 300 messages goes out through the local Twilio
API. The provider's call log says every subscriber was asked for exactly once; each
worker's own log (Celery's line per finished dispatch task, with what it handed over) says both
workers sent a share, and that the shares add up to the wave.
"""

import ast
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from config.celery import app as celery_app
from tests.integration.conftest import wait_until_answering
from tests.integration.delivery import (
    due_waves,
    fanned_out,
    sms_channel,
    start_sending,
    subscribers,
    unfinished,
    wait_until,
    wave_calls,
)

pytestmark = pytest.mark.integration

WAVE_SIZE = 300
# Messages a second on the channel: a dispatcher's batch is 2 s of it (120 messages), so
# the wave takes several batches and the second dispatcher arrives while work is left.
RATE = 60
PREFIX = "Wave 1:"
DISPATCH_DONE = re.compile(
    r"Task outreach\.tasks\.dispatch\[[^\]]+\] succeeded in [\d.]+s: (\{[^}]*\})"
)
# A dispatch task's outcomes a provider's acceptance gives: "sending" until a receipt comes.
ACCEPTED = ("sending", "sent")
CPUS = (0, 1)
CAN_PIN = shutil.which("taskset") is not None and set(CPUS) <= os.sched_getaffinity(0)
PINNING = "each pinned to its own CPU" if CAN_PIN else "UNPINNED (no taskset or one CPU)"


@pytest.fixture
def worker_env(twilio_api_for_workers):
    twilio_api_for_workers.reset()
    return {"TWILIO_BASE_URL": twilio_api_for_workers.base_url, "DISPATCH_CONCURRENCY": "4"}


@pytest.fixture
def two_bulk_workers(start_worker):
    """Two workers of one process each (a dispatch task at a time), booted side by side."""
    workers = [start_worker(pool="prefork", concurrency=1, wait=False) for _ in CPUS]
    wait_until_answering(*workers)
    if CAN_PIN:
        for worker, cpu in zip(workers, CPUS, strict=True):
            _pin(worker.pid, cpu)
    return workers


def test_two_bulk_workers_on_their_own_cpus_share_a_wave_and_send_each_message_once(
    organization, two_bulk_workers, twilio_api_for_workers
):
    api = twilio_api_for_workers
    channel = sms_channel(organization, messages_per_second=RATE)
    addresses = subscribers(organization, channel, WAVE_SIZE)
    waves = due_waves(organization, channel, [f"{PREFIX} vote calmly, speak for peace."])

    start_sending(waves)
    assert fanned_out(channel, WAVE_SIZE)
    # What the beat's dispatch tick does: the channel's second dispatcher, on the idle worker.
    celery_app.send_task("outreach.tasks.dispatch_tick")
    assert wait_until(lambda: sum(wave_calls(api, PREFIX).values()) >= WAVE_SIZE, timeout=30)
    assert wait_until(lambda: unfinished(channel) == 0, timeout=10)
    assert wait_until(
        lambda: sum(_sent_by(worker) for worker in two_bulk_workers) >= WAVE_SIZE, timeout=10
    ), [_sent_by(worker) for worker in two_bulk_workers]

    calls = wave_calls(api, PREFIX)
    assert sorted(calls) == sorted(addresses)
    assert set(calls.values()) == {1}, "a subscriber was sent the wave twice"
    shares = [_sent_by(worker) for worker in two_bulk_workers]
    assert sum(shares) == WAVE_SIZE, shares
    assert all(share > 0 for share in shares), f"one worker sent everything ({PINNING}): {shares}"
    if CAN_PIN:
        assert [_cpus_of(worker.pid) for worker in two_bulk_workers] == [{"0"}, {"1"}]


def _sent_by(worker: subprocess.Popen) -> int:
    """Messages the worker's dispatch tasks report handed to the provider, from its log."""
    log = Path(worker.log.name).read_text()  # type: ignore[attr-defined]
    reports = [ast.literal_eval(report) for report in DISPATCH_DONE.findall(log)]
    return sum(report.get(status, 0) for report in reports for status in ACCEPTED)


def _pin(group: int, cpu: int) -> None:
    """Every process (and thread) of the worker's process group onto `cpu`; the pool
    processes it forks later inherit it."""
    for pid in _group_members(group):
        subprocess.run(
            ["taskset", "--all-tasks", "--cpu-list", "--pid", str(cpu), str(pid)],
            check=True,
            capture_output=True,
        )


def _cpus_of(group: int) -> set[str]:
    """The CPU lists the group's processes may run on."""
    lists = set()
    for pid in _group_members(group):
        status = Path(f"/proc/{pid}/status").read_text()
        lists.add(re.search(r"^Cpus_allowed_list:\s*(\S+)", status, re.M).group(1))
    return lists


def _group_members(group: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        if int(fields[2]) == group:  # pgrp, after state and ppid
            members.append(int(entry.name))
    return members
