"""Submissions: one row per file a furnisher sent, with its report."""

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from openbureau.db import metadata

submissions = Table(
    "submissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False, index=True),
    Column("file_sha256", String(64), nullable=False),
    Column("file_name", String(300), nullable=False),
    Column("file_format", String(16), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("records_total", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("report", Text, nullable=False),  # the submission report as JSON
    UniqueConstraint("member_id", "file_sha256"),
)
