"""The parts of an end-to-end run: databases, gunicorn instances, the SMTP sink, waits.

Every process started here is started in its own process group and stopped by that group's
id (SIGTERM, then SIGKILL after a bounded wait); every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg
import redis
import requests
from sqlalchemy.engine import make_url

from tests.support.config import STRONG_PASSWORD, free_port
from tests.support.mail import SmtpServer
from tests.support.web import csrf_from

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
# Flags the Debian chromium needs on these machines (no sandbox as root, no network chatter).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/acs_e2e"
# Variables of the calling shell that the served app may see; every setting is passed explicitly.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
__all__ = ["STRONG_PASSWORD", "csrf_from"]


class Timeout(AssertionError):
    """A bounded wait ran out."""


def wait_until(predicate: Callable[[], object], timeout: float, what: str, every: float = 0.1):
    """Call ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Timeout(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(every)


def unique_email(tag: str = "person") -> str:
    """An address no other test uses (tests in one module share a database)."""
    return f"{tag}.{uuid.uuid4().hex[:10]}@example.org"


# ---------------------------------------------------------------------------------------------
# Databases


class Database:
    """A fresh database for one test module: PostgreSQL (created and dropped here) or SQLite."""

    def __init__(self, url: str, admin_dsn: str | None = None, name: str | None = None):
        self.url = url
        self.admin_dsn = admin_dsn
        self.name = name

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    @classmethod
    def postgres(cls, server_url: str, tag: str) -> Database:
        """Create ``<prefix>_<tag>_<random>`` next to the database that ``server_url`` names."""
        url = make_url(server_url)
        name = f"{url.database}_{re.sub(r'[^a-z0-9]', '', tag.lower())[:24]}_{secrets.token_hex(3)}"
        admin = url.set(drivername="postgresql", database="postgres")
        dsn = admin.render_as_string(hide_password=False)
        with _admin_connection(dsn) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return cls(url.set(database=name).render_as_string(hide_password=False), dsn, name)

    @classmethod
    def sqlite(cls, folder: Path) -> Database:
        return cls(f"sqlite:///{folder / 'e2e.db'}")

    def drop(self) -> None:
        if self.admin_dsn and self.name:
            with _admin_connection(self.admin_dsn) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _admin_connection(dsn: str, timeout: float = 60) -> psycopg.Connection:
    """An autocommit connection to the server; waits (bounded) while the server restarts.

    The fault suite restarts a throw-away server of its own (PostgresServer).
    """

    def connect():
        try:
            return psycopg.connect(dsn, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError:
            return None

    return wait_until(connect, timeout, "PostgreSQL to accept connections", every=0.5)


def postgres_reachable(server_url: str) -> bool:
    admin = make_url(server_url).set(drivername="postgresql", database="postgres")
    try:
        with psycopg.connect(admin.render_as_string(hide_password=False), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


# ---------------------------------------------------------------------------------------------
# Processes


class Process:
    """A child process in its own group, its output in a log file, stopped by its group id."""

    def __init__(self, argv: list[str], env: dict, log_path: Path, cwd: Path = ROOT):
        self.argv, self.env, self.log_path, self.cwd = argv, env, log_path, cwd
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the group, SIGKILL if it is still there after ``grace`` seconds."""
        if self.popen is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(timeout=5)
        # Workers of a killed master are in the same group: make sure none is left behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def wait(self, timeout: float) -> int:
        """The exit code; a process still running after ``timeout`` seconds is stopped."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(grace=2)
            raise Timeout(f"{self.argv[:4]} still ran after {timeout:g} s") from None

    def output(self) -> str:
        return self.log_text()

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


class Gunicorn(Process):
    """``gunicorn -w N -b 127.0.0.1:<free port> wsgi:app`` with the given environment."""

    def __init__(self, env: dict, log_path: Path, workers: int = 2, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        argv = [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--graceful-timeout",
            "5",
            # gunicorn 27 opens ~/.gunicorn/gunicorn.ctl by default: several instances (and a
            # developer's own server) would take that one path from each other.
            "--no-control-socket",
            "wsgi:app",
        ]
        super().__init__(argv, env, log_path)

    def start(self, timeout: float = 40.0) -> Gunicorn:
        super().start()

        def ready():
            if not self.running:
                raise AssertionError(f"gunicorn exited at start-up:\n{self.log_tail()}")
            try:
                return requests.get(self.url + "/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        try:
            wait_until(ready, timeout, f"gunicorn on {self.url}", every=0.2)
            # Every worker must be up, not only the first: later tests measure or kill them.
            wait_until(lambda: len(self.worker_pids()) >= self.workers, 15, "the workers")
        except BaseException:
            self.stop()
            raise
        return self

    def worker_pids(self) -> list[int]:
        """The pids of the master's children (its workers), read from /proc."""
        if not self.running:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.popen.pid:
                found.append(int(entry.name))
        return sorted(found)


class RedisServer(Process):
    """A private redis-server on a free loopback port, keeping nothing on disk."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--daemonize", "no", "--dir", str(log_path.parent)]
        super().__init__(argv, dict(os.environ), log_path)

    def start(self) -> RedisServer:
        super().start()
        wait_until(lambda: redis_reachable(self.url), 15, f"redis-server on {self.port}")
        return self


class PostgresServer:
    """A throw-away PostgreSQL cluster (initdb + pg_ctl) on a free loopback port in a temp dir.

    Only this cluster is ever stopped or started by the tests: the machine's own PostgreSQL,
    which other work may be using, is never touched. As root the server runs as ``postgres``
    (PostgreSQL refuses to run as root).
    """

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="acs-e2e-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/acs_e2e"

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        argv = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise AssertionError(f"{tool} {args[:2]} failed:\n{done.stdout}{done.stderr}")

    def init(self) -> PostgresServer:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        return self

    def start(self) -> PostgresServer:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def ready(self) -> bool:
        return postgres_reachable(self.url)

    def destroy(self) -> None:
        """Stop the cluster if it runs (never any other) and delete its folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def postgres_bin() -> Path:
    """The folder of the newest initdb / pg_ctl on the machine (Debian keeps them off PATH)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parts[-3])],
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise FileNotFoundError("initdb")
    return Path(initdb).resolve().parent


def run_flask(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``flask --app wsgi ARGS`` with the deployment's environment; output captured."""
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# ---------------------------------------------------------------------------------------------
# Mail


class Mailbox:
    """What the real SMTP sink received, with bounded waits for the messages a test expects."""

    def __init__(self, server: SmtpServer, app_url: str):
        self.server = server
        self.app_url = app_url
        self._lock = threading.Lock()

    def all(self) -> list:
        with self._lock:
            return list(self.server.messages)

    def to(self, address: str) -> list:
        return [m for m in self.all() if address.lower() in str(m["To"]).lower()]

    def per_recipient(self) -> Counter:
        return Counter(str(m["To"]).lower() for m in self.all())

    def wait_for(self, address: str, count: int = 1, timeout: float = 30) -> list:
        return wait_until(
            lambda: (found := self.to(address)) and len(found) >= count and found,
            timeout,
            f"{count} email(s) to {address}",
        )

    @staticmethod
    def text(msg) -> str:
        return msg.get_body(preferencelist=("plain",)).get_content()

    def links(self, address: str, path_prefix: str) -> list[str]:
        """Every path under APP_URL + ``path_prefix`` linked in the mail to ``address``."""
        pattern = re.compile(re.escape(self.app_url + path_prefix) + r"[^\s<>\"]+")
        found = []
        for msg in self.to(address):
            found += [m[len(self.app_url) :] for m in pattern.findall(self.text(msg))]
        return found

    def link(self, address: str, path_prefix: str, timeout: float = 30, after: int = 0) -> str:
        """The newest such path, waiting for more than ``after`` of them to have arrived."""
        return wait_until(
            lambda: (found := self.links(address, path_prefix)) and len(found) > after and found,
            timeout,
            f"a {path_prefix} link for {address}",
        )[-1]


# ---------------------------------------------------------------------------------------------
# HTTP without a browser


def new_session(user_agent: str = "e2e-client") -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    return session


def get_csrf(session: requests.Session, url: str) -> str:
    response = session.get(url, timeout=15, allow_redirects=False)
    assert response.status_code == 200, (url, response.status_code)
    return csrf_from(response.text)


def submit(
    session: requests.Session, base: str, path: str, data: dict, form_path: str | None = None
):
    """GET the form (for its CSRF token) and POST it, without following the redirect."""
    token = get_csrf(session, base + (form_path or path))
    return session.post(
        base + path, data={"csrf_token": token, **data}, timeout=30, allow_redirects=False
    )


def browser_login(session: requests.Session, base: str, email: str, password: str, **extra):
    return submit(session, base, "/login", {"email": email, "password": password, **extra})


def api_login(base: str, email: str, password: str = STRONG_PASSWORD, **extra) -> requests.Response:
    return requests.post(
        base + "/api/auth/login", json={"email": email, "password": password, **extra}, timeout=30
    )


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def random_secret() -> str:
    return secrets.token_urlsafe(48)


def in_parallel(
    count: int,
    prepare: Callable[[int], object],
    fire: Callable[[int, object], object],
    timeout: float = 90,
) -> list:
    """Run ``prepare(i)`` in ``count`` threads, line them up, then ``fire(i, prepared)`` at once.

    Returns the results in thread order; an exception in any thread fails the caller.
    """
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(count, timeout=timeout)

    def run(index: int):
        prepared = prepare(index)
        barrier.wait()
        return fire(index, prepared)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(run, i) for i in range(count)]
        return [future.result(timeout=timeout) for future in futures]


def launch(playwright, **options):
    """Debian's chromium, headless, with the flags it needs here; never a downloaded browser."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, **options
    )
