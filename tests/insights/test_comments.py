"""Comments CSV import: good rows kept, bad rows reported by line, re-imports idempotent, spikes flagged once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core.errors import ValidationFailed
from core.models import AuditRow, CommentRow
from insights import comments
from insights.sentiment import Scorer
from tests.insights import history

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def run(db, source, **kwargs):
    kwargs.setdefault("scorer", Scorer())
    with db.session() as session:
        return comments.import_csv(session, source.encode() if isinstance(source, str) else source,
                                   zone="Europe/Paris", now=NOW, **kwargs)


def stored(db) -> dict[str, CommentRow]:
    with db.session() as session:
        return {row.comment_id: row for row in session.scalars(select(CommentRow))}


def test_good_rows_are_imported_and_bad_rows_reported_by_line(db):
    csv = ("Network,Post ID,Comment ID,Text,Created At,Likes\n"
           "linkedin,li-1,c1,Love this!,2026-12-01 10:00,3\n"            # naive: Paris time
           'x,x-1,c2,"Awful, really awful",2026-12-01T10:00:00Z,0\n'
           "x,x-1,c3,unquoted, comma,2026-12-01T10:00:00Z,0\n"           # one value too many
           "x,x-1,c4,too short\n"                                         # values missing
           "myspace,m-1,c5,hello,2026-12-01T10:00:00Z,0\n"
           "x,,c6,no post,2026-12-01T10:00:00Z,0\n"
           "x,x-1,c7,when?,yesterday,0\n")
    result = run(db, csv)
    assert (result.rows, result.added, result.updated, result.unchanged) == (7, 2, 0, 0)
    assert [(e.line, e.message.split(" (")[0]) for e in result.errors] == [
        (4, "7 values for 6 columns"), (5, "only 4 values for 6 columns"), (6, "unknown network “myspace”"),
        (7, "no post id"), (8, "“yesterday” is not a date and time")]
    assert result.ignored_columns == ["Likes"]
    rows = stored(db)
    assert rows["c1"].at.replace(tzinfo=UTC) == datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert rows["c1"].sentiment > 0.5 and rows["c2"].sentiment < -0.5
    assert "line 4: 7 values for 6 columns" in result.summary()


def test_a_missing_required_column_imports_nothing_and_says_what_is_needed(db):
    with pytest.raises(ValidationFailed, match="no comment_id column.*network, post_id, comment_id, text"):
        run(db, "network,post_id,text\nx,x-1,hello\n")
    assert stored(db) == {}


def test_reimporting_changes_nothing_and_an_edit_updates_one_row(db):
    first = run(db, history.comments_csv())
    assert (first.added, first.not_scored) == (18, 2)
    again = run(db, history.comments_csv())
    assert (again.added, again.updated, again.unchanged) == (0, 0, 18)
    edited = history.comments_csv().replace('c-li-4,user4,"Love this!"', 'c-li-4,user4,"Hate this!"')
    third = run(db, edited)
    assert (third.added, third.updated, third.unchanged) == (0, 1, 17)
    assert stored(db)["c-li-4"].sentiment < 0
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(CommentRow)) == 18


def test_a_file_that_is_not_utf8_is_refused(db):
    with pytest.raises(ValidationFailed, match="not UTF-8"):
        run(db, "network,post_id,comment_id,text\nx,1,2,caf\xe9\n".encode("latin-1"))


def test_other_languages_are_not_scored_without_a_model(db):
    result = run(db, "network,post_id,comment_id,text,language\nx,x-1,f1,Pas terrible,fr\nx,x-1,e1,So good,\n",
                 default_language="en")
    rows = stored(db)
    assert rows["f1"].sentiment is None and rows["f1"].language == "fr"
    assert rows["e1"].sentiment > 0 and rows["e1"].language == "en"
    assert result.not_scored == 1 and "not scored" in result.summary()


def test_a_language_guess_applies_when_the_file_has_none(db):
    run(db, "network,post_id,comment_id,text\nx,x-1,g1,le café est bon\n", guess_language=lambda t: "fr")
    assert stored(db)["g1"].language == "fr" and stored(db)["g1"].sentiment is None


def test_a_negative_spike_on_a_plume_post_is_flagged_once(db, monkeypatch):
    ids = history.build(db, monkeypatch)
    monkeypatch.setattr(comments, "now", lambda: NOW)
    result = run(db, history.comments_csv())
    assert [(s.post_id, s.negative, s.scored) for s in result.spikes] == [(ids["li"], 4, 6)]
    assert "Unusually negative comments on post" in result.summary()
    assert run(db, history.comments_csv().replace('c-li-4,user4,"Love this!"', 'c-li-4,user4,"Hate this!"')).spikes == []  # told once
    with db.session() as session:
        flags = session.scalars(select(AuditRow).where(AuditRow.action == comments.SPIKE_ACTION)).all()
    assert [(f.post_id, f.detail["negative"]) for f in flags] == [(ids["li"], 4)]
