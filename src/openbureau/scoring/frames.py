"""The bureau's stored tradelines and inquiries as polars frames for the attribute engine."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from openbureau.files.credit_file import SUBJECT_FAMILY
from openbureau.files.tables import tradelines
from openbureau.reports.tables import inquiries
from openbureau.scoring.history import INQUIRY_COLUMNS, TRADELINE_COLUMNS

TRADELINE_SCHEMA = {
    "subject_id": pl.Int64,
    "member_id": pl.Int64,
    "account_ref": pl.Utf8,
    "period": pl.Utf8,
    "reporting_date": pl.Date,
    "account_type": pl.Utf8,
    "date_opened": pl.Date,
    "credit_limit": pl.Int64,
    "original_amount": pl.Int64,
    "current_balance": pl.Int64,
    "amount_past_due": pl.Int64,
    "account_status": pl.Utf8,
    "payment_history": pl.Utf8,
    "date_first_delinquency": pl.Date,
    "date_closed": pl.Date,
}
INQUIRY_SCHEMA = {
    "subject_id": pl.Int64,
    "member_id": pl.Int64,
    "purpose": pl.Utf8,
    "hard": pl.Boolean,
    "created_at": pl.Datetime("us"),
}
_TRADELINE_COLS = [tradelines.c[name] for name in TRADELINE_SCHEMA]
_INQUIRY_COLS = [inquiries.c[name] for name in INQUIRY_SCHEMA]
_ONE_SUBJECT_TRADELINES = select(*_TRADELINE_COLS).where(
    tradelines.c.subject_id.in_(SUBJECT_FAMILY)
)
_ONE_SUBJECT_INQUIRIES = select(*_INQUIRY_COLS).where(inquiries.c.subject_id.in_(SUBJECT_FAMILY))

assert set(TRADELINE_COLUMNS) <= set(TRADELINE_SCHEMA)
assert set(INQUIRY_COLUMNS) <= set(INQUIRY_SCHEMA)


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
    lines = _frame(conn.execute(query).all(), TRADELINE_SCHEMA)
    asks = _frame(
        conn.execute(select(*_INQUIRY_COLS).where(inquiries.c.subject_id.is_not(None))).all(),
        INQUIRY_SCHEMA,
    )
    return lines, asks


def subject_frames(session: Session, subject_id: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One subject's tradelines and inquiries, merged subjects folded in under its id."""
    conn = session.connection()
    params = {"subject": subject_id}
    lines = _frame(conn.execute(_ONE_SUBJECT_TRADELINES, params).all(), TRADELINE_SCHEMA)
    asks = _frame(conn.execute(_ONE_SUBJECT_INQUIRIES, params).all(), INQUIRY_SCHEMA)
    return (
        lines.with_columns(pl.lit(subject_id, pl.Int64).alias("subject_id")),
        asks.with_columns(pl.lit(subject_id, pl.Int64).alias("subject_id")),
    )
