"""Benchmark: API sign-in throughput against the bcrypt bound (cores / one bcrypt verify).

A sign-in is dominated by one bcrypt verification at BCRYPT_LOG_ROUNDS=12, so no server can
sign in more than (CPU cores / seconds per verify) people per second. This starts gunicorn
with one sync worker per core plus one on a temporary SQLite database (or --database-url) and
drives POST /api/auth/login with wrk in --rounds rounds of --duration seconds (every answer must
be a 200 with a token pair). One verify is timed in this process before the first round and
after each one, and each round is compared with the bound of the verifies around it: this
machine's speed drifts by several per cent within minutes, which a single long round against
one measurement before and after cannot tell from the server. The figure is the median of the
rounds' ratios (target >= 0.97). Rate limits are switched off for the run: they would answer
429 long before the CPU is the limit, which is their purpose but not what is measured here.

    .venv/bin/python bench/bench_login.py [--rounds 5] [--duration 20] [--workers 3]
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
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per round")
    parser.add_argument("--connections", type=int, default=2 * (os.cpu_count() or 1))
    # One more worker than cores: while one waits for the database, the others keep every
    # core busy with bcrypt.
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    env = {"RATELIMIT_ENABLED": "false"}
    rounds = []
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
            available_before = parallel_bcrypt_rate(cores)
            pids = worker_pids(server.process.pid)
            verify = bcrypt_seconds()
            for _ in range(args.rounds):
                cpu_before, busy_before = cpu_seconds(pids), machine_busy()
                result = wrk(
                    url, duration=args.duration, connections=args.connections, script=script.name
                )
                cpu_after, busy_after = cpu_seconds(pids), machine_busy()
                if result["failed"] or result["socket_errors"]:
                    print(f"failed sign-ins: {result}", file=sys.stderr)
                    return 2
                verify_after = bcrypt_seconds()
                rounds.append(
                    {
                        **result,
                        "verify": (verify + verify_after) / 2,
                        "worker_ms": (cpu_after - cpu_before) / max(result["requests"], 1) * 1000,
                        "busy": (busy_after[0] - busy_before[0])
                        / max(busy_after[1] - busy_before[1], 1),
                    }
                )
                verify = verify_after
            available_after = parallel_bcrypt_rate(cores)
        finally:
            Path(script.name).unlink()
    return report(rounds, args, cores, (available_before + available_after) / 2)


def report(rounds: list[dict], args, cores: int, available: float) -> int:
    database = "PostgreSQL" if args.database_url else "SQLite (temporary file)"
    print(f"machine: {versions()}")
    print(
        f"setup: gunicorn {args.workers} sync workers, {database}, BCRYPT_LOG_ROUNDS={ROUNDS}, "
        f"wrk -t1 -c{args.connections}, {args.rounds} rounds of {args.duration} s, "
        "rate limits off"
    )
    for number, r in enumerate(rounds, 1):
        bound = cores / r["verify"]
        r["ratio"] = r["rps"] / bound
        print(
            f"round {number}: {r['requests']} sign-ins = {r['rps']:.2f}/s; one verify "
            f"{r['verify'] * 1000:.1f} ms, bound {bound:.2f}/s; ratio {r['ratio']:.3f}; worker "
            f"CPU per sign-in {r['worker_ms']:.1f} ms; all cores busy {r['busy']:.0%}"
        )
    ratio = statistics.median(r["ratio"] for r in rounds)
    requests = sum(r["requests"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    pooled = requests / sum(r["seconds"] * cores / r["verify"] for r in rounds)
    worker_ms = statistics.median(r["worker_ms"] for r in rounds)
    verify_ms = statistics.median(r["verify"] for r in rounds) * 1000
    print(
        f"all rounds: {requests} sign-ins in {seconds:.0f} s = {requests / seconds:.2f}/s; "
        f"pooled ratio {pooled:.3f}; worker CPU per sign-in {worker_ms:.1f} ms against "
        f"{verify_ms:.1f} ms for the verify alone (medians)"
    )
    print(
        f"bcrypt verifies/s of {cores} processes together, before and after (what the cores "
        f"really gave): {available:.2f}; sign-ins / that = {requests / seconds / available:.3f}"
    )
    print(f"ratio to the bcrypt bound = {ratio:.3f} (median of rounds; target >= {TARGET})")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
