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
    LargeBinary,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)

from openbureau.db import metadata

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
    # The primary consumer's ECOA code as furnished (Metro 2); null for native files.
    Column("ecoa_code", String(1), nullable=True),
    UniqueConstraint("member_id", "account_ref", "period"),
    Index("ix_tradelines_subject_id", "subject_id"),
)

# The tables below hold what Metro 2's appended segments add to an account (migration 0006).
# Like tradelines they are keyed by (member, account, period) and written by the loader only,
# so they carry no foreign keys either; a corrected period replaces its rows.

# J1/J2: consumers associated with an account besides its primary consumer, with their ECOA
# code. subject_id is null when the consumer could not be resolved to one subject.
account_consumers = Table(
    "account_consumers",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("member_id", Integer, nullable=False),
    Column("account_ref", String(64), nullable=False),
    Column("period", String(7), nullable=False),
    Column("segment", String(2), nullable=False),  # J1 | J2
    Column("seq", SmallInteger, nullable=False),  # order among the record's segments
    Column("subject_id", Integer, nullable=True),
    Column("ecoa_code", String(1), nullable=False),
    Column("identity_hash", String(64), nullable=False),
    Column("submission_id", Integer, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("member_id", "account_ref", "period", "segment", "seq"),
    Index("ix_account_consumers_subject_id", "subject_id"),
)

# K1 original creditor, K2 purchased from / sold to, K3 mortgage, K4 specialized payment:
# one row per account and period that carried any of them.
account_segments = Table(
    "account_segments",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("member_id", Integer, nullable=False),
    Column("account_ref", String(64), nullable=False),
    Column("period", String(7), nullable=False),
    Column("original_creditor_name", String(30), nullable=True),
    Column("creditor_classification", SmallInteger, nullable=True),
    Column("purchased_indicator", SmallInteger, nullable=True),
    Column("purchased_name", String(30), nullable=True),
    Column("agency_identifier", SmallInteger, nullable=True),
    Column("agency_account_number", String(18), nullable=True),
    Column("mortgage_identification_number", String(18), nullable=True),
    Column("specialized_payment_indicator", SmallInteger, nullable=True),
    Column("deferred_payment_start_date", Date, nullable=True),
    Column("balloon_payment_due_date", Date, nullable=True),
    Column("balloon_payment_amount", BigInteger, nullable=True),
    Column("submission_id", Integer, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("member_id", "account_ref", "period"),
)

# L1: a furnisher's later account number (alias_ref) for an account the bureau keeps under
# its first number (account_ref), so that the account's history continues in one tradeline.
account_number_changes = Table(
    "account_number_changes",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("member_id", Integer, nullable=False),
    Column("alias_ref", String(64), nullable=False),
    Column("account_ref", String(64), nullable=False),
    Column("change_indicator", SmallInteger, nullable=False),
    Column("old_identification_number", String(20), nullable=True),
    Column("new_identification_number", String(20), nullable=True),
    Column("period", String(7), nullable=False),
    Column("submission_id", Integer, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("member_id", "alias_ref"),
)

# N1: the primary consumer's employment as reported with an account. Employer name, address
# and occupation are personal data: one AES-GCM encrypted JSON object per row.
account_employment = Table(
    "account_employment",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("member_id", Integer, nullable=False),
    Column("account_ref", String(64), nullable=False),
    Column("period", String(7), nullable=False),
    Column("subject_id", Integer, nullable=True),
    Column("employment_enc", LargeBinary, nullable=False),
    Column("submission_id", Integer, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("member_id", "account_ref", "period"),
    Index("ix_account_employment_subject_id", "subject_id"),
)
