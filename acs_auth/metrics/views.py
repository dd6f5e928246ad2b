"""``/metrics``: the Prometheus endpoint, behind a bearer token and outside every rate limit."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from acs_auth.extensions import csrf, limiter
from acs_auth.metrics.collectors import exposition

bp = Blueprint("metrics", __name__)
# Prometheus scrapes every few seconds from one address: a rate limit would only make gaps.
limiter.exempt(bp)
csrf.exempt(bp)


@bp.get("/metrics")
def scrape():
    """The metrics of every worker; 404 unless METRICS_TOKEN is set, 401 without it."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)  # no token configured: the endpoint does not exist
    if not _bearer_matches(token):
        return Response(
            "", 401, {"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"}
        )
    return Response(
        exposition(), 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
    )


def _bearer_matches(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    # Constant-time comparison: the answer's timing says nothing about how much matched.
    return hmac.compare_digest(given.strip().encode(), token.encode())
