"""Handing work to the broker: what a STOP sets off is taken before what waits ahead of it."""

import pytest

from config.celery import app as celery_app
from outreach.queueing import enqueue_or_leave_to_sweeper
from outreach.tasks import handle_inbound

QUEUE = "test-queue-order"


@pytest.fixture
def real_broker():
    """The test settings run tasks in-process; here they go to Redis, as in production."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = eager
        with celery_app.connection_for_write() as connection:
            connection.default_channel.queue_purge(QUEUE)


def next_task_args(connection) -> list:
    queue = connection.SimpleQueue(QUEUE, no_ack=True)
    message = queue.get(timeout=5)
    return message.payload[0]  # Celery's protocol 2 body: (args, kwargs, embed)


def test_a_stops_routing_is_taken_before_the_joins_queued_ahead_of_it(real_broker):
    for join_id in (1, 2, 3):
        enqueue_or_leave_to_sweeper(handle_inbound, join_id, queue=QUEUE)
    enqueue_or_leave_to_sweeper(handle_inbound, 4, queue=QUEUE, urgent=True)

    with celery_app.connection_for_read() as connection:
        taken = [next_task_args(connection) for _ in range(4)]

    assert taken[0] == [4]
    assert sorted(args[0] for args in taken[1:]) == [1, 2, 3]
