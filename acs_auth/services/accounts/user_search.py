"""The users page search: any part of a name, email or username, a capped count, keyset pages.

Searches read one column the database computes from the lower-cased email and username and
the folded names (``users.search_text``, migration 0008_people), with one pg_trgm GIN index
on PostgreSQL; the count stops at COUNT_CAP ("1,000+"); pages are cut by keyset on the unique
email_key (services.paging). Filters are a fixed set of states; nothing filters or sorts
on a secret column's value.

Measured at 100k accounts on a loaded 2-core machine (docs/performance.md, "Users page with one
search column"): a rare search went from 443 to 490 ms to 35 ms on PostgreSQL and from 431 to 449 ms
to 89 to 99 ms on SQLite. Most of PostgreSQL's gain is planning for the actual values
(``contains``, paging.inline_limit); SQLite's is ``_sqlite_matches``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, literal_column, or_, select, text

from acs_auth.extensions import db
from acs_auth.models import Role, User, utcnow
from acs_auth.models.user import search_key
from acs_auth.services import paging
from acs_auth.services.accounts.user_admin import PAGE_SIZE, clean_query
from acs_auth.services.factors import admin as factor_admin
from acs_auth.services.paging import inline_limit


@dataclass
class UserFilters:
    """The search box and filters of the users page."""

    q: str = ""
    role: str = ""
    password: str = ""
    locked: bool = False
    inactive: bool = False
    second_factor: str = ""  # "with" or "without" (services/factors/admin.py)


# Without a search, a filter matching at least this many accounts is "dense": see _planned.
DENSE = 1000
# The list counts its matches up to this many and then says "1,000+": an exact count of the
# whole list or a common search reads every match, and nobody pages through a thousand.
COUNT_CAP = 1000


def _column(attribute, indexed: bool):
    """The column itself, or (SQLite) "+column", which keeps the planner off its index."""
    column = attribute.property.columns[0]
    if indexed:
        return attribute
    return literal_column(f"+{column.table.name}.{column.name}", column.type)


def like_pattern(text: str) -> str:
    """A LIKE pattern for "contains ``text``", its wildcards escaped with a backslash."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%" + escaped + "%"


def contains(column, text: str):
    """``column`` contains ``text`` (already lower-cased); LIKE wildcards are plain characters.

    The pattern is written into the statement (a literal, quoted by SQLAlchemy) rather than
    sent as a parameter: psycopg prepares a statement run five times, and PostgreSQL's generic
    plan for "LIKE $1" cannot know that the pattern is selective, so it walked the whole email
    index (165 ms at 100k accounts) where the trigram index answers in 2 ms.
    """
    pattern = bindparam(None, like_pattern(text), type_=column.type, literal_execute=True)
    return column.like(pattern, escape="\\")


def search_texts(q: str) -> list[str]:
    """What ``q`` is looked for as, in the search column: lower-cased, and name-folded.

    The column holds the lower-cased email and username and the folded names (models.user
    SEARCH_TEXT), so "Müller" is looked for as "müller" (an address may hold it) and as
    "muller" (a name does). The two are usually the same string.
    """
    term = clean_query(q).strip()
    if not term:
        return []
    return sorted({term.lower(), search_key(term) or term.lower()})


def _filtered(filters: UserFilters, indexed: bool = True, search: bool = True):
    stmt = select(User)
    now = utcnow()
    texts = search_texts(filters.q) if search else []
    if texts:
        # One column, one trigram index on PostgreSQL (migration 0008_people).
        stmt = stmt.where(or_(*[contains(User.search_text, text) for text in texts]))
    if filters.role in {r.value for r in Role}:
        stmt = stmt.where(_column(User.role, indexed) == filters.role)
    # "Has a password or not" is a state shown on every row; the hash itself is never compared.
    if filters.password == "pending":
        stmt = stmt.where(User.password_hash.is_(None))
    elif filters.password == "set":
        stmt = stmt.where(User.password_hash.is_not(None))
    if filters.locked:
        stmt = stmt.where(_column(User.locked_until, indexed) > now)
    if filters.inactive:
        stmt = stmt.where(_column(User.is_active_flag, indexed).is_(False))
    return factor_admin.filtered(stmt, filters.second_factor)


def _count_upto(stmt, limit: int) -> int:
    probe = stmt.with_only_columns(User.id).limit(inline_limit(limit)).subquery()
    return db.session.scalar(select(func.count()).select_from(probe))


@dataclass(frozen=True)
class Count:
    """How many accounts match: exact up to ``COUNT_CAP``, then "at least" (``capped``)."""

    value: int
    capped: bool

    def __str__(self) -> str:
        return f"{self.value:,}+" if self.capped else f"{self.value:,}"


_SQLITE_MATCHES = "SELECT id FROM users INDEXED BY ix_users_search WHERE {} LIMIT :n"
_SQLITE_LIKE = "search_text LIKE :p{} ESCAPE '\\'"
# One statement per number of patterns search_texts() gives (one or two).
_SQLITE_PROBES = {
    1: text(_SQLITE_MATCHES.format(_SQLITE_LIKE.format(0))),
    2: text(_SQLITE_MATCHES.format(f"{_SQLITE_LIKE.format(0)} OR {_SQLITE_LIKE.format(1)}")),
}


def _sqlite_matches(texts: list[str]) -> list[int]:
    """Ids of up to COUNT_CAP + 1 accounts whose search column matches, read from its index.

    SQLite computes its VIRTUAL search column row by row when it scans the table (180 ms at
    100k accounts); the column's index holds the computed values and is scanned in 30 ms, but
    the planner does not pick it on its own, and SQLAlchemy cannot write INDEXED BY.
    """
    params = {f"p{i}": like_pattern(t) for i, t in enumerate(texts)}
    return list(db.session.scalars(_SQLITE_PROBES[len(texts)], {**params, "n": COUNT_CAP + 1}))


def _planned(filters: UserFilters):
    """The filtered query, shaped so that SQLite picks a fast plan, and its count if known.

    PostgreSQL's statistics and the trigram index choose well on their own. SQLite cannot
    index "contains": a search first reads the matching ids from the search column's index;
    when they are few, the page and the count are cut from those ids, and when they are many,
    the email index is walked in page order, which stops after one page. For a dense filter
    without a search, SQLite would collect every match through the filter's index and sort
    them all, so the email index is walked then too.
    """
    if db.session.get_bind().dialect.name != "sqlite" or filters == UserFilters():
        return _filtered(filters), None
    texts = search_texts(filters.q)
    if not texts:
        return _filtered(filters, indexed=_count_upto(_filtered(filters), DENSE) < DENSE), None
    ids = _sqlite_matches(texts)
    if len(ids) <= COUNT_CAP:
        return _filtered(filters, search=False).where(User.id.in_(ids)), None
    only_search = filters == UserFilters(q=filters.q)
    return _filtered(filters, indexed=False), Count(COUNT_CAP, True) if only_search else None


def _count(stmt) -> Count:
    found = _count_upto(stmt, COUNT_CAP + 1)
    return Count(min(found, COUNT_CAP), found > COUNT_CAP)


def find_users(
    filters: UserFilters,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[paging.Page, Count]:
    """One page of accounts matching ``filters`` (ordered by email), and how many match.

    Matches are counted up to COUNT_CAP and then shown as "1,000+", so a common search costs
    what a rare one does, and the whole list costs no count of every row (110 ms at 100k
    accounts on a busy PostgreSQL; the dashboard shows the exact total).
    """
    stmt, known = _planned(filters)
    page = paging.by_key(stmt, User.email_key, User.id, after=after, before=before, limit=limit)
    return page, known or _count(stmt)


def search_users(
    filters: UserFilters,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> paging.Page:
    """One page of accounts matching ``filters``, ordered by email (no count)."""
    stmt = _planned(filters)[0]
    return paging.by_key(stmt, User.email_key, User.id, after=after, before=before, limit=limit)
