"""Proposing when each variant goes out: a good slot in the audience's zone, clear of holidays and other posts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from core import platforms
from core.days_off import country_of, holiday
from core.when import DAY_NAMES

if TYPE_CHECKING:
    from insights.metrics import History

MIN_LEAD = timedelta(minutes=30)  # time for a human to approve before the slot
MIN_GAP = timedelta(minutes=120)  # PLUME_MIN_GAP's default: two posts on one channel an hour apart compete for the same feed
HORIZON_DAYS = 60
STEP = timedelta(minutes=30)  # slots inside a study's window: on the hour and the half hour


@dataclass(frozen=True)
class Study:
    """A network's peak windows (local time of the audience) as one published study reports them."""

    source: str  # short citation shown in reasons: study, year
    windows: dict[int, tuple[time, time]]  # weekday (0 = Monday) → [start, end)
    note: str = ""  # shown after the citation, e.g. when a study is borrowed from another network


def _days(days: Iterable[int], start: int, end: int) -> dict[int, tuple[time, time]]:
    return {d: (time(start), time(end)) for d in days}


# Sprout Social "The best times to post on social media in 2023" (results in local time, from engagement of
# ~34,000 Sprout customers; summarised by Social Media Today, 10 May 2023, and O'Dwyer's, 7 Jun 2023).
# Buffer's 2025 analysis ("How We Calculate Best Times to Post", Julian Winternheimer, 22 May 2025) puts
# LinkedIn's peak on Tuesday–Thursday mornings in business hours. No study we could check covers Bluesky,
# Mastodon or Threads: they borrow X's window, the closest kind of feed, and say so. docs/metrics.md has
# the details and what we could not verify (Sprout's 2024/2025 figures).
SPROUT_2023 = "Sprout Social 2023"
X_WINDOWS = _days(range(1, 5), 9, 12)  # Tue–Fri 9 a.m.–noon
STUDIES: dict[str, Study] = {
    "linkedin": Study(f"{SPROUT_2023} and Buffer 2025", _days(range(1, 4), 10, 12)),  # Tue–Thu 10 a.m.–noon
    "x": Study(SPROUT_2023, X_WINDOWS),
    "facebook": Study(SPROUT_2023, {0: (time(8), time(13)), 1: (time(8), time(14)), 2: (time(8), time(13)),
                                    3: (time(8), time(12))}),
    "instagram": Study(SPROUT_2023, {0: (time(10), time(12)), 1: (time(9), time(13)), 2: (time(10), time(13)),
                                     4: (time(9), time(11))}),
    **{name: Study(SPROUT_2023, X_WINDOWS, note=f"X's window: no published study for {platforms.label(name)}")
       for name in ("bluesky", "mastodon", "threads")},
}


class Proposal(NamedTuple):
    at: datetime  # aware, in the audience's zone
    reason: str


def propose(network: str, *, timezone: str, now: datetime, not_before: datetime | None = None,
            taken: Sequence[datetime] = (), country: str | None = None, fallback_country: str | None = None,
            blackouts: Sequence[tuple[date, date]] = (), min_gap: timedelta = MIN_GAP,
            history: History | None = None) -> Proposal:
    """The next good slot at or after `not_before` (and `now` + a short lead) for one channel.

    `history` (insights.metrics.best_cells) ranks weekday/hour cells by how this channel's posts did; without
    it, or when it is too thin, the network's study windows apply. Public holidays of the audience's
    country (the channel's `country`, else the zone's, else `fallback_country`, PLUME_COUNTRY), team
    `blackouts` (inclusive date ranges) and slots within `min_gap` of a `taken` one on the same channel
    are skipped.
    """
    zone = ZoneInfo(timezone)
    country = country or country_of(timezone) or fallback_country
    earliest = max(now + MIN_LEAD, not_before or now).astimezone(UTC)
    busy = sorted(t.astimezone(UTC) for t in taken)
    avoided: dict[str, None] = {}  # what was skipped, once each, in order

    def free(candidate: datetime) -> bool:
        at = candidate.astimezone(UTC)  # compare instants: same-zone datetimes subtract wall clocks across DST
        return at >= earliest and all(at != t and abs(at - t) >= min_gap for t in busy)

    def usable(day: date, candidates: list[datetime]) -> bool:
        """Whether the day may be used; records why not when it had a free slot."""
        closed = _closed(day, country, blackouts)
        if closed and any(free(c) for c in candidates):
            avoided[closed if closed.startswith("team blackout ") else f"{_short(day)} {closed}"] = None
        return not closed

    start = earliest.astimezone(zone).date()
    days = [start + timedelta(days=n) for n in range(HORIZON_DAYS)]

    def options() -> Iterator[tuple[date, list[datetime], str]]:
        """(day, its candidate slots, why they are good), most preferred first."""
        if history is not None and history.cells:
            # Week by week, the best cell that is open: a holiday on the best cell costs a rank, not a week.
            for week in range(0, HORIZON_DAYS, 7):
                for cell in history.cells:
                    day = next((d for d in days[week:week + 7] if d.weekday() == cell.weekday), None)
                    if day is not None:  # None: the horizon's last, short week
                        yield (day, [datetime.combine(day, time(cell.hour, m), tzinfo=zone) for m in (0, 30)],
                               _learned(network, history, cell))
        study = STUDIES.get(network, STUDIES["x"])
        for day in days:
            if day.weekday() in study.windows:
                yield day, list(_steps(day, study.windows[day.weekday()], zone)), _studied(network, study, day)

    for day, candidates, why in options():
        if usable(day, candidates):
            chosen = next((c for c in candidates if free(c)), None)
            if chosen:
                return Proposal(chosen, _reason(chosen, timezone, why, not_before, avoided))
    fallback = earliest.astimezone(zone)
    return Proposal(fallback, f"No usual slot was free in the next {HORIZON_DAYS} days; proposing the earliest time.")


def _steps(day: date, window: tuple[time, time], zone: ZoneInfo) -> Iterable[datetime]:
    at, end = datetime.combine(day, window[0], tzinfo=zone), datetime.combine(day, window[1], tzinfo=zone)
    while at < end:
        yield at
        at += STEP


def _closed(day: date, country: str | None, blackouts: Sequence[tuple[date, date]]) -> str | None:
    for first, last in blackouts:
        if first <= day <= last:
            return "team blackout" if first == last else f"team blackout {_short(first)}–{_short(last)}"
    name = holiday(country, day) if country else None
    return f"holiday ({name})" if name else None


def _short(day: date) -> str:
    return f"{day.day} {day:%b}"


def _studied(network: str, study: Study, day: date) -> str:
    start, end = study.windows[day.weekday()]
    text = f"{study.source} peak for {platforms.label(network)} ({DAY_NAMES[day.weekday()]} {start:%H:%M}–{end:%H:%M} local)"
    return f"{text}; {study.note}" if study.note else text


def _learned(network: str, history: History, cell) -> str:
    scope = f"{platforms.label(network)} on {history.channel}" if history.channel else platforms.label(network)
    return (f"best {history.weeks}-week engagement for {scope} "
            f"({cell.rate * 100:.1f} % over {cell.posts} posts)")


def _reason(at: datetime, timezone: str, why: str, not_before: datetime | None, avoided: dict[str, None]) -> str:
    text = f"{DAY_NAMES[at.weekday()]} {at:%H:%M} {timezone}: {why}"
    if not_before:
        text += "; at or after the time in the brief"
    if avoided:
        text += "; avoids " + ", ".join(avoided)
    return text
