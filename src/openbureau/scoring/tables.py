"""The model registry: every trained scorecard, and which one is active."""

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table, Text

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

# Scores computed in batch (after a promote or a load), served when their inputs are unchanged.
subject_scores = Table(
    "subject_scores",
    metadata,
    Column("subject_id", Integer, ForeignKey("subjects.id"), primary_key=True),
    Column("model_version", String(64), nullable=False),
    Column("state_key", String(200), nullable=False),
    Column("block", Text, nullable=False),  # the score block a report shows, as JSON
    Column("computed_at", DateTime(timezone=True), nullable=False),
)
