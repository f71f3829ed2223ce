"""Servers of tests' own on 127.0.0.1: private Redis and PostgreSQL, and the loopback HTTP
server every fake provider API is built on.

The suite shares one Redis and one PostgreSQL with other processes; a fault-injection test
must not restart those. PrivateRedis and PrivatePostgres start their own server on a free
port, in a temporary directory, and stop it at the end. LoopbackApi serves a fake
provider's JSON API (tests/support/twilio_api.py, meta_api.py, telegram_api.py).
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self


class PrivateRedis:
    """A `redis-server` on a free port, with nothing saved: a restart loses every key."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not on PATH")
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        self._process = subprocess.Popen(
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_listening(self.port, what="redis-server")

    def stop(self) -> None:
        """Stop the server at once, saving nothing (SIGKILL: no goodbye to the clients)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

    def restart(self, down_for: float = 0.0) -> None:
        """Kill the server, stay down `down_for` seconds, and start it again, empty."""
        self.stop()
        time.sleep(down_for)
        self.start()


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb into a temporary directory) on a free port.

    PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to
    the `postgres` OS user and its commands run through `runuser -u postgres --`.
    """

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        # Not under pytest's tmp_path: root's /tmp/pytest-of-root is closed to other users.
        directory = Path(tempfile.mkdtemp(prefix="amani-postgres-"))
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.user = "postgres"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(directory, user="postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        self.start()

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        # fsync off is safe for a server crash (the kernel keeps what was written), but
        # synchronous_commit stays on as in production: a commit Amani relies on (a message
        # marked in flight before its provider call) must survive an immediate stop.
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "postgres.log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c full_page_writes=off -c max_connections=200",
            "start",
        )
        wait_until_listening(self.port, what="postgres")

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server: `immediate` ends every backend at once, as a crash would."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, down_for: float = 0.0) -> None:
        """Stop every backend at once, stay down `down_for` seconds, and start again."""
        self.stop()
        time.sleep(down_for)
        self.start()

    def copy_database(self, *, host: str, port: int, user: str, name: str) -> None:
        """Create database `name` here as a copy (schema and rows) of `name` on host:port."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        dump = subprocess.run(
            [
                str(self.bin / "pg_dump"),
                "-h",
                host,
                "-p",
                str(port),
                "-U",
                user,
                "--no-owner",
                name,
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                str(self.bin / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                name,
            ],
            input=dump.stdout,
            check=True,
            capture_output=True,
        )

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self._as, str(self.bin / program), *args],
            check=True,
            capture_output=True,
            cwd=self.directory,
        )


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int, *, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout}s")


@contextlib.contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(directory)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


def _postgres_bin() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found is None:
        raise RuntimeError("no PostgreSQL server binaries (initdb) found")
    return Path(found).parent


@dataclass
class Reply:
    """What a fake provider answers one request with: a JSON body, its HTTP status and extra
    headers; `hold` seconds to wait first (the client has given up by then), or `drop` the
    connection without answering at all (the outcome a client did not see)."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    hold: float = 0.0
    drop: bool = False


class LoopbackApi:
    """What every fake provider API (Twilio, Meta's Graph API, Telegram's Bot API) shares: a
    threaded HTTP server on 127.0.0.1 that hands each request to `reply` and writes its
    JSON answer, the held answers let go when it closes, and the context manager.

    A fake calls `_start_serving()` once its own state is set; `base_url` is then where the
    provider's real client is pointed.
    """

    thread_name = "fake-api"

    def reply(self, method: str, target: str, headers: Message, body: bytes) -> Reply:
        """The answer to one request (called by the handler's thread)."""
        raise NotImplementedError

    def held(self, seconds: float) -> None:
        """Wait `seconds` before answering, or less if the server is closing."""
        self._closing.wait(seconds)

    def close(self) -> None:
        """Stop serving and free the port (held answers are let go at once)."""
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _start_serving(self, *, port: int = 0, path: str = "") -> None:
        self._closing = threading.Event()
        self._server = _LoopbackServer(("127.0.0.1", port), _json_handler(self))
        host, bound_port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{bound_port}{path}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=self.thread_name, daemon=True
        )
        self._thread.start()


class _LoopbackServer(ThreadingHTTPServer):
    request_queue_size = 256  # bursts of parallel sends and webhooks
    daemon_threads = True


def _json_handler(api: LoopbackApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 keeps the clients' pooled connections open between requests.
        protocol_version = "HTTP/1.1"
        # Headers and body go out as separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every answer for ~40 ms.
        disable_nagle_algorithm = True
        # Idle keep-alive connections end after this, so their threads do too.
        timeout = 30

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_PATCH(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            answer = api.reply(self.command, self.path, self.headers, body)
            if answer.drop:
                # Accepted, then gone: the client reads an empty answer on a closed connection.
                self.close_connection = True
                return
            if answer.hold > 0:
                api.held(answer.hold)
                # The client has stopped waiting: the late answer goes to a closed socket.
                self.close_connection = True
            payload = json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(payload)
            except OSError:
                self.close_connection = True  # the client gave up on a held answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # Quiet: tests and benchmarks read the fake's own records, not a log.

    return Handler
