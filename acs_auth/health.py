"""Health endpoints for load balancers: /healthz (process) and /readyz (dependencies).

/readyz also fails while the database is not migrated to the head of migrations/versions, so
a new release is not sent traffic before `flask db upgrade` has run.
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from acs_auth.extensions import csrf, db, limiter
from acs_auth.services.operations import schema

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)
# Probes come every few seconds from the load balancer: they must never be rate limited, and
# they only read, so CSRF has nothing to protect.
limiter.exempt(bp)
csrf.exempt(bp)

REDIS_SCHEMES = ("redis://", "rediss://")
REDIS_TIMEOUT_SECONDS = 2


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers; no dependency is touched."""
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
def readyz():
    """Readiness: 200 when the database (migrated to head) and Redis answer, else 503."""
    checks = {"database": _check(_ping_database, "database")}
    if checks["database"] == "ok":
        checks["migrations"] = _migrations()
    if _redis_uri():
        checks["redis"] = _check(_ping_redis, "redis")
    failed = sorted(name for name, state in checks.items() if state != "ok")
    body = {"status": "unavailable" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    return _no_store(jsonify(body)), 503 if failed else 200


def _check(probe, name: str) -> str:
    # The reason goes to the log only: connection strings and host names stay out of the body.
    try:
        probe()
    except Exception as exc:
        log.warning("readiness check %s failed: %s", name, exc)
        return "unavailable"
    return "ok"


def _ping_database() -> None:
    # A connection of its own, outside the request's session, so a failure leaves nothing behind.
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _migrations() -> str:
    """ "ok" at the scripts' head, "pending" otherwise (never migrated, behind, or ahead)."""
    try:
        with db.engine.connect() as conn:
            current = schema.is_current(conn)
    except Exception as exc:
        log.warning("readiness check migrations failed: %s", exc)
        return "unavailable"
    if not current:
        log.warning("readiness check migrations: the database is not at the head revision")
    return "ok" if current else "pending"


def _redis_uri() -> str | None:
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or ""
    return uri if uri.startswith(REDIS_SCHEMES) else None


def _ping_redis() -> None:
    # One client per application and URI, reused by every probe (its pool keeps connections).
    clients = current_app.extensions.setdefault("acs_readyz_redis", {})
    uri = _redis_uri()
    if uri not in clients:
        clients[uri] = redis.Redis.from_url(
            uri,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
    clients[uri].ping()


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response
