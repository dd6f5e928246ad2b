"""The admin dashboard's figures and its chart of sign-ins per day (drawn server-side as SVG)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, and_, case, cast, func, select

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, AuditEvent, AuthSession, OutboxMessage, User, utcnow
from acs_auth.services.signin import sessions

SIGNIN_EVENTS = ("login.succeeded", "login.failed")


@dataclass
class Dashboard:
    """Figures for the dashboard."""

    users_active: int = 0
    users_pending: int = 0
    users_locked: int = 0
    users_inactive: int = 0
    entries: int = 0
    entries_registered: int = 0
    sessions_active: int = 0
    mail_queued: int = 0
    mail_failed: int = 0
    failed_signins_24h: int = 0

    @property
    def users_total(self) -> int:
        return self.users_active + self.users_pending + self.users_locked + self.users_inactive

    @property
    def registered_share(self) -> float:
        return self.entries_registered / self.entries if self.entries else 0.0


def _count(*conditions, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def _user_states(dash: Dashboard, now) -> None:
    """One pass over users; each account is in exactly one state, in this order of precedence."""
    inactive = User.is_active_flag.is_(False)
    locked = and_(User.is_active_flag.is_(True), User.locked_until > now)
    pending = and_(
        User.is_active_flag.is_(True),
        User.password_hash.is_(None),
        (User.locked_until.is_(None)) | (User.locked_until <= now),
    )
    state = case((inactive, "inactive"), (locked, "locked"), (pending, "pending"), else_="active")
    for name, count in db.session.execute(select(state, func.count()).group_by(state)):
        setattr(dash, f"users_{name}", count)


def dashboard() -> Dashboard:
    """Compute every figure of the dashboard (reads only)."""
    now = utcnow()
    dash = Dashboard()
    _user_states(dash, now)
    dash.entries = _count(AllowlistEntry.active.is_(True), model=AllowlistEntry)
    dash.entries_registered = db.session.scalar(
        select(func.count())
        .select_from(AllowlistEntry)
        .join(User, User.email_key == AllowlistEntry.email_key)
        .where(AllowlistEntry.active.is_(True))
    )
    dash.sessions_active = _count(*sessions.live_filter(now), model=AuthSession)
    dash.mail_queued = _count(
        OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None), model=OutboxMessage
    )
    dash.mail_failed = _count(OutboxMessage.failed_at.is_not(None), model=OutboxMessage)
    dash.failed_signins_24h = _count(
        AuditEvent.event == "login.failed",
        AuditEvent.at >= now - timedelta(hours=24),
        model=AuditEvent,
    )
    return dash


@dataclass
class Day:
    """Sign-ins on one UTC day."""

    day: date
    succeeded: int = 0
    failed: int = 0


def _utc_day(column):
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite stores UTC text; date() cuts it to YYYY-MM-DD


def signins_per_day(days: int = 30) -> list[Day]:
    """Successful and failed sign-ins per UTC day, the last ``days`` days, oldest first."""
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    series = {first + timedelta(days=n): Day(first + timedelta(days=n)) for n in range(days)}
    day = _utc_day(AuditEvent.at)
    rows = db.session.execute(
        select(day, AuditEvent.event, func.count())
        .where(AuditEvent.event.in_(SIGNIN_EVENTS), AuditEvent.at >= _midnight(first))
        .group_by(day, AuditEvent.event)
    )
    for value, event, count in rows:
        key = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        if key in series:
            if event == "login.succeeded":
                series[key].succeeded = count
            else:
                series[key].failed = count
    return list(series.values())


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass
class Bar:
    """One rectangle of the chart, in SVG user units."""

    x: float
    y: float
    width: float
    height: float
    value: int
    kind: str
    day: date


@dataclass
class ChartFrame:
    """A chart's frame in SVG user units: size, margins, the axis maximum, ticks and labels.

    The dashboard's bar chart and the security view's line charts (monitoring.charts) share it.
    """

    width: int
    height: int
    top: int
    bottom: int
    left: int
    maximum: int
    ticks: list[tuple[float, int]] = field(default_factory=list)
    labels: list[tuple[float, str, str]] = field(default_factory=list)


@dataclass
class Chart(ChartFrame):
    """The geometry of the sign-in chart; templates/admin/_chart.html draws it."""

    bars: list[Bar] = field(default_factory=list)


def _nice_ceiling(value: int) -> int:
    """The top of the y axis: 4 * (1, 2 or 5) * 10^n, so each quarter tick is a whole number."""
    quarter = -(-max(value, 1) // 4)
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= quarter:
                return 4 * step * factor
        step *= 10


def chart(series: list[Day], width: int = 720, height: int = 220) -> Chart:
    """Lay out grouped bars (succeeded, failed) per day with a y axis of round numbers."""
    top, bottom, left = 10, 24, 40
    maximum = _nice_ceiling(max([d.succeeded for d in series] + [d.failed for d in series] + [0]))
    result = Chart(width, height, top, bottom, left, maximum)
    plot_h = height - top - bottom
    slot = (width - left - 4) / max(len(series), 1)
    bar_w = max(slot / 2 - 1, 1)
    for n, day in enumerate(series):
        x0 = left + n * slot
        for offset, kind, value in ((0, "succeeded", day.succeeded), (1, "failed", day.failed)):
            h = plot_h * value / maximum
            x = x0 + offset * bar_w
            result.bars.append(Bar(x, top + plot_h - h, bar_w, h, value, kind, day.day))
        if n % 5 == 0 or n == len(series) - 1:
            anchor = "end" if n == len(series) - 1 else "middle"
            x = x0 + 2 * bar_w if anchor == "end" else x0 + bar_w
            result.labels.append((x, day.day.strftime("%d %b"), anchor))
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        result.ticks.append((top + plot_h * (1 - fraction), round(maximum * fraction)))
    return result
