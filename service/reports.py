"""Reports: a request in words (`/plume report`, `plume report`) turned into the one report computation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core import platforms
from core.db import Database
from core.errors import ValidationFailed
from insights import reports
from insights.reports import Period, Report

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
    """The words after `report`, in any order; anything unknown gets the accepted forms."""
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


class Reports:
    def __init__(self, *, db: Database, zone: str):
        self.db = db
        self.zone = zone

    def build(self, period: Period, *, network: str | None = None) -> Report:
        with self.db.session() as session:
            return reports.build(session, period, network=network)

    def asked(self, words: str, *, zone: str | None = None) -> tuple[ReportRequest, Report]:
        """The report a request in words asks for, in the reader's zone."""
        request = parse(words)
        period = reports.parse_period(request.period, zone=zone or self.zone)
        return request, self.build(period, network=request.network)

    def last_days(self, days: int, *, zone: str | None = None, name: str = "") -> Report:
        return self.build(reports.last_days(days, zone=zone or self.zone, name=name))
