"""The report's numbers on a known history: pipeline, medians, publishing outcomes, engagement, sentiment."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from core.errors import ValidationFailed
from insights import reports
from tests.insights import history


@pytest.fixture
def known(db, monkeypatch):
    ids = history.build(db, monkeypatch)
    history.add_metrics(db, ids)
    history.add_comment_rows(db)
    return ids


def week(**kwargs) -> reports.Period:
    return reports.parse_period("week", zone=history.ZONE, today=history.TODAY, **kwargs)


def report(db, period=None, network=None) -> reports.Report:
    with db.session() as session:
        return reports.build(session, period or week(), network=network)


# --- periods -------------------------------------------------------------------------------------

def test_week_and_month_are_whole_local_days_ending_today():
    period = week()
    assert (period.first, period.last) == (date(2026, 11, 27), date(2026, 12, 3))
    assert period.start.isoformat() == "2026-11-26T23:00:00+00:00"  # midnight in Paris
    assert period.end.isoformat() == "2026-12-03T23:00:00+00:00"
    assert period.label == "Last 7 days (27 Nov – 3 Dec 2026)"
    month = reports.parse_period("month", zone=history.ZONE, today=history.TODAY)
    assert (month.first, month.last) == (date(2026, 11, 4), date(2026, 12, 3))


def test_a_date_range_includes_both_days():
    period = reports.parse_period("2026-10-25..2026-10-26", zone="Europe/Paris")
    assert len(period.days) == 2
    assert period.end - period.start == timedelta(hours=49)  # the night summer time ends is 25 h long
    assert period.label == "25 Oct – 26 Oct 2026"


@pytest.mark.parametrize("text, says", [
    ("fortnight", "`week` (last 7 days)"),
    ("2026-12-05..2026-12-01", "ends before it starts"),
    ("2026-02-30..2026-03-02", "does not exist"),
    ("2024-01-01..2026-01-01", "at most 366 days"),
])
def test_unknown_periods_are_refused_with_the_accepted_forms(text, says):
    with pytest.raises(ValidationFailed, match=says.replace("(", r"\(").replace(")", r"\)")):
        reports.parse_period(text, zone="UTC")


def test_networks_accept_aliases_and_refuse_the_unknown():
    assert reports.parse_network("Twitter") == "x"
    with pytest.raises(ValidationFailed, match="linkedin"):
        reports.parse_network("myspace")


# --- the numbers ----------------------------------------------------------------------------------

def test_pipeline_counts_and_medians(db, known):
    r = report(db)
    assert (r.briefs, r.drafted) == (2, 5)
    assert (r.approved_as_drafted, r.approved_after_changes, r.rejected) == (3, 1, 1)
    assert (r.changes_requested, r.edited) == (2, 0)
    assert r.reasons == [("Off-brand tone", 2), ("Timing", 1)]
    assert r.brief_to_approval == timedelta(hours=3)  # median of 1, 2, 4 and 6 h
    assert r.approval_to_publication == timedelta(hours=24)


def test_publishing_outcomes_by_local_day(db, known):
    r = report(db)
    assert r.outcomes == {"published": 1, "failed": 1, "unknown": 1, "held": 1}
    assert r.per_day == {date(2026, 12, 1): {"published": 1}, date(2026, 12, 2): {"failed": 1},
                         date(2026, 12, 3): {"unknown": 1, "held": 1}}


def test_engagement_totals_top_posts_and_best_cells(db, known):
    e = report(db).engagement
    assert (e.posts, e.impressions, e.engagements) == (4, 3550, 160)
    assert [(p.network, p.url, round(p.rate, 3)) for p in e.top] == [
        ("x", "https://x.example/3", 0.08), ("linkedin", "https://linkedin.example/li-1", 0.05), ("x", None, 0.03)]
    assert e.top[1].post_id == known["li"]
    assert [(c.label, c.posts, round(c.rate, 4)) for c in e.best] == [("Wed 18:00", 2, 0.0909),
                                                                      ("Tue 09:00", 2, 0.0367)]
    assert round(e.heatmap[2][18], 4) == 0.0909 and e.heatmap[0][9] is None


def test_sentiment_lists_the_unusually_negative_post(db, known):
    s = report(db).sentiment
    assert (s.comments, s.scored, s.negative, s.not_scored) == (18, 16, 4, 2)
    [flagged] = s.unusual
    assert (flagged.network, flagged.external_post_id, flagged.post_id) == ("linkedin", "li-1", known["li"])
    assert (flagged.negative, flagged.scored) == (4, 6)


def test_a_network_filter_applies_to_every_section(db, known):
    r = report(db, network="x")
    assert (r.briefs, r.drafted, r.approved_as_drafted, r.approved_after_changes, r.rejected) == (2, 2, 1, 1, 0)
    assert r.reasons == [("Off-brand tone", 1)]
    assert r.outcomes == {"failed": 1, "unknown": 1}
    assert (r.engagement.posts, r.engagement.impressions) == (3, 2550)
    assert r.sentiment.unusual == [] and r.sentiment.comments == 12


def test_an_earlier_period_sees_only_its_own_history(db, known):
    r = report(db, reports.parse_period("2026-11-20..2026-11-21", zone=history.ZONE))
    assert (r.briefs, r.drafted, r.approved_as_drafted) == (1, 1, 1)
    assert r.outcomes == {"published": 1}
    assert r.engagement is None and r.sentiment is None


def test_no_data_is_an_empty_report_with_next_steps(db):
    r = report(db)
    assert r.empty
    assert "Nothing yet" in reports.next_steps(r) and "@Plume" in reports.next_steps(r)


def test_csv_has_the_same_numbers(db, known):
    parsed = list(csv.reader(io.StringIO(reports.to_csv(report(db)))))
    assert parsed[0] == ["section", "item", "value"]
    found = {(s, i): v for s, i, v in parsed[1:]}
    assert found[("pipeline", "briefs received")] == "2"
    assert found[("timing", "median brief to approval")] == "3 h"
    assert found[("change reasons", "Off-brand tone")] == "2"
    assert found[("engagement", "engagement rate")] == "4.5%"
    assert found[("best times", "Wed 18:00")] == "9.1% over 2 posts"


def test_reasons_are_ranked_by_topic():
    given = [("Too long", 1), ("too long.", 2), ("Timing: Friday", 1), ("Off-brand tone, Timing: x", 1), ("", 4),
             (None, 1)]
    assert reports.rank_reasons(given) == [("Too long", 3), ("Timing", 2), ("Off-brand tone", 1)]


def test_half_hour_zones_place_each_post_in_its_own_local_hour(db):
    from core.models import MetricRow

    with db.session() as session:  # one UTC hour, two local hours in Kolkata (+05:30)
        session.add_all([MetricRow(network="x", external_id=f"k{i}", posted_at=history.at(1, 8, minute),
                                   impressions=1000, engagements=10 * (i + 1), source="test")
                         for i, minute in enumerate((10, 20, 40, 50))])
    r = report(db, reports.parse_period("2026-12-01..2026-12-01", zone="Asia/Kolkata"))
    assert [(c.label, c.posts, c.rate) for c in r.engagement.best] == [("Tue 14:00", 2, 0.035), ("Tue 13:00", 2, 0.015)]


def test_rows_exported_with_a_day_only_count_in_totals_but_never_in_an_hour(db):
    """LinkedIn's export gives a date without a time: no weekday/hour cell may be made up from it."""
    from pathlib import Path

    from insights.metrics import import_metrics

    fixtures = Path(__file__).parents[1] / "fixtures" / "metrics"
    with db.session() as session:
        import_metrics(session, fixtures / "linkedin_plumecoffee_content_1761955200000.csv")
        import_metrics(session, fixtures / "tweet_activity_metrics_plumecoffee_20261001_20261029_en.csv")
    r = report(db, reports.parse_period("2026-10-01..2026-10-31", zone="Europe/Paris"))

    e = r.engagement
    assert e.posts == 6  # the three LinkedIn rows count in the totals
    hours = sum(1 for row in e.heatmap for rate in row if rate is not None)
    assert hours == 3  # one cell per timed X row, none for the LinkedIn days
    linkedin = [p for p in e.top if p.network == "linkedin"]
    assert linkedin and not any(p.timed for p in linkedin)
    assert all(len(p.when("Europe/Paris")) == len("2026-10-14") for p in linkedin)
    assert all(c.posts >= reports.MIN_CELL_POSTS for c in e.best)


def test_a_day_only_row_stays_on_its_day_west_of_greenwich(db):
    from pathlib import Path

    from insights.metrics import import_metrics

    fixtures = Path(__file__).parents[1] / "fixtures" / "metrics"
    with db.session() as session:
        import_metrics(session, fixtures / "linkedin_plumecoffee_content_1761955200000.csv")
    r = report(db, reports.parse_period("2026-10-14..2026-10-14", zone="America/Los_Angeles"))
    assert [p.when("America/Los_Angeles") for p in r.engagement.top] == ["2026-10-14"]
