"""Benchmark: resident memory of each gunicorn worker after 10,000 requests (target ≤ 100 MB).

Starts gunicorn (2 sync workers) with the server harness of bench_api_me.py (a temporary SQLite
database, or the PostgreSQL database given with --database-url), then sends a mix of the
requests a deployment sees: sign-in page, signed-in pages, program list, API with a bearer
token, API sign-in (bcrypt), failed sign-ins, the OpenAPI document and a 404, from 4 client
threads with keep-alive. Reads VmRSS of every worker from /proc before, after a warm-up and
after the run; the run fails when a worker restarted, a request failed or a worker is above
the target.

    .venv/bin/python bench/bench_rss.py [--requests 10000] [--database-url URL]
        [--redis-url URL] [--preload]

The output is the Markdown section that docs/performance.md keeps under "Worker memory";
--preload runs gunicorn with preload_app = True for comparison.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bench_api_me
import requests
from bench_api_me import EMAIL, PASSWORD, Server, versions, worker_pids

TARGET_MB = 100.0
WARM_UP = 200
SLICE = 2_500
THREADS = 4
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)
# Limits high enough that the mix is never rate limited (memory:// storage, per worker).
SETTINGS = {
    "RATELIMIT_PER_IP": "1000000 per minute",
    "RATELIMIT_PER_IDENTIFIER": "1000000 per minute",
}


def memory_mb(pid: int) -> dict[str, float]:
    """RSS, PSS and private (USS) memory of ``pid`` in MiB, from /proc/<pid>/smaps_rollup.

    RSS counts every resident page the process maps, shared ones included (the target is set
    on it); PSS splits shared pages between their users; private is what the worker alone holds.
    """
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    private = fields["Private_Clean"] + fields["Private_Dirty"]
    return {"rss": fields["Rss"], "pss": fields["Pss"], "private": private}


def rss_mb(pid: int) -> float:
    return memory_mb(pid)["rss"]


class PreloadServer(Server):
    """The same harness with gunicorn's ``preload_app = True`` (the app imported before fork)."""

    def start(self) -> None:
        plain = bench_api_me.GUNICORN_SETTINGS
        bench_api_me.GUNICORN_SETTINGS = plain + "preload_app = True\n"
        try:
            super().start()
        finally:
            bench_api_me.GUNICORN_SETTINGS = plain


class Client:
    """One client thread's identities: a signed-in browser and an API token."""

    def __init__(self, base: str):
        self.base = base
        self.browser = requests.Session()
        page = self.browser.get(base + "/login", timeout=30).text
        match = CSRF.search(page)
        token = match.group(1) or match.group(2)
        answer = self.browser.post(
            base + "/login",
            data={"csrf_token": token, "email": EMAIL, "password": PASSWORD},
            timeout=30,
            allow_redirects=False,
        )
        assert answer.status_code == 302, answer.status_code
        self.api = requests.Session()
        pair = self.api.post(
            base + "/api/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=30
        ).json()
        self.api.headers["Authorization"] = f"Bearer {pair['access_token']}"
        self.anonymous = requests.Session()

    def one(self, number: int) -> int:
        """Request number ``number`` of the mix; returns the status code."""
        base, kind = self.base, number % 10
        if kind == 0:
            return self.anonymous.get(base + "/login", timeout=30).status_code
        if kind in (1, 2):
            path = "/account" if kind == 1 else "/programs"
            return self.browser.get(base + path, timeout=30, allow_redirects=False).status_code
        if kind in (3, 4):
            path = "/api/auth/me" if kind == 3 else "/api/programs"
            return self.api.get(base + path, timeout=30).status_code
        if kind == 5:
            body = {"email": EMAIL, "password": PASSWORD}
            return self.anonymous.post(base + "/api/auth/login", json=body, timeout=30).status_code
        if kind == 6:  # an unknown account: the dummy bcrypt check, a 401
            body = {"email": f"{uuid.uuid4().hex}@example.org", "password": "wrong password"}
            status = self.anonymous.post(base + "/api/auth/login", json=body, timeout=30)
            return 200 if status.status_code == 401 else status.status_code
        if kind == 7:
            return self.anonymous.get(base + "/api/openapi.json", timeout=30).status_code
        if kind == 8:
            return self.browser.get(base + "/programs/PROG-1", timeout=30).status_code
        status = self.anonymous.get(base + f"/no-such-page-{number}", timeout=30).status_code
        return 200 if status == 404 else status


def run(clients: list[Client], total: int, offset: int = 0) -> dict:
    """Send ``total`` requests spread over the clients; count the statuses."""
    counts: dict[int, int] = {}
    lock = threading.Lock()

    def work(index: int) -> None:
        client = clients[index]
        for number in range(offset + index, offset + total, len(clients)):
            status = client.one(number)
            with lock:
                counts[status] = counts.get(status, 0) + 1

    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(work, range(len(clients))))
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite)")
    parser.add_argument("--preload", action="store_true", help="gunicorn preload_app = True")
    parser.add_argument(
        "--redis-url", help="rate-limit storage, as in production (default: memory:// per worker)"
    )
    args = parser.parse_args()
    harness = PreloadServer if args.preload else Server
    env = {**SETTINGS, "RATELIMIT_STORAGE_URI": args.redis_url or "memory://"}
    with harness(workers=args.workers, database_url=args.database_url, env=env) as server:
        pids = worker_pids(server.process.pid)
        started = {pid: rss_mb(pid) for pid in pids}
        clients = [Client(server.base) for _ in range(THREADS)]
        warm = run(clients, WARM_UP)
        warmed = {pid: rss_mb(pid) for pid in pids}
        began = time.monotonic()
        counts: dict[int, int] = {}
        trail = []  # the largest worker RSS after each slice: does it level off or keep rising?
        for start in range(0, args.requests, SLICE):
            size = min(SLICE, args.requests - start)
            for status, number in run(clients, size, offset=WARM_UP + start).items():
                counts[status] = counts.get(status, 0) + number
            trail.append(max(rss_mb(pid) for pid in pids))
        seconds = time.monotonic() - began
        after = {pid: rss_mb(pid) for pid in pids}
        detail = {pid: memory_mb(pid) for pid in pids}
        same_workers = sorted(worker_pids(server.process.pid)) == sorted(pids)
    failed = {s: n for s, n in {**warm, **counts}.items() if s != 200}
    peak = max(after.values())
    ok = same_workers and not failed and peak <= TARGET_MB
    database = "PostgreSQL" if args.database_url else "SQLite (temporary file)"
    database += ", rate limits in " + ("Redis" if args.redis_url else "memory://")
    command = " ".join(["bench/bench_rss.py", *sys.argv[1:]])
    preload = " with `preload_app = True`" if args.preload else ""
    lines = [
        f"### `{command}`",
        "",
        f"`.venv/bin/python {command}` — gunicorn {args.workers} sync workers{preload}, "
        f"development settings, {database}, {THREADS} client threads with keep-alive, "
        f"{args.requests:,} requests after a {WARM_UP}-request warm-up, mixed: sign-in page, "
        "account and program pages, `/api/auth/me`, `/api/programs`, API sign-in (right and "
        "wrong password), `/api/openapi.json`, a 404 page. RSS is VmRSS from /proc.",
        "",
        f"Machine: {versions()}.",
        "",
        "| worker | RSS after start | after warm-up | after the run | growth in the run "
        "| PSS / private after the run |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for number, pid in enumerate(pids, start=1):
        lines.append(
            f"| {number} | {started[pid]:.1f} MB | {warmed[pid]:.1f} MB | {after[pid]:.1f} MB "
            f"| {after[pid] - warmed[pid]:+.1f} MB "
            f"| {detail[pid]['pss']:.1f} / {detail[pid]['private']:.1f} MB |"
        )
    verdict = "met" if ok else "NOT met"
    lines += [
        "",
        f"{args.requests:,} requests in {seconds:.1f} s ({args.requests / seconds:.0f} req/s); "
        f"failed: {failed or 'none'}; workers restarted: {'no' if same_workers else 'YES'}. "
        f"Target ≤ {TARGET_MB:.0f} MB per worker: **{verdict}** (largest {peak:.1f} MB).",
        "",
        f"Largest worker RSS after each {SLICE:,} requests: "
        + ", ".join(f"{mb:.1f}" for mb in trail)
        + " MB.",
        "",
    ]
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
