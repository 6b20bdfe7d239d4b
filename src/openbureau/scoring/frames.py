"""The bureau's stored tradelines and inquiries as polars frames for the attribute engine."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from openbureau.files.credit_file import SUBJECT_FAMILY
from openbureau.files.tables import tradelines
from openbureau.reports.tables import inquiries
from openbureau.scoring.history import INQUIRY_SCHEMA, TRADELINE_SCHEMA

# The bureau's tables also carry the period; the attribute engine reads the rest.
TABLE_TRADELINE_SCHEMA = TRADELINE_SCHEMA | {"period": pl.String()}
_TRADELINE_COLS = [tradelines.c[name] for name in TABLE_TRADELINE_SCHEMA]
_INQUIRY_COLS = [inquiries.c[name] for name in INQUIRY_SCHEMA]
_ONE_SUBJECT_TRADELINES = select(*_TRADELINE_COLS).where(
    tradelines.c.subject_id.in_(SUBJECT_FAMILY)
)
_ONE_SUBJECT_INQUIRIES = select(*_INQUIRY_COLS).where(inquiries.c.subject_id.in_(SUBJECT_FAMILY))


def _frame(rows, schema: dict) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    if "created_at" in frame.columns:
        frame = frame.with_columns(pl.col("created_at").dt.replace_time_zone(None))
    return frame


def all_frames(session: Session, through: date | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every resolved tradeline (and every inquiry that hit), optionally up to a date."""
    query = select(*_TRADELINE_COLS).where(tradelines.c.subject_id.is_not(None))
    if through is not None:
        query = query.where(tradelines.c.reporting_date <= through)
    conn = session.connection()
    lines = _frame(conn.execute(query).all(), TABLE_TRADELINE_SCHEMA)
    asks = _frame(
        conn.execute(select(*_INQUIRY_COLS).where(inquiries.c.subject_id.is_not(None))).all(),
        INQUIRY_SCHEMA,
    )
    return lines, asks


def subject_frames(session: Session, subject_id: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One subject's tradelines and inquiries, merged subjects folded in under its id."""
    conn = session.connection()
    params = {"subject": subject_id}
    lines = _frame(conn.execute(_ONE_SUBJECT_TRADELINES, params).all(), TABLE_TRADELINE_SCHEMA)
    asks = _frame(conn.execute(_ONE_SUBJECT_INQUIRIES, params).all(), INQUIRY_SCHEMA)
    return (
        lines.with_columns(pl.lit(subject_id, pl.Int64).alias("subject_id")),
        asks.with_columns(pl.lit(subject_id, pl.Int64).alias("subject_id")),
    )
