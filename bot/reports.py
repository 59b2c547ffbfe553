"""The report in a terminal: `plume report` (the request in words is read by service.reports)."""

from __future__ import annotations

import sys
from itertools import groupby
from pathlib import Path

from bot.charts import save_chart
from core.errors import ValidationFailed
from insights import reports
from insights.reports import Report


def render_terminal(report: Report, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    where = f" · {report.network}" if report.network else ""
    console.print(f"[bold]Plume report[/bold] — {report.period.label}{where} · times in {report.period.zone}")
    if report.pause and report.pause.held:
        why = f": “{report.pause.held_reason}”" if report.pause.held_reason else ""
        console.print(f"⏸ [bold]Publishing is on hold[/bold] (by {report.pause.held_by}{why}); `resume` releases it.",
                      markup=True, highlight=False)
    if report.empty:
        console.print(reports.next_steps(report))
        return
    for section, items in groupby(reports.rows(report)[4:], key=lambda row: row[0]):
        if section == "per day":
            continue  # the chart shows it
        table = Table(title=section.capitalize(), title_justify="left", show_header=False, min_width=50)
        table.add_column("item", overflow="fold")
        table.add_column("value", justify="right")
        for _section, item, value in items:
            table.add_row(item, value)
        console.print(table)


def run(service_reports, words: list[str], *, chart: Path | None = Path("plume-report.png"),
        csv: Path | None = None) -> int:
    """`plume report [week|month|YYYY-MM-DD..YYYY-MM-DD] [network]`: tables, then the chart (and CSV) saved."""
    request, report = service_reports.asked(" ".join(words))
    if request.channel:
        raise ValidationFailed("A terminal report is not posted anywhere: drop the #channel, or use /plume report.")
    render_terminal(report)
    if report.empty:
        return 0
    if chart:
        print(f"Chart saved to {save_chart(report, chart)}", file=sys.stderr)
    if csv or request.csv:
        target = csv or Path(f"plume-report-{report.period.first}-{report.period.last}.csv")
        target.write_text(reports.to_csv(report), encoding="utf-8")
        print(f"CSV saved to {target}", file=sys.stderr)
    return 0
