"""Index subjects.merged_into: every report looks up the subjects merged into its subject.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    merged = sa.text("merged_into IS NOT NULL")
    op.create_index(
        "ix_subjects_merged_into",
        "subjects",
        ["merged_into"],
        postgresql_where=merged,
        sqlite_where=merged,
    )


def downgrade() -> None:
    op.drop_index("ix_subjects_merged_into", table_name="subjects")
