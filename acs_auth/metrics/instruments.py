"""The application's Prometheus instruments, created once per process.

No label ever carries an email, an IP address, a token or a raw path: endpoints are Flask
endpoint names, methods and outcomes come from fixed lists, so the number of series is bounded
whatever a client sends. In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by
gunicorn.conf.py) each worker writes its own files and a scrape sums them.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Methods outside this list are counted as "other": a client cannot mint new series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "acs_http_requests",
    "HTTP requests answered, by Flask endpoint, method and status code.",
    ("endpoint", "method", "status"),
)
LATENCY = Histogram(
    "acs_http_request_duration_seconds",
    "Time from the first request hook to the response, by Flask endpoint.",
    ("endpoint",),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SIGN_INS = Counter(
    "acs_sign_ins",
    "Sign-in attempts by outcome (success, bad_password, unknown_account, locked, inactive, "
    "rate_limited) and channel (browser, api, provider).",
    ("outcome", "channel"),
)
LOCKOUTS = Counter("acs_lockouts", "Accounts locked after too many failed sign-ins.")
PASSWORD_LINKS = Counter(
    "acs_password_links",
    "Password links by purpose (reset, setup) and stage (requested: a link was emailed; "
    "unmatched: a request that matched no usable account; completed: a password was set).",
    ("purpose", "stage"),
)
REGISTRATIONS = Counter(
    "acs_registrations",
    "Registrations by stage (started: link emailed or in-session step 1 passed; unmatched: "
    "step 1 matched no allowlist entry; completed: account created).",
    ("stage",),
)
REFRESH_REUSE = Counter(
    "acs_refresh_token_reuse",
    "Already-rotated refresh tokens presented again (each revoked its whole session).",
)
ALLOWLIST_IMPORTS = Counter(
    "acs_allowlist_imports", "Allowlist imports applied, by mode (merge, replace).", ("mode",)
)
