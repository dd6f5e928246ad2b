"""Benchmark: API sign-in of acs_auth side by side with a minimal Flask-Security-Too peer.

Issue 13 ("Sign-in speed"): both apps sign people in with bcrypt at cost 12 on the same kind of
database (a SQLite file each, or PostgreSQL: --database-url for acs_auth and --fst-database-url
for the peer, two databases because each builds its own schema), each under gunicorn with
--workers sync workers. The peer is bench/peer_fst/app.py, run from its own virtualenv
(bench/.venv-fst; bench/peer_fst/requirements.txt). Rounds alternate between the two apps (the
order swaps every pair), --connections clients each keep posting a JSON sign-in; every answer
must be a 200 with a token. One bcrypt verify is timed in this process before the first round
and after every round. Printed: sign-ins/s of each (steady rate between the first and last
answer of a round, median of rounds), p99 latency over every answer of its rounds, the median of
the per-pair ratios acs_auth / FST, and the targets: ratio >= 1, p99 <= 2 x one verify + 30 ms.
Rate limits are off in acs_auth (the peer has none).

    python -m venv bench/.venv-fst
    bench/.venv-fst/bin/pip install -r bench/peer_fst/requirements.txt
    .venv/bin/python bench/bench_login_peer.py [--rounds 5] [--duration 15]
    .venv/bin/python bench/bench_login_peer.py --database-url postgresql+psycopg://.../A \\
        --fst-database-url postgresql+psycopg://.../B
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench_api_me import (
    EMAIL,
    PASSWORD,
    ROOT,
    Server,
    cpu_seconds,
    free_port,
    versions,
    worker_pids,
)
from bench_login import ROUNDS, bcrypt_seconds

PEER = ROOT / "bench" / "peer_fst"
PEER_PYTHON = ROOT / "bench" / ".venv-fst" / "bin" / "python"
BODY = json.dumps({"email": EMAIL, "password": PASSWORD})


class PeerServer:
    """bench/peer_fst/app.py with one user, served by gunicorn from the peer's virtualenv."""

    def __init__(self, *, workers: int, database_url: str | None):
        self.workers = workers
        self.folder = Path(tempfile.mkdtemp(prefix="fst-bench-"))
        self.database_url = database_url or f"sqlite:///{self.folder}/fst.db"
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SECURITY_PASSWORD_SALT": secrets.token_urlsafe(16),
            "ROUNDS": str(ROUNDS),
        }
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> PeerServer:
        if not PEER_PYTHON.exists():
            raise SystemExit(f"no {PEER_PYTHON}: see this script's docstring")
        subprocess.run(
            [str(PEER_PYTHON), "app.py", "seed", EMAIL, PASSWORD],
            cwd=PEER,
            env=self.env,
            check=True,
        )
        gunicorn = str(PEER_PYTHON.with_name("gunicorn"))
        command = [gunicorn, "-w", str(self.workers), "-k", "sync", "--log-level", "warning"]
        command += ["-b", f"127.0.0.1:{self.port}", "app:app"]
        self.process = subprocess.Popen(command, cwd=PEER, env=self.env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login", timeout=1)
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the peer's gunicorn did not start")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)
        shutil.rmtree(self.folder, ignore_errors=True)


def acs_ok(status: int, answer: bytes) -> bool:
    return status == 200 and json.loads(answer).get("token_type") == "bearer"


def fst_ok(status: int, answer: bytes) -> bool:
    user = json.loads(answer).get("response", {}).get("user", {})
    return status == 200 and bool(user.get("authentication_token"))


def load(port: int, path: str, ok, *, connections: int, duration: float) -> dict:
    """Keep ``connections`` clients signing in for ``duration`` s; rate and latencies.

    As bench_login.sign_in_load: the rate is (answers - 1) / (last answer - first answer).
    """
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    stop = time.monotonic() + duration
    done: list[float] = []
    latencies: list[float] = []
    failures: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while time.monotonic() < stop:
                started = time.monotonic()
                conn.request("POST", path, BODY, headers)
                response = conn.getresponse()
                answer = response.read()
                finished = time.monotonic()
                if not ok(response.status, answer):
                    failures.append(f"{response.status} {answer[:200]!r}")
                elif finished <= stop:
                    done.append(finished)
                    latencies.append(finished - started)
        except (OSError, http.client.HTTPException, ValueError) as error:
            failures.append(repr(error))
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{path}: failed sign-ins {failures[:3]}")
    done.sort()
    return {
        "requests": len(done),
        "rps": (len(done) - 1) / (done[-1] - done[0]) if len(done) > 1 else 0.0,
        "latencies": latencies,
    }


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="pairs of rounds")
    parser.add_argument("--duration", type=int, default=15, help="seconds per round")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="acs_auth's PostgreSQL (default: SQLite file)")
    parser.add_argument("--fst-database-url", help="the peer's PostgreSQL (default: SQLite)")
    args = parser.parse_args()
    if bool(args.database_url) != bool(args.fst_database_url):
        parser.error("give both database URLs or neither")
    acs = Server(
        workers=args.workers,
        database_url=args.database_url,
        rounds=ROUNDS,
        env={"RATELIMIT_ENABLED": "false"},
    )
    with acs, PeerServer(workers=args.workers, database_url=args.fst_database_url) as fst:
        apps = {
            "acs_auth": (acs.port, "/api/auth/login", acs_ok, worker_pids(acs.process.pid)),
            "FST": (fst.port, "/login?include_auth_token", fst_ok, worker_pids(fst.process.pid)),
        }
        for port, path, ok, _ in apps.values():  # warm-up
            load(port, path, ok, connections=args.connections, duration=3)
        verifies = [bcrypt_seconds()]
        pairs = []
        for number in range(args.rounds):
            order = ("acs_auth", "FST") if number % 2 == 0 else ("FST", "acs_auth")
            pair = {}
            for name in order:
                port, path, ok, pids = apps[name]
                before = cpu_seconds(pids)
                result = load(port, path, ok, connections=args.connections, duration=args.duration)
                result["cpu_ms"] = (cpu_seconds(pids) - before) / result["requests"] * 1000
                pair[name] = result
                verifies.append(bcrypt_seconds())
            pairs.append(pair)
    return report(pairs, verifies, args)


def report(pairs: list[dict], verifies: list[float], args) -> int:
    database = "PostgreSQL" if args.database_url else "SQLite (a temporary file each)"
    verify_ms = statistics.median(verifies) * 1000
    bound_ms = 2 * verify_ms + 30
    print(f"machine: {versions()}")
    print(f"load average at the end (1, 5, 15 min): {Path('/proc/loadavg').read_text()[:14]}")
    print(
        f"setup: gunicorn {args.workers} sync workers each, {database}, bcrypt cost {ROUNDS}, "
        f"{args.connections} clients, {args.rounds} pairs of {args.duration} s rounds "
        "(order alternating), after a warm-up"
    )
    print(
        f"one bcrypt verify in this process: median {verify_ms:.1f} ms "
        f"(min {min(verifies) * 1000:.1f}, max {max(verifies) * 1000:.1f})"
    )
    p99s = {}
    for name in ("acs_auth", "FST"):
        rates = [p[name]["rps"] for p in pairs]
        latencies = [v for p in pairs for v in p[name]["latencies"]]
        p99s[name] = p99(latencies) * 1000
        cpu = statistics.median(p[name]["cpu_ms"] for p in pairs)
        print(
            f"{name}: {statistics.median(rates):.2f} sign-ins/s (rounds: "
            f"{', '.join(f'{r:.2f}' for r in rates)}); p50 "
            f"{statistics.median(latencies) * 1000:.0f} ms, p99 {p99s[name]:.0f} ms over "
            f"{len(latencies)} sign-ins; worker CPU {cpu:.1f} ms per sign-in"
        )
    ratios = [p["acs_auth"]["rps"] / p["FST"]["rps"] for p in pairs]
    ratio = statistics.median(ratios)
    print(f"ratio acs_auth / FST per pair: {', '.join(f'{r:.3f}' for r in ratios)}")
    cpu = [p["FST"]["cpu_ms"] / p["acs_auth"]["cpu_ms"] for p in pairs]
    print(
        "workers' CPU per sign-in, FST / acs_auth (load-independent; > 1: acs_auth is cheaper): "
        f"{statistics.median(cpu):.3f} (pairs: {', '.join(f'{r:.3f}' for r in cpu)})"
    )
    met_rate = ratio >= 1.0
    met_p99 = p99s["acs_auth"] <= bound_ms
    print(
        f"acs_auth / FST = {ratio:.3f} (median of pairs; target >= 1: "
        f"{'met' if met_rate else 'not met'}); acs_auth p99 {p99s['acs_auth']:.0f} ms against "
        f"2 x {verify_ms:.0f} + 30 = {bound_ms:.0f} ms ({'met' if met_p99 else 'not met'})"
    )
    return 0 if met_rate and met_p99 else 1


if __name__ == "__main__":
    sys.exit(main())
