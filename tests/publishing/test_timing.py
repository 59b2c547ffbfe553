"""Proposed times: the study's window or the channel's best cells, in the audience's zone, away from
holidays, blackouts and other posts."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.days_off import check_country, country_of, parse_blackouts
from core.errors import ConfigError
from core.settings import load
from insights.metrics import Cell, History
from publishing.timing import propose

PARIS, BERLIN, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


def test_linkedin_waits_for_the_studied_midweek_window_and_cites_the_study():
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    at, reason = propose("linkedin", timezone="Europe/Paris", now=saturday)
    assert at == datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)  # Tuesday
    assert reason.startswith("Tue 10:00 Europe/Paris: Sprout Social 2023 and Buffer 2025 peak for LinkedIn")


def test_french_audience_skips_armistice_day_but_a_german_one_does_not():
    tuesday_afternoon = datetime(2026, 11, 10, 13, 0, tzinfo=PARIS)
    at, reason = propose("linkedin", timezone="Europe/Paris", now=tuesday_afternoon)
    assert at == datetime(2026, 11, 12, 10, 0, tzinfo=PARIS)  # Wednesday 11 Nov is a holiday in France
    assert reason.endswith("avoids 11 Nov holiday (Armistice Day)")
    at, reason = propose("linkedin", timezone="Europe/Berlin", now=tuesday_afternoon)
    assert at == datetime(2026, 11, 11, 10, 0, tzinfo=BERLIN) and "avoids" not in reason


def test_us_audience_skips_thanksgiving():
    wednesday_afternoon = datetime(2026, 11, 25, 13, 0, tzinfo=NEW_YORK)
    at, reason = propose("x", timezone="America/New_York", now=wednesday_afternoon)
    assert at == datetime(2026, 11, 27, 9, 0, tzinfo=NEW_YORK)
    assert "avoids 26 Nov holiday (Thanksgiving Day)" in reason


def test_the_channel_country_wins_over_the_zone_and_the_setting_fills_in_for_utc():
    tuesday_afternoon = datetime(2026, 11, 10, 13, 0, tzinfo=PARIS)
    # A UK audience read from Paris time: 11 Nov is no public holiday in the UK.
    at, _ = propose("linkedin", timezone="Europe/Paris", country="GB", fallback_country="FR", now=tuesday_afternoon)
    assert at.date() == date(2026, 11, 11)
    at, reason = propose("linkedin", timezone="UTC", fallback_country="FR", now=tuesday_afternoon)
    assert at.date() == date(2026, 11, 12) and "Armistice Day" in reason
    at, _ = propose("linkedin", timezone="UTC", now=tuesday_afternoon)
    assert at.date() == date(2026, 11, 11)


def test_countries_come_from_the_zone_table():
    assert (country_of("Europe/Paris"), country_of("America/New_York"), country_of("UTC")) == ("FR", "US", None)
    assert check_country("fr") == "FR"
    with pytest.raises(ConfigError, match="No public-holiday calendar for country 'XX'"):
        check_country("XX")


def test_team_blackout_is_skipped_and_named():
    monday = datetime(2026, 12, 21, 8, 0, tzinfo=PARIS)
    at, reason = propose("x", timezone="Europe/Paris", now=monday,
                         blackouts=parse_blackouts("2026-12-22..2026-12-23, 2027-01-01"))
    assert at == datetime(2026, 12, 24, 9, 0, tzinfo=PARIS)
    assert reason.endswith("avoids team blackout 22 Dec–23 Dec")


def test_blackout_setting_is_validated_with_a_friendly_error():
    assert load(plume_blackouts="2026-12-24..2026-12-26,2027-01-01").blackouts == [
        (date(2026, 12, 24), date(2026, 12, 26)), (date(2027, 1, 1), date(2027, 1, 1))]
    with pytest.raises(ConfigError, match=r"PLUME_BLACKOUTS: .*'2026-12-24\.\.12-26' is not a date or a range"):
        load(plume_blackouts="2026-12-24..12-26")
    with pytest.raises(ConfigError, match="ends before it starts"):
        load(plume_blackouts="2026-12-26..2026-12-24")


def test_posts_on_one_channel_keep_the_minimum_gap():
    now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday
    taken = [datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)]
    at, _ = propose("x", timezone="Europe/Paris", now=now, taken=taken)  # default gap: 120 minutes
    assert at == datetime(2026, 11, 25, 9, 0, tzinfo=PARIS)  # 9:00–11:30 Tuesday are all within 2 h
    at, _ = propose("x", timezone="Europe/Paris", now=now, taken=taken, min_gap=timedelta(minutes=90))
    assert at == datetime(2026, 11, 24, 11, 30, tzinfo=PARIS)


def test_a_taken_slot_is_never_proposed_twice():
    now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    first, _ = propose("x", timezone="Europe/Paris", now=now, min_gap=timedelta(0))
    second, _ = propose("x", timezone="Europe/Paris", now=now, taken=[first], min_gap=timedelta(0))
    assert first == datetime(2026, 11, 24, 9, 0, tzinfo=PARIS) and second == first + timedelta(minutes=30)


def test_slots_keep_local_time_across_a_dst_change():
    # Europe/Paris moves to summer time on Sunday 29 March 2026: 9:00 is 08:00 UTC before, 07:00 UTC after.
    before, _ = propose("x", timezone="Europe/Paris", now=datetime(2026, 3, 26, 12, 0, tzinfo=UTC))
    after, _ = propose("x", timezone="Europe/Paris", now=datetime(2026, 3, 27, 12, 0, tzinfo=UTC))
    assert before.astimezone(UTC) == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert after.astimezone(UTC) == datetime(2026, 3, 31, 7, 0, tzinfo=UTC)


def test_learned_cells_win_over_the_study():
    history = History("linkedin", None, 4, 24, (Cell(weekday=4, hour=16, posts=6, rate=0.041),
                                               Cell(weekday=1, hour=9, posts=4, rate=0.03)))
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
    at, reason = propose("linkedin", timezone="Europe/Paris", now=monday, history=history)
    assert at == datetime(2026, 11, 27, 16, 0, tzinfo=PARIS)  # the best cell, Friday 16:00, not Tuesday's
    assert reason == ("Fri 16:00 Europe/Paris: best 4-week engagement for LinkedIn (4.1 % over 6 posts)")


def test_the_next_best_cell_is_used_when_the_best_one_is_a_holiday():
    history = History("linkedin", "plume-li", 12, 30, (Cell(weekday=2, hour=9, posts=5, rate=0.05),
                                                     Cell(weekday=3, hour=14, posts=3, rate=0.02)))
    at, reason = propose("linkedin", timezone="Europe/Paris", now=datetime(2026, 11, 10, 13, 0, tzinfo=PARIS),
                         history=history)
    assert at == datetime(2026, 11, 12, 14, 0, tzinfo=PARIS)
    assert reason == ("Thu 14:00 Europe/Paris: best 12-week engagement for LinkedIn on plume-li "
                      "(2.0 % over 3 posts); avoids 11 Nov holiday (Armistice Day)")


def test_never_proposes_the_past_and_respects_the_brief():
    now = datetime(2026, 11, 24, 8, 59, tzinfo=PARIS)
    at, _ = propose("x", timezone="Europe/Paris", now=now)
    assert at >= now + timedelta(minutes=30)
    not_before = datetime(2026, 11, 26, 11, 0, tzinfo=PARIS)
    at, reason = propose("x", timezone="Europe/Paris", now=now, not_before=not_before)
    assert at == not_before and "at or after the time in the brief" in reason


def test_networks_without_a_study_say_whose_window_they_borrow():
    _, reason = propose("bluesky", timezone="UTC", now=datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    assert "X's window: no published study for Bluesky" in reason
