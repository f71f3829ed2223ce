"""What an authenticated, organization-scoped API request costs over a bare Django response.

Through gunicorn on loopback, in one run:
  floor    GET /healthz                    Django with no database, auth or serializer
  ours     GET /api/v1/organization/       token auth + organization and role resolution
  ours     GET /api/v1/members/?page_size=50  the same plus a filtered, paginated list
"""

from bench.harness import fresh_database, gunicorn, load, manage, save, wrk_available, wrk_load

REQUESTS = 3000
CONCURRENCY = 8


def run() -> dict:
    # The throttle is counted on every request, but at a rate this run stays under: thousands
    # of requests with one token at the default 6,000/hour would time cheap 429s at the end.
    env = {**fresh_database("amani_bench_api"), "API_THROTTLE_RATE": "100000/hour"}
    token = manage("create_org", "--name", "Bench NGO", "--admin", "bench", env=env).split()[-1]
    auth = {"Authorization": f"Token {token}"}
    with gunicorn(env) as base_url:
        load("warm-up", base_url + "/api/v1/organization/", requests=200, headers=auth)
        requests = [
            ("GET /healthz (floor)", "/healthz", None),
            ("GET /api/v1/organization/", "/api/v1/organization/", auth),
            ("GET /api/v1/members/?page_size=50", "/api/v1/members/?page_size=50", auth),
        ]
        if wrk_available():
            generator = "wrk"
            floor, detail, listing = (
                wrk_load(f"{name} (wrk)", base_url + path, seconds=8, headers=headers)
                for name, path, headers in requests
            )
        else:
            generator = "python threads (install wrk for a lighter load generator)"
            floor, detail, listing = (
                load(
                    name,
                    base_url + path,
                    requests=REQUESTS,
                    concurrency=CONCURRENCY,
                    headers=headers,
                )
                for name, path, headers in requests
            )
    for result in (floor, detail, listing):
        print("  " + result.line())
    ratios = {
        "organization_vs_floor_throughput": detail.per_second / floor.per_second,
        "members_vs_floor_throughput": listing.per_second / floor.per_second,
    }
    print(
        f"  authenticated detail runs at {ratios['organization_vs_floor_throughput']:.2f}x "
        f"and a paginated list at {ratios['members_vs_floor_throughput']:.2f}x the floor's rate"
    )
    figures = {"load_generator": generator, "results": [floor, detail, listing], "ratios": ratios}
    save("api_requests", figures)
    return figures
