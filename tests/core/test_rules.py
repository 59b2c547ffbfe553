"""The one store of proposed brand rules: rules learned before it keep their decisions across the upgrade."""

import json

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from core import pause, rules
from core.db import MIGRATIONS, Database, make_engine


def alembic(engine, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_rules_learned_before_the_upgrade_become_fragments_and_keep_their_decisions(tmp_path):
    url = f"sqlite:///{tmp_path / 'plume.db'}"
    engine = make_engine(url)
    alembic(engine, "0003")
    with engine.begin() as connection:
        for key, kind, rule, status in [
            ("banned:cheap", "banned", {"word": "cheap", "replacement": "affordable"}, "accepted"),
            ("note:too salesy", "note", {"note": "too salesy"}, "proposed"),
        ]:
            connection.execute(sa.text(
                "INSERT INTO brand_rules (key, kind, rule, evidence, source, status, created_at) "
                "VALUES (:key, :kind, :rule, 'in 2 edits', 'feedback', :status, '2026-11-01 00:00:00')"),
                {"key": key, "kind": kind, "rule": json.dumps(rule), "status": status})
    engine.dispose()

    db = Database(url).migrate()
    with db.session() as session:
        found = rules.rules(session)
        assert [(r.rule, r.status, r.summary) for r in found] == [
            ({"banned": {"cheap": "affordable"}}, "accepted", "avoid “cheap” — write “affordable” instead"),
            ({"reviewer_notes": ["too salesy"]}, "proposed", "reviewers ask: “too salesy”"),
        ]
        assert rules.accepted(session) == [{"banned": {"cheap": "affordable"}}]
        # Upgraded keys are the new ones: the same note is not proposed a second time.
        assert rules.propose(session, rule={"reviewer_notes": ["too salesy"]}, evidence="",
                             source=rules.FEEDBACK) is None
        rules.record_guidelines(session, source="en/voice.md", digest="h", locale="en",
                                findings=[rules.Finding({"emoji": {"max": 1}}, "Voice", "One emoji at most.")])

    alembic(db.engine, "0003", down=True)
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT key, kind, rule FROM brand_rules ORDER BY id")).all()
    assert [(key, kind, json.loads(rule)) for key, kind, rule in rows] == [
        ("banned:cheap", "banned", {"word": "cheap", "replacement": "affordable"}),
        ("note:too salesy", "note", {"note": "too salesy"}),
    ]  # rules read in the guidelines did not exist then: they go (the next ingest finds them again)
    db.dispose()


def test_posts_a_team_pause_held_before_the_gate_are_scheduled_again_behind_it(tmp_path):
    """Before 0007 a pause moved posts to `held`; now the pause is a gate and the posts stay scheduled."""
    from core import posts
    from core.domain import Status

    url = f"sqlite:///{tmp_path / 'plume.db'}"
    engine = make_engine(url)
    alembic(engine, "0006")
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO briefs (thread_id, text, parsed, created_by, created_at) "
                                   "VALUES ('t1', 'brief', '{}', 'mia', '2026-11-01 00:00:00')"))
        connection.execute(sa.text(
            "INSERT INTO posts (thread_id, network, locale, text, status, version, offline, checks, citations, "
            "warnings, rationale, time_reason, last_reason, created_at, updated_at, attempts) VALUES "
            "('t1', 'x', 'en', 'Hello', 'held', 1, 0, '[]', '[]', '[]', '', '', '', "
            "'2026-11-01 00:00:00', '2026-11-01 00:00:00', 0)"))
        connection.execute(sa.text("INSERT INTO workspace_options (id, forbid_self_approval, required_approvals, "
                                   "held, held_reason) VALUES ('default', 0, 1, 1, 'launch moved')"))
    engine.dispose()

    db = Database(url).migrate()
    with db.session() as session:
        assert [p.status for p in posts.for_thread(session, "t1")] == [Status.SCHEDULED]
        assert pause.state(session).held  # still paused: the gate keeps it from going out
    db.dispose()
