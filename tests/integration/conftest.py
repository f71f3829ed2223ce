"""A real Celery worker process on the real Redis, writing to the test database."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the worker; a test module overrides it (e.g. TWILIO_BASE_URL)."""
    return {}


@pytest.fixture
def celery_worker_process(
    transactional_db: None, tmp_path: Path, worker_env: dict[str, str]
) -> Iterator[subprocess.Popen]:
    """Starts `celery worker` against the test database; tasks sent in the test go to it."""
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
    # A file, not a pipe: a chatty worker must never block on a full pipe.
    log = (tmp_path / "worker.log").open("w+")
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
            f"integration-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        _wait_until_it_answers(worker, log)
        yield worker
    finally:
        celery_app.conf.task_always_eager = eager
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


def _wait_until_it_answers(worker: subprocess.Popen, log: IO[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"The Celery worker exited early:\n{_tail(log)}")
        if celery_app.control.ping(timeout=0.5):
            return
    worker.kill()
    raise RuntimeError(f"The Celery worker did not answer within {timeout}s:\n{_tail(log)}")


def _tail(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-4000:]
