"""Benchmark: GET /api/auth/me with a JWT against the bare GET /api/ping of the same app.

Starts gunicorn (2 sync workers) on a loopback port with a temporary SQLite database (or the
PostgreSQL database given with --database-url), signs in through the API, then runs wrk
against both endpoints in pairs of short rounds (ping, then me) and prints the requests per
second of each and the median of the per-pair ratios (target: /me >= 0.70 of /ping). Pairing
short rounds keeps both sides of each ratio under the same background load on a shared
machine; the workers' CPU time per request is printed too, as a load-independent check.
Every response must be a 2xx, or the run fails.

    .venv/bin/python bench/bench_api_me.py [--duration 3] [--rounds 10] [--connections 8]

With --compare-lookup it instead serves /me twice from the same database, one gunicorn with
API_FAST_LOOKUP=true (the prepared SELECT on a kept connection and the JWT verification cache)
and one with false (one plain Core select() through db.session, JWT verified every time), and
runs wrk against them in pairs of rounds, alternating which goes first; it prints the median
of the per-pair ratios fast / plain (issue 13: keep the fast lookup only if >= 1.10).

bench/bench_login.py reuses the server harness defined here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EMAIL = "bench@example.org"
PASSWORD = "correct horse battery staple 42"
TARGET = 0.70
GUNICORN_SETTINGS = """\
bind = ["127.0.0.1:{port}"]
workers = {workers}
worker_class = "{worker_class}"
threads = {threads}
accesslog = None
errorlog = "-"
loglevel = "warning"
"""


def worker_class(threads: int) -> str:
    """gunicorn's worker class for ``threads`` threads per worker."""
    return "gthread" if threads > 1 else "sync"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A temporary database with one user, served by gunicorn on a loopback port."""

    def __init__(
        self, *, workers: int, database_url: str | None, rounds: int = 4, env=None, threads=1
    ):
        self.workers = workers
        self.threads = threads  # more than one: gunicorn's gthread worker
        self.folder = Path(tempfile.mkdtemp(prefix="acs-bench-"))
        self.database_url = database_url or f"sqlite:///{self.folder}/bench.db"
        self.bcrypt_rounds = rounds
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ACS_CONFIG": "development",
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "MAIL_DELIVERY": "worker",
            "BCRYPT_LOG_ROUNDS": str(rounds),
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None

    def prepare(self) -> None:
        """Build the schema with the migrations and add the benchmark user."""
        from flask_migrate import upgrade

        from acs_auth import create_app
        from acs_auth.extensions import db, dispose_engines, init_migrations
        from acs_auth.models import User, UserProgram, utcnow
        from acs_auth.services.accounts.passwords import hash_password

        app = create_app(
            "development",
            SQLALCHEMY_DATABASE_URI=self.database_url,
            BCRYPT_LOG_ROUNDS=self.bcrypt_rounds,
        )
        with app.app_context():
            db.drop_all()
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            init_migrations(app)
            upgrade()
            user = User(
                email=EMAIL,
                email_key=EMAIL,
                first_name="Bench",
                last_name="Mark",
                password_hash=hash_password(PASSWORD),
                password_changed_at=utcnow(),
            )
            user.programs = [UserProgram(lo_root_id=f"PROG-{n}") for n in range(3)]
            db.session.add(user)
            db.session.commit()
            dispose_engines()

    def start(self) -> None:
        """Start gunicorn and wait until it answers."""
        settings = self.folder / "gunicorn_bench.py"
        settings.write_text(
            GUNICORN_SETTINGS.format(
                port=self.port,
                workers=self.workers,
                threads=self.threads,
                worker_class=worker_class(self.threads),
            )
        )
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen(
            [gunicorn, "-c", str(settings), "wsgi:app"], cwd=ROOT, env=self.env
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/api/ping", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def login(self) -> dict:
        """Sign in through the API and return the token pair."""
        body = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
        request = urllib.request.Request(
            self.base + "/api/auth/login",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Server:
        self.prepare()
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def wrk(url: str, *, duration: int, connections: int, headers=(), script=None, timeout: int = 10):
    """Run wrk once; returns requests, seconds, requests/second and failed responses."""
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration}s", "--latency"]
    command += ["--timeout", f"{timeout}s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", output)
    requests = int(done.group(1))
    seconds = float(done.group(2)) * {"ms": 0.001, "s": 1, "m": 60}[done.group(3)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    p50 = re.search(r"50%\s+([\d.]+\w+)", output)
    return {
        "requests": requests,
        "seconds": seconds,
        "rps": requests / seconds,
        "failed": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
        "p50": p50.group(1) if p50 else "?",
    }


def versions() -> str:
    """Machine and software versions, for the record."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    packages = ["Flask", "gunicorn", "SQLAlchemy", "PyJWT", "Flask-Bcrypt", "bcrypt", "psycopg"]
    found = []
    for name in packages:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    try:  # bench_login_peer.py drives its own clients and runs without wrk
        wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        wrk_version = "no wrk"
    wrk_version = wrk_version.split(" [")[0].strip() or "wrk"
    return (
        f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}, {', '.join(found)}, {wrk_version}"
    )


def worker_pids(parent: int) -> list[int]:
    """The gunicorn workers (children of the master)."""
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(server: Server, path: str, headers, args, pids) -> dict:
    """One wrk round, with the workers' CPU time per request."""
    before = cpu_seconds(pids)
    result = wrk(
        server.base + path, duration=args.duration, connections=args.connections, headers=headers
    )
    result["cpu_ms"] = (cpu_seconds(pids) - before) / result["requests"] * 1000
    if result["failed"] or result["socket_errors"]:
        raise SystemExit(f"{path}: failed responses {result}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk round")
    parser.add_argument("--rounds", type=int, default=10, help="pairs of rounds (ping, me)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite)")
    parser.add_argument(
        "--compare-lookup", action="store_true", help="/me: fast lookup against plain Core"
    )
    args = parser.parse_args()
    if args.compare_lookup:
        return compare_lookup(args)
    with Server(workers=args.workers, database_url=args.database_url) as server:
        token = server.login()["access_token"]
        targets = {
            "ping": ("/api/ping", ()),
            "me": ("/api/auth/me", (f"Authorization: Bearer {token}",)),
        }
        pids = worker_pids(server.process.pid)
        for path, headers in targets.values():  # warm both up
            wrk(server.base + path, duration=2, connections=args.connections, headers=headers)
        pairs = []
        for _ in range(args.rounds):
            pairs.append(
                {name: measure(server, *target, args, pids) for name, target in targets.items()}
            )
    report(pairs, args)
    ratio = statistics.median(p["me"]["rps"] / p["ping"]["rps"] for p in pairs)
    return 0 if ratio >= TARGET else 1


def compare_lookup(args) -> int:
    """/me served with API_FAST_LOOKUP=true and false from one database, side by side."""
    with Server(workers=args.workers, database_url=args.database_url) as fast:
        plain = Server(
            workers=args.workers,
            database_url=fast.database_url,
            env={"API_FAST_LOOKUP": "false"},
        )
        try:
            plain.start()
            targets = {}
            for name, server in (("fast", fast), ("plain", plain)):
                token = server.login()["access_token"]
                headers = (f"Authorization: Bearer {token}",)
                pids = worker_pids(server.process.pid)
                targets[name] = (server, headers, pids)
                wrk(
                    server.base + "/api/auth/me",
                    duration=2,
                    connections=args.connections,
                    headers=headers,
                )  # warm-up
            pairs = []
            for number in range(args.rounds):
                order = ("fast", "plain") if number % 2 == 0 else ("plain", "fast")
                pair = {}
                for name in order:
                    server, headers, pids = targets[name]
                    pair[name] = measure(server, "/api/auth/me", headers, args, pids)
                pairs.append(pair)
        finally:
            plain.stop()
    database = "PostgreSQL" if args.database_url else "SQLite (temporary file)"
    print(f"machine: {versions()}")
    print(f"load average at the end (1, 5, 15 min): {Path('/proc/loadavg').read_text()[:14]}")
    print(
        f"setup: two gunicorns of {args.workers} sync workers on one {database} database, "
        f"wrk -t1 -c{args.connections}, {args.rounds} pairs of {args.duration} s rounds of "
        "GET /api/auth/me (order alternating), after a warm-up"
    )
    for name in ("fast", "plain"):
        rps = [p[name]["rps"] for p in pairs]
        cpu = statistics.median(p[name]["cpu_ms"] for p in pairs)
        print(
            f"{name}: median {statistics.median(rps):.0f} req/s (min {min(rps):.0f}, "
            f"max {max(rps):.0f}); worker CPU {cpu:.3f} ms/request"
        )
    ratios = [p["fast"]["rps"] / p["plain"]["rps"] for p in pairs]
    cpu_ratio = statistics.median(p["plain"]["cpu_ms"] / p["fast"]["cpu_ms"] for p in pairs)
    ratio = statistics.median(ratios)
    print(f"ratio per pair: {', '.join(f'{r:.3f}' for r in ratios)}")
    print(
        f"throughput fast / plain = {ratio:.3f} (median of pairs; keep the fast lookup if "
        f">= 1.10); worker CPU plain / fast {cpu_ratio:.3f}"
    )
    return 0


def report(pairs: list[dict], args) -> None:
    """Print the figures that docs/performance.md records."""
    database = "PostgreSQL" if args.database_url else "SQLite (temporary file)"
    print(f"machine: {versions()}")
    print(f"load average at the end (1, 5, 15 min): {Path('/proc/loadavg').read_text()[:14]}")
    print(
        f"setup: gunicorn {args.workers} sync workers, {database}, wrk -t1 -c{args.connections}, "
        f"{args.rounds} pairs of {args.duration} s rounds (ping then me), after a warm-up"
    )
    for name, path in (("ping", "/api/ping"), ("me", "/api/auth/me")):
        rps = [p[name]["rps"] for p in pairs]
        cpu = statistics.median(p[name]["cpu_ms"] for p in pairs)
        print(
            f"GET {path}: median {statistics.median(rps):.0f} req/s "
            f"(min {min(rps):.0f}, max {max(rps):.0f}); worker CPU {cpu:.2f} ms/request"
        )
    ratios = [p["me"]["rps"] / p["ping"]["rps"] for p in pairs]
    cpu_ratio = statistics.median(p["ping"]["cpu_ms"] / p["me"]["cpu_ms"] for p in pairs)
    print(f"ratio per pair: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(
        f"ratio /api/auth/me : /api/ping = {statistics.median(ratios):.3f} (median of pairs; "
        f"target >= {TARGET}); worker CPU ratio {cpu_ratio:.3f}"
    )


if __name__ == "__main__":
    sys.exit(main())
