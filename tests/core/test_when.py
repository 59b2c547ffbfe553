"""Times in words as people type them in a thread, the Edit modal or the shell."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.errors import ConfigError, ValidationFailed
from core.when import When, find, parse_when, unreadable, validate_when

PARIS = "Europe/Paris"
NOW = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)  # Friday 4 December, 16:30 in Paris


def when(text: str, timezone: str = PARIS, now: datetime = NOW) -> When:
    parsed = parse_when(text, now=now, timezone=timezone)
    assert parsed is not None, text
    return parsed


@pytest.mark.parametrize(("text", "confirmation"), [
    ("next Tuesday 9am Paris", "Tue 8 Dec 09:00 Europe/Paris (08:00 UTC)"),
    ("tomorrow morning", "Sat 5 Dec 09:00 Europe/Paris (08:00 UTC)"),
    ("demain 9h", "Sat 5 Dec 09:00 Europe/Paris (08:00 UTC)"),
    ("demain à 9h30", "Sat 5 Dec 09:30 Europe/Paris (08:30 UTC)"),
    ("mardi prochain à 10h", "Tue 8 Dec 10:00 Europe/Paris (09:00 UTC)"),
    ("le 10 décembre à 14h30", "Thu 10 Dec 14:30 Europe/Paris (13:30 UTC)"),
    ("in 2 hours", "Fri 4 Dec 18:30 Europe/Paris (17:30 UTC)"),
    ("dans 45 minutes", "Fri 4 Dec 17:15 Europe/Paris (16:15 UTC)"),
    ("Dec 10 at 14:30", "Thu 10 Dec 14:30 Europe/Paris (13:30 UTC)"),
    ("Thursday, December 10 at 2:30pm", "Thu 10 Dec 14:30 Europe/Paris (13:30 UTC)"),
    ("2026-12-10 14:30", "Thu 10 Dec 14:30 Europe/Paris (13:30 UTC)"),
    ("2026-12-10T14:30", "Thu 10 Dec 14:30 Europe/Paris (13:30 UTC)"),
    ("2026-12-10T14:30:00Z", "Thu 10 Dec 15:30 Europe/Paris (14:30 UTC)"),
    ("2026-12-10T09:30-05:00", "Thu 10 Dec 15:30 Europe/Paris (14:30 UTC)"),
    ("14:30", "Sat 5 Dec 14:30 Europe/Paris (13:30 UTC)"),  # 14:30 has gone by today
    ("at 9", "Sat 5 Dec 09:00 Europe/Paris (08:00 UTC)"),
    ("noon", "Sat 5 Dec 12:00 Europe/Paris (11:00 UTC)"),
    ("tonight", "Fri 4 Dec 18:00 Europe/Paris (17:00 UTC)"),
    ("this afternoon", "Fri 4 Dec 16:30 Europe/Paris (15:30 UTC)"),  # begun: from now on
    ("now", "Fri 4 Dec 16:30 Europe/Paris (15:30 UTC)"),
    ("tout de suite", "Fri 4 Dec 16:30 Europe/Paris (15:30 UTC)"),
])
def test_each_form_is_read_in_the_given_zone(text, confirmation):
    assert when(text).describe() == confirmation


@pytest.mark.parametrize(("text", "zone", "confirmation"), [
    ("tomorrow 9am New York", "America/New_York", "Sat 5 Dec 09:00 America/New_York (14:00 UTC)"),
    ("9am New York time", "America/New_York", "Sat 5 Dec 09:00 America/New_York (14:00 UTC)"),
    ("next Tuesday 9am (NYC)", "America/New_York", "Tue 8 Dec 09:00 America/New_York (14:00 UTC)"),
    ("14h heure de Montréal", "America/Toronto", "Fri 4 Dec 14:00 America/Toronto (19:00 UTC)"),
    ("demain 9h à Londres", "Europe/London", "Sat 5 Dec 09:00 Europe/London (09:00 UTC)"),
    # Tomorrow in Tokyo, where it is already 00:30 on Saturday: Sunday.
    ("Tokyo, tomorrow 8am", "Asia/Tokyo", "Sun 6 Dec 08:00 Asia/Tokyo (23:00 UTC Sat 5 Dec)"),
    ("tomorrow at 9 America/Chicago", "America/Chicago", "Sat 5 Dec 09:00 America/Chicago (15:00 UTC)"),
    ("tomorrow 9am UTC", "UTC", "Sat 5 Dec 09:00 UTC"),
    ("9am LA", "America/Los_Angeles", "Fri 4 Dec 09:00 America/Los_Angeles (17:00 UTC)"),  # 07:30 there
])
def test_a_city_or_zone_named_with_the_time_wins(text, zone, confirmation):
    parsed = when(text)
    assert (parsed.zone, parsed.describe()) == (zone, confirmation)


def test_the_confirmation_is_shown_in_the_readers_zone():
    parsed = when("next Tuesday 9am Paris")
    assert parsed.at == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    assert parsed.describe("America/New_York") == "Tue 8 Dec 03:00 America/New_York (08:00 UTC)"
    assert parsed.describe("UTC") == "Tue 8 Dec 08:00 UTC"
    assert parsed.local().hour == 9


@pytest.mark.parametrize(("text", "day"), [
    ("next Tuesday", "Tue 8 Dec"),
    ("2026-12-10", "Thu 10 Dec"),
    ("in 3 days", "Mon 7 Dec"),
    ("next week", "Mon 7 Dec"),
    ("samedi", "Sat 5 Dec"),
])
def test_a_day_without_a_time_is_the_whole_day(text, day):
    parsed = when(text)
    assert not parsed.exact
    assert parsed.local() == datetime.fromisoformat(f"{parsed.local().date()}T00:00").replace(tzinfo=ZoneInfo(PARIS))
    assert parsed.describe() == f"{day} (any time) Europe/Paris"


def test_a_naive_now_is_wall_clock_time_in_the_zone():
    assert when("tomorrow 9am", now=datetime(2026, 12, 4, 23, 30)).describe() == \
        "Sat 5 Dec 09:00 Europe/Paris (08:00 UTC)"


def test_hours_ahead_are_real_hours_across_a_clock_change():
    before_dst = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 in Paris; 02:00 → 03:00
    assert when("in 2 hours", now=before_dst).describe() == "Sun 29 Mar 04:30 Europe/Paris (02:30 UTC)"


@pytest.mark.parametrize("text", ["", "   ", "whenever", "soon-ish", "Feb 30", "31 février", "Black Friday",
                                  "at the roastery", "25:00"])
def test_words_with_no_date_or_time_give_none(text):
    assert parse_when(text, now=NOW, timezone=PARIS) is None


def test_a_misspelt_zone_is_refused_with_the_fix():
    with pytest.raises(ValidationFailed, match="I don't know the time zone “Europe/Pariss” — name a city"):
        parse_when("tomorrow 9am Europe/Pariss", now=NOW, timezone=PARIS)


def test_an_unknown_configured_zone_is_a_configuration_error():
    with pytest.raises(ConfigError, match="Unknown time zone 'Mars/Olympus'"):
        parse_when("tomorrow 9am", now=NOW, timezone="Mars/Olympus")


def test_validate_accepts_a_future_time_and_returns_it():
    parsed = when("tomorrow 9am")
    assert validate_when(parsed, now=NOW, held=False) is parsed


@pytest.mark.parametrize("text", ["today at 9am", "2026-12-03 10:00", "yesterday 9am", "hier", "2025-06-01"])
def test_a_time_in_the_past_is_refused(text):
    parsed = when(text)
    with pytest.raises(ValidationFailed, match="is in the past — give a later time, e.g. “next Tuesday 9am Paris”"):
        validate_when(parsed, now=NOW, held=False)


def test_today_without_a_time_is_still_open():
    assert validate_when(when("today"), now=NOW, held=False).exact is False


def test_now_is_not_in_the_past():
    assert validate_when(when("now"), now=NOW.replace(second=42), held=False).at == NOW


def test_nothing_can_be_set_while_publishing_is_on_hold():
    with pytest.raises(ValidationFailed) as refused:
        validate_when(when("tomorrow 9am"), now=NOW, held=True)
    assert str(refused.value) == ("Publishing is on hold, so nothing would go out on Sat 5 Dec 09:00 Europe/Paris "
                                  "(08:00 UTC). Resume publishing first, then set the time.")


def test_unreadable_words_get_examples_to_follow():
    assert unreadable("  whenever\nyou like ") == (
        "I couldn't read a date or time in “whenever you like” — try “next Tuesday 9am Paris”, "
        "“tomorrow morning”, “demain 9h”, “in 2 hours” or “Dec 10 at 14:30”.")


def test_find_reads_every_date_phrase_of_a_brief_with_its_span():
    text = "Our Paris shop opens on December 10; post it tomorrow at 9am New York time. Black Friday too."
    phrases = find(text, now=NOW.astimezone(ZoneInfo(PARIS)))
    assert [p.text for p in phrases] == ["on December 10", "tomorrow at 9am New York time"]
    assert [text[p.start : p.end] for p in phrases] == [p.text for p in phrases]
    assert phrases[0].zone is None and not phrases[0].exact  # "Paris" is not beside the date
    assert phrases[1].zone == "America/New_York"
    assert phrases[1].at == datetime(2026, 12, 5, 9, 0, tzinfo=ZoneInfo("America/New_York"))


def test_find_in_a_brief_needs_a_word_that_makes_a_clock_time_a_time():
    now = NOW.astimezone(ZoneInfo(PARIS))
    assert find("Open 9am-5pm at our new Lyon shop", now=now) == []
    assert [p.text for p in find("Post at 9am: Ember is back", now=now)] == ["at 9am"]
