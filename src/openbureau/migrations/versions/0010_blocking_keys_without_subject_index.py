"""identity_blocking_keys loses its index by subject.

Every load adds about six keys per new person, and keeping a second index over them, in
subject order while the keys arrive in key order, cost as much as the table and its unique
key together (700,000 keys into a table holding as many, in psql: 8.1 s with it, 2.5 s
without). The index only served the rare split and review link, which now compute the keys
a subject's identities give and find them through the unique (key, subject) index
(`identity.changes.identity_key_rows`).

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEX = "ix_identity_blocking_keys_subject_id"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="identity_blocking_keys")


def downgrade() -> None:
    op.create_index(INDEX, "identity_blocking_keys", ["subject_id"])
