"""The API request budgets' numbers: which limit applies to whom, and how much a key has used.

acs_auth.api.quotas puts the budgets on the API views; this module only reads them, for the
pages and answers that show a key's usage to its owner and to administrators.
"""

from __future__ import annotations

from flask import current_app
from limits import parse_many

from acs_auth.extensions import limiter
from acs_auth.models import ApiKey

ACCOUNT_SCOPE = "api-account"
KEY_SCOPE = "api-key"


def limit_for(is_admin: bool) -> str:
    """The request limit of an account (and of each of its keys), in Flask-Limiter notation."""
    cfg = current_app.config
    return cfg["API_RATE_LIMIT_ADMIN"] if is_admin else cfg["API_RATE_LIMIT_USER"]


def key_subject(key_id: int) -> str:
    """The limiter key of one API key's budget (its row id, never the secret)."""
    return f"key:{key_id}"


def key_usage(row: ApiKey) -> tuple[int, int]:
    """(requests made, limit) of one key in the current window of its first limit."""
    item = parse_many(limit_for(row.user.is_admin))[0]
    if not current_app.config["RATELIMIT_ENABLED"]:
        return 0, item.amount
    try:
        _, remaining = limiter.limiter.get_window_stats(item, key_subject(row.id), KEY_SCOPE)
    except Exception:  # the store is unreachable: the count is unknown, shown as none used
        return 0, item.amount
    return item.amount - remaining, item.amount
