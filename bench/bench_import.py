"""Benchmark: a 100k-row allowlist import (parse + preview + apply) on SQLite and PostgreSQL.

Usage (from the repository root):

    .venv/bin/python bench/bench_import.py                  # both backends
    .venv/bin/python bench/bench_import.py --backend sqlite
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/acs_bench_c \
        .venv/bin/python bench/bench_import.py --backend postgresql

Each backend gets a fresh schema built by the Alembic migrations (the PostgreSQL database is
emptied: point BENCH_DATABASE_URL at a throwaway database). Three scenarios run in order:

1. "fresh": 100k new people into an empty allowlist;
2. "replace": the same 100k again in replace mode, 10k with changed LO Root IDs, 1k missing
   (removed, mass-removal confirmed), with 20k registered accounts so the lifecycle
   (deactivation, session and key revocation, program changes) has work to do;
3. "unchanged": the file of scenario 2 once more (nothing to change).

Then the baseline: the same kind of rows applied one ORM object and one commit at a time, on a
sample (--sample, 5,000 rows by default) timed and extrapolated linearly to 100k rows; the
ratio printed is baseline ÷ the bulk apply of scenario 1.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from acs_auth import create_app
from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, AuthSession, User, UserProgram, utcnow
from acs_auth.models.user import search_key
from acs_auth.services.allowlist import imports
from acs_auth.services.allowlist.csvfile import parse

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1/acs_bench_c"
LAST_NAMES = ["Müller", "García", "Nakamura", "O'Brien", "Okafor", "Smith", "Lovelace", "Nguyen"]
FIRST_NAMES = ["Ada", "Grace", "Jürgen", "Sofía", "Chidi", "Yuki", "Seán", "Alan"]


def make_csv(n: int, *, changed: int = 0, missing: int = 0) -> bytes:
    """A realistic allowlist: accented names, 1 to 3 IDs per person; row i depends on i only."""
    lines = ["Last Name,First Name,Email,LO Root IDs"]
    for i in range(missing, n):
        last = f"{LAST_NAMES[i % len(LAST_NAMES)]}{i}"
        first = FIRST_NAMES[(i // 7) % len(FIRST_NAMES)]
        ids = {f"PROG-{(i + k) % 97:03d}" for k in range(1 + i % 3)}
        if i < missing + changed:
            ids.add("PROG-NEW")
        cell = ";".join(sorted(ids))
        lines.append(f'"{last}",{first},person{i}@example.org,"{cell}"')
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def fresh_app(url: str):
    from flask_migrate import upgrade

    from acs_auth.extensions import init_migrations

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        init_migrations(app)
        upgrade()
    return app


class GcClock:
    """Time spent in the cyclic garbage collector (all generations), via gc.callbacks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections += 1


GC_CLOCK = GcClock()
gc.callbacks.append(GC_CLOCK)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def run_import(data: bytes, mode: str) -> dict:
    """Parse, preview and apply, timing each step and the garbage collector's share of them."""
    cfg_rows = 200_000
    gc_before, collections_before = GC_CLOCK.seconds, GC_CLOCK.collections
    parsed, t_parse = timed(lambda: parse(data, cfg_rows))
    preview, t_preview = timed(
        lambda: imports.build_preview(
            parsed, mode=mode, file_name="bench.csv", sha256=hashlib.sha256(data).hexdigest()
        )
    )
    _batch, t_apply = timed(
        lambda: imports.apply(preview, confirm_mass_removal=True, skip_invalid=True)
    )
    return {
        "parse": t_parse,
        "preview": t_preview,
        "apply": t_apply,
        "total": t_parse + t_preview + t_apply,
        "gc": GC_CLOCK.seconds - gc_before,
        "collections": GC_CLOCK.collections - collections_before,
        "added": len(preview.to_add),
        "changed": len(preview.to_change),
        "unchanged": preview.unchanged,
        "removed": len(preview.to_remove),
    }


def add_accounts(n: int) -> None:
    """n registered accounts for the first n people, each with programs and a live session."""
    now = utcnow()
    users = [
        {
            "email": f"person{i}@example.org",
            "email_key": f"person{i}@example.org",
            "first_name": "Bench",
            "first_name_key": "bench",
            "last_name": f"Person{i}",
            "last_name_key": search_key(f"Person{i}"),
            "password_hash": "x",
            "role": "user",
            "is_active": True,
            "created_at": now,
            "updated_at": now,
            "visit_count": 0,
            "failed_login_count": 0,
            "source": "csv",
        }
        for i in range(n)
    ]
    db.session.execute(insert(User.__table__), users)
    ids = db.session.execute(text("SELECT id FROM users ORDER BY id")).scalars().all()
    db.session.execute(
        insert(UserProgram.__table__), [{"user_id": uid, "lo_root_id": "PROG-000"} for uid in ids]
    )
    sessions = [
        {
            "public_id": f"bench-{uid}",
            "user_id": uid,
            "kind": "browser",
            "remember": False,
            "created_at": now,
            "last_used_at": now,
            "expires_at": now.replace(year=now.year + 1),
            "refresh_generation": 0,
        }
        for uid in ids
    ]
    db.session.execute(insert(AuthSession.__table__), sessions)
    db.session.commit()


def naive_apply(data: bytes, sample: int) -> tuple[float, int]:
    """The anti-pattern: one ORM object and one commit per row, on the first ``sample`` rows."""
    parsed = parse(data, 200_000)
    rows = list(parsed.rows.values())[:sample]
    start = time.perf_counter()
    for row in rows:
        db.session.add(
            AllowlistEntry(
                email=row.email,
                email_key=row.key,
                last_name=row.last_name,
                first_name=row.first_name,
                lo_root_ids=row.lo_root_ids,
                active=True,
                imported_at=utcnow(),
            )
        )
        db.session.commit()
    return time.perf_counter() - start, len(rows)


def bench_backend(name: str, url: str, n: int, sample: int) -> dict:
    print(f"\n== {name}: {url.split('@')[-1]}", flush=True)
    results = {}
    app = fresh_app(url)
    with app.app_context():
        fresh = make_csv(n)
        results["fresh"] = run_import(fresh, "merge")
        add_accounts(n // 5)
        changed = make_csv(n, changed=n // 10, missing=n // 100)
        results["replace"] = run_import(changed, "replace")
        results["unchanged"] = run_import(changed, "replace")
        for scenario, r in results.items():
            print(
                f"{scenario:10s} parse {r['parse']:.2f} s  preview {r['preview']:.2f} s  "
                f"apply {r['apply']:.2f} s  total {r['total']:.2f} s  "
                f"(gc {r['gc']:.2f} s in {r['collections']} collections)  "
                f"(+{r['added']} ~{r['changed']} ={r['unchanged']} -{r['removed']})",
                flush=True,
            )
        db.session.remove()
        db.drop_all()
        from flask_migrate import upgrade

        from acs_auth.extensions import init_migrations

        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        init_migrations(app)
        upgrade()
        seconds, rows = naive_apply(fresh, sample)
        per_row = seconds / rows
        naive_total = per_row * n
        results["naive"] = {"sample": rows, "seconds": seconds, "extrapolated": naive_total}
        ratio = naive_total / results["fresh"]["apply"]
        results["ratio"] = ratio
        print(
            f"naive      {rows} rows one commit each: {seconds:.2f} s "
            f"({per_row * 1000:.3f} ms/row) -> {naive_total:.1f} s extrapolated to {n} rows; "
            f"bulk apply is {ratio:.0f}x faster",
            flush=True,
        )
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=5_000)
    args = parser.parse_args()
    import sqlalchemy

    print(
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"SQLite {__import__('sqlite3').sqlite_version}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{args.rows} rows, {len(make_csv(args.rows)) / 1e6:.1f} MB CSV")
    if args.backend in ("sqlite", "all"):
        with tempfile.TemporaryDirectory() as folder:
            bench_backend("SQLite", f"sqlite:///{folder}/bench.db", args.rows, args.sample)
    if args.backend in ("postgresql", "all"):
        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
        bench_backend("PostgreSQL", url, args.rows, args.sample)


if __name__ == "__main__":
    main()
