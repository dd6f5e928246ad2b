"""Benchmark: the admin users page with 100k accounts, searching and filtering (p50 ≤ 50 ms).

Searches match any part of an email, name or username; every page also counts the matches.

Usage (from the repository root):

    .venv/bin/python bench/bench_users_page.py                  # both backends
    .venv/bin/python bench/bench_users_page.py --backend sqlite
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/acs_bench_c \
        .venv/bin/python bench/bench_users_page.py --backend postgresql

Each backend gets a fresh schema from the migrations (the PostgreSQL database is emptied) and
100k accounts with varied names, roles and states. Every variant is a full GET of /admin/users
through Flask's test client, signed in as an administrator: session loading, the guard, the
query, and rendering 50 rows of HTML. Timings are wall-clock per request; the p50 and p95 of
--repeat requests are printed per variant.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_import import fresh_app  # the same fresh, migrated schema
from sqlalchemy import insert, select, text

from acs_auth.extensions import db
from acs_auth.models import User, UserProgram, utcnow
from acs_auth.models.user import search_key
from acs_auth.services.signin import sessions

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1/acs_bench_c"
LAST = ["Müller", "García", "Nakamura", "O'Brien", "Okafor", "Smith", "Lovelace", "Nguyen", "Lee"]
FIRST = ["Ada", "Grace", "Jürgen", "Sofía", "Chidi", "Yuki", "Seán", "Alan", "Émilie", "Zoë"]
ROLES = ["user"] * 90 + ["developer"] * 5 + ["guest"] * 3 + ["service_account", "admin"]


def add_users(n: int) -> None:
    """n accounts: 10 % without a password, 1 % locked, 3 % inactive, varied roles and names."""
    now = utcnow()
    rows = []
    for i in range(n):
        last = f"{LAST[i % len(LAST)]}{i // len(LAST)}"
        first = FIRST[(i * 7) % len(FIRST)]
        rows.append(
            {
                "email": f"user{i:06d}@example{i % 50}.org",
                "email_key": f"user{i:06d}@example{i % 50}.org",
                "first_name": first,
                "first_name_key": search_key(first),
                "last_name": last,
                "last_name_key": search_key(last),
                "password_hash": None if i % 10 == 3 else "$2b$04$benchbenchbenchbenchbe",
                "role": ROLES[i % len(ROLES)],
                "is_active": i % 33 != 5,
                "created_at": now - timedelta(minutes=i),
                "updated_at": now,
                "last_login_at": now - timedelta(hours=i % 500) if i % 4 else None,
                "visit_count": i % 40,
                "failed_login_count": 5 if i % 100 == 7 else 0,
                "locked_until": now + timedelta(minutes=30) if i % 100 == 7 else None,
                "source": "csv",
                "username": f"Nick{i:06d}" if i % 3 == 0 else None,
                "username_key": f"nick{i:06d}" if i % 3 == 0 else None,
            }
        )
    for start in range(0, n, 10_000):
        db.session.execute(insert(User.__table__), rows[start : start + 10_000])
    ids = db.session.scalars(select(User.id)).all()
    programs = [{"user_id": uid, "lo_root_id": f"PROG-{uid % 97:03d}"} for uid in ids]
    db.session.execute(insert(UserProgram.__table__), programs)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def admin_client(app):
    """A test client signed in as a new administrator, the way the browser would be."""
    with app.test_request_context():
        admin = User(email="bench-admin@example.org", email_key="bench-admin@example.org")
        admin.role, admin.password_hash = "admin", "x"
        db.session.add(admin)
        db.session.flush()
        row = sessions.open_session(admin, "browser")
        db.session.commit()
        public_id = row.public_id
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = public_id
        sess["_fresh"] = True
    return client


def variants(middle_id: int) -> dict[str, str]:
    return {
        "first page": "/admin/users",
        "deep page (after=middle)": f"/admin/users?after={middle_id}",
        "previous page (before=middle)": f"/admin/users?before={middle_id}",
        "email prefix 'user0421'": "/admin/users?q=user0421",
        "full email": "/admin/users?q=user042137%40example37.org",
        "last name prefix 'müller1'": "/admin/users?q=m%C3%BCller1",
        "first name prefix 'zo'": "/admin/users?q=zo",
        "first + last 'ada smith'": "/admin/users?q=ada+smith",
        "rare prefix (no match)": "/admin/users?q=qqq",
        "any part of a name 'ovelace'": "/admin/users?q=ovelace",
        "any part, rare 'ller123'": "/admin/users?q=ller123",
        "any part of an email '42137@'": "/admin/users?q=42137%40",
        "any part of a username 'ick0421'": "/admin/users?q=ick0421",
        "role=admin": "/admin/users?role=admin",
        "password=pending": "/admin/users?password=pending",
        "locked": "/admin/users?locked=y",
        "inactive": "/admin/users?inactive=y",
        "search + role + pending": "/admin/users?q=n&role=user&password=pending",
        "inactive, page 2": "/admin/users?inactive=y&after={after_inactive}",
    }


def measure(client, url: str, repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def compare_offset(middle_id: int, offset: int, repeat: int) -> None:
    """The query alone: keyset (after=<id>) against LIMIT/OFFSET for the same middle page."""
    from acs_auth.services.accounts import user_admin

    def keyset():
        user_admin.search_users(user_admin.UserFilters(), after=middle_id)

    def by_offset():
        db.session.scalars(select(User).order_by(User.email_key).offset(offset).limit(51)).all()

    for label, fn in (("keyset after=<id>", keyset), (f"OFFSET {offset}", by_offset)):
        timings = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            timings.append((time.perf_counter() - start) * 1000)
        print(f"  query only, {label:24s} p50 {statistics.median(timings):6.1f} ms", flush=True)


def bench_backend(name: str, url: str, n: int, repeat: int) -> None:
    print(f"\n== {name}: {url.split('@')[-1]}, {n} users", flush=True)
    app = fresh_app(url)
    with app.app_context():
        start = time.perf_counter()
        add_users(n)
        print(f"(setup: {time.perf_counter() - start:.1f} s)", flush=True)
        ids = db.session.scalars(select(User.id).order_by(User.email_key)).all()
        inactive = db.session.scalars(
            select(User.id).where(User.is_active_flag.is_(False)).order_by(User.email_key)
        ).all()
        client = admin_client(app)
        results = []
        for label, path in variants(ids[len(ids) // 2]).items():
            path = path.format(after_inactive=inactive[49])
            measure(client, path, 3)  # warm up caches and the query plan
            timings = measure(client, path, repeat)
            p50 = statistics.median(timings)
            p95 = statistics.quantiles(timings, n=20)[-1]
            results.append(p50)
            print(f"  {label:32s} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms", flush=True)
        print(f"  worst p50: {max(results):.1f} ms (target <= 50 ms)", flush=True)
        compare_offset(ids[len(ids) // 2], len(ids) // 2, repeat)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    import sqlalchemy

    print(
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"SQLite {__import__('sqlite3').sqlite_version}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    if args.backend in ("sqlite", "all"):
        with tempfile.TemporaryDirectory() as folder:
            bench_backend("SQLite", f"sqlite:///{folder}/bench.db", args.users, args.repeat)
    if args.backend in ("postgresql", "all"):
        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
        bench_backend("PostgreSQL", url, args.users, args.repeat)


if __name__ == "__main__":
    main()
