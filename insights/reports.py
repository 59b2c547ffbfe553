"""The one report computation: periods, pipeline counts, medians, engagement rankings, comment sentiment."""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, literal_column, select, true
from sqlalchemy.orm import Session

from core import pause, platforms
from core.db import as_utc
from core.domain import Status
from core.errors import ValidationFailed
from core.models import AuditRow, BriefRow, CommentRow, MetricRow, PostRow
from core.pause import Pause
from insights import metrics
from insights.metrics import DAY_ONLY, Cell

PERIOD_FORMS = "`week` (last 7 days), `month` (last 30 days) or a date range like `2026-11-01..2026-11-30`"
MAX_DAYS = 366
MIN_IMPRESSIONS = 100  # a post seen by a handful of people has a meaningless engagement rate
NEGATIVE = -0.05  # VADER's conventional cut-off for a negative compound score
MIN_COMMENTS = 5  # scored comments before a post's negative share means anything
UNUSUAL_SHARE = 0.3  # …and at least this share negative, and at least twice the usual share
TOP = 5
# Statuses a post can have once a human approved it: the publishing calendar, stacked per day.
CALENDAR = (Status.PUBLISHED, Status.SCHEDULED, Status.HELD, Status.APPROVED, Status.PUBLISHING,
            Status.FAILED, Status.UNKNOWN, Status.CANCELLED)
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


# --- periods ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Whole local days [first, last] in the team's zone; `start`/`end` are the UTC bounds (end exclusive)."""

    first: date
    last: date
    zone: str
    name: str = ""

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), ZoneInfo(self.zone)).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), ZoneInfo(self.zone)).astimezone(UTC)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @property
    def label(self) -> str:
        span = f"{_day(self.first, self.first.year != self.last.year)} – {_day(self.last, True)}"
        return f"{self.name} ({span})" if self.name else span


def _day(value: date, with_year: bool) -> str:
    return f"{value.day} {value:%b}" + (f" {value.year}" if with_year else "")


def last_days(count: int, *, zone: str, today: date | None = None, include_today: bool = True,
              name: str = "") -> Period:
    today = today or datetime.now(ZoneInfo(zone)).date()
    last = today if include_today else today - timedelta(days=1)
    return Period(last - timedelta(days=count - 1), last, zone, name)


def parse_period(text: str, *, zone: str, today: date | None = None) -> Period:
    """`week`, `month` or `YYYY-MM-DD..YYYY-MM-DD` (both days included); anything else says what works."""
    word = text.strip().lower()
    if word in ("", "week", "7d"):
        return last_days(7, zone=zone, today=today, name="Last 7 days")
    if word in ("month", "30d"):
        return last_days(30, zone=zone, today=today, name="Last 30 days")
    match = _RANGE.match(word)
    if not match:
        raise ValidationFailed(f"“{text.strip()}” is not a period I know. Use {PERIOD_FORMS}.")
    try:
        first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
    except ValueError:
        raise ValidationFailed(f"“{text.strip()}” has a date that does not exist. Use {PERIOD_FORMS}.") from None
    if last < first:
        raise ValidationFailed(f"“{text.strip()}” ends before it starts. Put the earlier day first.")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"A report covers at most {MAX_DAYS} days; “{text.strip()}” is longer.")
    return Period(first, last, zone)


def parse_network(word: str) -> str:
    found = platforms.resolve(word)
    if found is None:
        raise ValidationFailed(f"“{word}” is not a network I know. Use one of: {', '.join(platforms.names())}.")
    return found


# --- the report -------------------------------------------------------------------------------

@dataclass
class TopPost:
    network: str
    text: str
    url: str | None
    posted_at: datetime
    impressions: int
    engagements: int
    post_id: int | None
    timed: bool = True  # False: the export gave the day only, so no time of day is shown

    def when(self, zone: str, *, day: str = "%Y-%m-%d", hour: str = " %H:%M") -> str:
        if not self.timed:  # the export's own calendar day, whatever the zone
            return f"{self.posted_at.astimezone(UTC).date():{day}}"
        return f"{self.posted_at.astimezone(ZoneInfo(zone)):{day + hour}}"

    @property
    def rate(self) -> float:
        return self.engagements / self.impressions


@dataclass
class Engagement:
    posts: int  # metric rows in the period
    impressions: int
    engagements: int
    top: list[TopPost]
    best: list[Cell]
    heatmap: list[list[float | None]]  # [weekday][hour] engagement rate, None where nothing was posted

    @property
    def rate(self) -> float | None:
        return self.engagements / self.impressions if self.impressions else None


@dataclass
class Negative:
    network: str
    external_post_id: str
    post_id: int | None
    text: str
    url: str | None
    scored: int
    negative: int

    @property
    def share(self) -> float:
        return self.negative / self.scored


@dataclass
class Sentiment:
    comments: int
    scored: int
    negative: int
    unusual: list[Negative]

    @property
    def not_scored(self) -> int:
        return self.comments - self.scored

    @property
    def share(self) -> float | None:
        return self.negative / self.scored if self.scored else None


@dataclass
class Report:
    period: Period
    network: str | None
    briefs: int = 0
    drafted: int = 0
    approved_as_drafted: int = 0
    approved_after_changes: int = 0
    rejected: int = 0
    changes_requested: int = 0
    edited: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)
    brief_to_approval: timedelta | None = None  # medians
    approval_to_publication: timedelta | None = None
    outcomes: dict[str, int] = field(default_factory=dict)  # status → approved posts due in the period
    per_day: dict[date, dict[str, int]] = field(default_factory=dict)
    engagement: Engagement | None = None
    sentiment: Sentiment | None = None
    pause: Pause | None = None  # the team-wide hold now, whatever the period: a report must not hide it

    @property
    def approved(self) -> int:
        return self.approved_as_drafted + self.approved_after_changes

    @property
    def empty(self) -> bool:
        return not (self.briefs or self.drafted or self.approved or self.rejected or self.changes_requested
                    or self.outcomes or self.engagement or self.sentiment)


def build(session: Session, period: Period, *, network: str | None = None) -> Report:
    """Everything a manager asks about one period, aggregated in the database."""
    report = Report(period=period, network=network)
    _pipeline(session, report)
    _calendar(session, report)
    report.engagement = _engagement(session, period, network)
    report.sentiment = _sentiment(session, period, network)
    report.pause = pause.state(session)
    return report


def _within(column, period: Period):
    return and_(column >= period.start, column < period.end)


def _pipeline(session: Session, report: Report) -> None:
    period, network = report.period, report.network
    on_network = (PostRow.network == network) if network else true()
    if network:
        report.briefs = session.scalar(
            select(func.count()).select_from(BriefRow).where(
                _within(BriefRow.created_at, period),
                exists().where(PostRow.thread_id == BriefRow.thread_id, on_network))) or 0
    else:
        report.briefs = session.scalar(select(func.count()).select_from(BriefRow)
                                       .where(_within(BriefRow.created_at, period))) or 0
    report.drafted = session.scalar(select(func.count()).select_from(PostRow)
                                    .where(_within(PostRow.created_at, period), on_network)) or 0

    def audit(*columns):
        query = select(*columns).where(_within(AuditRow.at, period))
        return query.join(PostRow, PostRow.id == AuditRow.post_id).where(on_network) if network else query

    actions = dict(session.execute(
        audit(AuditRow.action, func.count())
        .where(AuditRow.action.in_(("post.rejected", "post.changes_requested", "post.edited")))
        .group_by(AuditRow.action)).all())
    report.rejected = actions.get("post.rejected", 0)
    report.changes_requested = actions.get("post.changes_requested", 0)
    report.edited = actions.get("post.edited", 0)

    changed = (select(AuditRow.id).where(AuditRow.post_id == PostRow.id,
                                         AuditRow.to_status == str(Status.CHANGES_REQUESTED)).exists())
    sqlite = session.get_bind().dialect.name == "sqlite"
    approvals = session.execute(
        select(_seconds(sqlite, PostRow.approved_at, BriefRow.created_at), changed)
        .join(BriefRow, BriefRow.thread_id == PostRow.thread_id)
        .where(_within(PostRow.approved_at, period), on_network)).all()
    report.approved_after_changes = sum(1 for _, was_changed in approvals if was_changed)
    report.approved_as_drafted = len(approvals) - report.approved_after_changes
    report.brief_to_approval = _median(seconds for seconds, _ in approvals)
    report.approval_to_publication = _median(session.scalars(
        select(_seconds(sqlite, PostRow.published_at, PostRow.approved_at))
        .where(_within(PostRow.published_at, period), PostRow.status == str(Status.PUBLISHED),
               PostRow.approved_at.is_not(None), on_network)))

    reason = AuditRow.detail["reason"].as_string()
    report.reasons = rank_reasons(session.execute(
        audit(reason, func.count()).where(AuditRow.action == "post.changes_requested").group_by(reason)).all())


def _seconds(sqlite: bool, later, earlier):
    """Seconds between two timestamp columns, computed by the database."""
    if sqlite:
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _median(seconds) -> timedelta | None:
    values = [float(v) for v in seconds if v is not None]
    # julianday arithmetic is exact to about a millisecond: whole seconds read better anyway.
    return timedelta(seconds=round(statistics.median(values))) if values else None


def rank_reasons(reasons, limit: int = TOP) -> list[tuple[str, int]]:
    """(reason, times given) grouped by topic: the Slack form writes “Off-brand tone, Timing: details”,
    so the labels before the colon are the topics; a free-text reason is its own topic."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for reason, times in reasons:
        reason = " ".join((reason or "").split())
        if not reason:
            continue
        head, colon, _rest = reason.partition(": ")
        topics = [t.strip() for t in head.split(", ")] if colon else [reason]
        for topic in filter(None, topics):
            key = topic.lower().rstrip(".!")
            counts[key] += times
            shown.setdefault(key, topic.rstrip(".!"))
    return [(shown[key], n) for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def _calendar(session: Session, report: Report) -> None:
    """Approved posts due in the period, by local day and current status."""
    period, network = report.period, report.network
    where = [_within(PostRow.run_at, period), PostRow.approved_at.is_not(None),
             PostRow.status.in_([str(s) for s in CALENDAR])] + ([PostRow.network == network] if network else [])
    per_day: dict[date, Counter] = defaultdict(Counter)
    for local, status, count in _local_hours(session, period, PostRow.run_at, where, [PostRow.status], [func.count()]):
        per_day[local.date()][status] += count
    report.per_day = {day: dict(per_day[day]) for day in sorted(per_day)}
    report.outcomes = dict(sum(per_day.values(), Counter()))


def _local_hours(session: Session, period: Period, column, where: list, keys: list, sums: list):
    """Rows grouped by the local hour of `column` in the team's zone (as a naive local datetime), then `keys`.

    PostgreSQL converts to the zone itself. SQLite has no time zones: rows are grouped by their stored
    UTC text cut to the hour (to 10 minutes, or to the minute, in zones whose offsets are not whole
    hours) and each group is placed in the zone here, exactly, daylight saving time included."""
    if session.get_bind().dialect.name != "sqlite":
        slot = func.date_trunc("hour", func.timezone(period.zone, column))
        found = session.execute(select(slot, *keys, *sums).where(*where).group_by(slot, *keys))
        return [(local, *rest) for local, *rest in found]
    zone = ZoneInfo(period.zone)
    offsets = {zone.utcoffset(datetime.combine(day, time())) for day in period.days} | {
        zone.utcoffset(datetime.combine(period.last, time(23, 59)))}
    chars = 13 if all(o % timedelta(hours=1) == timedelta(0) for o in offsets) else \
        15 if all(o % timedelta(minutes=10) == timedelta(0) for o in offsets) else 16
    # Written out (not bound) so that SQLite matches it to the expression index of migration 0006 and
    # aggregates in index order, without sorting; the bounds on it only narrow the index range.
    slot = literal_column(f"substr({column.table.name}.{column.name}, 1, {chars})")
    first, last = (f"{bound:%Y-%m-%d %H:%M}"[:chars] for bound in (period.start, period.end))
    out = []
    for key, *rest in session.execute(select(slot, *keys, *sums).where(slot >= first, slot <= last, *where)
                                      .group_by(slot, *keys)):
        stamp = datetime.fromisoformat(key + {13: ":00", 15: "0", 16: ""}[chars]).replace(tzinfo=UTC)
        out.append((stamp.astimezone(zone).replace(tzinfo=None), *rest))
    return out


def engaged():
    """Engagements as the network reported them, else the sum of the parts it did report."""
    parts = (func.coalesce(MetricRow.likes, 0) + func.coalesce(MetricRow.comments, 0)
             + func.coalesce(MetricRow.shares, 0) + func.coalesce(MetricRow.clicks, 0))
    return func.coalesce(MetricRow.engagements, parts)


def _cells(session: Session, period: Period, where: list) -> list[tuple[int, int, bool, int, int, int, int]]:
    """(weekday, hour, timed, rows, measured rows, impressions, engagements) per local weekday and hour.

    `timed` is False for rows whose export gave only a day (insights.metrics.DAY_ONLY): they count in the
    totals, never in an hour's cell."""
    measured = MetricRow.impressions > 0
    timed = MetricRow.source.not_like(f"%{DAY_ONLY}")
    sums = [func.count(), func.sum(case((measured, 1), else_=0)),
            func.sum(case((measured, MetricRow.impressions), else_=0)), func.sum(case((measured, engaged()), else_=0))]
    cells: dict[tuple[int, int, bool], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for local, is_timed, *values in _local_hours(session, period, MetricRow.posted_at, where, [timed], sums):
        cell = cells[(local.weekday(), local.hour, bool(is_timed))]
        for i, value in enumerate(values):
            cell[i] += int(value or 0)
    return [(weekday, hour, is_timed, *values) for (weekday, hour, is_timed), values in cells.items()]


def _engagement(session: Session, period: Period, network: str | None) -> Engagement | None:
    where = [_within(MetricRow.posted_at, period)] + ([MetricRow.network == network] if network else [])
    cells = _cells(session, period, where)
    if not cells:
        return None
    total = sum(c[3] for c in cells)
    impressions = sum(c[5] for c in cells)
    engagements = sum(c[6] for c in cells)
    hours = [(w, h, n, shown, acted) for w, h, timed, _rows, n, shown, acted in cells if timed]
    heatmap: list[list[float | None]] = [[None] * 24 for _ in range(7)]
    for weekday, hour, _n, shown, acted in hours:
        heatmap[weekday][hour] = acted / shown if shown else None
    best = metrics.best((Cell(w, h, n, acted / shown) for w, h, n, shown, acted in hours if shown), limit=3)
    # Ranked on the report index alone, then only the winners' text and links are read.
    rate = engaged() * 1.0 / MetricRow.impressions
    ids = list(session.scalars(select(MetricRow.id).where(*where, MetricRow.impressions >= MIN_IMPRESSIONS)
                               .order_by(rate.desc(), MetricRow.posted_at, MetricRow.id).limit(TOP)))
    found = {row.id: row for row in session.scalars(select(MetricRow).where(MetricRow.id.in_(ids)))}
    top = [TopPost(found[i].network, found[i].text or "", found[i].url, as_utc(found[i].posted_at),
                   found[i].impressions, _engagements(found[i]), found[i].post_id,
                   timed=not found[i].source.endswith(DAY_ONLY)) for i in ids]
    return Engagement(total, impressions, engagements, top, best, heatmap)


def _engagements(row: MetricRow) -> int:
    if row.engagements is not None:
        return row.engagements
    return sum(v or 0 for v in (row.likes, row.comments, row.shares, row.clicks))


def _sentiment(session: Session, period: Period, network: str | None) -> Sentiment | None:
    where = [_within(func.coalesce(CommentRow.at, CommentRow.imported_at), period)] + (
        [CommentRow.network == network] if network else [])
    comments, scored, negative = comment_totals(session, *where)
    if not comments:
        return None
    usual = negative / scored if scored else 0.0
    flagged = [(net, ext, n, bad) for net, ext, n, bad in comment_shares(session, *where) if unusual(bad, n, usual)]
    flagged.sort(key=lambda g: (-g[3] / g[2], -g[2], g[0], g[1]))
    return Sentiment(comments, scored, negative, describe_posts(session, flagged[:TOP]))


def _scored():
    return func.sum(case((CommentRow.sentiment.is_not(None), 1), else_=0))


def _negative():
    return func.sum(case((CommentRow.sentiment <= NEGATIVE, 1), else_=0))


def comment_totals(session: Session, *where) -> tuple[int, int, int]:
    """(comments, scored, negative) over the comments matching `where`."""
    row = session.execute(select(func.count(), _scored(), _negative()).where(*where)).one()
    return tuple(int(v or 0) for v in row)


def comment_shares(session: Session, *where) -> list[tuple[str, str, int, int]]:
    """(network, external post id, scored, negative) for posts with enough scored comments to judge."""
    query = (select(CommentRow.network, CommentRow.external_post_id, _scored(), _negative()).where(*where)
             .group_by(CommentRow.network, CommentRow.external_post_id).having(_scored() >= MIN_COMMENTS))
    return [(net, ext, int(n), int(bad or 0)) for net, ext, n, bad in session.execute(query)]


def unusual(negative: int, scored: int, usual: float) -> bool:
    """Enough scored comments, a large negative share, and well above the team's usual share."""
    return scored >= MIN_COMMENTS and negative / scored >= max(UNUSUAL_SHARE, 2 * usual)


def describe_posts(session: Session, groups: list[tuple[str, str, int, int]]) -> list[Negative]:
    """Attach each commented post's text, link and Plume post id (from Plume's posts, else the metrics)."""
    out = []
    for net, ext, n, bad in groups:
        post = session.execute(select(PostRow.id, PostRow.text, PostRow.external_url)
                               .where(PostRow.network == net, PostRow.external_ref == ext).limit(1)).first()
        metric = session.execute(select(MetricRow.post_id, MetricRow.text, MetricRow.url)
                                 .where(MetricRow.network == net, MetricRow.external_id == ext).limit(1)).first()
        post_id = (post and post[0]) or (metric and metric[0]) or None
        text = (post and post[1]) or (metric and metric[1]) or ""
        url = (post and post[2]) or (metric and metric[2]) or None
        out.append(Negative(net, ext, post_id, text, url, n, bad))
    return out


# --- words and rows -----------------------------------------------------------------------------

def duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    return f"{hours / 24:.1f} days"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def next_steps(report: Report) -> str:
    """What to do when a report has nothing to show yet."""
    where = f" on {report.network}" if report.network else ""
    return (f"Nothing yet for {report.period.label}{where}: no briefs, drafts, publications, metrics or comments. "
            "Mention @Plume with a brief to start one; once posts are out, import the networks' numbers with "
            "`plume import-metrics FILE` and comments with `plume import-comments FILE`.")


def rows(report: Report) -> list[tuple[str, str, str]]:
    """The report as (section, item, value) rows: the CSV export and the terminal tables use these."""
    out = [("period", "from", report.period.first.isoformat()), ("period", "to", report.period.last.isoformat()),
           ("period", "time zone", report.period.zone), ("period", "network", report.network or "all"),
           ("pipeline", "briefs received", str(report.briefs)), ("pipeline", "variants drafted", str(report.drafted)),
           ("pipeline", "approved as drafted", str(report.approved_as_drafted)),
           ("pipeline", "approved after changes", str(report.approved_after_changes)),
           ("pipeline", "rejected", str(report.rejected)),
           ("pipeline", "changes requested", str(report.changes_requested)),
           ("pipeline", "edited by hand", str(report.edited)),
           ("timing", "median brief to approval", duration(report.brief_to_approval)),
           ("timing", "median approval to publication", duration(report.approval_to_publication))]
    out += [("change reasons", reason, str(n)) for reason, n in report.reasons]
    out += [("publishing", status.replace("_", " "), str(report.outcomes.get(status, 0)))
            for status in (Status.PUBLISHED, Status.FAILED, Status.UNKNOWN, Status.HELD, Status.SCHEDULED)]
    for day, counts in report.per_day.items():
        out += [("per day", f"{day.isoformat()} {status}", str(n)) for status, n in sorted(counts.items())]
    if report.engagement:
        e = report.engagement
        out += [("engagement", "posts with metrics", str(e.posts)), ("engagement", "impressions", str(e.impressions)),
                ("engagement", "engagements", str(e.engagements)), ("engagement", "engagement rate", percent(e.rate))]
        out += [("top posts", f"{p.network} {p.when(report.period.zone)} "
                              f"{p.url or p.text[:60]}", percent(p.rate)) for p in e.top]
        out += [("best times", c.label, f"{percent(c.rate)} over {c.posts} posts") for c in e.best]
    if report.sentiment:
        s = report.sentiment
        out += [("sentiment", "comments", str(s.comments)), ("sentiment", "scored", str(s.scored)),
                ("sentiment", "negative share", percent(s.share)), ("sentiment", "not scored", str(s.not_scored))]
        out += [("unusually negative", f"{n.network} {n.url or n.external_post_id}",
                 f"{percent(n.share)} of {n.scored}") for n in s.unusual]
    return out


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("section", "item", "value"))
    writer.writerows(rows(report))
    return buffer.getvalue()
