"""Inquiries: every report request a member made, hit or not."""

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table

from openbureau.db import metadata

inquiries = Table(
    "inquiries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("subject_id", Integer, ForeignKey("subjects.id"), nullable=True),
    Column("purpose", String(64), nullable=False),
    Column("consent_ref", String(200), nullable=False),
    Column("hard", Boolean, nullable=False),
    Column("outcome", String(16), nullable=False),  # hit | no_hit
    # The score served with the report, and the model version that produced it.
    Column("score", Integer, nullable=True),
    Column("score_model_version", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_inquiries_subject_id_created_at", "subject_id", "created_at"),
    Index("ix_inquiries_member_id", "member_id"),
)
