"""The geometry of the security view's line charts, drawn by templates/admin/_series_chart.html."""

from __future__ import annotations

from dataclasses import dataclass, field

from acs_auth.services.monitoring.dashboard import ChartFrame, _nice_ceiling
from acs_auth.services.monitoring.report import Bucket

# Each series' label and colour (distinct for colour-blind readers; the table repeats them).
STYLES = {
    "failed": ("Failed sign-ins", "#b3261e"),
    "lockouts": ("Lockouts", "#6a1b9a"),
    "resets": ("Reset requests", "#1565c0"),
    "rate_limited": ("Rate-limited", "#ef6c00"),
}


@dataclass
class Line:
    """One series as an SVG polyline."""

    kind: str
    label: str
    color: str
    points: str
    total: int


@dataclass
class LineChart(ChartFrame):
    """Axes, lines and labels in SVG user units."""

    lines: list[Line] = field(default_factory=list)


def line_chart(buckets: list[Bucket], label_format: str, every: int) -> LineChart:
    """One line per series over ``buckets``; an x label every ``every`` buckets."""
    width, height, top, bottom, left = 720, 200, 10, 24, 40
    highest = max([n for b in buckets for n in b.counts.values()] + [0])
    chart = LineChart(width, height, top, bottom, left, _nice_ceiling(highest))
    plot_h = height - top - bottom
    step = (width - left - 8) / max(len(buckets) - 1, 1)

    def y(value: int) -> float:
        return top + plot_h * (1 - value / chart.maximum)

    for kind, (label, color) in STYLES.items():
        points = " ".join(
            f"{left + n * step:.1f},{y(b.counts[kind]):.1f}" for n, b in enumerate(buckets)
        )
        total = sum(b.counts[kind] for b in buckets)
        chart.lines.append(Line(kind, label, color, points, total))
    for n, bucket in enumerate(buckets):
        if n % every == 0 or n == len(buckets) - 1:
            anchor = "end" if n == len(buckets) - 1 else "start" if n == 0 else "middle"
            chart.labels.append((left + n * step, bucket.start.strftime(label_format), anchor))
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        chart.ticks.append((top + plot_h * (1 - fraction), round(chart.maximum * fraction)))
    return chart
