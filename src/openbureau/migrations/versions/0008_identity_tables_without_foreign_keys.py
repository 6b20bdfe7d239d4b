"""Identity tables loaded in bulk drop their foreign keys and a redundant index.

As with tradelines (0005): on PostgreSQL each foreign key is a trigger that looks up and
key-share-locks the parent row once per inserted row. A first load writes about six
blocking keys and one identity per new person, and those checks cost about two thirds of
storing the keys. The loader is the only writer of both tables and only ever writes subject
ids it has just read or created (subjects are never deleted); `tests/furnishing/
test_tradeline_references.py` checks every reference after loads, reviews, merges and splits.

`ix_subject_identities_subject_id` goes too: the unique key (subject_id, member_id,
name_bidx, dob_bidx) starts with subject_id and answers the same lookups.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

FOREIGN_KEYS = (
    ("identity_blocking_keys", "fk_identity_blocking_keys_subject_id_subjects", "subjects",
     "subject_id"),
    ("subject_identities", "fk_subject_identities_subject_id_subjects", "subjects", "subject_id"),
    ("subject_identities", "fk_subject_identities_member_id_members", "members", "member_id"),
)


def upgrade() -> None:
    for table, name, _, _ in FOREIGN_KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_="foreignkey")
    op.drop_index("ix_subject_identities_subject_id", table_name="subject_identities")


def downgrade() -> None:
    op.create_index("ix_subject_identities_subject_id", "subject_identities", ["subject_id"])
    for table, name, parent, column in FOREIGN_KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(name, parent, [column], ["id"])
