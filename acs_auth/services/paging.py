"""Keyset paging for the admin lists (users, allowlist, audit log) and their API.

A page is cut by a row id, never an offset, so it stays fast deep into a 100k-row table and
does not shift when rows are added. Two kinds of list exist:

- ``by_key``: ordered by a unique key (an email key); the next page follows the last row
  (``after=<id>``), the previous one precedes the first (``before=<id>``);
- ``newest_first``: ordered by id, newest first (the audit log); the next page holds *older*
  rows (``before=<id>`` of the last row shown), the previous one *newer* rows (``after=<id>``
  of the first).

Either way a Page says which query parameter leads where, so a pager never guesses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from acs_auth.extensions import db


@dataclass
class Page:
    """One page of a list, in the order shown; cursors are row ids.

    ``next_cursor`` opens the page shown after this one, passed as ``next_param``;
    ``previous_cursor`` the page shown before it, passed as ``previous_param``.
    """

    items: list[Any] = field(default_factory=list)
    next_cursor: int | None = None
    previous_cursor: int | None = None
    next_param: str = "after"
    previous_param: str = "before"


def _row_id(row) -> int:
    return row.id


def by_key(
    stmt,
    key_col,
    id_col,
    *,
    after: int | None,
    before: int | None,
    limit: int,
    scalars: bool = True,
    ident: Callable[[Any], int] = _row_id,
) -> Page:
    """One page of ``stmt`` in ascending order of the unique ``key_col``.

    ``after`` / ``before`` are ``id_col`` values of the row the page starts after or ends
    before. ``ident`` gives a row's id (rows of a multi-column select have no ``.id``).
    """

    def key_of(row_id: int):
        return select(key_col).where(id_col == row_id).scalar_subquery()

    if before is not None:
        stmt = stmt.where(key_col < key_of(before)).order_by(key_col.desc())
    else:
        if after is not None:
            stmt = stmt.where(key_col > key_of(after))
        stmt = stmt.order_by(key_col)
    result = db.session.execute(stmt.limit(limit + 1))
    rows = list(result.scalars()) if scalars else list(result.all())
    more = len(rows) > limit
    rows = rows[:limit]
    if before is not None:
        rows.reverse()
    backward = before is not None
    return _cut(rows, more, backward=backward, came_from=after, ident=ident)


def newest_first(stmt, id_col, *, before: int | None, after: int | None, limit: int) -> Page:
    """One page of ``stmt`` newest first by ``id_col``: ``before`` pages to older rows,
    ``after`` back to newer ones."""
    if after is not None:
        stmt = stmt.where(id_col > after).order_by(id_col)
    else:
        if before is not None:
            stmt = stmt.where(id_col < before)
        stmt = stmt.order_by(id_col.desc())
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if after is not None:
        rows.reverse()
    page = _cut(rows, more, backward=after is not None, came_from=before, ident=_row_id)
    page.next_param, page.previous_param = "before", "after"
    return page


def _cut(rows: list, more: bool, *, backward: bool, came_from, ident) -> Page:
    """The Page of ``rows`` (in the order shown) and its two cursors.

    Paging forward, a next page exists when the query found more rows, a previous one when
    the page did not start the list. Paging backward, the page we came from is always next.
    """
    page = Page(items=rows)
    if not rows:
        return page
    if backward:
        page.next_cursor = ident(rows[-1])
        page.previous_cursor = ident(rows[0]) if more else None
    else:
        page.next_cursor = ident(rows[-1]) if more else None
        page.previous_cursor = ident(rows[0]) if came_from is not None else None
    return page
