"""The bureau's stored tradelines and inquiries as polars frames for the attribute engine."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from openbureau.files.credit_file import SUBJECT_FAMILY
from openbureau.files.file_lines import file_lines
from openbureau.reports.tables import inquiries
from openbureau.scoring.history import INQUIRY_SCHEMA, TRADELINE_SCHEMA

# The bureau's tables also carry the period; the attribute engine reads the rest.
TABLE_TRADELINE_SCHEMA = TRADELINE_SCHEMA | {"period": pl.String()}
_INQUIRY_COLS = [inquiries.c[name] for name in INQUIRY_SCHEMA]
# the rows of every file (own and associated accounts, files/file_lines.py)
_ALL_TRADELINES = file_lines(list(TABLE_TRADELINE_SCHEMA)).subquery("file_lines")
_ONE_SUBJECT_TRADELINES = file_lines(list(TABLE_TRADELINE_SCHEMA), SUBJECT_FAMILY)
_ONE_SUBJECT_INQUIRIES = select(*_INQUIRY_COLS).where(inquiries.c.subject_id.in_(SUBJECT_FAMILY))


def _frame(rows, schema: dict) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    if "created_at" in frame.columns:
        frame = frame.with_columns(pl.col("created_at").dt.replace_time_zone(None))
    return frame


def all_frames(session: Session, through: date | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every file's tradelines (own and associated accounts) and every inquiry that hit,
    optionally up to a date."""
    query = select(*(_ALL_TRADELINES.c[name] for name in TABLE_TRADELINE_SCHEMA))
    if through is not None:
        query = query.where(_ALL_TRADELINES.c.reporting_date <= through)
    conn = session.connection()
    lines = _frame(conn.execute(query).all(), TABLE_TRADELINE_SCHEMA)
    asks = _frame(
        conn.execute(select(*_INQUIRY_COLS).where(inquiries.c.subject_id.is_not(None))).all(),
        INQUIRY_SCHEMA,
    )
    return lines, asks


def subject_frames(session: Session, subject_id: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One subject's tradelines (own and associated accounts) and inquiries, merged subjects
    folded in under its id."""
    conn = session.connection()
    params = {"subject": subject_id}
    lines = _frame(conn.execute(_ONE_SUBJECT_TRADELINES, params).all(), TABLE_TRADELINE_SCHEMA)
    asks = _frame(conn.execute(_ONE_SUBJECT_INQUIRIES, params).all(), INQUIRY_SCHEMA)
    return (
        fold_lines(lines.with_columns(pl.lit(subject_id, pl.Int64).alias("subject_id"))),
        asks.with_columns(pl.lit(subject_id, pl.Int64).alias("subject_id")),
    )


def fold_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Rows whose subject ids were folded into their survivor's: an account held by a merged
    subject and naming its survivor as associated consumer is counted once."""
    return lines.unique(["subject_id", "member_id", "account_ref", "period"], keep="first",
                        maintain_order=True)
