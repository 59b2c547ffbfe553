"""The report's numbers on PostgreSQL: the same known history gives the same report as on SQLite."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.db import Database
from insights import reports
from tests.insights import history
from tests.test_postgres import pg_url  # noqa: F401  (a throwaway database per test)

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_db(pg_url):  # noqa: F811
    database = Database(pg_url).migrate()
    yield database
    database.dispose()


def test_the_report_numbers_on_postgres(pg_db, monkeypatch):
    ids = history.build(pg_db, monkeypatch)
    history.add_metrics(pg_db, ids)
    history.add_comment_rows(pg_db)
    with pg_db.session() as session:
        r = reports.build(session, reports.parse_period("week", zone=history.ZONE, today=history.TODAY))
        x = reports.build(session, reports.parse_period("week", zone=history.ZONE, today=history.TODAY), network="x")
    assert (r.briefs, r.drafted, r.approved_as_drafted, r.approved_after_changes, r.rejected) == (2, 5, 3, 1, 1)
    assert r.reasons == [("Off-brand tone", 2), ("Timing", 1)]
    assert (r.brief_to_approval, r.approval_to_publication) == (timedelta(hours=3), timedelta(hours=24))
    assert r.outcomes == {"published": 1, "failed": 1, "unknown": 1, "held": 1}
    assert r.per_day == {date(2026, 12, 1): {"published": 1}, date(2026, 12, 2): {"failed": 1},
                         date(2026, 12, 3): {"unknown": 1, "held": 1}}
    e = r.engagement
    assert (e.posts, e.impressions, e.engagements) == (4, 3550, 160)
    assert [round(p.rate, 3) for p in e.top] == [0.08, 0.05, 0.03]
    assert [(c.label, c.posts) for c in e.best] == [("Wed 18:00", 2), ("Tue 09:00", 2)]
    s = r.sentiment
    assert (s.comments, s.scored, s.negative) == (18, 16, 4) and [n.post_id for n in s.unusual] == [ids["li"]]
    assert (x.drafted, x.outcomes, x.engagement.posts) == (2, {"failed": 1, "unknown": 1}, 3)
