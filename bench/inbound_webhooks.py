"""Signed Twilio inbound webhooks through gunicorn on loopback, in one run:

ours     store once, enqueue the routing on Redis, answer empty TwiML
naive    the same request routed inline: keyword router, consent, reply sent through the SDK
floor    GET /healthz: Django with no database, signature or serializer
"""

import os
import urllib.parse
import uuid

from bench.harness import (
    bench_sms_channel,
    fresh_database,
    gunicorn,
    load,
    save,
    wrk_available,
    wrk_load,
)

REQUESTS = 3000
CONCURRENCY = 8
# With wrk: 8 seconds of load, each request a new message (no retries counted as work).
WRK_SECONDS = 8
WRK_REQUESTS = 16_000
BODIES = ["JOIN", "Habari, nataka amani kwa uchaguzi huu", "STOP", "HELP", "19", "LUGHA SW"]


def run() -> dict:
    env = fresh_database("amani_bench_webhooks")
    os.environ.update(env)
    import django

    django.setup()
    from tests.support.twilio_api import (
        ACCOUNT_SID,
        AUTH_TOKEN,
        running_twilio_api,
        twilio_signature,
    )

    channel = bench_sms_channel(messages_per_second=100_000)
    path = f"/webhooks/twilio/{channel.uuid}/inbound/"

    use_wrk = wrk_available()
    generator = "wrk" if use_wrk else "python threads (install wrk)"

    def requests_for(base_url: str) -> list[tuple[bytes, dict[str, str]]]:
        prepared = []
        for index in range((WRK_REQUESTS if use_wrk else REQUESTS) + 200):
            sid = "SM" + uuid.uuid4().hex
            form = {
                "AccountSid": ACCOUNT_SID,
                "MessageSid": sid,
                "SmsSid": sid,
                "From": f"+2547{10_000_000 + index % 2000:08d}",
                "To": "+254700000100",
                "Body": BODIES[index % len(BODIES)],
                "NumMedia": "0",
                "ApiVersion": "2010-04-01",
            }
            signature = twilio_signature(AUTH_TOKEN, base_url + path, form)
            prepared.append(
                (
                    urllib.parse.urlencode(form).encode(),
                    {
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": signature,
                    },
                )
            )
        return prepared

    results = {}
    with running_twilio_api() as twilio:
        variants = {
            "ours (store + enqueue)": {},
            "naive (route inline)": {"CELERY_BROKER_URL": "", "REDIS_URL": ""},
        }
        for name, overrides in variants.items():
            server_env = {**env, "TWILIO_BASE_URL": twilio.base_url, **overrides}
            with gunicorn(server_env) as base_url:
                prepared = requests_for(base_url)
                warm, timed = prepared[:200], prepared[200:]
                load(
                    "warm-up",
                    base_url + path,
                    requests=len(warm),
                    method="POST",
                    body_for=lambda i, w=warm: w[i],
                )
                if use_wrk:
                    results[name] = wrk_load(
                        f"POST inbound webhook, {name} (wrk)",
                        base_url + path,
                        seconds=WRK_SECONDS,
                        requests=timed,
                    )
                    if not overrides:
                        results["floor"] = wrk_load(
                            "GET /healthz (floor, wrk)", base_url + "/healthz", seconds=WRK_SECONDS
                        )
                    continue
                results[name] = load(
                    f"POST inbound webhook, {name}",
                    base_url + path,
                    requests=REQUESTS,
                    concurrency=CONCURRENCY,
                    method="POST",
                    body_for=lambda i, t=timed: t[i],
                )
                if not overrides:
                    results["floor"] = load(
                        "GET /healthz (floor)",
                        base_url + "/healthz",
                        requests=REQUESTS,
                        concurrency=CONCURRENCY,
                    )
        replies_sent = len(twilio.sent)
    _purge_queue(env)
    for result in results.values():
        print("  " + result.line())
    ours, naive, floor = (
        results[k] for k in ("ours (store + enqueue)", "naive (route inline)", "floor")
    )
    ratios = {
        "ours_vs_naive_throughput": ours.per_second / naive.per_second,
        "ours_vs_floor_throughput": ours.per_second / floor.per_second,
        "naive_vs_ours_p99": naive.p99_ms / ours.p99_ms,
    }
    print(
        f"  ours handles {ratios['ours_vs_naive_throughput']:.1f}x the naive inline rate, "
        f"at {ratios['ours_vs_floor_throughput']:.2f}x the floor; the naive p99 is "
        f"{ratios['naive_vs_ours_p99']:.1f}x ours ({replies_sent} replies sent inline)"
    )
    figures = {"load_generator": generator, "results": results, "ratios": ratios}
    save("inbound_webhooks", figures)
    return figures


def _purge_queue(env: dict[str, str]) -> None:
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
