"""Post engagement imported from the networks' CSV exports, and the weekday/hour cells that did best."""

from __future__ import annotations

import csv
import re
import time as clock
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, or_, select, text, update
from sqlalchemy.orm import Session

from core.db import as_utc
from core.domain import NETWORKS, Status
from core.errors import ValidationFailed
from core.models import MetricRow, PostRow
from core.when import DAY_NAMES

# Learning needs enough posts per weekday/hour cell for a median to mean something, and enough posts
# overall that a few cells are not just the hours someone happened to post at. Below either, the
# published studies (publishing.timing.STUDIES) are the better guess.
MIN_CELL_POSTS = 2  # a weekday/hour cell needs this many posts before it can be "best"
MIN_TOTAL_POSTS = 20
LEARN_WEEKS = (4, 12)  # the recent month first; a quarter when the month is thin
BATCH = 2000  # rows per bulk statement: well under SQLite's bound-parameter limit
MAX_ERRORS_LISTED = 50  # every bad row is counted; the first ones are listed with their reason
HEADER_SEARCH = 10  # LinkedIn's export puts a note above the header
DAY_ONLY = ":day"  # source suffix of rows whose export gave a date without a time of day


class Unreadable(ValueError):
    """One cell of one row could not be read; the message names the column and the value."""


# --- the formats ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    key: str  # stored in MetricRow.source
    label: str
    network: str | None  # None: the row names its network
    required: dict[str, tuple[str, ...]]  # field → accepted header names (lower case)
    parse_time: Callable[[str], tuple[datetime, bool]]  # → (instant, whether the export gave a time of day)
    optional: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def columns(self, header: list[str]) -> dict[str, int] | None:
        """Field → column index when every required field is there, else None."""
        names = {name: i for i, name in enumerate(header)}
        found = {}
        for group in (self.required, self.optional):
            for key, aliases in group.items():
                index = next((names[a] for a in aliases if a in names), None)
                if index is not None:
                    found[key] = index
        return found if all(key in found for key in self.required) else None

    def missing(self, header: list[str]) -> list[str]:
        return [aliases[0] for key, aliases in self.required.items() if not any(a in header for a in aliases)]


def _x_activity_time(value: str) -> tuple[datetime, bool]:
    # "2020-02-10 18:00 +0000". fromisoformat reads it about ten times faster than strptime.
    at = datetime.fromisoformat(value)
    if at.tzinfo is None or len(value) < 16:
        return datetime.strptime(value, "%Y-%m-%d %H:%M %z"), True
    return at, True


def _day_only(day: datetime) -> datetime:
    # Noon UTC: the same calendar day in every zone from UTC−11 to UTC+11 (midnight would be the
    # evening before west of Greenwich), so a report's days and the date shown stay right.
    return day.replace(hour=12, tzinfo=UTC)


def _x_content_time(value: str) -> tuple[datetime, bool]:
    # "Tue, Jul 14, 2026": the current X export gives the day only.
    for pattern in ("%a, %b %d, %Y", "%b %d, %Y", "%Y-%m-%d"):
        try:
            return _day_only(datetime.strptime(value, pattern)), False
        except ValueError:
            continue
    raise ValueError


def _linkedin_time(value: str) -> tuple[datetime, bool]:
    # "03/14/2026" (US order, day only); some exports add a time.
    for pattern, timed in (("%m/%d/%Y %H:%M", True), ("%m/%d/%Y %I:%M %p", True), ("%m/%d/%Y", False),
                           ("%Y-%m-%d", False)):
        try:
            at = datetime.strptime(value, pattern)
            return (at.replace(tzinfo=UTC) if timed else _day_only(at)), timed
        except ValueError:
            continue
    raise ValueError


def _iso_time(value: str) -> tuple[datetime, bool]:
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise Unreadable(f"posted_at {value!r} needs a UTC offset (2026-11-10T09:30:00+01:00 or …Z)")
    return at, True


FORMATS = (
    Format("x_tweet_activity", "X (Twitter) analytics tweet activity export", "x",
           required={"external_id": ("tweet id",), "posted_at": ("time",), "impressions": ("impressions",),
                     "engagements": ("engagements",)},
           optional={"url": ("tweet permalink",), "text": ("tweet text",), "shares": ("retweets",),
                     "comments": ("replies",), "likes": ("likes",), "clicks": ("url clicks",)},
           parse_time=_x_activity_time),
    Format("x_content", "X analytics content export", "x",
           required={"external_id": ("post id",), "posted_at": ("date",), "impressions": ("impressions",),
                     "engagements": ("engagements",)},
           optional={"url": ("post link",), "text": ("post text",), "shares": ("reposts",),
                     "comments": ("replies",), "likes": ("likes",), "clicks": ("url clicks",)},
           parse_time=_x_content_time),
    Format("linkedin_content", "LinkedIn Page content export (All posts sheet)", "linkedin",
           required={"url": ("post link", "update link"), "posted_at": ("created date",),
                     "impressions": ("impressions",)},
           optional={"text": ("post title", "update title"), "clicks": ("clicks",), "likes": ("likes",),
                     "comments": ("comments",), "shares": ("reposts", "shares")},
           parse_time=_linkedin_time),
    Format("plume", "Plume metrics CSV", None,
           required={"network": ("network",), "external_id": ("external_id",), "posted_at": ("posted_at",),
                     "impressions": ("impressions",)},
           optional={"engagements": ("engagements",), "likes": ("likes",), "comments": ("comments",),
                     "shares": ("shares",), "clicks": ("clicks",), "url": ("url",), "text": ("text",),
                     "channel": ("channel",)},
           parse_time=_iso_time),
)
COUNTS = ("impressions", "engagements", "likes", "comments", "shares", "clicks")
COMPARED = ("channel", "url", "posted_at", "text", *COUNTS, "source", "post_id")
URN = re.compile(r"urn:li:[A-Za-z]+:\d+")


# --- importing -----------------------------------------------------------------------------


@dataclass
class RowError:
    row: int  # as a spreadsheet numbers it: the header's row is counted
    reason: str


@dataclass
class ImportReport:
    path: str
    format: str = ""
    label: str = ""
    rows: int = 0  # data rows read
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    linked: int = 0  # rows tied to a post Plume published
    day_only: int = 0  # rows without a time of day (not used for hour cells unless linked)
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS_LISTED
    seconds: float = 0.0

    @property
    def imported(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def summary(self) -> str:
        lines = [f"{self.label}: {self.imported:,} of {self.rows:,} rows imported — {self.inserted:,} new, "
                 f"{self.updated:,} updated, {self.unchanged:,} unchanged; {self.linked:,} linked to posts "
                 f"Plume published."]
        if self.day_only:
            lines.append(f"{self.day_only:,} rows give a date without a time of day: they count in reports "
                         "but not for best hours unless linked to a Plume post.")
        if self.error_count:
            lines.append(f"{self.error_count:,} rows skipped:")
            lines += [f"  row {e.row}: {e.reason}" for e in self.errors]
            if self.error_count > len(self.errors):
                lines.append(f"  … and {self.error_count - len(self.errors):,} more.")
        return "\n".join(lines)


def import_metrics(session: Session, path: str | Path, *, channel: str = "") -> ImportReport:
    """Import one export file (format found from its header), upserting on (network, external id).

    Good rows are imported even when others are bad; each bad row is reported with its number and
    reason. Importing the same file again changes nothing. `channel` names the configured channel the
    export came from (Plume's own format may carry it per row).

    The file is streamed and written in batches, each committed: a million-row import never holds
    SQLite's write lock for more than one batch, so publishing carries on meanwhile; if it is cut
    short, importing the file again finishes the job.
    """
    path = Path(path)
    report = ImportReport(path=str(path))
    started = clock.perf_counter()
    try:
        with path.open("rb") as raw:
            if raw.read(4) == b"PK\x03\x04":
                raise ValidationFailed(f"{path.name} is an Excel workbook. Open it, and save the sheet with one "
                                       "row per post (LinkedIn: “All posts”) as CSV UTF-8.")
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = csv.reader(handle)
            fmt, columns, header_row = _detect(rows, path.name)
            report.format, report.label = fmt.key, fmt.label
            batch: list[dict] = []
            for number, cells in enumerate(rows, start=header_row + 1):
                if not any(c.strip() for c in cells):
                    continue
                report.rows += 1
                try:
                    batch.append(_row(fmt, columns, cells, channel))
                except Unreadable as exc:
                    _reject(report, number, str(exc))
                if len(batch) >= BATCH:
                    _store(session, batch, report)
                    session.commit()
                    batch = []
            if batch:
                _store(session, batch, report)
            if report.inserted >= BATCH:
                # Without statistics SQLite reads a network's whole history through the (network, id)
                # key instead of the time index: best_cells took seconds, not tenths, at a million rows.
                session.execute(text(f"ANALYZE {MetricRow.__tablename__}"))
    except FileNotFoundError:
        raise ValidationFailed(f"No such file: {path}") from None
    except UnicodeDecodeError:
        done = f" The first {report.imported:,} rows were imported;" if report.imported else ""
        raise ValidationFailed(f"{path.name} is not UTF-8 text.{done} Save it as “CSV UTF-8” and import it "
                               "again (rows already imported stay as they are).") from None
    except csv.Error as exc:
        raise ValidationFailed(f"{path.name} is not a readable CSV file ({exc}).") from None
    report.seconds = clock.perf_counter() - started
    return report


def _detect(rows: Iterator[list[str]], name: str) -> tuple[Format, dict[str, int], int]:
    seen = []
    for number in range(1, HEADER_SEARCH + 1):
        cells = next(rows, None)
        if cells is None:
            break
        header = [c.strip().lower() for c in cells]
        seen.append(header)
        for fmt in FORMATS:
            columns = fmt.columns(header)
            if columns is not None:
                return fmt, columns, number
    if not seen:
        raise ValidationFailed(f"{name} is empty.")
    fmt, missing = min(((fmt, fmt.missing(h)) for fmt in FORMATS for h in seen), key=lambda pair: len(pair[1]))
    accepted = "; ".join(f"{f.label} ({', '.join(a[0] for a in f.required.values())})" for f in FORMATS)
    found = (f"looks like a {fmt.label} but lacks the column(s) {', '.join(missing)}"
             if len(missing) < len(fmt.required) else "has none of the columns Plume reads")
    raise ValidationFailed(f"{name} {found}. Accepted formats and their required columns: {accepted}. "
                           "See docs/metrics.md.")


def _row(fmt: Format, columns: dict[str, int], cells: list[str], channel: str) -> dict:
    size = len(cells)
    cell = {key: cells[i].strip() if i < size else "" for key, i in columns.items()}
    network = fmt.network or cell["network"].lower()
    if network not in NETWORKS:
        raise Unreadable(f"network {network!r} is not one Plume knows ({', '.join(NETWORKS)})")
    url = cell.get("url") or None
    external_id = cell.get("external_id", "")
    if not external_id and url:
        # LinkedIn's export has no id column: the post's URN is in its link.
        found = URN.search(url)
        external_id = found.group(0) if found else url.rstrip("/")
    if not external_id:
        raise Unreadable(f"{'post link' if fmt.network == 'linkedin' else 'the post id'} is empty")
    if len(external_id) > 200:
        raise Unreadable("the post id is longer than 200 characters")
    if len(cell.get("channel", "")) > 100:
        raise Unreadable("the channel name is longer than 100 characters")
    try:
        posted_at, timed = fmt.parse_time(cell["posted_at"])
    except Unreadable:
        raise
    except ValueError:
        raise Unreadable(f"the date {cell['posted_at']!r} is not in the export's format") from None
    values = {key: _count(key, cell.get(key, "")) for key in COUNTS}
    if values["impressions"] is None:
        raise Unreadable("impressions is empty")
    if values["engagements"] is None:  # LinkedIn gives the parts, not the sum
        parts = [values[k] for k in ("likes", "comments", "shares", "clicks") if values[k] is not None]
        values["engagements"] = sum(parts) if parts else None
    return {"network": network, "external_id": external_id, "url": url, "text": cell.get("text", ""),
            "channel": cell.get("channel") or channel, "posted_at": posted_at.astimezone(UTC),
            "source": fmt.key if timed else fmt.key + DAY_ONLY, "post_id": None, **values}


def _count(key: str, value: str) -> int | None:
    if value.isdigit():
        return int(value)
    if value.endswith(".0") and value[:-2].isdigit():  # the tweet activity export writes "1203.0"
        return int(value[:-2])
    if value in ("", "-"):
        return None
    try:
        number = float(value.replace(",", "").replace("\u202f", "").replace(" ", ""))
    except ValueError:
        raise Unreadable(f"{key} {value!r} is not a number") from None
    if number < 0 or number != number:
        raise Unreadable(f"{key} {value!r} is not a count")
    return int(number)


def _reject(report: ImportReport, number: int, reason: str) -> None:
    report.error_count += 1
    if len(report.errors) < MAX_ERRORS_LISTED:
        report.errors.append(RowError(number, reason))


def _store(session: Session, batch: list[dict], report: ImportReport) -> None:
    rows = {(r["network"], r["external_id"]): r for r in batch}  # a key twice in a file: the last row wins
    _link(session, list(rows.values()), report)
    table = MetricRow.__table__
    existing = {}
    by_network = defaultdict(list)
    for network, external_id in rows:
        by_network[network].append(external_id)
    for network, ids in by_network.items():
        found = session.connection().execute(
            select(table.c.id, table.c.external_id, *(table.c[name] for name in COMPARED))
            .where(table.c.network == network, table.c.external_id.in_(ids)))
        existing.update({(network, found_row.external_id): found_row for found_row in found})
    new, changed = [], []
    for key, row in rows.items():
        old = existing.get(key)
        if old is None:
            new.append(row)
            continue
        if row["post_id"] is None:
            row["post_id"] = old.post_id  # an export never unlinks a post
        if any(_differs(getattr(old, name), row[name]) for name in COMPARED):
            changed.append({"_id": old.id, **{"new_" + name: row[name] for name in COMPARED}})
        else:
            report.unchanged += 1
    report.unchanged += len(batch) - len(rows)
    if new:
        now = datetime.now(UTC)
        session.connection().execute(insert(table), [{**row, "imported_at": now} for row in new])
        report.inserted += len(new)
    if changed:
        statement = (update(table).where(table.c.id == bindparam("_id"))
                     .values({name: bindparam("new_" + name) for name in COMPARED}))
        session.connection().execute(statement, changed)
        report.updated += len(changed)


def _differs(stored, incoming) -> bool:
    if isinstance(incoming, datetime):
        return as_utc(stored) != incoming
    return stored != incoming


def _link(session: Session, rows: list[dict], report: ImportReport) -> None:
    """Tie rows to the published posts they measure, by the network's id or the post's URL."""
    networks = {r["network"] for r in rows}
    refs = {r["external_id"] for r in rows}
    urls = {r["url"] for r in rows if r["url"]}
    found = session.execute(
        select(PostRow.id, PostRow.network, PostRow.external_ref, PostRow.external_url, PostRow.published_at)
        .where(PostRow.status == Status.PUBLISHED, PostRow.network.in_(networks),
               or_(PostRow.external_ref.in_(refs), PostRow.external_url.in_(urls)))).all()
    by_ref = {(p.network, p.external_ref): p for p in found if p.external_ref}
    by_url = {(p.network, p.external_url): p for p in found if p.external_url}
    for row in rows:
        post = by_ref.get((row["network"], row["external_id"])) or by_url.get((row["network"], row["url"]))
        if post is None:
            if row["source"].endswith(DAY_ONLY):
                report.day_only += 1
            continue
        row["post_id"] = post.id
        report.linked += 1
        if row["source"].endswith(DAY_ONLY) and post.published_at:
            # The export gave only the day; Plume knows when it published the post.
            row["posted_at"] = as_utc(post.published_at)
            row["source"] = row["source"].removesuffix(DAY_ONLY)


# --- learning ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A weekday and hour in the audience's zone, and how the posts published then did."""

    weekday: int  # 0 = Monday
    hour: int
    posts: int
    rate: float  # engagements per impression over the cell's posts (pooled, so a big post weighs more)

    @property
    def label(self) -> str:
        return f"{DAY_NAMES[self.weekday]} {self.hour:02d}:00"


def best(cells: Iterable[Cell], *, limit: int | None = None) -> list[Cell]:
    """The one definition of "the best times", for proposals, typed days and reports alike: cells with
    enough posts, highest rate first; ties go to more posts, then earlier in the week."""
    ranked = sorted((c for c in cells if c.posts >= MIN_CELL_POSTS), key=lambda c: (-c.rate, -c.posts, c.weekday,
                                                                                   c.hour))
    return ranked[:limit] if limit else ranked


@dataclass(frozen=True)
class History:
    """The cells that did best for a network (or one channel of it), best first."""

    network: str
    channel: str | None
    weeks: int
    posts: int
    cells: tuple[Cell, ...]


def engagement_cells(session: Session, *, network: str, timezone: str, since: datetime,
                     until: datetime | None = None, channel: str | None = None) -> list[Cell]:
    """Every weekday/hour cell (in `timezone`) with its posts and engagement rate; rows without a time of
    day or without impressions are left out. `best()` ranks them."""
    zone = ZoneInfo(timezone)
    # Stored instants are UTC (SQLite keeps no offset), so bounds are compared in UTC too.
    query = select(MetricRow.posted_at, MetricRow.engagements, MetricRow.impressions).where(
        MetricRow.network == network, MetricRow.posted_at >= since.astimezone(UTC), MetricRow.impressions > 0,
        MetricRow.engagements.is_not(None), MetricRow.source.not_like(f"%{DAY_ONLY}"))
    if until is not None:
        query = query.where(MetricRow.posted_at < until.astimezone(UTC))
    if channel:
        query = query.where(MetricRow.channel == channel)
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])  # posts, impressions, engagements
    for posted_at, engagements, impressions in session.execute(query):
        local = as_utc(posted_at).astimezone(zone)
        cell = sums[(local.weekday(), local.hour)]
        cell[0], cell[1], cell[2] = cell[0] + 1, cell[1] + impressions, cell[2] + engagements
    return [Cell(day, hour, n, engaged / shown) for (day, hour), (n, shown, engaged) in sums.items()]


def best_cells(session: Session, *, network: str, timezone: str, now: datetime,
               channel: str | None = None) -> History | None:
    """The channel's (else the network's) best cells over the last 4 weeks, else 12; None when too thin."""
    for scope in ([channel] if channel else []) + [None]:
        for weeks in LEARN_WEEKS:
            cells = engagement_cells(session, network=network, timezone=timezone, channel=scope,
                                     since=now - timedelta(weeks=weeks), until=now)
            total = sum(c.posts for c in cells)
            solid = tuple(best(cells))
            if total >= MIN_TOTAL_POSTS and solid:
                return History(network, scope, weeks, total, solid)
    return None
