"""Dates and times in words ("next Tuesday 9am Paris", "demain 9h"): read, confirmed and checked.

A person types a time in a Slack thread, the Edit modal or the shell; every front end reads it
with the same three calls::

    when = parse_when(text, now=now, timezone="Europe/Paris")
    if when is None:                                # no date or time in the words
        raise ValidationFailed(unreadable(text))
    validate_when(when, now=now, held=hold_is_on)   # ValidationFailed: in the past / on hold
    confirm(f"Set for {when.describe(user_zone)}")  # "Tue 8 Dec 09:00 Europe/Paris (08:00 UTC)"

`When.at` is the moment in UTC; `When.zone` the IANA zone the words were read in (a city or
zone named with the time, else `timezone`). A day without a time ("next Tuesday") gives
`exact=False` and the start of that day: the caller picks the day's best slot. English and
French are understood: relative days ("tomorrow", "demain", "the day after tomorrow"),
weekdays ("next Tuesday", "mardi prochain"), dates ("Dec 10", "10 décembre 2026",
"2026-12-10 14:30", ISO with an offset), clock times ("9am", "14:30", "9h", "noon", "midi"),
parts of the day ("tomorrow morning", "ce soir"), delays ("in 2 hours", "dans 3 jours"),
periods ("next week", "this weekend", "in December"), cities of a compact table ("Paris",
"New York", "Tokyo"…), IANA names ("America/Chicago") and "UTC". A typed time may also be
"now", "yesterday" (to be refused as past), a bare "14:30" or "at 9".

`find` is the scanner underneath: every date phrase in a longer text (a brief) with its span,
so that offline intake can tell the request's "tomorrow at 9am" from the message's own words.
Only phrases that can only be dates are read as dates: "Black Friday", "open 9am-5pm", "24h"
and "Our 3 new blends" are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import ConfigError, ValidationFailed

EXAMPLES = "“next Tuesday 9am Paris”, “tomorrow morning”, “demain 9h”, “in 2 hours” or “Dec 10 at 14:30”"

# fmt: off
MONTHS = {
    "january": 1, "jan": 1, "janvier": 1, "janv": 1, "february": 2, "feb": 2, "février": 2, "fevrier": 2,
    "févr": 2, "march": 3, "mar": 3, "mars": 3, "april": 4, "apr": 4, "avril": 4, "avr": 4, "may": 5,
    "mai": 5, "june": 6, "jun": 6, "juin": 6, "july": 7, "jul": 7, "juillet": 7, "juil": 7, "august": 8,
    "aug": 8, "août": 8, "aout": 8, "september": 9, "sep": 9, "sept": 9, "septembre": 9, "october": 10,
    "oct": 10, "octobre": 10, "november": 11, "nov": 11, "novembre": 11, "december": 12, "dec": 12,
    "décembre": 12, "decembre": 12, "déc": 12,
}
WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
}
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4,
    "cinq": 5, "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "douze": 12,
}
PART_OF_DAY = {"morning": 9, "matin": 9, "matinée": 9, "matinee": 9, "afternoon": 14, "après-midi": 14,
               "apres-midi": 14, "aprem": 14, "evening": 18, "night": 18, "soir": 18, "soirée": 18,
               "soiree": 18}
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Cities people name for a time ("9am Paris", "14h heure de Montréal"), English and French names.
# Names that are also common words or several places ("Nice", "Vienne", "Reading") are left out.
CITIES = {
    "Europe/Paris": "paris lyon marseille bordeaux toulouse lille nantes strasbourg montpellier rennes",
    "Europe/London": "london londres manchester edinburgh édimbourg birmingham glasgow",
    "Europe/Dublin": "dublin",
    "Europe/Berlin": "berlin munich münchen hamburg hambourg frankfurt francfort cologne köln",
    "Europe/Amsterdam": "amsterdam rotterdam",
    "Europe/Brussels": "brussels bruxelles antwerp anvers",
    "Europe/Luxembourg": "luxembourg",
    "Europe/Madrid": "madrid barcelona barcelone valencia seville séville",
    "Europe/Lisbon": "lisbon lisbonne porto",
    "Europe/Rome": "rome roma milan milano naples",
    "Europe/Zurich": "zurich zürich geneva genève geneve bern berne lausanne basel bâle",
    "Europe/Vienna": "vienna wien",
    "Europe/Copenhagen": "copenhagen copenhague",
    "Europe/Stockholm": "stockholm",
    "Europe/Oslo": "oslo",
    "Europe/Helsinki": "helsinki",
    "Europe/Warsaw": "warsaw varsovie",
    "Europe/Prague": "prague",
    "Europe/Athens": "athens athènes",
    "Europe/Istanbul": "istanbul",
    "Europe/Moscow": "moscow moscou",
    "America/New_York": "new_york new_york_city boston washington miami atlanta philadelphia philadelphie",
    "America/Toronto": "toronto montreal montréal ottawa quebec québec",
    "America/Chicago": "chicago dallas houston austin",
    "America/Denver": "denver",
    "America/Phoenix": "phoenix",
    "America/Los_Angeles": "los_angeles san_francisco seattle",
    "America/Vancouver": "vancouver",
    "America/Mexico_City": "mexico_city",
    "America/Sao_Paulo": "são_paulo sao_paulo rio",
    "America/Argentina/Buenos_Aires": "buenos_aires",
    "Asia/Dubai": "dubai dubaï",
    "Asia/Kolkata": "mumbai delhi new_delhi bangalore bengaluru",
    "Asia/Singapore": "singapore singapour",
    "Asia/Hong_Kong": "hong_kong",
    "Asia/Shanghai": "shanghai beijing pékin pekin",
    "Asia/Tokyo": "tokyo",
    "Asia/Seoul": "seoul séoul",
    "Australia/Sydney": "sydney",
    "Australia/Melbourne": "melbourne",
    "Pacific/Auckland": "auckland",
    "Africa/Johannesburg": "johannesburg",
    "Africa/Cairo": "cairo le_caire",
    "Africa/Lagos": "lagos",
    "Africa/Nairobi": "nairobi",
    "Africa/Casablanca": "casablanca",
    "Africa/Dakar": "dakar",
    "Africa/Abidjan": "abidjan",
    "Africa/Tunis": "tunis",
    "Africa/Algiers": "algiers alger",
    "UTC": "utc gmt",
}
CITY_ZONES = {name.replace("_", " "): zone for zone, names in CITIES.items() for name in names.split()}
# Written in capitals only: "la" and "et" are words, "LA" and "ET" are places and zones.
ABBREVIATIONS = {
    "NYC": "America/New_York", "LA": "America/Los_Angeles",
    "SF": "America/Los_Angeles", "ET": "America/New_York", "EST": "America/New_York",
    "EDT": "America/New_York", "PT": "America/Los_Angeles", "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles", "CET": "Europe/Paris", "CEST": "Europe/Paris", "BST": "Europe/London",
}
IANA_AREAS = "Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc"

_MONTH_ALT = "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True))
_WEEKDAY_ALT = "|".join(WEEKDAYS)
_NUM_ALT = r"\d{1,3}|half\s+an?|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_CITY_ALT = "|".join(sorted((r"\s+".join(map(re.escape, c.split())) for c in CITY_ZONES), key=len, reverse=True))
_ABBR_ALT = "|".join(sorted(ABBREVIATIONS, key=len, reverse=True))

ISO_DATE = re.compile(
    r"(?<![\w-])(?P<y>20\d\d)-(?P<m>[01]\d)-(?P<d>[0-3]\d)"
    r"(?:[T ](?P<H>[01]?\d|2[0-3]):(?P<M>[0-5]\d)(?::(?P<S>[0-5]\d)(?:\.\d+)?)?(?P<tz>Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?)?"
    r"(?![\w-])")
MONTH_DATE = re.compile(
    rf"(?<![\w-])(?:(?:on|this|le|ce)\s+)?(?:(?:{_WEEKDAY_ALT}),?\s+)?(?:(?:the|le)\s+)?(?:"
    rf"(?P<m1>{_MONTH_ALT})\.?\s+(?:the\s+)?(?P<d1>[0-3]?\d)(?:st|nd|rd|th)?"
    rf"|(?P<d2>[0-3]?\d)(?:st|nd|rd|th|er)?(?:\s+of)?\s+(?P<m2>{_MONTH_ALT})\.?"
    rf")(?:,?\s+(?P<y>20\d\d))?(?![\w])", re.I)
MONTH_ONLY = re.compile(
    rf"\b(?:in|en|early|début|courant)\s+(?P<m>{_MONTH_ALT})(?:\s+(?P<y>20\d\d))?(?![\w.]|\s+\d)", re.I)
RELATIVE_DAY = re.compile(
    r"(?<![\w-])(?:(?P<today>today|aujourd['’]hui)|(?P<after>the\s+day\s+after\s+tomorrow|après-?\s?demain|apres-demain)"
    r"|(?P<tomorrow>tomorrow|tmrw|demain)|(?P<tonight>tonight|ce\s+soir))(?![\w-])", re.I)
IN_DELTA = re.compile(
    rf"\b(?:in|dans)\s+(?P<n>{_NUM_ALT})\s*(?P<unit>minutes?|mins?|hours?|hrs?|h|days?|weeks?|heures?|jours?|semaines?)\b",
    re.I)
PERIOD = re.compile(
    r"\b(?P<next_week>next\s+week|(?:la\s+)?semaine\s+prochaine)\b"
    r"|\b(?P<this_week>this\s+week|cette\s+semaine)\b"
    r"|\b(?P<next_month>next\s+month|(?:le\s+)?mois\s+prochain)\b"
    r"|\b(?P<next_weekend>next\s+week-?end|(?:le\s+)?week-?end\s+prochain)\b"
    r"|\b(?P<weekend>(?:this\s+(?:coming\s+)?|over\s+the\s+|on\s+the\s+|ce\s+)week-?end)\b", re.I)
WEEKDAY = re.compile(
    rf"(?<![\w-])(?:(?P<mod>next|this\s+coming|this|coming|ce|on|le)\s+)?(?P<day>{_WEEKDAY_ALT})"
    rf"(?:\s+(?P<fr_next>prochain))?(?![\w-])", re.I)
NOT_A_WEEKDAY_BEFORE = re.compile(r"\b(?:black|cyber|giving|good|every|each|tous\s+les|chaque)\s+$", re.I)
NOT_A_WEEKDAY_AFTER = re.compile(r"^\s+gras\b", re.I)
# In a typed time only: in a brief, "we launched yesterday" is news, not a wanted time.
YESTERDAY = re.compile(r"(?<![\w-])(?:yesterday|hier)(?![\w-])", re.I)
NOW = re.compile(
    r"(?<![\w-])(?:right\s+now|now|asap|immediately|right\s+away|maintenant|tout\s+de\s+suite|"
    r"dès\s+que\s+possible|immédiatement)(?![\w-])", re.I)

CLOCK = re.compile(
    r"(?<![\d:.,/-])(?:"
    r"(?P<h1>1[0-2]|0?[1-9])(?:[:.](?P<m1>[0-5]\d))?\s*(?P<ap>[ap])\.?m\b\.?"
    r"|(?P<h2>[01]?\d|2[0-3]):(?P<m2>[0-5]\d)(?![\d:])"
    r"|(?P<h3>[01]?\d|2[0-3])\s?h(?:eures?)?\s?(?P<m3>[0-5]\d)?(?![\w])"
    r"|(?P<noon>noon|midday|midi|lunchtime)|(?P<midnight>midnight|minuit))", re.I)
PART = re.compile(
    r"(?<![\w-])(?:(?P<pmod>this|in\s+the|ce|cet|cette|le|en|dans\s+la|du)\s+)?"
    r"(?P<part>morning|afternoon|evening|night|matinée|matinee|matin|après-midi|apres-midi|aprem|soirée|soiree|soir)"
    r"(?![\w-])", re.I)
THIS_PART = {"this", "ce", "cet", "cette"}
# A clock time alone is only a time when something introduces it ("at 9am", "à 10h"): "open 9am–5pm"
# and "24h" are not wanted publication times.
TIME_INTRO = re.compile(r"(?:\b(?:at|around|by|à|vers|dès|avant)|@)\s*$", re.I)
# In a typed time only: "at 9", "à 9" (in a brief, "at 9 locations" is no time).
BARE_HOUR = re.compile(r"(?:\bat|\bà|@)\s*(?P<h>[01]?\d|2[0-3])(?![\w:.,/-])", re.I)
JOIN_DAY_TIME = re.compile(
    r"^[\s,]*(?:(?:at|@|around|by|from|on|à|a|vers|dès|le|en|dans\s+la|du)\s+)?[\s,]*$", re.I)
# A zone said with the time: "9am Paris", "9am (Paris time)", "14h heure de Montréal", "at 9 in NYC".
ZONE = re.compile(
    rf"(?:\(\s*)?(?:(?i:in|à|heure\s+de|heure\s+d['’]|time\s+in)\s+)?"
    rf"(?<![\w/])(?P<zone>(?i:{_CITY_ALT})|{_ABBR_ALT}|(?:{IANA_AREAS})/[A-Za-z_+\-0-9]+(?:/[A-Za-z_\-]+)?)"
    rf"(?![\w/])(?:\s+(?i:time|heure))?(?:\s*\))?")
ZONE_GAP = re.compile(r"^[\s,:]*$")
# fmt: on


# ---------------------------------------------------------------------------------------------
# The answer: one moment, in words a person can check


@dataclass(frozen=True)
class When:
    """A moment someone asked for: `at` in UTC, read in `zone` (an IANA name)."""

    at: datetime
    zone: str
    exact: bool = True  # False: only a day was given, `at` is its start in `zone`
    text: str = ""  # the words that were read

    def local(self, zone: str | None = None) -> datetime:
        return self.at.astimezone(ZoneInfo(zone or self.zone))

    def describe(self, zone: str | None = None) -> str:
        """ "Tue 8 Dec 09:00 Europe/Paris (08:00 UTC)", in `zone` (default: the zone it was read in)."""
        name = zone or self.zone
        if not self.exact:
            return f"{day(self.local(name))} (any time) {name}"
        return moment(self.at, name)


def parse_when(text: str, *, now: datetime, timezone: str) -> When | None:
    """The moment `text` names, read in `timezone` unless it names a zone; None if it names none.

    Raises ValidationFailed for a zone written as an IANA name that does not exist, and
    ConfigError for an unknown `timezone` (a setting). A naive `now` is wall-clock time in
    `timezone`.
    """
    zone = zone_info(timezone)
    local = local_now(now, zone)
    found = [p for p in find(text or "", now=local, entry=True) if p.at is not None]
    if not found:
        return None
    phrase = found[0]
    name = phrase.zone or timezone
    return When(at=phrase.at.astimezone(UTC), zone=name, exact=phrase.exact, text=phrase.text)


def validate_when(when: When, *, now: datetime, held: bool) -> When:
    """`when` if a post may be set for it; ValidationFailed if it is past or publishing is on hold."""
    now = now if now.tzinfo else now.replace(tzinfo=ZoneInfo(when.zone))
    if when.exact:
        past = when.at < now.astimezone(UTC).replace(second=0, microsecond=0)
    else:  # a day is past once it is over where it was meant
        day = when.local().date() + timedelta(days=1)
        past = datetime.combine(day, time(0), tzinfo=ZoneInfo(when.zone)) <= now
    if past:
        raise ValidationFailed(f"{when.describe()} is in the past — give a later time, e.g. {EXAMPLES}.")
    if held:
        raise ValidationFailed(
            f"Publishing is on hold, so nothing would go out on {when.describe()}. "
            "Resume publishing first, then set the time.")
    return when


def unreadable(text: str) -> str:
    """What to tell someone whose words hold no date or time."""
    shown = " ".join((text or "").split())[:80]
    return f"I couldn't read a date or time in “{shown}” — try {EXAMPLES}."


def zone_info(name: str) -> ZoneInfo:
    """The zone of a setting or brief; ConfigError if no such IANA zone exists."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"Unknown time zone {name!r} — use an IANA name such as Europe/Paris or UTC.") from exc


def local_now(now: datetime, zone: ZoneInfo) -> datetime:
    """`now` in `zone`, to the minute; a naive `now` is taken as wall-clock time there."""
    local = now.replace(tzinfo=zone) if now.tzinfo is None else now.astimezone(zone)
    return local.replace(second=0, microsecond=0)


# ---------------------------------------------------------------------------------------------
# Times as every front end writes them (one formatter, so a day reads the same in every message)


def day(at: datetime) -> str:
    """ "Tue 8 Dec": a day in its own zone, the day of the month without a leading zero."""
    return f"{DAY_NAMES[at.weekday()]} {at.day} {MONTH_NAMES[at.month - 1]}"


def _aware(value: str | datetime) -> datetime:
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # stored times are UTC


def moment(value: str | datetime | None, zone: str, *, utc: bool = True) -> str:
    """ "Tue 8 Dec 09:00 Europe/Paris (08:00 UTC)" in the reader's `zone`; without `utc`, no UTC part."""
    if not value:
        return "no time yet"
    at = _aware(value)
    local = at.astimezone(ZoneInfo(zone))
    shown = f"{day(local)} {local:%H:%M} {zone}"
    if not utc or _is_utc(zone):
        return shown
    in_utc = at.astimezone(UTC)
    other_day = "" if in_utc.date() == local.date() else f" {day(in_utc)}"
    return f"{shown} ({in_utc:%H:%M} UTC{other_day})"


def duration(delta: timedelta) -> str:
    """ "40 s", "45 min", "3 h 5 min", "4 days": how long something lasts or is left, rounded down."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h {minutes % 60:02d} min" if hours < 48 else f"{hours // 24} days"


def clock(value: str | datetime, zone: str) -> str:
    """ "09:00" in `zone`."""
    return f"{_aware(value).astimezone(ZoneInfo(zone)):%H:%M}"


def heading(value: str | datetime, zone: str, *, year: bool = True) -> str:
    """ "Tuesday 8 December 2026": a day heading in schedules, in `zone`."""
    local = _aware(value).astimezone(ZoneInfo(zone))
    return f"{local:%A} {local.day} {local:%B}" + (f" {local.year}" if year else "")


def _is_utc(name: str) -> bool:
    return name.upper() in {"UTC", "ETC/UTC", "GMT", "ETC/GMT", "UCT", "ZULU"}


# ---------------------------------------------------------------------------------------------
# The scanner: every date phrase of a text


@dataclass(frozen=True)
class Phrase:
    """A date or time phrase found in a text, resolved against `now`."""

    start: int
    end: int
    at: datetime | None  # aware, in the zone it was read in; None if it names no day
    exact: bool = True  # False: a day without a time, at its midnight
    past: bool = False  # an explicit date that has already gone by
    zone: str | None = None  # a zone named with it ("9am Paris")
    text: str = ""


def find(text: str, *, now: datetime, entry: bool = False) -> list[Phrase]:
    """Date phrases in `text`, in order, resolved against `now` (aware, in the audience's zone).

    `entry`: the text is a time someone typed in a field rather than a brief, so a bare clock
    time ("14:30") and "now" count, and a zone named anywhere applies.
    """
    phrases = _phrases(text, now, entry)
    zones = list(ZONE.finditer(text))
    for index, phrase in enumerate(phrases):
        beside = [m for m in zones if _beside(text, phrase, m)]
        apart = [m for m in zones if m.end() <= phrase.start or m.start() >= phrase.end]
        named = beside or (apart if entry and index == 0 else [])
        if not named:
            continue
        name = _known_zone(named[0]["zone"])
        again = {p.start: p for p in _phrases(text, now.astimezone(ZoneInfo(name)), entry)}
        start, end = phrase.start, phrase.end
        if beside:  # the zone is part of the phrase: a brief's key message leaves both out
            start, end = min(start, named[0].start()), max(end, named[0].end())
        phrases[index] = replace(again.get(phrase.start, phrase), start=start, end=end, zone=name,
                                 text=" ".join(text[start:end].split()))
    return phrases


def _beside(text: str, phrase: Phrase, zone: re.Match[str]) -> bool:
    if zone.start() >= phrase.end:
        return bool(ZONE_GAP.match(text[phrase.end : zone.start()]))
    return zone.end() <= phrase.start and bool(ZONE_GAP.match(text[zone.end() : phrase.start]))


def _known_zone(said: str) -> str:
    words = " ".join(said.split())
    name = ABBREVIATIONS.get(words) or CITY_ZONES.get(words.lower()) or words
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(
            f"I don't know the time zone “{words}” — name a city (Paris, New York, Tokyo) "
            "or an IANA zone such as Europe/Paris.") from exc
    return name


@dataclass
class _Day:
    start: int
    end: int
    day: date | None = None  # a calendar day (time of day still open)
    exact: datetime | None = None  # an exact moment ("in 2 hours", an ISO timestamp)
    part: int | None = None  # a part of the day already implied ("tonight")
    past: bool = False  # an explicit date that has already gone by


@dataclass
class _Time:
    start: int
    end: int
    hour: int
    minute: int = 0
    introduced: bool = False  # "at 9am", "this morning": a time even without a day
    this: bool = False  # "this afternoon": today, even if it has begun


def _phrases(text: str, now: datetime, entry: bool) -> list[Phrase]:
    days = _days(text, now, entry)
    times = _times(text, entry)
    used: set[int] = set()
    phrases: list[Phrase] = []
    for day in days:
        paired = _pair(text, day, times, used)
        start, end = (min(day.start, paired.start), max(day.end, paired.end)) if paired else (day.start, day.end)
        exact = day.exact is not None or paired is not None or day.part is not None
        phrases.append(Phrase(start, end, _resolve(day, paired, now), exact=exact, past=day.past))
    for index, clock in enumerate(times):
        if index in used or not clock.introduced or any(p.start <= clock.start < p.end for p in phrases):
            continue
        phrases.append(Phrase(clock.start, clock.end, _resolve_time(clock, now)))
    return sorted((replace(p, text=" ".join(text[p.start : p.end].split())) for p in phrases),
                  key=lambda p: p.start)


def _pair(text: str, day: _Day, times: list[_Time], used: set[int]) -> _Time | None:
    if day.exact is not None:
        return None
    for index, clock in enumerate(times):
        if index in used:
            continue
        gap = text[day.end : clock.start] if clock.start >= day.end else text[clock.end : day.start]
        if (clock.start >= day.end or clock.end <= day.start) and JOIN_DAY_TIME.match(gap):
            used.add(index)
            return clock
    return None


def _resolve(day: _Day, clock: _Time | None, now: datetime) -> datetime | None:
    if day.exact is not None:
        return day.exact
    if day.day is None:
        return None
    # A day alone starts at midnight, so the scheduler picks that day's best slot.
    at = datetime.combine(day.day, time(clock.hour, clock.minute) if clock else time(day.part or 0),
                          tzinfo=now.tzinfo)
    begun = (clock.this if clock else day.part is not None) and day.day == now.date()
    return max(at, now) if begun else at  # "tonight", "this afternoon" once begun: from now on


def _resolve_time(clock: _Time, now: datetime) -> datetime:
    at = datetime.combine(now.date(), time(clock.hour, clock.minute), tzinfo=now.tzinfo)
    if at <= now and not clock.this:
        at = datetime.combine(now.date() + timedelta(days=1), time(clock.hour, clock.minute), tzinfo=now.tzinfo)
    return max(at, now)


def _days(text: str, now: datetime, entry: bool) -> list[_Day]:
    found = [
        *_iso_days(text, now),
        *_month_days(text, now),
        *_months(text, now),
        *_relative_days(text, now),
        *_delta_days(text, now),
        *_period_days(text, now),
        *_weekdays(text, now),
        *([_Day(m.start(), m.end(), exact=now) for m in NOW.finditer(text)] if entry else []),
        *([_Day(m.start(), m.end(), day=now.date() - timedelta(days=1), past=True)
           for m in YESTERDAY.finditer(text)] if entry else []),
    ]
    # Where two rules read overlapping text ("le lundi 7 décembre"), the longer reading wins.
    found.sort(key=lambda d: (-(d.end - d.start), d.start))
    kept: list[_Day] = []
    for day in found:
        if not any(k.start < day.end and day.start < k.end for k in kept):
            kept.append(day)
    return sorted(kept, key=lambda d: d.start)


def _iso_days(text: str, now: datetime) -> list[_Day]:
    days = []
    for m in ISO_DATE.finditer(text):
        try:
            day = date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            continue
        exact = None
        if m["H"] is not None:
            # Seconds are kept: a timestamp typed to the second (scripts, tests) means that second.
            exact = datetime.combine(day, time(int(m["H"]), int(m["M"]), int(m["S"] or 0)), tzinfo=now.tzinfo)
            if m["tz"]:  # an offset written with it wins over the audience's zone
                offset = datetime.fromisoformat(
                    f"{day.isoformat()}T{m['H'].zfill(2)}:{m['M']}:{(m['S'] or '00')}{m['tz']}")
                exact = offset.astimezone(now.tzinfo)
        days.append(_Day(m.start(), m.end(), day=day, exact=exact, past=day < now.date()))
    return days


def _month_days(text: str, now: datetime) -> list[_Day]:
    days = []
    for m in MONTH_DATE.finditer(text):
        month = MONTHS[(m["m1"] or m["m2"]).lower().rstrip(".")]
        number = int(m["d1"] or m["d2"])
        try:
            if m["y"]:
                day = date(int(m["y"]), month, number)
            else:
                # No year: the next time that date comes round.
                day = date(now.year, month, number)
                if day < now.date():
                    day = date(now.year + 1, month, number)
        except ValueError:
            continue
        days.append(_Day(m.start(), m.end(), day=day, past=day < now.date()))
    return days


def _months(text: str, now: datetime) -> list[_Day]:
    days = []
    for m in MONTH_ONLY.finditer(text):
        month, year = MONTHS[m["m"].lower()], int(m["y"] or now.year)
        if not m["y"] and month < now.month:
            year += 1
        first = date(year, month, 1)
        # "In December", said in December, means from now on.
        days.append(_Day(m.start(), m.end(), day=max(first, now.date()), past=first < now.date().replace(day=1)))
    return days


def _relative_days(text: str, now: datetime) -> list[_Day]:
    days = []
    for m in RELATIVE_DAY.finditer(text):
        offset = 0 if (m["today"] or m["tonight"]) else 2 if m["after"] else 1
        part = PART_OF_DAY["evening"] if m["tonight"] else None
        days.append(_Day(m.start(), m.end(), day=now.date() + timedelta(days=offset), part=part))
    return days


def _delta_days(text: str, now: datetime) -> list[_Day]:
    days = []
    for m in IN_DELTA.finditer(text):
        raw, unit = m["n"].lower(), m["unit"].lower()
        amount = 0.5 if raw.startswith("half") else int(raw) if raw.isdigit() else NUMBER_WORDS[raw]
        if unit.startswith(("min",)):
            delta = timedelta(minutes=amount)
        elif unit.startswith(("hour", "hr", "heure")) or unit == "h":
            delta = timedelta(hours=amount)
        elif unit.startswith(("day", "jour")):
            days.append(_Day(m.start(), m.end(), day=now.date() + timedelta(days=amount)))
            continue
        else:
            days.append(_Day(m.start(), m.end(), day=now.date() + timedelta(weeks=amount)))
            continue
        # Arithmetic in UTC so that "in 2 hours" across a DST change is still two hours.
        exact = (now.astimezone(UTC) + delta).astimezone(now.tzinfo)
        days.append(_Day(m.start(), m.end(), exact=exact.replace(second=0, microsecond=0)))
    return days


def _period_days(text: str, now: datetime) -> list[_Day]:
    today = now.date()
    days = []
    for m in PERIOD.finditer(text):
        if m["next_week"]:
            day = today + timedelta(days=7 - today.weekday())  # Monday of next week
        elif m["this_week"]:
            day = today
        elif m["next_month"]:
            day = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        elif m["next_weekend"]:
            day = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
        else:  # this weekend: today if the weekend has started
            day = today if today.weekday() >= 5 else today + timedelta(days=5 - today.weekday())
        days.append(_Day(m.start(), m.end(), day=day))
    return days


def _weekdays(text: str, now: datetime) -> list[_Day]:
    today = now.date()
    days = []
    for m in WEEKDAY.finditer(text):
        if NOT_A_WEEKDAY_BEFORE.search(text[max(0, m.start() - 12) : m.start()]) or NOT_A_WEEKDAY_AFTER.match(
            text[m.end() :]
        ):
            continue
        target = WEEKDAYS[m["day"].lower()]
        ahead = (target - today.weekday()) % 7
        mod = (m["mod"] or "").lower()
        if ahead == 0 and not mod.startswith(("this", "ce")):
            ahead = 7  # "Friday", said on a Friday, is next week's
        days.append(_Day(m.start(), m.end(), day=today + timedelta(days=ahead)))
    return days


def _times(text: str, entry: bool) -> list[_Time]:
    found: list[_Time] = []
    for m in CLOCK.finditer(text):
        if m["noon"] or m["midnight"]:
            hour, minute = (12 if m["noon"] else 0), 0
        elif m["ap"]:
            hour, minute = int(m["h1"]) % 12 + (12 if m["ap"].lower() == "p" else 0), int(m["m1"] or 0)
        else:
            hour, minute = int(m["h2"] or m["h3"]), int(m["m2"] or m["m3"] or 0)
        window = max(0, m.start() - 8)
        intro = TIME_INTRO.search(text[window : m.start()])
        start = window + intro.start() if intro else m.start()
        found.append(_Time(start, m.end(), hour, minute, introduced=bool(intro) or entry))
    for m in BARE_HOUR.finditer(text) if entry else ():
        if not any(t.start <= m.start("h") < t.end for t in found):
            found.append(_Time(m.start(), m.end(), int(m["h"]), introduced=True))
    for m in PART.finditer(text):
        if any(t.start <= m.start() < t.end for t in found):
            continue
        mod = " ".join((m["pmod"] or "").lower().split())
        found.append(_Time(m.start(), m.end(), PART_OF_DAY[m["part"].lower()], introduced=bool(mod) or entry,
                           this=mod in THIS_PART))
    return sorted(found, key=lambda t: t.start)
