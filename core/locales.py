"""Locale conventions (babel): how dates, numbers, prices and times are written in each language."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import regex
from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal, format_percent, get_decimal_symbol

from core import platforms

SAMPLE_DAY, SAMPLE_TIME = date(2026, 12, 3), time(17, 30)
_DECIMAL_POINT = regex.compile(r"(?<![\d.,/])(\d{1,3}(?:,\d{3})*|\d+)\.(\d{1,2})(?![\d.])")
_TIGHT_PERCENT = regex.compile(r"(?<=\d)%")
_SYMBOL_FIRST = regex.compile(r"([€$£])\s?(\d+(?:[.,]\d{1,2})?)")
_TWELVE_HOUR = regex.compile(r"\b(1[0-2]|[1-9])(?::([0-5]\d))?\s?(am|pm|a\.m\.|p\.m\.)(?!\w)", regex.IGNORECASE)
CURRENCIES = {"€": "EUR", "$": "USD", "£": "GBP"}


def babel_locale(code: str) -> str:
    """`fr-CA` → `fr_CA`; anything babel does not know falls back to its language, then English."""
    for candidate in (code.replace("-", "_"), code.split("-")[0].split("_")[0].lower()):
        try:
            Locale.parse(candidate)
            return candidate
        except (ValueError, TypeError, LookupError):
            continue
    return "en"


def examples(locale: str) -> str:
    """How this locale writes things, for the localization prompt."""
    locale = babel_locale(locale)
    return (f"dates like “{format_date(SAMPLE_DAY, 'long', locale=locale)}”, "
            f"numbers like “{format_decimal(1234.5, locale=locale)}”, "
            f"prices like “{format_currency(12.5, 'EUR', locale=locale)}”, "
            f"percentages like “{format_percent(0.1, locale=locale)}”, "
            f"times like “{format_time(SAMPLE_TIME, 'short', locale=locale)}”")


def problems(text: str, locale: str) -> list[str]:
    """Numbers, prices, percentages and times written another language's way (links ignored)."""
    locale = babel_locale(locale)
    prose = platforms.blank(text)
    found: list[str] = []
    symbol_last = format_currency(12.5, "EUR", locale=locale).rstrip().endswith("€")
    for match in _SYMBOL_FIRST.finditer(prose) if symbol_last else ():
        amount = Decimal(match[2].replace(",", "."))
        found.append(f"write {match[0]} as {format_currency(amount, CURRENCIES[match[1]], locale=locale)}")
        prose = prose[:match.start()] + " " * len(match[0]) + prose[match.end():]
    if get_decimal_symbol(locale) == ",":
        for match in _DECIMAL_POINT.finditer(prose):
            number = Decimal(match[0].replace(",", ""))
            pattern = "#,##0." + "0" * len(match[2])
            found.append(f"write {match[0]} as {format_decimal(number, format=pattern, locale=locale)}")
    if " " in readable(format_percent(0.1, locale=locale)) and _TIGHT_PERCENT.search(prose):
        found.append(f"write percentages as {format_percent(0.1, locale=locale)}")
    if not format_time(SAMPLE_TIME, "short", locale=locale).lower().endswith("pm"):
        for match in _TWELVE_HOUR.finditer(prose):
            hour = int(match[1]) % 12 + (12 if match[3].lower().startswith("p") else 0)
            found.append(f"write {match[0]} as {format_time(time(hour, int(match[2] or 0)), 'short', locale=locale)}")
    return [readable(problem) for problem in dict.fromkeys(found)]


def readable(text: str) -> str:
    """Babel's no-break spaces are right in a post but unreadable in a message about one."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")
