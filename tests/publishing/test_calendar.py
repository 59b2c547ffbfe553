"""Calendar exports read back with the libraries a user's tools use: icalendar for .ics, csv for .csv."""

import csv
import io
from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from core import posts
from core.domain import Action, Decision, Status, Variant
from publishing import calendar

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


def scheduled(db, text: str, *, network="linkedin", locale="en", at=NOW + timedelta(days=1)) -> int:
    with db.session() as session:
        posts.save_brief(session, thread_id=f"t-{text[:10]}", text="brief", actor="ana")
        post = posts.present(session, thread_id=f"t-{text[:10]}", citations=[],
                             variant=Variant(network=network, locale=locale, text=text, proposed_at=at.isoformat()))
        posts.decide(session, Decision(post_id=post.id, action=str(Action.APPROVE), actor="UBOSS", version=1),
                     approvers=[])
        return posts.schedule(session, post_id=post.id, run_at=at).id


def published(db, post_id: int, url: str | None, channel: str = "brand-linkedin", at: datetime = NOW) -> None:
    with db.session() as session:
        posts.transition(session, post_id=post_id, to=Status.PUBLISHING, actor="plume", action="post.publishing",
                         channel=channel)
        posts.transition(session, post_id=post_id, to=Status.PUBLISHED, actor="plume", action="post.published",
                         published_at=at, external_ref="urn:li:share:1", external_url=url)


def test_ics_has_one_event_per_post_in_utc_with_stable_uids_and_permalinks(db):
    paris_morning = datetime(2026, 12, 8, 9, 30, tzinfo=UTC) - timedelta(hours=1)  # 09:30 in Paris
    upcoming = scheduled(db, "Our Ethiopia Guji roast is here: bright, floral, and roasted in Lyon this week.",
                         at=paris_morning)
    french = scheduled(db, "Notre Guji d'Éthiopie arrive", network="x", locale="fr")
    done = scheduled(db, "Last week's Huila decaf, now sold out", at=NOW - timedelta(days=2))
    published(db, done, "https://www.linkedin.com/feed/update/urn:li:share:1")
    with db.session() as session:
        posts.save_brief(session, thread_id="t-draft", text="b", actor="ana")
        draft = posts.present(session, thread_id="t-draft", citations=[],  # not approved: not on the calendar
                              variant=Variant(network="x", locale="en", text="Still a draft"))
        raw = calendar.export_ics(session, stamp=NOW)

    parsed = Calendar.from_ical(raw)
    events = {str(e["UID"]): e for e in parsed.walk("VEVENT")}
    assert set(events) == {f"plume-post-{i}@plume" for i in (upcoming, french, done)}
    assert f"plume-post-{draft.id}@plume" not in events

    first = events[f"plume-post-{upcoming}@plume"]
    start = first.decoded("DTSTART")
    assert start == paris_morning and start.utcoffset() == timedelta(0)
    assert b"DTSTART:20261208T083000Z" in raw  # UTC form, readable by every calendar
    assert str(first["SUMMARY"]) == "LinkedIn · en: Our Ethiopia Guji roast is here: bright, floral…"
    description = str(first["DESCRIPTION"])
    assert "roasted in Lyon this week." in description and "Status: scheduled" in description
    assert "URL" not in first
    assert str(events[f"plume-post-{french}@plume"]["SUMMARY"]) == "X · fr: Notre Guji d'Éthiopie arrive"

    sent = events[f"plume-post-{done}@plume"]
    assert str(sent["URL"]) == "https://www.linkedin.com/feed/update/urn:li:share:1"
    assert sent.decoded("DTSTART") == NOW and "Status: published" in str(sent["DESCRIPTION"])

    # Exporting again later gives the same ids, so a subscribed calendar updates in place.
    with db.session() as session:
        again = Calendar.from_ical(calendar.export_ics(session))
    assert {str(e["UID"]) for e in again.walk("VEVENT")} == set(events)


def test_csv_lists_every_published_post_and_defuses_spreadsheet_formulas(db):
    first = scheduled(db, "Guji is here, with a comma, and \"quotes\"\nand a second line", at=NOW - timedelta(days=3))
    second = scheduled(db, "=HYPERLINK(\"http://evil\")", network="x", at=NOW - timedelta(days=1))
    waiting = scheduled(db, "Still to come")
    published(db, second, None, channel="brand-x", at=NOW - timedelta(hours=5))
    published(db, first, "https://www.linkedin.com/feed/update/urn:li:share:2")
    out = io.StringIO()
    with db.session() as session:
        assert calendar.export_csv(session, out) == 2

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == ["id", "network", "channel", "locale", "published_at", "url", "approved_by", "text"]
    assert [int(r["id"]) for r in rows] == [second, first]  # in the order they went out
    by_id = {int(r["id"]): r for r in rows}
    assert waiting not in by_id
    assert by_id[first]["text"] == "Guji is here, with a comma, and \"quotes\"\nand a second line"
    assert by_id[first]["url"] == "https://www.linkedin.com/feed/update/urn:li:share:2"
    assert by_id[first]["channel"] == "brand-linkedin" and by_id[first]["approved_by"] == "UBOSS"
    assert datetime.fromisoformat(by_id[first]["published_at"]) == NOW
    assert by_id[second]["text"] == "'=HYPERLINK(\"http://evil\")" and by_id[second]["url"] == ""
    assert by_id[second]["network"] == "x" and by_id[second]["locale"] == "en"
