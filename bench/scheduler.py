"""Publishing throughput: N approved posts due in the same minute, published to the outbox exactly once.

Builds a throwaway database (SQLite by default, or --database-url for PostgreSQL) holding N
approved, scheduled posts all due at the same instant (the posts table is all the scheduler
reads: no per-post job exists), then starts the real scheduler with the real outbox publisher and
waits until every post is `published`. A counting wrapper around the outbox sees every send, so a
duplicate send (even one the outbox would absorb) is counted. Lateness is `published_at - run_at`
per post. Target: all published within 60 s of their time, 0 duplicates.

Prints one JSON line: published, duplicates, p50/p99/max lateness (s), throughput (posts/s).

`--with-images` measures images instead: each network's publisher (X, Mastodon, Bluesky, LinkedIn)
sends `--image-posts` posts with one image to its loopback fake (tests/fakes/networks), and reports
the upload time per image; then, per network, a post whose send fails after its image was uploaded
(a crash between upload and post) is sent again: it must make one post from one upload.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from core.db import Database, as_utc  # noqa: E402
from core.domain import Post, Status, digest  # noqa: E402
from core.models import BriefRow, PostRow  # noqa: E402
from publishing.publishers import OutboxPublisher, Published  # noqa: E402
from publishing.scheduler import Scheduler  # noqa: E402

TARGET_SECONDS = 60.0
NETWORKS = ("linkedin", "x", "bluesky", "mastodon")


class CountingOutbox(OutboxPublisher):
    """The real outbox, counting every send per post (the outbox itself would hide a second one)."""

    def __init__(self, folder: Path):
        super().__init__(folder)
        self.sends: Counter[int] = Counter()
        self._lock = threading.Lock()

    def publish(self, post: Post, *, key: str) -> Published:
        with self._lock:
            self.sends[post.id] += 1
        return super().publish(post, key=key)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def seed(db: Database, count: int, run_at: datetime) -> list[int]:
    """N approved posts, scheduled at `run_at` (bulk rows: approving them one by one is not what is measured)."""
    now = datetime.now(UTC)
    with db.session() as session:
        session.execute(insert(BriefRow), [{"thread_id": "bench", "text": "bench brief", "parsed": {},
                                             "created_by": "bench", "created_at": now}])
        rows = []
        for i in range(count):
            text = f"Post {i}: fresh Guji roast, out now."
            rows.append({"thread_id": "bench", "network": NETWORKS[i % len(NETWORKS)], "locale": "en", "text": text,
                         "status": str(Status.SCHEDULED), "version": 1, "offline": False, "checks": [],
                         "citations": [], "warnings": [], "rationale": "", "run_at": run_at, "time_reason": "bench",
                         "approved_by": "mia", "approved_at": now, "approved_hash": digest(text), "attempts": 0,
                         "last_reason": "", "created_at": now, "updated_at": now})
        session.execute(insert(PostRow), rows)
        return list(session.scalars(select(PostRow.id).order_by(PostRow.id)))


def run(count: int, *, database_url: str | None, workers: int, lead: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="plume-bench-scheduler-"))
    try:
        db = Database(database_url or f"sqlite:///{work / 'plume.db'}").migrate()
        outbox = CountingOutbox(work / "outbox")
        setup = time.monotonic()
        seed(db, count, datetime.now(UTC) + timedelta(days=1))
        run_at = datetime.now(UTC) + timedelta(seconds=lead)
        with db.session() as session:
            session.query(PostRow).update({PostRow.run_at: run_at})
        setup = time.monotonic() - setup
        overran = datetime.now(UTC) > run_at
        scheduler = Scheduler(db=db, publisher=outbox, home=work, workers=workers)
        scheduler.start()
        try:
            deadline = time.monotonic() + lead + TARGET_SECONDS * 5
            while time.monotonic() < deadline:
                with db.session() as session:
                    done = session.scalar(select(func.count()).where(PostRow.status == str(Status.PUBLISHED)))
                if done == count:
                    break
                time.sleep(0.2)
        finally:
            scheduler.shutdown()
        with db.session() as session:
            published = [(as_utc(at), as_utc(due)) for at, due in session.execute(
                select(PostRow.published_at, PostRow.run_at).where(PostRow.status == str(Status.PUBLISHED)))]
            statuses = dict(session.execute(select(PostRow.status, func.count()).group_by(PostRow.status)).all())
        db.dispose()
        lateness = [(at - due).total_seconds() for at, due in published]
        last = max((at for at, _ in published), default=run_at)
        span = max((last - run_at).total_seconds(), 1e-9)
        return {
            "posts": count,
            "database": "postgresql" if database_url else "sqlite",
            "workers": workers,
            "published": len(published),
            "duplicates": sum(n - 1 for n in outbox.sends.values() if n > 1),
            "outbox_files": len(list((work / "outbox").glob("post-*.json"))),
            "statuses": statuses,
            "lateness_p50_s": round(percentile(lateness, 50), 3) if lateness else None,
            "lateness_p99_s": round(percentile(lateness, 99), 3) if lateness else None,
            "lateness_max_s": round(max(lateness), 3) if lateness else None,
            "throughput_per_s": round(len(published) / span, 1),
            "setup_s": round(setup, 1),
            "setup_overran_due_time": overran,
            "target": f"all within {TARGET_SECONDS:.0f} s, 0 duplicates",
            "met": bool(lateness) and len(published) == count and max(lateness) <= TARGET_SECONDS
            and all(n == 1 for n in outbox.sends.values()),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def with_images(count: int) -> dict:
    """Upload time per network fake, and one post from one upload after a failure in between."""
    import io

    from PIL import Image

    from core import media
    from publishing.publishers import NotSent, Timeouts
    from publishing.publishers.bluesky import BlueskyPublisher
    from publishing.publishers.linkedin import LinkedInPublisher
    from publishing.publishers.mastodon import MastodonPublisher
    from publishing.publishers.x import XPublisher
    from publishing.uploads import Uploads
    from tests.fakes.networks.bluesky import FakeBluesky
    from tests.fakes.networks.linkedin import FakeLinkedIn
    from tests.fakes.networks.mastodon import FakeMastodon
    from tests.fakes.networks.x import FakeX

    folder = Path(tempfile.mkdtemp(prefix="plume-bench-images-"))
    db = Database(f"sqlite:///{folder / 'plume.db'}").migrate()
    uploads = Uploads(home=folder, db=db)
    quick = Timeouts(connect=2, read=10)
    makers = {
        "x": (FakeX, lambda f: XPublisher(name="x", token=f.token, base_url=f.base_url, timeouts=quick, uploads=uploads)),
        "mastodon": (FakeMastodon, lambda f: MastodonPublisher(name="m", base_url=f.base_url, token=f.token,
                                                               timeouts=quick, uploads=uploads)),
        "bluesky": (FakeBluesky, lambda f: BlueskyPublisher(name="b", handle=f.handle, password=f.password,
                                                            base_url=f.base_url, timeouts=quick, uploads=uploads)),
        "linkedin": (FakeLinkedIn, lambda f: LinkedInPublisher(name="l", token=f.token, author="urn:li:organization:1",
                                                               base_url=f.base_url, timeouts=quick, uploads=uploads)),
    }
    report = {}
    try:
        for network, (fake_class, make) in makers.items():
            with fake_class() as fake:
                if network == "mastodon":
                    fake.processing_polls = 1  # one 202 → 206 → 200 round, as a real server often needs
                publisher, timings = make(fake), []
                for n in range(count + 1):
                    out = io.BytesIO()
                    Image.new("RGB", (1200, 800), (n % 256, 90, 40)).save(out, "JPEG", quality=85)
                    item = media.store(folder, out.getvalue(), f"img-{n}.jpg")
                    item.alt = f"Bench image {n}"
                    post = Post(id=n + 1, thread_id="bench", network=network, locale="en", text=f"Bench post {n}",
                                status="publishing", version=1, media=[item.to_dict()])
                    if n == count:  # the crash case: the post is refused after its image went up
                        fake.fail(503 if network == "mastodon" else 429)
                        before = fake.uploads
                        with contextlib.suppress(NotSent):  # refused after the upload, as a crash would
                            publisher.publish(post, key=f"{network}-{n}")
                        publisher.publish(post, key=f"{network}-{n}")
                        crash = {"posts": sum(1 for p in fake.posts if _text(p) == post.text),
                                 "uploads": fake.uploads - before}
                        continue
                    started = time.perf_counter()
                    uploads.ensure(key=f"{network}-{n}", channel=publisher.name, media=post.media,
                                   upload=(lambda i, d, p=publisher: p._upload(i, d, p._author_urn()))
                                   if network == "linkedin" else publisher._upload)
                    timings.append(time.perf_counter() - started)
                    publisher.publish(post, key=f"{network}-{n}")
                report[network] = {"upload_ms_p50": round(percentile(timings, 50) * 1000, 1),
                                   "upload_ms_p95": round(percentile(timings, 95) * 1000, 1),
                                   "posts": len(fake.posts), "resend_after_crash": crash,
                                   "ok": crash == {"posts": 1, "uploads": 1} and len(fake.posts) == count + 1}
    finally:
        db.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    return {"images": report, "met": all(r["ok"] for r in report.values())}


def _text(post: dict) -> str:
    """A fake's stored post as text (Mastodon keeps HTML paragraphs)."""
    return post.get("text") or post.get("commentary") or re.sub("<[^>]+>", "", post.get("content", ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--database-url", help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/plume_bench "
                                               "(an empty database; default: a throwaway SQLite file)")
    parser.add_argument("--lead", type=float, default=3.0, help="seconds between the end of the setup and the due time")
    parser.add_argument("--with-images", action="store_true", help="measure image uploads per network fake instead")
    parser.add_argument("--image-posts", type=int, default=50)
    args = parser.parse_args(argv)
    if args.with_images:
        result = with_images(args.image_posts)
        print(json.dumps(result))
        return 0 if result["met"] else 1
    result = run(args.posts, database_url=args.database_url, workers=args.workers, lead=args.lead)
    print(json.dumps(result))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
