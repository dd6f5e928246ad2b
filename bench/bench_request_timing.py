"""Benchmark: a request for an emailed link takes the same time for a match and a miss.

Usage (from the repository root):

    .venv/bin/python bench/bench_request_timing.py                   # SQLite
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/acs_bench_t \
        .venv/bin/python bench/bench_request_timing.py --repeat 400

Registration step 1, forgot-password and first-time setup answer the same page whatever was
typed; what they do (lookup, token, outbox insert) now runs in the mail sender, and the request
only stores what was typed (services/mail/link_requests.py). For each form this posts --repeat
matching and --repeat non-matching requests, in pairs of random order, through Flask's test
client (CSRF and rate limits off, the mail sender not running), and prints the median and p90
of each and their ratio: match / miss near 1.00 means the time tells nothing. ``--inline`` runs
the services on the request path as before the change, for comparison.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_import import fresh_app  # the same fresh, migrated schema
from sqlalchemy import delete

from acs_auth import create_app
from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, LinkRequest, OutboxMessage, User
from acs_auth.models.user import search_key
from acs_auth.services.accounts import passwords
from acs_auth.services.mail import link_requests

FORMS = {
    "register": ("/register", True, link_requests.REGISTER),
    "forgot-password": ("/forgot-password", False, link_requests.RESET),
    "first-time-password": ("/first-time-password", True, link_requests.SETUP),
}


def seed() -> None:
    """One account with a password, one without, and an allowlisted person without one."""
    hashed = passwords.hash_password("correct horse battery staple 42")
    for email, password_hash in (("ada@example.org", hashed), ("alan@example.org", None)):
        db.session.add(
            User(
                email=email,
                email_key=email,
                last_name="Lovelace",
                last_name_key=search_key("Lovelace"),
                password_hash=password_hash,
                role="user",
                source="csv",
            )
        )
    db.session.add(
        AllowlistEntry(
            email="grace@example.org",
            email_key="grace@example.org",
            last_name="Lovelace",
            lo_root_ids="P1",
        )
    )
    db.session.commit()


MATCH = {"register": "grace@example.org", "forgot-password": "ada@example.org"}
MATCH["first-time-password"] = "alan@example.org"


def inline(app) -> None:
    """Answer link requests on the request path, as before services/mail/link_requests.py."""
    handlers = link_requests._handlers()

    def defer(kind, email, last_name=None):
        handlers[kind](LinkRequest(kind=kind, email=email, last_name=last_name))

    link_requests.defer = defer


def measure(app, form: str, repeat: int) -> dict[str, list[float]]:
    url, with_name, _kind = FORMS[form]
    client = app.test_client()
    times: dict[str, list[float]] = {"match": [], "miss": []}
    # Pairs in random order, so that neither path always follows the other.
    rng = random.Random(12)
    order = [w for _ in range(repeat + 10) for w in rng.sample(["match", "miss"], 2)]
    for i, which in enumerate(order):
        email = MATCH[form] if which == "match" else f"nobody{i}@example.org"
        data = {"email": email, **({"last_name": "Lovelace"} if with_name else {})}
        start = time.perf_counter()
        response = client.post(url, data=data)
        elapsed = time.perf_counter() - start
        assert response.status_code in (200, 302), response.status_code
        if i >= 20:  # the first requests warm caches and templates
            times[which].append(elapsed)
        if i % 50 == 49:  # keep the tables small, as the sender would
            with app.app_context():
                db.session.execute(delete(LinkRequest))
                db.session.execute(delete(OutboxMessage))
                db.session.commit()
    return times


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(int(len(values) * q), len(values) - 1)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=300, help="requests per path and form")
    parser.add_argument("--inline", action="store_true", help="the old, on-request-path work")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/timing.db"
        fresh_app(url)  # the migrated schema
        app = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=url,
            RATELIMIT_ENABLED=False,
            WTF_CSRF_ENABLED=False,
            BCRYPT_LOG_ROUNDS=4,
        )
        with app.app_context():
            seed()
        if args.inline:
            inline(app)
        mode = "inline (before)" if args.inline else "deferred (link_requests)"
        print(f"{url.split(':')[0]}, {args.repeat} requests per path and form, {mode}")
        header = ("form", "match p50", "miss p50", "ratio", "match p90", "miss p90")
        print("{:22} {:>10} {:>10} {:>7} {:>10} {:>10}".format(*header))
        for form in FORMS:
            times = measure(app, form, args.repeat)
            match50, miss50 = statistics.median(times["match"]), statistics.median(times["miss"])
            print(
                f"{form:22} {match50 * 1000:9.2f}ms {miss50 * 1000:9.2f}ms "
                f"{match50 / miss50:7.3f} {p(times['match'], 0.9):9.2f}ms "
                f"{p(times['miss'], 0.9):9.2f}ms"
            )
        with app.app_context():
            db.session.remove()


if __name__ == "__main__":
    main()
