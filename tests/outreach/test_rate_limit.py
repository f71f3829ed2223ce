"""The per-channel token bucket in Redis, shared by every worker."""

from outreach import rate_limit


def test_a_full_bucket_grants_its_rate_then_asks_to_wait():
    grants = [rate_limit.take(channel_id=424242, cost=1, per_second=10) for _ in range(10)]

    wait = rate_limit.take(channel_id=424242, cost=1, per_second=10)

    assert grants == [0.0] * 10
    assert 0 < wait <= 0.1


def test_a_message_costs_its_segments():
    assert rate_limit.take(channel_id=424243, cost=3, per_second=4) == 0.0

    wait = rate_limit.take(channel_id=424243, cost=3, per_second=4)

    assert 0.4 < wait <= 0.5  # 1 token left, 2 more needed at 4 a second


def test_buckets_of_different_channels_are_apart():
    for _ in range(5):
        rate_limit.take(channel_id=424244, cost=1, per_second=5)

    assert rate_limit.take(channel_id=424245, cost=1, per_second=5) == 0.0


def test_a_message_dearer_than_the_whole_bucket_goes_once_the_bucket_is_full():
    assert rate_limit.take(channel_id=424246, cost=5, per_second=2) == 0.0

    wait = rate_limit.take(channel_id=424246, cost=1, per_second=2)

    assert 1.9 < wait <= 2.0  # the bucket was left 3 tokens in debt, plus the one asked for
