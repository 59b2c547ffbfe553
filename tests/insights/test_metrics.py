"""Importing the networks' engagement exports into a real database, and learning the best hours from them."""

import csv
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core import posts
from core.db import Database
from core.domain import Status, Variant
from core.errors import ValidationFailed
from core.models import MetricRow, PostRow
from insights.metrics import MIN_TOTAL_POSTS, best_cells, engagement_cells, import_metrics
from publishing.timing import propose
from tests.test_postgres import pg_url  # noqa: F401  (a throwaway PostgreSQL database per test)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "metrics"
TWEET_ACTIVITY = FIXTURES / "tweet_activity_metrics_plumecoffee_20261001_20261029_en.csv"
X_CONTENT = FIXTURES / "account_analytics_content_2026-10-01_2026-10-28.csv"
LINKEDIN = FIXTURES / "linkedin_plumecoffee_content_1761955200000.csv"
PLUME = FIXTURES / "plume_metrics.csv"
PARIS = ZoneInfo("Europe/Paris")
PLUME_HEADER = ["network", "external_id", "posted_at", "impressions", "engagements"]


def run(db, path, **kw):
    with db.session() as session:
        return import_metrics(session, path, **kw)


def stored(db, **where) -> list[MetricRow]:
    with db.session() as session:
        query = select(MetricRow).filter_by(**where).order_by(MetricRow.external_id)
        return list(session.execute(query).scalars())


def published(db, *, network, ref=None, url=None, at=None, thread="t1") -> int:
    with db.session() as session:
        posts.save_brief(session, thread_id=thread, text="brief", actor="ana")
        post = posts.present(session, thread_id=thread, citations=[],
                             variant=Variant(network=network, locale="en", text="Guji is back."))
        row = session.get(PostRow, post.id)
        row.status, row.external_ref, row.external_url = Status.PUBLISHED, ref, url
        row.published_at = at or datetime(2026, 10, 6, 7, 30, tzinfo=UTC)
        return post.id


def write(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        out.writerows(rows)
    return path


def test_x_tweet_activity_export(db):
    report = run(db, TWEET_ACTIVITY, channel="plume-x")
    assert (report.format, report.rows, report.inserted, report.error_count) == ("x_tweet_activity", 3, 3, 0)
    first, thread, cupping = stored(db, network="x")
    assert first.posted_at.replace(tzinfo=UTC) == datetime(2026, 10, 6, 7, 30, tzinfo=UTC)
    assert (first.impressions, first.engagements, first.likes, first.comments, first.shares, first.clicks) == (
        2480, 97, 41, 2, 6, 18)
    assert first.url == "https://twitter.com/plumecoffee/status/1851000000000000001" and first.channel == "plume-x"
    assert thread.text.endswith("1/ It starts with the harvest.")  # a quoted multi-line tweet stays one row
    assert '"Bring a friend"' in cupping.text


def test_x_content_export_gives_days_only(db):
    report = run(db, X_CONTENT)
    assert (report.format, report.inserted, report.day_only) == ("x_content", 2, 2)
    sidama = stored(db, external_id="1852000000000000011")[0]
    assert (sidama.impressions, sidama.engagements, sidama.shares) == (12500, 430, 12)  # "12,500" read as a number
    assert sidama.source == "x_content:day"
    assert "without a time of day" in report.summary()


def test_linkedin_page_content_export(db):
    report = run(db, LINKEDIN)
    assert (report.format, report.inserted, report.error_count) == ("linkedin_content", 3, 0)
    hiring = stored(db, network="linkedin")[0]
    assert hiring.external_id == "urn:li:activity:7251000000000000001"  # the URN out of the post link
    assert hiring.engagements == 38 + 6 + 4 + 54  # likes, comments, reposts and clicks: LinkedIn gives no sum
    assert hiring.posted_at.date().isoformat() == "2026-10-06" and hiring.source == "linkedin_content:day"


def test_plume_format_names_network_and_channel_per_row(db):
    report = run(db, PLUME)
    assert (report.format, report.inserted) == ("plume", 2)
    bluesky, = stored(db, network="bluesky")
    assert bluesky.posted_at.replace(tzinfo=UTC) == datetime(2026, 10, 7, 7, 30, tzinfo=UTC)
    assert bluesky.channel == "plume-bsky"
    mastodon, = stored(db, network="mastodon")
    assert mastodon.engagements == 30 + 4 + 6  # empty engagements: the parts are summed


def test_missing_columns_are_named_with_the_accepted_formats(db, tmp_path):
    path = tmp_path / "tweets.csv"
    write(path, ["Tweet id", "Tweet text", "time", "impressions"], [["1", "hi", "2026-10-06 07:30 +0000", "10"]])
    with pytest.raises(ValidationFailed) as caught:
        run(db, path)
    message = str(caught.value)
    assert "X (Twitter) analytics tweet activity export but lacks the column(s) engagements" in message
    assert "LinkedIn Page content export" in message and "Plume metrics CSV" in message
    assert stored(db) == []


def test_an_excel_workbook_gets_told_how_to_save_it(db, tmp_path):
    path = tmp_path / "linkedin.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 64)
    with pytest.raises(ValidationFailed, match="Excel workbook.*All posts.*CSV UTF-8"):
        run(db, path)


def test_bad_rows_are_reported_and_good_rows_kept(db, tmp_path):
    path = write(tmp_path / "mixed.csv", PLUME_HEADER + ["likes"], [
        ["x", "1", "2026-10-06T09:00:00+02:00", "100", "5", "3"],
        ["x", "2", "2026-10-06T09:00:00+02:00", "lots", "5", "3"],
        ["x", "3", "06/10/2026", "100", "5", "3"],
        ["x", "", "2026-10-06T09:00:00+02:00", "100", "5", "3"],
        ["x", "5", "2026-10-06T09:00:00", "100", "5", "3"],
        ["x", "6", "2026-10-06T09:00:00Z", "100", "5", "-3"],
        ["x", "7", "2026-10-07T09:00:00Z", "1,000", "50", ""],
    ])
    report = run(db, path)
    assert (report.rows, report.inserted, report.error_count) == (7, 2, 5)
    assert [(e.row, e.reason) for e in report.errors] == [
        (3, "impressions 'lots' is not a number"),
        (4, "the date '06/10/2026' is not in the export's format"),
        (5, "the post id is empty"),
        (6, "posted_at '2026-10-06T09:00:00' needs a UTC offset (2026-11-10T09:30:00+01:00 or …Z)"),
        (7, "likes '-3' is not a count")]
    assert [m.external_id for m in stored(db)] == ["1", "7"]
    assert "row 4: the date '06/10/2026'" in report.summary()


def test_importing_the_same_file_again_changes_nothing(db, tmp_path):
    run(db, TWEET_ACTIVITY)
    before = [(m.id, m.impressions, m.posted_at, m.imported_at) for m in stored(db)]
    again = run(db, TWEET_ACTIVITY)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert [(m.id, m.impressions, m.posted_at, m.imported_at) for m in stored(db)] == before
    # A later export of the same tweets updates them in place.
    later = tmp_path / "later.csv"
    later.write_text(TWEET_ACTIVITY.read_text(encoding="utf-8").replace('"2480.0"', '"3100.0"'), encoding="utf-8")
    report = run(db, later)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)
    assert stored(db, external_id="1851000000000000001")[0].impressions == 3100


def test_rows_link_to_the_posts_plume_published(db):
    tweet = published(db, network="x", ref="1851000000000000001")
    at = datetime(2026, 10, 14, 8, 15, tzinfo=UTC)
    li = published(db, network="linkedin", thread="t2", ref="urn:li:share:999", at=at,
                   url="https://www.linkedin.com/feed/update/urn:li:activity:7251000000000000002")
    assert run(db, TWEET_ACTIVITY).linked == 1
    report = run(db, LINKEDIN)
    assert (report.linked, report.day_only) == (1, 2)
    assert stored(db, external_id="1851000000000000001")[0].post_id == tweet
    certified = stored(db, external_id="urn:li:activity:7251000000000000002")[0]
    # LinkedIn gave only the day; the linked post tells the hour, so it can count for best hours.
    assert certified.post_id == li and certified.source == "linkedin_content"
    assert certified.posted_at.replace(tzinfo=UTC) == at
    assert run(db, LINKEDIN).unchanged == 3


def history_file(tmp_path, now: datetime, *, posts: int, best: int = 4, weeks_ago: int = 0) -> Path:
    """`posts` LinkedIn posts over three weeks ending `weeks_ago` before `now`: `best` of them on Fridays
    16:xx Paris with 6 % engagement, the others Monday–Thursday mornings with 2 %."""
    friday = (now - timedelta(days=(now.weekday() - 4) % 7 or 7)).date()
    rows = []
    for i in range(posts):
        week = timedelta(weeks=weeks_ago + i % 3)
        if i < best:
            local, engaged = datetime.combine(friday - week, time(16, 10 + i), tzinfo=PARIS), 60
        else:
            local = datetime.combine(friday - week - timedelta(days=1 + i % 4), time(9 + i % 3), tzinfo=PARIS)
            engaged = 20
        rows.append(["linkedin", f"urn:li:activity:{i}", local.isoformat(), "1000", str(engaged)])
    return write(tmp_path / "history.csv", PLUME_HEADER, rows)


def test_enough_history_moves_the_proposal_to_the_best_cell(db, tmp_path):
    now = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)  # Monday
    run(db, history_file(tmp_path, now, posts=MIN_TOTAL_POSTS + 4))
    with db.session() as session:
        history = best_cells(session, network="linkedin", timezone="Europe/Paris", now=now)
    assert (history.weeks, history.posts) == (4, MIN_TOTAL_POSTS + 4)
    best = history.cells[0]
    assert (best.weekday, best.hour, best.posts, best.rate) == (4, 16, 4, 0.06)
    at, reason = propose("linkedin", timezone="Europe/Paris", now=now, history=history)
    assert at == datetime(2026, 11, 27, 16, 0, tzinfo=PARIS)
    assert reason == "Fri 16:00 Europe/Paris: best 4-week engagement for LinkedIn (6.0 % over 4 posts)"


def test_thin_history_is_ignored_for_the_study(db, tmp_path):
    now = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
    run(db, history_file(tmp_path, now, posts=MIN_TOTAL_POSTS - 1))
    with db.session() as session:
        assert best_cells(session, network="linkedin", timezone="Europe/Paris", now=now) is None
    at, reason = propose("linkedin", timezone="Europe/Paris", now=now, history=None)
    assert at == datetime(2026, 11, 24, 10, 0, tzinfo=PARIS) and "Sprout Social 2023" in reason


def test_an_older_quarter_is_used_when_the_last_month_is_empty(db, tmp_path):
    now = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
    run(db, history_file(tmp_path, now, posts=MIN_TOTAL_POSTS + 4, weeks_ago=5))
    with db.session() as session:
        history = best_cells(session, network="linkedin", timezone="Europe/Paris", now=now)
    assert history.weeks == 12 and (history.cells[0].weekday, history.cells[0].hour) == (4, 16)


def test_cells_are_in_the_audience_zone_across_dst(db, tmp_path):
    # 9:05 in Paris is 08:05 UTC in winter and 07:05 UTC in summer: one cell, not two.
    write(tmp_path / "dst.csv", PLUME_HEADER, [
        ["x", "w", "2026-01-13T08:05:00Z", "100", "5"], ["x", "s", "2026-07-14T07:05:00Z", "100", "7"]])
    run(db, tmp_path / "dst.csv")
    with db.session() as session:
        cells = engagement_cells(session, network="x", timezone="Europe/Paris", since=datetime(2026, 1, 1, tzinfo=UTC))
        utc = engagement_cells(session, network="x", timezone="UTC", since=datetime(2026, 1, 1, tzinfo=UTC))
    assert [(c.weekday, c.hour, c.posts, round(c.rate, 3)) for c in cells] == [(1, 9, 2, 0.06)]
    assert sorted(c.hour for c in utc) == [7, 8]


def test_a_large_file_streams_in_bulk(db, tmp_path):
    path = tmp_path / "big.csv"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    write(path, PLUME_HEADER, [["x", str(i), (start + timedelta(minutes=i)).isoformat(), "100", "3"]
                               for i in range(20_000)])
    report = run(db, path)
    assert (report.inserted, report.error_count) == (20_000, 0)
    assert run(db, path).unchanged == 20_000


def test_a_file_in_another_encoding_is_refused_with_what_to_do(db, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("network,external_id,posted_at,impressions,text\nx,1,2026-10-06T09:00:00Z,10,café\n"
                     .encode("latin-1"))
    with pytest.raises(ValidationFailed, match="not UTF-8 text.*CSV UTF-8"):
        run(db, path)


@pytest.mark.postgres
def test_import_relinks_and_stays_idempotent_on_postgresql(pg_url):  # noqa: F811 (the imported fixture)
    database = Database(pg_url).migrate()
    try:
        tweet = published(database, network="x", ref="1851000000000000001")
        first = run(database, TWEET_ACTIVITY)
        assert (first.inserted, first.linked) == (3, 1)
        again = run(database, TWEET_ACTIVITY)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
        assert stored(database, external_id="1851000000000000001")[0].post_id == tweet
    finally:
        database.dispose()


def test_the_brief_graph_proposes_the_learned_cell_after_an_import(make_settings, tmp_path):
    from app import assemble

    settings = make_settings(plume_networks="linkedin,x")
    with assemble(settings, run_scheduler=False, quiet=True) as plume:
        now = datetime.now(PARIS)
        with plume.db.session() as session:
            import_metrics(session, history_file(tmp_path, now, posts=MIN_TOTAL_POSTS + 4))
        outcome = plume.runner.start(thread_id="shell:metrics", text="Our winter blend is back", actor="ana")
    linkedin = next(p for p in outcome.posts if p.network == "linkedin")
    x = next(p for p in outcome.posts if p.network == "x")
    at = datetime.fromisoformat(linkedin.run_at).astimezone(PARIS)
    assert (at.weekday(), at.hour) == (4, 16)
    assert "best 4-week engagement for LinkedIn (6.0 % over 4 posts)" in linkedin.time_reason
    assert "Sprout Social 2023 peak for X" in x.time_reason  # no X history: the study


def test_a_file_from_elsewhere_is_refused_with_the_accepted_formats(db, tmp_path):
    path = write(tmp_path / "contacts.csv", ["name", "email"], [["Ana", "ana@example.com"]])
    with pytest.raises(ValidationFailed, match="contacts.csv has none of the columns Plume reads. Accepted formats"):
        run(db, path)
