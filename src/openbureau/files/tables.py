"""Tradelines: one row per account per reporting period, as furnished."""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from openbureau.db import metadata

tradelines = Table(
    "tradelines",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("account_ref", String(64), nullable=False),
    Column("period", String(7), nullable=False),  # YYYY-MM of reporting_date
    # Null while the record waits in the identity review queue.
    Column("subject_id", Integer, ForeignKey("subjects.id"), nullable=True),
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=False),
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
