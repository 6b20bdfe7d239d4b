"""Subjects (one per person), the identities furnishers reported for them, review items, and
what probabilistic matching needs: hashed blocking keys, versioned models, decisions and the
history of merges and splits.

Personal data is stored encrypted (`*_enc`); exact lookups use keyed hashes (`*_bidx`).
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
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
# A credit file folds in the subjects merged into it (SUBJECT_FAMILY in credit_file.py); without
# this index every report and every candidate lookup scanned the whole subjects table. Partial:
# only merged subjects have a value, so ingest's bulk subject inserts do not maintain it.
Index(
    "ix_subjects_merged_into",
    subjects.c.merged_into,
    postgresql_where=subjects.c.merged_into.is_not(None),
    sqlite_where=subjects.c.merged_into.is_not(None),
)

subject_identities = Table(
    "subject_identities",
    metadata,
    Column("id", Integer, primary_key=True),
    # No foreign keys on the two tables loaded in bulk (migration 0008): the loader is their
    # only writer and writes only subject ids it has just read or created; subject_id lookups
    # use the unique key, which starts with it.
    Column("subject_id", Integer, nullable=False),
    Column("member_id", Integer, nullable=False),
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

# Blocking keys of every subject's reported identities, each a keyed hash (blind index) so the
# table reveals nothing; a record's candidates are the subjects sharing its keys.
identity_blocking_keys = Table(
    "identity_blocking_keys",
    metadata,
    Column("key_bidx", BigInteger, nullable=False),  # see BureauKeys.blocking_index_many
    # No index by subject (migration 0010): a subject's keys are computed from its
    # identities when they must be found (identity.changes.identity_key_rows).
    Column("subject_id", Integer, nullable=False),
    UniqueConstraint("key_bidx", "subject_id"),
)

# Fellegi-Sunter models (m/u per comparison level), versioned; exactly one is active.
identity_models = Table(
    "identity_models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("model_json", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=False),
    Column("trained_on", Integer, nullable=True),
)

# Every probabilistic decision with its evidence: which fields agreed, at which level and weight.
identity_decisions = Table(
    "identity_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=True, index=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("account_ref", String(64), nullable=True),
    Column("period", String(7), nullable=True),
    Column("decision", String(16), nullable=False),
    Column("subject_id", Integer, ForeignKey("subjects.id"), nullable=True),
    Column("candidate_subject_id", Integer, ForeignKey("subjects.id"), nullable=True),
    Column("match_probability", Float, nullable=True),
    Column("model_version", String(64), nullable=False),
    Column("explanation", Text, nullable=False),
)

# Merges and splits, so a subject id's history can always be told and undone.
subject_changes = Table(
    "subject_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("subject_id", Integer, ForeignKey("subjects.id"), nullable=False, index=True),
    Column("other_subject_id", Integer, ForeignKey("subjects.id"), nullable=False, index=True),
    Column("actor", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=False),
)
