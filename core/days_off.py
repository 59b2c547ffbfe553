"""Days the team does not publish: public holidays by country (the holidays package) and team blackouts."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from core.errors import ConfigError


@lru_cache(maxsize=256)
def _calendar(country: str, year: int):
    import holidays  # imported on first use: a few hundred country modules Plume rarely needs at start-up

    try:
        return holidays.country_holidays(country, years=year)
    except NotImplementedError:
        raise ConfigError(f"No public-holiday calendar for country {country!r}; use an ISO 3166 code "
                          "such as FR, US or DE (see the holidays package's list).") from None


def holiday(country: str, day: date) -> str | None:
    """The public holiday's name on `day` in `country`, if it is one (national holidays only)."""
    return _calendar(country.upper(), day.year).get(day)


def check_country(country: str) -> str:
    """`country` upper-cased, or ConfigError when no holiday calendar exists for it."""
    _calendar(country.upper(), 2026)
    return country.upper()


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    # zone.tab gives each zone the one country it belongs to; zone1970.tab lists several for shared zones.
    places = [resources.files("tzdata") / "zoneinfo" / "zone.tab", Path("/usr/share/zoneinfo/zone.tab")]
    for place in places:
        try:
            text = place.read_text(encoding="utf-8")
        except (OSError, ModuleNotFoundError):
            continue
        return {cols[2]: cols[0] for cols in (line.split("\t") for line in text.splitlines())
                if len(cols) >= 3 and not cols[0].startswith("#")}
    return {}


def country_of(timezone: str) -> str | None:
    """The country an IANA zone belongs to (Europe/Paris → FR); None for UTC and other non-geographic zones."""
    return _zone_countries().get(timezone)


# --- team blackouts ------------------------------------------------------------------------


def parse_blackouts(raw: str) -> list[tuple[date, date]]:
    """"2026-12-24..2026-12-26,2027-01-01" → inclusive date ranges; ValueError with the bad part named."""
    ranges = []
    for part in (p.strip() for p in raw.replace(";", ",").split(",")):
        if not part:
            continue
        first, _, last = part.partition("..")
        try:
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat(last.strip()) if last else start
        except ValueError:
            raise ValueError(f"{part!r} is not a date or a range; write 2026-12-24 or "
                             "2026-12-24..2026-12-26, separated by commas") from None
        if end < start:
            raise ValueError(f"{part!r} ends before it starts")
        ranges.append((start, end))
    return ranges
