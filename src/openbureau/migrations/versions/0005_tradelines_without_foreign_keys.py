"""Tradelines drop their foreign keys: the loader is the only writer and guarantees them.

On PostgreSQL each foreign key is a trigger that looks up and key-share-locks the parent
row once per inserted tradeline; the three of them cost about a third of a bulk load. See
the comment on `tradelines` in files/tables.py for why every reference stays valid.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

FOREIGN_KEYS = (
    ("fk_tradelines_member_id_members", "members", "member_id"),
    ("fk_tradelines_subject_id_subjects", "subjects", "subject_id"),
    ("fk_tradelines_submission_id_submissions", "submissions", "submission_id"),
)


def upgrade() -> None:
    with op.batch_alter_table("tradelines", schema=None) as batch_op:
        for name, _, _ in FOREIGN_KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("tradelines", schema=None) as batch_op:
        for name, parent, column in FOREIGN_KEYS:
            batch_op.create_foreign_key(name, parent, [column], ["id"])
