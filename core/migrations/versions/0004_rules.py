"""one store of proposed brand rules: guideline findings join the learned ones, as brand.yaml fragments

Revision ID: 0004
Revises: 0003
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RULES = sa.table("brand_rules", sa.column("id", sa.Integer), sa.column("key", sa.String),
                 sa.column("kind", sa.String), sa.column("rule", sa.JSON))


def upgrade() -> None:
    with op.batch_alter_table("brand_rules") as batch:
        batch.add_column(sa.Column("locale", sa.String(10), nullable=False, server_default=""))
        batch.add_column(sa.Column("found_in", sa.JSON(), nullable=True))
    op.create_table(
        "rule_sources",
        sa.Column("source", sa.String(500), primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
    )
    # Rules learned before this revision were {"word", "replacement"} or {"note"}: rewrite them
    # as the brand.yaml fragments every rule now is.
    connection = op.get_bind()
    for row in connection.execute(sa.select(RULES.c.id, RULES.c.kind, RULES.c.rule)).all():
        old = row.rule if isinstance(row.rule, dict) else json.loads(row.rule)
        if row.kind == "banned" and "word" in old:
            new, kind, key = {"banned": {old["word"]: old.get("replacement", "")}}, "banned", None
        elif row.kind == "note" and "note" in old:
            new, kind = {"reviewer_notes": [old["note"]]}, "reviewer_notes"
            key = json.dumps(new, sort_keys=True, ensure_ascii=False).lower()[:300]
        else:
            continue
        values = {"rule": new, "kind": kind} | ({"key": key} if key else {})
        connection.execute(RULES.update().where(RULES.c.id == row.id).values(**values))


def downgrade() -> None:
    connection = op.get_bind()
    connection.execute(RULES.delete().where(RULES.c.kind.notin_(["banned", "reviewer_notes"])))
    for row in connection.execute(sa.select(RULES.c.id, RULES.c.kind, RULES.c.rule)).all():
        new = row.rule if isinstance(row.rule, dict) else json.loads(row.rule)
        if row.kind == "banned":
            ((word, replacement),) = new["banned"].items()
            values = {"kind": "banned", "rule": {"word": word, "replacement": replacement}}
        else:
            note = new["reviewer_notes"][0]
            values = {"kind": "note", "rule": {"note": note}, "key": f"note:{note}"[:300]}
        connection.execute(RULES.update().where(RULES.c.id == row.id).values(**values))
    op.drop_table("rule_sources")
    with op.batch_alter_table("brand_rules") as batch:
        batch.drop_column("found_in")
        batch.drop_column("locale")
