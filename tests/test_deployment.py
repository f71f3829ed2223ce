"""docker-compose.yml describes the production stack the README promises."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker-priority", "worker-bulk", "beat"]


def test_postgres_and_redis_have_named_volumes_and_health_checks():
    assert SERVICES["postgres"]["image"] == "postgres:16"
    assert SERVICES["redis"]["image"] == "redis:7"
    for name in ("postgres", "redis"):
        service = SERVICES[name]
        assert "healthcheck" in service
        for volume in service["volumes"]:
            assert volume.split(":")[0] in COMPOSE["volumes"]


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
