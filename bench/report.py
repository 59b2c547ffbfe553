"""Report time on a big history: 100k posts (with their audit trail) and 1M metric rows on SQLite.

Builds the database once in a temporary folder (bulk inserts, about a minute), then times the report
for the last 7 days, the last 30 days and a whole year (every metric row), best of 3 each.
Prints a JSON summary as the last line. Target: < 2 s on SQLite for the week and month reports (the
year, which reads all 1M metric rows, is printed as the worst case).

    python bench/report.py [--posts 100000] [--metrics 1000000] [--comments 100000] [--keep PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from core.db import Database  # noqa: E402
from core.models import AuditRow, BriefRow, CommentRow, MetricRow, PostRow  # noqa: E402
from insights import reports  # noqa: E402

ZONE = "Europe/Paris"
NOW = datetime(2026, 12, 3, 18, tzinfo=UTC)
YEAR = 365 * 86400
NETWORKS = ("linkedin", "x", "bluesky", "mastodon")
OUTCOMES = ("published",) * 80 + ("failed",) * 5 + ("unknown",) * 2 + ("held",) * 3 + ("rejected",) * 10
BATCH = 20_000


def when(rng: random.Random) -> datetime:
    return NOW - timedelta(seconds=rng.randrange(YEAR))


def fill(db: Database, *, n_posts: int, n_metrics: int, n_comments: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    briefs, post_rows, audit = [], [], []
    for b in range(n_posts // 4):
        briefed = when(rng)
        briefs.append({"thread_id": f"t{b}", "text": "brief", "parsed": {}, "created_by": "UANA",
                       "created_at": briefed})
        for k in range(4):
            pid = b * 4 + k + 1
            status = rng.choice(OUTCOMES)
            changed = rng.random() < 0.3
            approved = briefed + timedelta(minutes=rng.randrange(10, 3000))
            run_at = approved + timedelta(hours=rng.randrange(1, 72))
            row = {"id": pid, "thread_id": f"t{b}", "network": NETWORKS[k], "locale": "en", "text": "post text",
                   "status": status, "version": 2 if changed else 1, "created_at": briefed, "updated_at": run_at,
                   "run_at": run_at, "checks": [], "citations": [], "warnings": [], "last_reason": "",
                   "approved_at": None, "approved_by": None, "published_at": None, "external_ref": None}
            audit.append({"at": briefed, "actor": "plume", "action": "post.drafted", "post_id": pid,
                          "from_status": None, "to_status": "awaiting_approval", "detail": {}})
            if changed:
                audit.append({"at": briefed + timedelta(minutes=5), "actor": "UMIA", "action": "post.changes_requested",
                              "post_id": pid, "from_status": "awaiting_approval", "to_status": "changes_requested",
                              "detail": {"reason": rng.choice(["Off-brand tone: warmer", "Too long", "Timing: Friday"])}})
            if status == "rejected":
                audit.append({"at": approved, "actor": "UMIA", "action": "post.rejected", "post_id": pid,
                              "from_status": "awaiting_approval", "to_status": "rejected", "detail": {}})
            else:
                row.update(approved_at=approved, approved_by="UMIA")
                audit.append({"at": approved, "actor": "UMIA", "action": "post.approved", "post_id": pid,
                              "from_status": "awaiting_approval", "to_status": "approved", "detail": {}})
                if status == "published":
                    row.update(published_at=run_at, external_ref=f"ext-{pid}")
            post_rows.append(row)
    metrics = [{"network": NETWORKS[i % 4], "channel": "", "external_id": f"m-{i}",
                "post_id": i // 10 + 1 if i // 10 < n_posts else None, "posted_at": when(rng), "text": "a post",
                "impressions": (imp := rng.randrange(50, 20_000)), "engagements": rng.randrange(0, imp // 10 + 1),
                "source": "bench", "imported_at": NOW} for i in range(n_metrics)]
    comment_rows = [{"network": NETWORKS[i % 4], "external_post_id": f"m-{rng.randrange(n_metrics)}",
                     "comment_id": f"c-{i}", "author": "", "text": "nice", "at": when(rng), "language": "en",
                     "sentiment": rng.uniform(-1, 1), "imported_at": NOW} for i in range(n_comments)]
    with db.engine.begin() as connection:
        for table, rows in ((BriefRow, briefs), (PostRow, post_rows), (AuditRow, audit), (MetricRow, metrics),
                            (CommentRow, comment_rows)):
            for start in range(0, len(rows), BATCH):
                connection.execute(insert(table), rows[start:start + BATCH])


def timed(db: Database, period: reports.Period, repeat: int = 3) -> tuple[float, reports.Report]:
    best, report = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        with db.session() as session:
            report = reports.build(session, period)
        best = min(best, time.perf_counter() - started)
    return best, report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--metrics", type=int, default=1_000_000)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the database at this path")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="plume-bench-report-"))
    path = args.keep or home / "plume.db"
    try:
        db = Database(f"sqlite:///{path}").migrate()
        started = time.perf_counter()
        if not (args.keep and args.keep.exists() and path.stat().st_size > 1_000_000):
            fill(db, n_posts=args.posts, n_metrics=args.metrics, n_comments=args.comments)
        build_seconds = time.perf_counter() - started
        today = NOW.astimezone(reports.ZoneInfo(ZONE)).date()
        periods = {"week": reports.last_days(7, zone=ZONE, today=today),
                   "month": reports.last_days(30, zone=ZONE, today=today),
                   "year": reports.last_days(365, zone=ZONE, today=today)}
        results = {}
        for name, period in periods.items():
            seconds, report = timed(db, period)
            results[name] = {"seconds": round(seconds, 3), "approved": report.approved,
                             "metric_rows": report.engagement.posts if report.engagement else 0,
                             "comments": report.sentiment.comments if report.sentiment else 0}
            print(f"{name:6} {seconds * 1000:8.0f} ms  {results[name]}", file=sys.stderr)
        db.dispose()
        # The target is for the reports people ask for (`/plume report`, `month`, the weekly digest);
        # a whole year reads every metric row and is reported as the worst case.
        asked = max(results["week"]["seconds"], results["month"]["seconds"])
        print(json.dumps({"posts": args.posts, "metric_rows": args.metrics, "comments": args.comments,
                          "build_seconds": round(build_seconds, 1), "reports": results,
                          "week_or_month_seconds": asked, "target_seconds": 2.0, "met": asked < 2.0}))
        return 0 if asked < 2.0 else 1
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
