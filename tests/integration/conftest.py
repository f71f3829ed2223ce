"""Real Celery worker processes on the real Redis, writing to the test database."""

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the workers; a test module overrides it (e.g. TWILIO_BASE_URL)."""
    return {}


@pytest.fixture
def start_worker(
    transactional_db: None, tmp_path: Path, worker_env: dict[str, str]
) -> Iterator[Callable[[], subprocess.Popen]]:
    """Starts `celery worker` processes against the test database; stops them all at the end."""
    database = connection.settings_dict
    env = {
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
    celery_app.control.purge()
    workers: list[tuple[subprocess.Popen, IO[str]]] = []
    numbers = itertools.count()

    def start() -> subprocess.Popen:
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
                "solo",
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
        )
        workers.append((worker, log))
        _wait_until_it_answers(worker, log, name)
        return worker

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = eager
        for worker, log in workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
            log.close()
        celery_app.control.purge()


@pytest.fixture
def celery_worker_process(start_worker: Callable[[], subprocess.Popen]) -> subprocess.Popen:
    return start_worker()


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _wait_until_it_answers(
    worker: subprocess.Popen, log: IO[str], name: str, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"The Celery worker exited early:\n{_tail(log)}")
        replies = celery_app.control.ping(timeout=0.5) or []
        if any(hostname.startswith(name + "@") for reply in replies for hostname in reply):
            return
    worker.kill()
    raise RuntimeError(f"The Celery worker did not answer within {timeout}s:\n{_tail(log)}")


def _tail(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-4000:]
