"""Probabilistic identity matching: hashed blocking keys, versioned Fellegi-Sunter models,
the decisions they made, and the history of subject merges and splits.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every credit-file read asks for a subject's merged family; without this index that
    # question scans the whole subjects table.
    op.create_index(
        "ix_subjects_merged_into",
        "subjects",
        ["merged_into"],
        postgresql_where=sa.text("merged_into IS NOT NULL"),
        sqlite_where=sa.text("merged_into IS NOT NULL"),
    )
    op.create_table(
        "identity_blocking_keys",
        sa.Column("key_bidx", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"],
            name=op.f("fk_identity_blocking_keys_subject_id_subjects"),
        ),
        sa.UniqueConstraint(
            "key_bidx", "subject_id", name=op.f("uq_identity_blocking_keys_key_bidx")
        ),
    )
    op.create_index(
        op.f("ix_identity_blocking_keys_subject_id"), "identity_blocking_keys", ["subject_id"]
    )
    op.create_table(
        "identity_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_json", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("trained_on", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_models")),
        sa.UniqueConstraint("version", name=op.f("uq_identity_models_version")),
    )
    op.create_table(
        "identity_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("account_ref", sa.String(length=64), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("candidate_subject_id", sa.Integer(), nullable=True),
        sa.Column("match_probability", sa.Float(), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"],
            name=op.f("fk_identity_decisions_submission_id_submissions"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_identity_decisions_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"],
            name=op.f("fk_identity_decisions_subject_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["candidate_subject_id"], ["subjects.id"],
            name=op.f("fk_identity_decisions_candidate_subject_id_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_decisions")),
    )
    op.create_index(
        op.f("ix_identity_decisions_submission_id"), "identity_decisions", ["submission_id"]
    )
    op.create_table(
        "subject_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("other_subject_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_changes_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["other_subject_id"], ["subjects.id"],
            name=op.f("fk_subject_changes_other_subject_id_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_changes")),
    )
    op.create_index(op.f("ix_subject_changes_subject_id"), "subject_changes", ["subject_id"])
    op.create_index(
        op.f("ix_subject_changes_other_subject_id"), "subject_changes", ["other_subject_id"]
    )


def downgrade() -> None:
    op.drop_table("subject_changes")
    op.drop_table("identity_decisions")
    op.drop_table("identity_models")
    op.drop_table("identity_blocking_keys")
    op.drop_index("ix_subjects_merged_into", table_name="subjects")
