"""What Metro 2's appended segments add to an account, kept instead of dropped.

tradelines.ecoa_code (the primary consumer's ECOA code); account_consumers (J1/J2 associated
consumers resolved to subjects, with their ECOA codes); account_segments (K1-K4);
account_number_changes (L1: later numbers of an account); account_employment (N1, encrypted).
No foreign keys, as for tradelines (0005): the loader is their only writer.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def _account_key() -> list[sa.Column]:
    return [
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("account_ref", sa.String(length=64), nullable=False),
    ]


def _loaded() -> list[sa.Column]:
    return [
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.add_column("tradelines", sa.Column("ecoa_code", sa.String(length=1), nullable=True))
    op.create_table(
        "account_consumers",
        _id(),
        *_account_key(),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("segment", sa.String(length=2), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("ecoa_code", sa.String(length=1), nullable=False),
        sa.Column("identity_hash", sa.String(length=64), nullable=False),
        *_loaded(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_consumers")),
        sa.UniqueConstraint(
            "member_id",
            "account_ref",
            "period",
            "segment",
            "seq",
            name=op.f("uq_account_consumers_member_id"),
        ),
    )
    op.create_index("ix_account_consumers_subject_id", "account_consumers", ["subject_id"])
    op.create_table(
        "account_segments",
        _id(),
        *_account_key(),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("original_creditor_name", sa.String(length=30), nullable=True),
        sa.Column("creditor_classification", sa.SmallInteger(), nullable=True),
        sa.Column("purchased_indicator", sa.SmallInteger(), nullable=True),
        sa.Column("purchased_name", sa.String(length=30), nullable=True),
        sa.Column("agency_identifier", sa.SmallInteger(), nullable=True),
        sa.Column("agency_account_number", sa.String(length=18), nullable=True),
        sa.Column("mortgage_identification_number", sa.String(length=18), nullable=True),
        sa.Column("specialized_payment_indicator", sa.SmallInteger(), nullable=True),
        sa.Column("deferred_payment_start_date", sa.Date(), nullable=True),
        sa.Column("balloon_payment_due_date", sa.Date(), nullable=True),
        sa.Column("balloon_payment_amount", sa.BigInteger(), nullable=True),
        *_loaded(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_segments")),
        sa.UniqueConstraint(
            "member_id", "account_ref", "period", name=op.f("uq_account_segments_member_id")
        ),
    )
    op.create_table(
        "account_number_changes",
        _id(),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("alias_ref", sa.String(length=64), nullable=False),
        sa.Column("account_ref", sa.String(length=64), nullable=False),
        sa.Column("change_indicator", sa.SmallInteger(), nullable=False),
        sa.Column("old_identification_number", sa.String(length=20), nullable=True),
        sa.Column("new_identification_number", sa.String(length=20), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=False),
        *_loaded(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_number_changes")),
        sa.UniqueConstraint(
            "member_id", "alias_ref", name=op.f("uq_account_number_changes_member_id")
        ),
    )
    op.create_table(
        "account_employment",
        _id(),
        *_account_key(),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("employment_enc", sa.LargeBinary(), nullable=False),
        *_loaded(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_employment")),
        sa.UniqueConstraint(
            "member_id", "account_ref", "period", name=op.f("uq_account_employment_member_id")
        ),
    )
    op.create_index("ix_account_employment_subject_id", "account_employment", ["subject_id"])


def downgrade() -> None:
    op.drop_index("ix_account_employment_subject_id", table_name="account_employment")
    op.drop_table("account_employment")
    op.drop_table("account_number_changes")
    op.drop_table("account_segments")
    op.drop_index("ix_account_consumers_subject_id", table_name="account_consumers")
    op.drop_table("account_consumers")
    with op.batch_alter_table("tradelines", schema=None) as batch_op:
        batch_op.drop_column("ecoa_code")
