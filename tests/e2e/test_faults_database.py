"""PostgreSQL restarts under load: 503s with a problem body or an error page, then recovery.

The deployment of this module runs on a throw-away PostgreSQL cluster of its own (initdb +
pg_ctl on a free loopback port in a temp dir), and only that cluster is stopped and started:
the machine's PostgreSQL, which other work may be using, is never touched. A 2-second hold
between stop and start makes sure the outage is observed.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from acs_auth import messages
from tests.support.e2e import (
    STRONG_PASSWORD,
    Database,
    PostgresServer,
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


@pytest.fixture(scope="module")
def own_postgres():
    """A PostgreSQL cluster that exists for this module only (skipped without initdb)."""
    try:
        server = PostgresServer()
    except (FileNotFoundError, LookupError) as exc:
        pytest.skip(f"cannot set up a throw-away PostgreSQL here: {exc}")
    try:
        server.init().start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def database(own_postgres):
    """The module's database, on its own cluster (replaces the shared-server fixture)."""
    found = Database.postgres(own_postgres.url, "faults")
    yield found
    found.drop()


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


def test_postgres_restart_under_load(deployment, portal, own_postgres):
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
            own_postgres.stop()
            stopped = time.monotonic()
            time.sleep(OUTAGE_SECONDS)
        finally:
            restarting = time.monotonic()
            own_postgres.start()
        wait_until(own_postgres.ready, 60, "PostgreSQL to accept connections")
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
