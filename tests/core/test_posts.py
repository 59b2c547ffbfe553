"""The write funnel against a real SQLite database: decisions, fencing and the audit trail."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from core import audit, claims, posts
from core.db import Database
from core.domain import Action, Decision, Status, Variant, digest
from core.errors import InvalidTransition, NotAuthorized, StorageError, ValidationFailed
from core.models import PostRow


def draft(db, text="Fresh Guji roast, out now.", network="linkedin") -> int:
    with db.session() as session:
        posts.save_brief(session, thread_id="t1", text="brief", actor="ana")
        at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        return posts.present(session, thread_id="t1", citations=[{"id": "a#0", "source": "a.md", "heading": "Voice"}],
                             variant=Variant(network=network, locale="en", text=text, proposed_at=at)).id


def decide(db, post_id, action, actor="mia", approvers=(), **kw):
    with db.session() as session:
        version = posts.get(session, post_id).version
        return posts.decide(session, Decision(post_id=post_id, action=str(action), actor=actor,
                                              version=kw.pop("version", version), **kw), approvers=list(approvers))


def test_approval_records_who_and_the_hash_of_the_exact_text(db):
    post_id = draft(db)
    post = decide(db, post_id, Action.APPROVE, approvers=["mia"])
    assert post.status == Status.APPROVED and post.approved_by == "mia"
    assert post.approved_hash == digest("Fresh Guji roast, out now.")
    with db.session() as session:
        trail = audit.trail(session, post_id)
    assert [(e.action, e.to_status, e.actor) for e in trail] == [
        ("post.drafted", "awaiting_approval", "plume"), ("post.approved", "approved", "mia")]


def test_non_approver_is_refused_and_nothing_changes(db):
    post_id = draft(db)
    with pytest.raises(NotAuthorized):
        decide(db, post_id, Action.APPROVE, actor="intern", approvers=["mia"])
    with db.session() as session:
        assert posts.get(session, post_id).status == Status.AWAITING_APPROVAL
        assert len(audit.trail(session, post_id)) == 1


def test_anyone_may_request_changes_but_must_say_what(db):
    post_id = draft(db)
    with pytest.raises(ValidationFailed):
        decide(db, post_id, Action.REQUEST_CHANGES, actor="intern", approvers=["mia"], reason="  ")
    post = decide(db, post_id, Action.REQUEST_CHANGES, actor="intern", approvers=["mia"], reason="shorter")
    assert post.status == Status.CHANGES_REQUESTED and post.last_reason == "shorter"


def test_second_click_says_who_decided_first(db):
    post_id = draft(db)
    decide(db, post_id, Action.APPROVE)
    with pytest.raises(InvalidTransition) as again:
        decide(db, post_id, Action.APPROVE, actor="leo")
    assert again.value.decided_by == "mia"


def test_approval_of_a_stale_version_is_refused_after_an_edit(db):
    post_id = draft(db)
    decide(db, post_id, Action.EDIT, text="Edited text")
    with db.session() as session:
        posts.present(session, thread_id="t1", citations=[], variant=Variant(
            network="linkedin", locale="en", text="Edited text", post_id=post_id, version=2))
    with pytest.raises(InvalidTransition, match="changed since you saw it"):
        decide(db, post_id, Action.APPROVE, version=1)
    assert decide(db, post_id, Action.APPROVE, version=2).approved_hash == digest("Edited text")


def test_two_approvers_at_once_exactly_one_wins(db):
    post_id = draft(db)
    results, barrier = [], threading.Barrier(4)

    def click(actor):
        barrier.wait()
        try:
            decide(db, post_id, Action.APPROVE, actor=actor, version=1)
            results.append(("won", actor))
        except InvalidTransition:
            results.append(("lost", actor))

    threads = [threading.Thread(target=click, args=(f"m{i}",)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(r[0] for r in results) == ["lost", "lost", "lost", "won"]
    with db.session() as session:
        assert [e.action for e in audit.trail(session, post_id)].count("post.approved") == 1


def test_publishing_is_claimed_once_and_refused_when_text_changed_after_approval(db):
    post_id = draft(db)
    decide(db, post_id, Action.APPROVE)
    with db.session() as session:
        posts.schedule(session, post_id=post_id, run_at=datetime.now(UTC))
    with db.session() as session:
        assert claims.take_for_publishing(session, post_id=post_id).status == Status.PUBLISHING
    with db.session() as session:
        assert claims.take_for_publishing(session, post_id=post_id) is None

    other = draft(db, text="Second post", network="x")
    decide(db, other, Action.APPROVE)
    with db.session() as session:
        posts.schedule(session, post_id=other, run_at=datetime.now(UTC))
        session.get(PostRow, other).text = "tampered"
    with db.session() as session:
        assert claims.take_for_publishing(session, post_id=other) is None
        assert posts.get(session, other).status == Status.FAILED


def test_present_is_idempotent_when_a_node_reruns(db):
    first = draft(db)
    assert draft(db) == first


def test_corrupt_database_file_gives_a_clear_error(tmp_path):
    bad = tmp_path / "plume.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="move it away"):
        Database(f"sqlite:///{bad}").migrate()
    assert bad.read_bytes().startswith(b"this is not a database")  # nothing overwritten


def test_data_folder_that_is_a_file_gives_a_clear_error(tmp_path):
    (tmp_path / "home").write_text("oops")
    with pytest.raises(StorageError, match="is a file"):
        Database(f"sqlite:///{tmp_path / 'home' / 'plume.db'}")
