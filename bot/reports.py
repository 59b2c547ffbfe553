"""A report request in words (shared by /plume report and `plume report`), and the report in a terminal."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from bot.charts import save_chart
from core import platforms
from core.db import Database
from core.errors import ValidationFailed
from insights import reports
from insights.reports import Report

USAGE = "`[week|month|YYYY-MM-DD..YYYY-MM-DD] [network] [#channel] [csv]`, e.g. `month linkedin #marketing csv`"
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$|^#([\w.-]{1,80})$")
_PERIOD = re.compile(r"^(week|month|7d|30d|\d{4}-.*)$")


@dataclass
class ReportRequest:
    period: str = "week"
    network: str | None = None
    channel: str | None = None  # share it there; else only the asker sees it
    csv: bool = False


def parse(text: str) -> ReportRequest:
    """The words after `/plume report`, in any order; anything unknown gets the accepted forms."""
    request, seen_period = ReportRequest(), False
    for word in text.split():
        channel = _CHANNEL.match(word)
        if word.lower() == "csv":
            request.csv = True
        elif channel:
            request.channel = channel[1] or f"#{channel[2]}"
        elif _PERIOD.match(word.lower()) and not seen_period:
            request.period, seen_period = word, True
        elif platforms.resolve(word) and not request.network:
            request.network = platforms.resolve(word)
        else:
            raise ValidationFailed(
                f"I don't understand “{word[:40]}” in a report request. A report takes {USAGE}. Periods: "
                f"{reports.PERIOD_FORMS}. Networks: {', '.join(platforms.names())}.")
    return request


def render_terminal(report: Report, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    where = f" · {report.network}" if report.network else ""
    console.print(f"[bold]Plume report[/bold] — {report.period.label}{where} · times in {report.period.zone}")
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


def run(settings, words: list[str], *, chart: Path | None = Path("plume-report.png"), csv: Path | None = None) -> int:
    """`plume report [week|month|YYYY-MM-DD..YYYY-MM-DD] [network]`: tables, then the chart (and CSV) saved."""
    request = parse(" ".join(words))
    if request.channel:
        raise ValidationFailed("A terminal report is not posted anywhere: drop the #channel, or use /plume report.")
    period = reports.parse_period(request.period, zone=settings.plume_timezone)
    db = Database(settings.db_url).migrate()
    try:
        with db.session() as session:
            report = reports.build(session, period, network=request.network)
    finally:
        db.dispose()
    render_terminal(report)
    if report.empty:
        return 0
    if chart:
        print(f"Chart saved to {save_chart(report, chart)}", file=sys.stderr)
    if csv or request.csv:
        target = csv or Path(f"plume-report-{period.first}-{period.last}.csv")
        target.write_text(reports.to_csv(report), encoding="utf-8")
        print(f"CSV saved to {target}", file=sys.stderr)
    return 0
