"""Subjects (one per person), the identities furnishers reported for them, and review items.

Personal data is stored encrypted (`*_enc`); exact lookups use keyed hashes (`*_bidx`).
"""

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from openbureau.db import metadata

subjects = Table(
    "subjects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Set when this subject was merged into another; lookups follow the redirect.
    Column("merged_into", Integer, ForeignKey("subjects.id"), nullable=True),
)

subject_identities = Table(
    "subject_identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_id", Integer, ForeignKey("subjects.id"), nullable=False, index=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("national_id_type", String(16), nullable=False),
    Column("national_id_bidx", String(64), nullable=False, index=True),
    Column("name_bidx", String(64), nullable=False),
    Column("dob_bidx", String(64), nullable=False),
    Column("identity_hash", String(64), nullable=False),
    Column("national_id_enc", LargeBinary, nullable=False),
    Column("name_enc", LargeBinary, nullable=False),
    Column("dob_enc", LargeBinary, nullable=False),
    Column("address_enc", LargeBinary, nullable=True),
    Column("phone_enc", LargeBinary, nullable=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subject_id", "member_id", "name_bidx", "dob_bidx"),
)

review_items = Table(
    "review_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("account_ref", String(64), nullable=False),
    Column("period", String(7), nullable=False),
    Column("candidate_subject_id", Integer, ForeignKey("subjects.id"), nullable=True),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False, default="open"),
    # Encrypted copy of the reported identity, so an operator can decide later.
    Column("identity_enc", LargeBinary, nullable=False),
    Column("national_id_bidx", String(64), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("resolved_subject_id", Integer, ForeignKey("subjects.id"), nullable=True),
    Index("ix_review_items_status", "status"),
)
