"""The report's chart as a PNG: posts per day stacked by status, and an engagement heatmap when there are metrics."""

from __future__ import annotations

import io
from pathlib import Path

from core.domain import Status
from core.when import DAY_NAMES
from insights.reports import CALENDAR, Report

COLORS = {Status.PUBLISHED: "#2e7d32", Status.SCHEDULED: "#1e88e5", Status.APPROVED: "#90caf9",
          Status.PUBLISHING: "#7e57c2", Status.HELD: "#fbc02d", Status.FAILED: "#e53935",
          Status.UNKNOWN: "#8d6e63", Status.CANCELLED: "#bdbdbd"}
DPI = 100


def render_png(report: Report) -> bytes:
    # matplotlib is imported here, and only its object API is used (no pyplot): no global
    # figure state shared between worker threads, no GUI backend, and `plume --help` stays fast.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    heat = report.engagement is not None and any(v is not None for row in report.engagement.heatmap for v in row)
    figure = Figure(figsize=(10, 8.5 if heat else 4.5), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    zone = report.period.zone
    where = f" · {report.network}" if report.network else ""
    figure.suptitle(f"Plume report — {report.period.label}{where} · times in {zone}", fontsize=13)
    _per_day(figure.add_subplot(2 if heat else 1, 1, 1), report)
    if heat:
        _heatmap(figure, figure.add_subplot(2, 1, 2), report)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _per_day(axes, report: Report) -> None:
    days = report.period.days
    positions = range(len(days))
    bottom = [0] * len(days)
    for status in CALENDAR:
        counts = [report.per_day.get(day, {}).get(status, 0) for day in days]
        if any(counts):
            axes.bar(positions, counts, bottom=bottom, color=COLORS[status], label=status.replace("_", " "))
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_title("Approved posts per day, by status now")
    axes.set_xlabel(f"Day ({report.period.zone})")
    axes.set_ylabel("Posts")
    step = max(1, len(days) // 15)  # at most ~15 day labels, however long the period
    axes.set_xticks(list(positions)[::step], [f"{day:%a} {day.day} {day:%b}" for day in days][::step],
                    rotation=45 if len(days) > 7 else 0, ha="right" if len(days) > 7 else "center")
    axes.yaxis.get_major_locator().set_params(integer=True)
    if any(bottom):
        axes.legend(loc="upper left", fontsize=8, ncols=4)
    else:
        axes.text(0.5, 0.5, "No approved posts were due in this period", transform=axes.transAxes,
                  ha="center", va="center", color="#616161")
        axes.set_ylim(0, 1)


def _heatmap(figure, axes, report: Report) -> None:
    grid = [[float("nan") if v is None else v * 100 for v in row] for row in report.engagement.heatmap]
    image = axes.imshow(grid, aspect="auto", cmap="viridis", interpolation="nearest")
    axes.set_title("Engagement rate by weekday and hour posted (blank: nothing posted)")
    axes.set_xlabel(f"Hour of day ({report.period.zone})")
    axes.set_ylabel("Weekday")
    axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    axes.set_yticks(range(7), DAY_NAMES)
    figure.colorbar(image, ax=axes, label="Engagement rate (%)")


def save_chart(report: Report, path: Path | str) -> Path:
    path = Path(path)
    path.write_bytes(render_png(report))
    return path
