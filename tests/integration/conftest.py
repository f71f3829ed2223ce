"""Real Celery worker processes on the real Redis, writing to the test database."""

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from celery.utils.nodenames import host_format
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from tests.support.twilio_api import FakeTwilioApi, running_twilio_api

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def twilio_api_for_workers() -> Iterator[FakeTwilioApi]:
    """A local Twilio API the workers reach through TWILIO_BASE_URL (set in `worker_env`)."""
    with running_twilio_api() as api:
        yield api


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the workers; a test module overrides it (e.g. TWILIO_BASE_URL)."""
    return {}


@pytest.fixture
def process_env(transactional_db: None, worker_env: dict[str, str]) -> dict[str, str]:
    """The environment of the processes a test starts: the test database, Redis, worker_env."""
    database = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # the same keys decrypt channel tokens
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        **worker_env,
    }


@pytest.fixture
def start_worker(
    transactional_db: None, tmp_path: Path, process_env: dict[str, str]
) -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts `celery worker` processes against the test database; stops them all at the end.

    `start()` runs one task at a time (`--pool solo`); `start(pool="prefork", concurrency=2)`
    runs two worker processes under one parent, as production does. It returns once the
    worker answers a ping; `start(wait=False)` at once, so that several boot side by side
    (then `wait_until_answering(*workers)`). Each worker leads a
    process group of its own, so `kill_worker` can SIGKILL it with all its pool processes.
    """
    env = process_env
    celery_app.control.purge()
    workers: list[tuple[subprocess.Popen, IO[str]]] = []
    numbers = itertools.count()

    def start(pool: str = "solo", concurrency: int = 1, *, wait: bool = True) -> subprocess.Popen:
        # A file, not a pipe: a chatty worker must never block on a full pipe.
        log = (tmp_path / f"worker-{len(workers)}.log").open("w+")
        name = f"integration-{os.getpid()}-{next(numbers)}"
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--queues",
                "priority,bulk",
                "--pool",
                pool,
                *(["--concurrency", str(concurrency)] if pool != "solo" else []),
                "--loglevel",
                "INFO",
                "--hostname",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        worker.hostname = name  # type: ignore[attr-defined]
        worker.log = log  # type: ignore[attr-defined]
        workers.append((worker, log))
        if wait:
            _wait_until_it_answers(worker, log, name)
        return worker

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = eager
        for worker, _ in workers:
            if worker.poll() is None:
                worker.terminate()
        for worker, log in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_worker(worker)
            # Pool processes a killed parent left behind.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(worker.pid, signal.SIGKILL)
            log.close()
        celery_app.control.purge()


@pytest.fixture
def start_beat(
    start_worker: Callable[..., subprocess.Popen], tmp_path: Path, process_env: dict[str, str]
) -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts a fast beat (tests/integration/beat.py): the beat's tasks, `speedup` times as often.

    It depends on start_worker so that it stops before the workers do.
    """
    beats: list[tuple[subprocess.Popen, IO[str]]] = []

    def start(speedup: float = 30.0, least: float = 0.5) -> subprocess.Popen:
        log = (tmp_path / f"beat-{len(beats)}.log").open("w+")
        beat = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.beat",
                "--speedup",
                str(speedup),
                "--least",
                str(least),
            ],
            cwd=ROOT,
            env=process_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        beats.append((beat, log))
        return beat

    try:
        yield start
    finally:
        for beat, log in beats:
            if beat.poll() is None:
                beat.terminate()
                try:
                    beat.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    beat.kill()
            log.close()


@pytest.fixture
def celery_worker_process(start_worker: Callable[[], subprocess.Popen]) -> subprocess.Popen:
    return start_worker()


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL a worker and its pool processes at once, as a lost machine would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def wait_until_answering(*workers: subprocess.Popen) -> None:
    """Wait until every worker started with `start(wait=False)` answers a ping."""
    for worker in workers:
        _wait_until_it_answers(worker, worker.log, worker.hostname)  # type: ignore[attr-defined]


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, every: float = 0.1) -> bool:
    # Not faster: some conditions read hundreds of rows, on the cores the workers need.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def _wait_until_it_answers(
    worker: subprocess.Popen, log: IO[str], name: str, timeout: float = 60
) -> None:
    # Asked by its name (as the worker expands --hostname), the ping returns on its reply
    # instead of waiting out the timeout for every worker's.
    nodename = host_format(f"{name}@%h")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"The Celery worker exited early:\n{_tail(log)}")
        try:  # a connection of its own: the broker may have restarted under the pool's
            with celery_app.connection_for_write() as connection:
                replies = (
                    celery_app.control.ping(
                        destination=[nodename], timeout=0.5, connection=connection
                    )
                    or []
                )
        except (OSError, *celery_app.connection_for_write().connection_errors):
            time.sleep(0.05)
            continue
        if any(hostname.startswith(name + "@") for reply in replies for hostname in reply):
            return
    worker.kill()
    raise RuntimeError(f"The Celery worker did not answer within {timeout}s:\n{_tail(log)}")


def _tail(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-4000:]
