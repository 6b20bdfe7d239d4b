"""The model registry: every trained scorecard, and which one is active."""

from sqlalchemy import Boolean, Column, DateTime, String, Table, Text

from openbureau.db import metadata

score_models = Table(
    "score_models",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("document", Text, nullable=False),  # the readable JSON model, checksummed
    Column("training", Text, nullable=False),  # what it was trained on, as JSON
    Column("report_path", Text, nullable=True),
    Column("active", Boolean, nullable=False, default=False),
    Column("promoted_at", DateTime(timezone=True), nullable=True),
)
