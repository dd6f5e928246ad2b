"""PostgreSQL restarts under load: 503s with a problem body or an error page, then recovery.

This restarts the machine's PostgreSQL server (which other suites may be using): once per run,
with a 2-second hold between stop and start so that the outage is certain to be observed.
Set E2E_RESTART_POSTGRES=0 to skip it on a shared server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from acs_auth import messages

from .support import (
    STRONG_PASSWORD,
    api_login,
    bearer,
    browser_login,
    new_session,
    unique_email,
    wait_until,
)

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 2.0
LOAD_THREADS = 4


def _cluster() -> list[str]:
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*"))
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]


@pytest.fixture(scope="module")
def restartable(database):
    """Only a local cluster that this user may restart, and only when allowed."""
    if os.environ.get("E2E_RESTART_POSTGRES", "1") == "0":
        pytest.skip("E2E_RESTART_POSTGRES=0")
    if not database.is_postgres:
        pytest.skip("needs PostgreSQL")
    host = make_url(database.url).host
    if host not in ("127.0.0.1", "localhost", "::1") or not shutil.which("pg_ctlcluster"):
        pytest.skip("the PostgreSQL server is not a local cluster")
    if os.geteuid() != 0 or not Path("/etc/postgresql").is_dir():
        pytest.skip("restarting the cluster needs root")


def pg_ctl(action: str) -> None:
    subprocess.run([*_cluster(), action], check=True, timeout=90, capture_output=True)


def pg_ready() -> bool:
    done = subprocess.run(
        ["pg_isready", "-q", "-h", "127.0.0.1"], timeout=10, check=False, capture_output=True
    )
    return done.returncode == 0


class Load:
    """Threads that keep asking for pages and API resources that need the database."""

    def __init__(self, base: str, browser: requests.Session, token: str, email: str):
        self.base, self.browser, self.token, self.email = base, browser, token, email
        self.stop = threading.Event()
        self.records: list[tuple] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(LOAD_THREADS)]

    def _one(self, kind: str) -> requests.Response:
        if kind == "page":
            return self.browser.get(self.base + "/account", timeout=15, allow_redirects=False)
        if kind == "api":
            return requests.get(self.base + "/api/auth/me", headers=bearer(self.token), timeout=15)
        if kind == "login":
            return api_login(self.base, self.email)
        return requests.get(self.base + "/readyz", timeout=15)

    def _run(self, index: int) -> None:
        kinds = ("page", "api", "login", "ready")
        turn = index
        while not self.stop.is_set():
            kind = kinds[turn % len(kinds)]
            turn += 1
            started = time.monotonic()
            try:
                response = self._one(kind)
                record = (
                    started,
                    kind,
                    response.status_code,
                    response.headers.get("Content-Type", ""),
                    response.text[:2000],
                )
            except requests.RequestException as exc:
                record = (started, kind, "no answer", "", repr(exc))
            with self.lock:
                self.records.append(record)
            time.sleep(0.02)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def between(self, start: float, end: float) -> list[tuple]:
        with self.lock:
            return [r for r in self.records if start <= r[0] <= end]

    def latest_ok(self, since: float) -> set[str]:
        with self.lock:
            return {r[1] for r in self.records if r[0] >= since and r[2] == 200}


def test_postgres_restart_under_load(deployment, portal, restartable):
    email = unique_email("outage")
    deployment.make_user(email)
    browser = new_session("outage browser")
    assert browser_login(browser, portal.url, email, STRONG_PASSWORD).status_code == 302
    token = api_login(portal.url, email).json()["access_token"]
    workers = portal.worker_pids()

    with Load(portal.url, browser, token, email) as load:
        time.sleep(1.5)
        down = time.monotonic()
        try:
            pg_ctl("stop")
            stopped = time.monotonic()
            time.sleep(OUTAGE_SECONDS)
        finally:
            restarting = time.monotonic()
            pg_ctl("start")
        wait_until(pg_ready, 60, "PostgreSQL to accept connections")
        up = time.monotonic()
        wait_until(
            lambda: load.latest_ok(up) >= {"page", "api", "login", "ready"},
            30,
            "every kind of request to succeed again",
        )
        recovered = time.monotonic()

    answers = load.between(0, recovered)
    failures = [r[:3] for r in answers if r[2] not in (200, 503)]
    assert not failures, failures[:10]

    during = load.between(stopped, restarting)
    pages = [r for r in during if r[1] == "page"]
    problems = [r for r in during if r[1] in ("api", "login")]
    assert pages and problems, "the load did not reach the server during the outage"
    for _, _, status, content_type, body in pages:
        assert status == 503, status
        assert content_type.startswith("text/html") and messages.UNAVAILABLE in body
    for _, kind, status, content_type, body in problems:
        assert status == 503, (kind, status)
        assert content_type.startswith("application/problem+json"), content_type
        assert '"status":503' in body.replace(" ", "")
    assert {r[2] for r in during if r[1] == "ready"} <= {503}
    # Recovered by itself: the same worker processes, no restart.
    assert portal.worker_pids() == workers
    assert down < stopped < restarting < up < recovered
