"""Reading a time in words for a post: a day alone gets a real hour, and refusals say why."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.errors import ValidationFailed
from core.when import moment
from service.posts import Unreadable, read_when

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # a Thursday
PARIS = ZoneInfo("Europe/Paris")


def test_a_day_without_an_hour_gets_that_days_good_slot_for_the_network_never_midnight():
    when = read_when("next Tuesday", now=NOW, zone="Europe/Paris", network="linkedin")
    local = when.local()
    assert local.date().isoformat() == "2026-12-08" and local.time() != time(0) and when.exact
    assert 8 <= local.hour <= 18  # a working-hours slot for LinkedIn
    plain = read_when("next Tuesday", now=NOW, zone="Europe/Paris")
    assert plain.local().time() == time(9, 0)


def test_an_hour_and_a_city_win_over_the_readers_zone_and_are_described_in_theirs():
    when = read_when("move it to next Tuesday 9am Paris", now=NOW, zone="America/New_York")
    assert when.at == datetime(2026, 12, 8, 9, 0, tzinfo=PARIS)
    assert moment(when.at, "America/New_York") == "Tue 8 Dec 03:00 America/New_York (08:00 UTC)"


def test_unreadable_is_told_apart_from_refused():
    with pytest.raises(Unreadable, match="couldn't read a date or time in “whenever”"):
        read_when("whenever", now=NOW, zone="UTC")
    with pytest.raises(ValidationFailed, match="in the past") as refused:
        read_when("2026-12-01 09:00", now=NOW, zone="UTC")
    assert not isinstance(refused.value, Unreadable)
    with pytest.raises(ValidationFailed, match="Publishing is on hold"):
        read_when("tomorrow 9am", now=NOW, zone="UTC", held=True)


def test_a_typed_day_takes_the_same_best_hour_as_proposals_when_engagement_history_says_so():
    from insights.metrics import Cell, History

    learned = History("linkedin", None, 4, 24, (Cell(weekday=1, hour=16, posts=5, rate=0.06),))
    when = read_when("next Tuesday", now=NOW, zone="Europe/Paris", network="linkedin", history=lambda zone: learned)
    assert when.local().date().isoformat() == "2026-12-08" and when.local().time() == time(16, 0)
    studied = read_when("next Tuesday", now=NOW, zone="Europe/Paris", network="linkedin", history=lambda zone: None)
    assert studied.local().time() != time(16, 0)  # without history: the published studies' window
