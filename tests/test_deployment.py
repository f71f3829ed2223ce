"""docker-compose.yml and the Dockerfile describe the production stack the README promises."""

import http.client
import importlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker-priority", "worker-bulk", "beat"]


def test_postgres_and_redis_have_named_volumes_and_health_checks():
    assert SERVICES["postgres"]["image"] == "postgres:16"
    assert SERVICES["redis"]["image"] == "redis:7"
    for name in ("postgres", "redis", "postgres-replica"):
        service = SERVICES[name]
        assert "healthcheck" in service
        for volume in service["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):  # a file of this repository, mounted
                assert (ROOT / source).is_file(), f"{name} mounts {source}, which is missing"
            else:
                assert source in COMPOSE["volumes"]


def test_pgbouncer_pools_sessions_in_front_of_postgres_with_a_health_check():
    pgbouncer = SERVICES["pgbouncer"]
    assert pgbouncer["image"].startswith("edoburu/pgbouncer:")
    assert "pg_isready" in pgbouncer["healthcheck"]["test"]
    assert pgbouncer["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert pgbouncer["environment"]["DB_HOST"] == "postgres"
    # Fan-out's lock is a session's (pg_try_advisory_lock, not _xact_): transaction pooling
    # would hand it to whichever client gets that server connection next.
    fanout = (ROOT / "campaigns" / "services" / "fanout.py").read_text()
    if "pg_try_advisory_lock(" in fanout:
        assert pgbouncer["environment"]["POOL_MODE"] == "session"


def test_the_app_reaches_postgres_through_pgbouncer_and_migrate_directly():
    for name in APP_SERVICES:
        host = urlsplit(SERVICES[name]["environment"]["DATABASE_URL"]).hostname
        assert host == ("postgres" if name == "migrate" else "pgbouncer"), name
    assert SERVICES["web"]["environment"]["DATABASE_CONN_MAX_AGE"] == "${DATABASE_CONN_MAX_AGE:-0}"


def test_the_read_replica_runs_only_in_its_profile_and_the_app_is_told_where_it_is():
    replica = SERVICES["postgres-replica"]
    assert replica["profiles"] == ["replica"]
    assert "pg_basebackup" in " ".join(replica["command"])
    rules = (ROOT / "deploy" / "postgres" / "pg_hba.conf").read_text().splitlines()
    assert ["host", "replication", "all", "all", "scram-sha-256"] in [r.split() for r in rules]
    for name, service in SERVICES.items():
        if name != "postgres-replica":
            assert "profiles" not in service, f"{name} would not start without a profile"
            assert "postgres-replica" not in service.get("depends_on", {}), name
    for name in APP_SERVICES:
        variable = SERVICES[name]["environment"]["DATABASE_REPLICA_URL"]
        assert variable == "${DATABASE_REPLICA_URL:-}"


def test_bulk_workers_scale_each_under_its_own_name():
    bulk = SERVICES["worker-bulk"]
    assert "container_name" not in bulk  # `--scale worker-bulk=N` needs N names
    assert "ports" not in bulk
    command = bulk["command"]
    assert command[command.index("--hostname") + 1] == "bulk@%h"  # %h: the container's id


def test_web_workers_and_beat_run_from_one_image():
    images = {SERVICES[name]["image"] for name in APP_SERVICES}
    assert images == {"amani:latest"}
    assert "gunicorn" in (ROOT / "Dockerfile").read_text()
    assert "beat" in SERVICES["beat"]["command"]
    assert "priority" in SERVICES["worker-priority"]["command"]
    assert "bulk" in SERVICES["worker-bulk"]["command"]


def test_every_dependency_names_a_service_that_exists():
    for name, service in SERVICES.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"


def test_the_app_waits_for_healthy_databases():
    for name in APP_SERVICES:
        depends_on = SERVICES[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert depends_on["pgbouncer"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"


def test_every_variable_has_a_default_so_compose_config_never_fails_for_lack_of_one():
    text = (ROOT / "docker-compose.yml").read_text()
    variables = re.findall(r"\$\{([^}]*)\}", text)
    assert variables
    for variable in variables:
        assert ":-" in variable, f"${{{variable}}} has no default"


def test_every_setting_the_app_reads_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    settings_source = (ROOT / "config" / "settings" / "base.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_source))
    assert read
    for variable in sorted(read):
        assert f"`{variable}`" in readme, f"{variable} is not in the README's configuration table"


@pytest.mark.parametrize(("concurrency", "workers"), [(None, 5), ("9", 9)])
def test_gunicorn_runs_two_workers_a_core_and_one_for_two_cores_or_web_concurrency(
    monkeypatch, concurrency, workers
):
    if concurrency is None:
        monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    else:
        monkeypatch.setenv("WEB_CONCURRENCY", concurrency)
    import config.gunicorn

    assert importlib.reload(config.gunicorn).workers == workers
    assert SERVICES["web"]["environment"]["WEB_CONCURRENCY"] == "${WEB_CONCURRENCY:-5}"
    assert "`WEB_CONCURRENCY`" in (ROOT / "README.md").read_text()


def test_the_web_service_runs_the_dockerfiles_gunicorn_command():
    assert SERVICES["web"]["command"] == _dockerfile_cmd()
    assert "--config" in _dockerfile_cmd()


@pytest.mark.django_db(transaction=True)  # gunicorn's worker reads the test database
def test_gunicorns_access_log_keeps_no_phone_number_from_a_url_query_or_referer(tmp_path):
    log_path = tmp_path / "gunicorn.log"
    with _shipped_gunicorn(log_path) as port:
        _get(port, "/api/v1/subscribers/?number=%2B254712345678&to=0712345678")
        _get(port, "/api/v1/subscribers/+254712345678/", referer="/admin/?q=%2B254712345678")
        _get(port, "/no-such-page/0712345678?number=254712345678")
        _get(port, "/healthz?to=%2B254%20712%20345%20678")
    log = log_path.read_text()

    assert '"GET /api/v1/subscribers/ HTTP/1.1" 401' in log
    assert '"GET /healthz HTTP/1.1" 200' in log
    assert " 404 " in log
    assert "712345678" not in log.replace(" ", "")
    assert "%2B" not in log
    assert "?" not in log


def _dockerfile_cmd() -> list[str]:
    (line,) = [x for x in (ROOT / "Dockerfile").read_text().splitlines() if x.startswith("CMD ")]
    return json.loads(line.removeprefix("CMD "))


class _shipped_gunicorn:
    """The Dockerfile's command on a free loopback port, its output (access log too) to a file."""

    def __init__(self, log_path: Path):
        self.log_path = log_path

    def __enter__(self) -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        command = _dockerfile_cmd()
        assert command[0] == "gunicorn"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DJANGO_SECRET_KEY": "access-log-test-only",
            "DATABASE_URL": _test_database_url(),
        }
        self.log = self.log_path.open("w")
        self.server = subprocess.Popen(
            [sys.executable, "-m", *command, "--bind", f"127.0.0.1:{self.port}", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.server.poll() is None, self.log_path.read_text()
            try:
                _get(self.port, "/healthz")
                return self.port
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not answer within 30 s")

    def __exit__(self, *exc: object) -> None:
        self.server.terminate()
        self.server.wait(timeout=30)
        self.log.close()


def _test_database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _get(port: int, url: str, referer: str | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", url, headers={"Referer": referer} if referer else {})
    return connection.getresponse().status


def test_the_image_holds_every_app_of_ours_and_its_templates():
    """The Dockerfile copies each of our installed apps (the console too), and the package
    data keeps their templates, static files and catalogues in a wheel."""
    from django.conf import settings

    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) \./", dockerfile, re.M))
    ours = {app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists()}
    assert ours >= {"outreach", "campaigns", "console"}
    assert ours <= copied, f"the image lacks {sorted(ours - copied)}"
    pyproject = (ROOT / "pyproject.toml").read_text()
    for app in ours:
        for folder in ("templates", "static", "locale"):
            if (ROOT / app / folder).is_dir():
                assert re.search(rf'^"?{app}"? = \[[^\]]*"{folder}/', pyproject, re.M), (
                    f"{app}/{folder} is not package data"
                )
