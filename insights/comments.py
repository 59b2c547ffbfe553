"""Importing comments and replies from a CSV export: per-row errors, good rows kept, re-imports change nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select, tuple_
from sqlalchemy.orm import Session

from core import audit, db, platforms
from core.db import as_utc, now
from core.errors import ValidationFailed
from core.models import AuditRow, CommentRow
from insights import reports
from insights.sentiment import Scorer

REQUIRED = ("network", "post_id", "comment_id", "text")
OPTIONAL = ("author", "created_at", "language", "parent_id")
ALIASES = {"external_post_id": "post_id", "post": "post_id", "id": "comment_id", "reply_id": "comment_id",
           "comment": "text", "message": "text", "body": "text", "at": "created_at", "date": "created_at",
           "timestamp": "created_at", "time": "created_at", "user": "author", "username": "author",
           "lang": "language", "in_reply_to": "parent_id", "parent": "parent_id", "platform": "network"}
MAX_BYTES = 50 * 1024 * 1024
MAX_TEXT = 20_000
SPIKE_ACTION = "post.negative_comments"
BASELINE = timedelta(days=30)  # the "usual" negative share is that of the last 30 days' comments
_CHUNK = 500


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportResult:
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    not_scored: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    spikes: list[reports.Negative] = field(default_factory=list)  # Plume posts whose threads are told
    alerts: list = field(default_factory=list)  # insights.alerts.Alert: proposed holds (crisis brake)

    def summary(self, limit: int = 10) -> str:
        lines = [f"{self.rows} rows read: {self.added} comments added, {self.updated} updated, "
                 f"{self.unchanged} already there, {len(self.errors)} skipped."]
        if self.not_scored:
            lines.append(f"{self.not_scored} comments in languages other than English are not scored "
                         "(set PLUME_MODEL to score them with a model).")
        if self.ignored_columns:
            lines.append(f"Ignored columns: {', '.join(self.ignored_columns)}.")
        lines += [f"  line {e.line}: {e.message}" for e in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"  …and {len(self.errors) - limit} more skipped rows.")
        lines += [f"Unusually negative comments on post #{s.post_id} ({s.network}): "
                  f"{s.negative} of {s.scored} negative." for s in self.spikes]
        for alert in self.alerts:
            if alert.held:
                lines.append(f"⏸ Publishing is now on hold (PLUME_AUTO_HOLD): {alert.reason}. "
                             "An approver releases it with `resume` in the shell or `/plume resume`.")
            else:
                lines.append(f"⚠ {alert.reason}. Proposed: hold all publishing — an approver can press "
                             "*Hold all publishing* in Slack, or type `hold` in `plume shell`.")
            lines += [f"    “{example[:120]}”" for example in alert.examples]
        return "\n".join(lines)


def read_csv(source: Path | str | bytes) -> str:
    """The CSV text of a path or of uploaded bytes; a file Plume cannot read is refused whole."""
    if isinstance(source, bytes):
        raw = source
    else:
        path = Path(source)
        if not path.is_file():
            raise ValidationFailed(f"There is no file at {path}.")
        if path.stat().st_size > MAX_BYTES:
            raise ValidationFailed(f"{path.name} is over {MAX_BYTES // 2**20} MB; split it into smaller files.")
        raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise ValidationFailed(f"The file is over {MAX_BYTES // 2**20} MB; split it into smaller files.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not UTF-8 text; export it again as CSV (UTF-8).") from None


def import_csv(session: Session, source: Path | str | bytes, *, scorer: Scorer, zone: str,
               default_language: str = "en", guess_language: Callable[[str], str | None] | None = None,
               now: datetime | None = None, alert_words: list[str] = (), auto_hold: bool = False) -> ImportResult:
    """Import comments (and replies: comments with a parent) keyed by (network, comment_id).

    Rows without a language are in `guess_language(text)`, else `default_language`; naive
    timestamps are in `zone`. A team-wide spike or one of `alert_words` proposes a hold
    (insights.alerts; held at once with `auto_hold`)."""
    from insights import alerts

    text = read_csv(source)
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey="\0extra")
    header = [_column(name) for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ValidationFailed(
            f"The file has no {', '.join(missing)} column{'s' * (len(missing) > 1)}. A comments CSV needs "
            f"{', '.join(REQUIRED)}; it may also have {', '.join(OPTIONAL)}. Nothing was imported.")
    result = ImportResult(ignored_columns=[n for n in reader.fieldnames or [] if _column(n) not in REQUIRED + OPTIONAL])
    reader.fieldnames = header
    good: dict[tuple[str, str], dict] = {}  # a comment listed twice: the later row wins
    for row in reader:
        result.rows += 1
        try:
            parsed = _parse(row, len(header), zone=zone, default_language=default_language, guess=guess_language)
        except ValidationFailed as exc:
            result.errors.append(RowError(reader.line_num, str(exc)))
            continue
        good[(parsed["network"], parsed["comment_id"])] = parsed
    touched, fresh = _store(session, good, scorer, result)
    at = now or db.now()  # `now` the argument hides core.db.now here
    result.spikes = _spikes(session, touched, now=at)
    result.alerts = alerts.raise_alerts(session, imported=fresh, words=list(alert_words), now=at, auto_hold=auto_hold)
    return result


def _column(name: str | None) -> str:
    key = "_".join((name or "").strip().lower().split())
    return ALIASES.get(key, key)


def _parse(row: dict, width: int, *, zone: str, default_language: str, guess) -> dict:
    extra = row.pop("\0extra", None)
    if extra is not None:
        raise ValidationFailed(f"{width + len(extra)} values for {width} columns (is a comma in the text unquoted?)")
    if any(value is None for value in row.values()):
        given = sum(value is not None for value in row.values())
        raise ValidationFailed(f"only {given} values for {width} columns")
    values = {k: (v or "").strip() for k, v in row.items()}
    network = platforms.resolve(values["network"]) if values["network"] else None
    if network is None:
        raise ValidationFailed(f"unknown network “{values['network'][:40]}” (use one of {', '.join(platforms.names())})")
    for name in ("post_id", "comment_id", "text"):
        if not values[name]:
            raise ValidationFailed(f"no {name.replace('_', ' ')}")
    if len(values["text"]) > MAX_TEXT:
        raise ValidationFailed(f"the text is over {MAX_TEXT} characters")
    at = None
    if values.get("created_at"):
        try:
            at = datetime.fromisoformat(values["created_at"].replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed(f"“{values['created_at'][:40]}” is not a date and time "
                                   "(expected e.g. 2026-12-03T09:00:00Z)") from None
        at = as_utc(at if at.tzinfo else at.replace(tzinfo=ZoneInfo(zone)))
    language = (values.get("language") or (guess(values["text"]) if guess else None) or default_language)
    return {"network": network, "external_post_id": values["post_id"][:200], "comment_id": values["comment_id"][:200],
            "author": values.get("author", "")[:200], "text": values["text"], "at": at,
            "language": language.lower()[:10]}


def _store(session: Session, good: dict[tuple[str, str], dict], scorer: Scorer,
           result: ImportResult) -> tuple[set[tuple[str, str]], list[dict]]:
    """Insert new comments, update changed ones, score both; the posts they belong to, and the comments."""
    keys = list(good)
    existing: dict[tuple[str, str], CommentRow] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        for row in session.scalars(select(CommentRow).where(tuple_(CommentRow.network, CommentRow.comment_id).in_(chunk))):
            existing[(row.network, row.comment_id)] = row
    fresh = []
    for key, values in good.items():
        row = existing.get(key)
        if row is not None and all(_same(getattr(row, k), v) for k, v in values.items()):
            result.unchanged += 1
            continue
        fresh.append((row, values))
    scores = scorer.score([(values["text"], values["language"]) for _row, values in fresh])
    touched = set()
    for (row, values), score in zip(fresh, scores, strict=True):
        result.not_scored += score is None
        if row is None:
            session.add(CommentRow(**values, sentiment=score, imported_at=now()))
            result.added += 1
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.sentiment, row.imported_at = score, now()
            result.updated += 1
        touched.add((values["network"], values["external_post_id"]))
    session.flush()
    return touched, [values for _row, values in fresh]


def _same(stored, value) -> bool:
    if isinstance(value, datetime) or isinstance(stored, datetime):
        return as_utc(stored) == as_utc(value)
    return (stored or "") == (value or "")


def _spikes(session: Session, touched: set[tuple[str, str]], *, now: datetime) -> list[reports.Negative]:
    if not touched:
        return []
    _all, scored, negative = reports.comment_totals(
        session, func.coalesce(CommentRow.at, CommentRow.imported_at) >= now - BASELINE)
    usual = negative / scored if scored else 0.0
    found = []
    for network in {n for n, _ in touched}:
        ids = [ext for n, ext in touched if n == network]
        for start in range(0, len(ids), _CHUNK):
            groups = reports.comment_shares(session, CommentRow.network == network,
                                            CommentRow.external_post_id.in_(ids[start:start + _CHUNK]))
            found += [(net, ext, n, bad) for net, ext, n, bad in groups if reports.unusual(bad, n, usual)]
    spikes = []
    for post in reports.describe_posts(session, sorted(found)):
        if post.post_id is None or session.scalar(select(exists().where(
                AuditRow.post_id == post.post_id, AuditRow.action == SPIKE_ACTION))):
            continue  # not a Plume post (no thread to tell), or its thread was already told
        audit.record(session, SPIKE_ACTION, actor="plume", post_id=post.post_id, scored=post.scored,
                     negative=post.negative)
        spikes.append(post)
    session.flush()
    return spikes
