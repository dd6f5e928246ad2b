"""Benchmark: API sign-in throughput against the bcrypt bound (cores / one bcrypt verify).

A sign-in is dominated by one bcrypt verification at BCRYPT_LOG_ROUNDS=12, so no server can
sign in more than (CPU cores / seconds per verify) people per second. This starts gunicorn
with one sync worker per core plus one on a temporary SQLite database (or --database-url), measures
one verify in this process, drives POST /api/auth/login with wrk for --duration seconds (every
answer must be a 200 with a token pair), measures the verify again, and prints the ratio
(target >= 0.97). Rate limits are switched off for the run: they would answer 429 long before
the CPU is the limit, which is their purpose but not what is measured here.

    .venv/bin/python bench/bench_login.py [--duration 60] [--workers 3] [--connections 4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import bcrypt
from bench_api_me import EMAIL, PASSWORD, Server, cpu_seconds, versions, worker_pids, wrk

TARGET = 0.97
ROUNDS = 12
LUA = """\
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
"""


def bcrypt_seconds(samples: int = 7) -> float:
    """Median time of one bcrypt verify at cost 12 in this process."""
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(ROUNDS))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        bcrypt.checkpw(PASSWORD.encode(), hashed)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _verify_for(seconds: float) -> int:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(ROUNDS))
    deadline, count = time.perf_counter() + seconds, 0
    while time.perf_counter() < deadline:
        bcrypt.checkpw(PASSWORD.encode(), hashed)
        count += 1
    return count


def parallel_bcrypt_rate(processes: int, seconds: float = 6.0) -> float:
    """Verifies per second that ``processes`` processes reach together right now.

    On an idle machine this equals the bound; when other programs share the cores it shows
    what was actually available, so a low ratio can be told apart from a slow server.
    """
    with ProcessPoolExecutor(processes) as pool:
        counts = list(pool.map(_verify_for, [seconds] * processes))
    return sum(counts) / seconds


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--connections", type=int, default=2 * (os.cpu_count() or 1))
    # One more worker than cores: while one waits for its commit to reach the disk, the
    # others keep every core busy with bcrypt.
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    env = {"RATELIMIT_ENABLED": "false"}
    with Server(
        workers=args.workers, database_url=args.database_url, rounds=ROUNDS, env=env
    ) as server:
        assert server.login()["token_type"] == "bearer"
        body = json.dumps(json.dumps({"email": EMAIL, "password": PASSWORD}))
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(LUA.format(body=body))
        try:
            url = server.base + "/api/auth/login"
            wrk(url, duration=3, connections=args.connections, script=script.name)  # warm-up
            before = bcrypt_seconds()
            available_before = parallel_bcrypt_rate(cores)
            pids = worker_pids(server.process.pid)
            cpu_before, busy_before = cpu_seconds(pids), machine_busy()
            result = wrk(
                url, duration=args.duration, connections=args.connections, script=script.name
            )
            cpu_after, busy_after = cpu_seconds(pids), machine_busy()
            available_after = parallel_bcrypt_rate(cores)
            after = bcrypt_seconds()
        finally:
            Path(script.name).unlink()
    if result["failed"] or result["socket_errors"]:
        print(f"failed sign-ins: {result}", file=sys.stderr)
        return 2
    verify = (before + after) / 2
    bound = cores / verify
    ratio = result["rps"] / bound
    database = "PostgreSQL" if args.database_url else "SQLite (temporary file)"
    print(f"machine: {versions()}")
    print(
        f"setup: gunicorn {args.workers} sync workers, {database}, BCRYPT_LOG_ROUNDS={ROUNDS}, "
        f"wrk -t1 -c{args.connections} for {args.duration} s, rate limits off"
    )
    print(
        f"one bcrypt verify: {verify * 1000:.1f} ms (before {before * 1000:.1f}, after "
        f"{after * 1000:.1f}); bound = {cores} cores / verify = {bound:.2f} sign-ins/s"
    )
    print(
        f"POST /api/auth/login: {result['requests']} sign-ins in {result['seconds']:.1f} s = "
        f"{result['rps']:.2f}/s (p50 {result['p50']})"
    )
    worker_ms = (cpu_after - cpu_before) / max(result["requests"], 1) * 1000
    busy = (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1)
    print(
        f"worker CPU per sign-in: {worker_ms:.1f} ms (bcrypt alone {verify * 1000:.1f} ms); "
        f"all cores busy {busy:.0%} of the run (this process, wrk and anything else included)"
    )
    available = (available_before + available_after) / 2
    print(
        f"bcrypt verifies/s of {cores} processes together (what the cores really gave, "
        f"before {available_before:.2f}, after {available_after:.2f}): {available:.2f}; "
        f"sign-ins / that = {result['rps'] / available:.3f}"
    )
    print(f"ratio to the bcrypt bound = {ratio:.3f} (target >= {TARGET})")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
