"""Tradelines: one row per account per reporting period, as furnished.

member_id, subject_id and submission_id carry no foreign keys (migration 0005): on
PostgreSQL each is a per-row trigger, together about a third of a bulk load's time in the
database. The only writers guarantee them: the loader (files/load.py) sets member_id to the
submitting member, submission_id to the submission inserted in the same transaction and
subject_id to a subject looked up or created in it; a review link first checks that its
subject exists (identity/review.py). Nothing deletes members, subjects (merges redirect) or
submissions. tests/furnishing/test_tradeline_references.py checks that every reference
resolves after loads, corrections and both review outcomes.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from openbureau.db import metadata
from openbureau.identity.tables import subjects

tradelines = Table(
    "tradelines",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("member_id", Integer, nullable=False),
    Column("account_ref", String(64), nullable=False),
    Column("period", String(7), nullable=False),  # YYYY-MM of reporting_date
    # Null while the record waits in the identity review queue.
    Column("subject_id", Integer, nullable=True),
    Column("submission_id", Integer, nullable=False),
    Column("reporting_date", Date, nullable=False),
    Column("account_type", String(16), nullable=False),
    Column("date_opened", Date, nullable=False),
    Column("credit_limit", BigInteger, nullable=True),
    Column("original_amount", BigInteger, nullable=True),
    Column("current_balance", BigInteger, nullable=False),
    Column("amount_past_due", BigInteger, nullable=False),
    Column("account_status", String(16), nullable=False),
    Column("payment_history", String(24), nullable=False),
    Column("date_first_delinquency", Date, nullable=True),
    Column("date_closed", Date, nullable=True),
    Column("currency", String(3), nullable=False),
    # Keyed hash of the identity reported with this record: an unchanged identity on a known
    # account keeps its subject without being resolved again.
    Column("identity_hash", String(64), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("member_id", "account_ref", "period"),
    Index("ix_tradelines_subject_id", "subject_id"),
)

# A credit file folds in the subjects merged into it (SUBJECT_FAMILY in credit_file.py); without
# this index every report scanned the whole subjects table to find them. Partial: only merged
# subjects have a value, so ingest's bulk subject inserts do not maintain it.
Index(
    "ix_subjects_merged_into",
    subjects.c.merged_into,
    postgresql_where=subjects.c.merged_into.is_not(None),
    sqlite_where=subjects.c.merged_into.is_not(None),
)
