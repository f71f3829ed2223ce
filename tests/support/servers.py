"""Private Redis and PostgreSQL servers a test may restart for real.

The suite shares one Redis and one PostgreSQL with other processes; a fault-injection test
must not restart those. These start their own server on a free port of 127.0.0.1, in a
temporary directory, and stop it at the end.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


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
