"""The demo's beat: each tick runs the scheduler's tasks in-process, whatever other threads do."""

import io
import threading

import pytest
from celery.result import denied_join_result

from campaigns.management.commands.demo_ticker import Command as DemoTicker

pytestmark = pytest.mark.django_db


def test_a_beat_runs_while_another_thread_is_inside_an_eager_task(caplog):
    """Dispatch sends on threads whose eager tasks mark the process "inside a task" (Celery
    keeps that mark per process, not per thread); the beat must not take it for its own."""
    inside, done = threading.Event(), threading.Event()

    def eager_task_elsewhere() -> None:
        with denied_join_result():  # what an eager apply_async holds while it runs
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=eager_task_elsewhere)
    thread.start()
    inside.wait(10)
    try:
        DemoTicker(stdout=io.StringIO()).tick_once()
    finally:
        done.set()
        thread.join()

    assert "this beat failed" not in caplog.text, caplog.text
