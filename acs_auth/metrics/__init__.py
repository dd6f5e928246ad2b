"""Prometheus metrics: instruments, the audit-event counters, scrape-time collectors, /metrics.

``init_app`` mounts the endpoint, times every request by its Flask endpoint name and installs
the audit listener (acs_auth.metrics.events). Nothing here imports a feature blueprint; the
services know nothing of metrics.
"""

from __future__ import annotations

import time

from flask import Flask, g, request

from acs_auth.checks import UnsafeConfiguration
from acs_auth.metrics import events
from acs_auth.metrics import instruments as m
from acs_auth.metrics.views import bp

MIN_TOKEN_CHARS = 32


def init_app(app: Flask) -> None:
    """Mount /metrics, time requests and count audit events."""
    refuse_weak_token(app)
    app.register_blueprint(bp)
    # First of all request hooks, so a request refused by the rate limiter is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_observe)
    events.listen()


def refuse_weak_token(app: Flask) -> None:
    """Production refuses a METRICS_TOKEN that could be guessed (shorter than 32 characters)."""
    token = app.config.get("METRICS_TOKEN")
    if app.config["ENV_NAME"] == "production" and token and len(token) < MIN_TOKEN_CHARS:
        raise UnsafeConfiguration(
            f"Refusing to start: METRICS_TOKEN must be at least {MIN_TOKEN_CHARS} characters"
        )


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response):
    endpoint = request.endpoint or "unmatched"
    method = request.method if request.method in m.KNOWN_METHODS else "other"
    m.REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    started = g.get("metrics_started")
    if started is not None:
        m.LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    events.count_rate_limited_sign_in(request.endpoint, response.status_code)
    return response
