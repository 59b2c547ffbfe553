"""Proposing when each variant goes out: the network's good slot in the audience's time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

# Typical engagement slots (local time) per network, best first, with why they are good, and the
# weekdays they apply to (0 = Monday). B2B networks skip weekends.
WEEKDAYS, EVERY_DAY = frozenset(range(5)), frozenset(range(7))
MORNING, LUNCH, EVENING = "the morning commute peak", "the lunchtime peak", "the early-evening peak"
SLOTS: dict[str, tuple[frozenset[int], tuple[tuple[time, str], ...]]] = {
    "linkedin": (WEEKDAYS, ((time(9, 0), "weekday business hours, start of the workday"),
                           (time(12, 0), "weekday business hours, lunchtime"),
                           (time(17, 30), "weekday business hours, end of the workday"))),
    "x": (EVERY_DAY, ((time(9, 0), MORNING), (time(12, 30), LUNCH), (time(18, 0), EVENING))),
    "bluesky": (EVERY_DAY, ((time(10, 0), "late-morning activity"), (time(13, 0), LUNCH), (time(19, 0), EVENING))),
    "mastodon": (EVERY_DAY, ((time(10, 0), "daytime activity across instances"), (time(15, 0), "afternoon activity"),
                             (time(20, 0), EVENING))),
    "threads": (EVERY_DAY, ((time(11, 0), LUNCH), (time(19, 0), EVENING))),
    "instagram": (EVERY_DAY, ((time(11, 0), LUNCH), (time(18, 30), EVENING))),
    "facebook": (EVERY_DAY, ((time(9, 30), MORNING), (time(13, 0), LUNCH), (time(19, 0), EVENING))),
}
LABELS = {"x": "X", "linkedin": "LinkedIn", "bluesky": "Bluesky", "mastodon": "Mastodon", "threads": "Threads",
          "instagram": "Instagram", "facebook": "Facebook"}
# Fixed-date public holidays most audiences share; posts avoid them.
HOLIDAYS = {(1, 1): "New Year's Day", (5, 1): "Labour Day", (12, 25): "Christmas Day", (12, 26): "Boxing Day"}
MIN_LEAD = timedelta(minutes=30)
SPACING = timedelta(hours=2)
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def propose(network: str, *, timezone: str, now: datetime, not_before: datetime | None = None,
            taken: list[datetime] = ()) -> tuple[datetime, str]:
    """The first good slot after `not_before` (and `now` + a short lead), away from other posts."""
    zone = ZoneInfo(timezone)
    days, slots = SLOTS.get(network, SLOTS["x"])
    earliest = max(now + MIN_LEAD, not_before or now)
    day = earliest.astimezone(zone).date()
    skipped: list[str] = []
    for _ in range(60):
        holiday = HOLIDAYS.get((day.month, day.day))
        if holiday:
            skipped.append(holiday)
        elif day.weekday() in days:
            for slot, why in slots:
                candidate = datetime.combine(day, slot, tzinfo=zone)
                if candidate >= earliest and all(abs(candidate - t) >= SPACING for t in taken):
                    return candidate, _reason(candidate, network, why, not_before, skipped)
        day += timedelta(days=1)
    fallback = earliest.astimezone(zone)
    return fallback, "No usual slot was free in the next 60 days; proposing the earliest time."


def _reason(at: datetime, network: str, why: str, not_before: datetime | None, skipped: list[str]) -> str:
    text = f"{DAY_NAMES[at.weekday()]}, {why} on {LABELS.get(network, network)}"
    if not_before:
        text += ", at or after the time in the brief"
    if skipped:
        text += f"; skipped {', '.join(dict.fromkeys(skipped))}"
    return text + "."

