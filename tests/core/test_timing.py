"""Proposed times: the network's slot, in the audience's zone, away from holidays and other posts."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.timing import propose

PARIS = ZoneInfo("Europe/Paris")


def test_linkedin_skips_the_weekend_and_explains_why():
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    at, reason = propose("linkedin", timezone="Europe/Paris", now=saturday)
    assert at == datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)
    assert "LinkedIn" in reason and "Monday" in reason


def test_holidays_are_skipped_and_named():
    at, reason = propose("x", timezone="Europe/Paris", now=datetime(2026, 12, 24, 20, 0, tzinfo=UTC))
    assert at.date().isoformat() == "2026-12-27" and "Christmas Day" in reason


def test_respects_the_brief_and_spaces_posts_on_one_network():
    now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    not_before = datetime(2026, 11, 25, 0, 0, tzinfo=PARIS)
    first, _ = propose("x", timezone="Europe/Paris", now=now, not_before=not_before)
    second, _ = propose("x", timezone="Europe/Paris", now=now, not_before=not_before, taken=[first])
    assert first == datetime(2026, 11, 25, 9, 0, tzinfo=PARIS)
    assert second - first >= timedelta(hours=2)


def test_never_proposes_the_past():
    now = datetime(2026, 11, 23, 8, 59, tzinfo=PARIS)
    at, _ = propose("x", timezone="Europe/Paris", now=now)
    assert at >= now + timedelta(minutes=30)
