"""Fixtures of the end-to-end suites: a fresh migrated database and gunicorn per module.

Nothing here stops, restarts or flushes a server that other work on the machine may use:
Redis is a throw-away redis-server of the run's own unless E2E_REDIS_URL names one, databases
are created and dropped per module, and the PostgreSQL fault suite runs a cluster of its own.

Backends, from the environment:
  E2E_DATABASE_URL  a PostgreSQL URL whose database name is the prefix of the databases created
                    (one per module, dropped afterwards); default
                    postgresql+psycopg://postgres@127.0.0.1:5432/acs_e2e. ``sqlite`` runs the
                    browser suites on a SQLite file instead (suites that need PostgreSQL skip).
  E2E_REDIS_URL     a Redis db for rate limits, FLUSHED by every module; unset (the default), the
                    run starts its own redis-server on a free loopback port, keeping nothing on
                    disk, and stops it at the end.
  E2E_CHROMIUM      the browser (default /usr/bin/chromium, Debian's package).
  E2E_SCREENSHOTS   where the browser suites save their screenshots (default
                    test-results/screenshots, ignored by git); `make screenshots` sets it to
                    docs/screenshots to refresh the documentation's pictures on purpose.
A test module can set PORTAL_SETTINGS = {...} for settings of its own (small rate limits...).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.deployment import Deployment
from tests.support.e2e import (
    CHROMIUM,
    DEFAULT_PG,
    ROOT,
    Database,
    RedisServer,
    launch,
    postgres_reachable,
    redis_reachable,
)
from tests.support.mail import SmtpServer

DATABASE_SETTING = os.environ.get("E2E_DATABASE_URL", DEFAULT_PG)
REDIS_SETTING = os.environ.get("E2E_REDIS_URL")
USE_SQLITE = DATABASE_SETTING.startswith("sqlite")
SCREENSHOTS = Path(
    os.environ.get("E2E_SCREENSHOTS") or ROOT / "test-results" / "screenshots"
).resolve()


@pytest.fixture(scope="session")
def e2e_redis(tmp_path_factory):
    """The Redis URL of the run: E2E_REDIS_URL, or a redis-server of its own (stopped after)."""
    if REDIS_SETTING:
        if not redis_reachable(REDIS_SETTING):
            pytest.skip(f"Redis at {REDIS_SETTING} does not answer (E2E_REDIS_URL)")
        yield REDIS_SETTING
        return
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (or set E2E_REDIS_URL)")
    server = RedisServer(tmp_path_factory.mktemp("redis") / "redis.log").start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def backends(e2e_redis):
    """Make sure the database server answers; a missing one is a clear skip, not a hang."""
    if not USE_SQLITE and not postgres_reachable(DATABASE_SETTING):
        pytest.skip(f"PostgreSQL for {DATABASE_SETTING} does not answer (set E2E_DATABASE_URL)")
    return {"database": DATABASE_SETTING, "redis": e2e_redis, "sqlite": USE_SQLITE}


@pytest.fixture(scope="module")
def needs_postgres():
    """Suites about several processes sharing one database run on PostgreSQL only."""
    if USE_SQLITE:
        pytest.skip("needs PostgreSQL (E2E_DATABASE_URL is sqlite)")


@pytest.fixture(scope="module")
def workdir(request, tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(scope="module")
def database(request, backends, workdir):
    """A database of this module's own, created empty (migrated by the deployment fixture)."""
    if backends["sqlite"]:
        found = Database.sqlite(workdir)
    else:
        tag = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
        found = Database.postgres(backends["database"], tag)
    yield found
    found.drop()


@pytest.fixture(scope="module")
def smtp_server():
    """A real SMTP server (aiosmtpd) on a loopback port for the whole module."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_url(e2e_redis) -> str:
    """The rate-limit storage of the module's deployment (a module may override this)."""
    return e2e_redis


@pytest.fixture(scope="module")
def deployment(request, database, smtp_server, redis_url, workdir):
    """Secrets, settings and the migrated database shared by the gunicorns a module starts."""
    settings = getattr(request.module, "PORTAL_SETTINGS", {})
    found = Deployment(database, smtp_server, redis_url, workdir, settings)
    found.flush_redis()
    found.migrate()
    yield found
    found.close()


@pytest.fixture(scope="module")
def portal(deployment):
    """One gunicorn with two workers."""
    return deployment.start(workers=2)


@pytest.fixture(scope="module")
def portals(deployment, needs_postgres):
    """Two gunicorn instances with two workers each, sharing PostgreSQL and Redis."""
    return deployment.start(workers=2), deployment.start(workers=2)


@pytest.fixture(autouse=True)
def _server_logs_on_failure(request):
    """Show the gunicorn logs under a failing test, so a 500 explains itself."""
    yield
    report = getattr(request.node, "rep_call", None)
    found = request.node.funcargs.get("deployment")
    if report is not None and report.failed and found is not None:
        print(found.logs())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


# ---------------------------------------------------------------------------------------------
# The browser


@pytest.fixture(scope="session")
def playwright():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright):
    found = launch(playwright)
    yield found
    found.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def a11y_report(tmp_path_factory):
    """axe-core results of every page the browser suites checked, written out at the end."""
    from tests.support.watched import write_report

    report: dict = {}
    yield report
    if report:
        write_report(report, tmp_path_factory.getbasetemp() / "axe-report.json")


@pytest.fixture
def open_page(browser, portal, a11y_report):
    """New browser contexts (separate cookie jars) on the portal, each page watched."""
    from tests.support.watched import VIEWPORT, Watched

    contexts = []

    def factory(on=None, **options) -> Watched:
        context = (on or browser).new_context(base_url=portal.url, viewport=VIEWPORT, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Watched(context.new_page(), a11y_report)

    yield factory
    for context in contexts:
        try:
            context.close()
        except Exception as exc:  # the browser of a restart test is already gone
            print(f"closing a context: {exc}")
