"""Loading validated, resolved account records into the tradelines table.

Rows go to a temporary staging table in bulk (COPY on PostgreSQL, executemany on SQLite)
and are merged with one set-based upsert: a new (member, account, period) is inserted, a
correction replaces the stored row, and an identical row is left untouched.
"""

from __future__ import annotations

import io
from datetime import datetime

import polars as pl
from sqlalchemy import text
from sqlalchemy.orm import Session

from openbureau.db import is_postgres

COLUMNS = (
    "member_id", "account_ref", "period", "subject_id", "submission_id", "reporting_date",
    "account_type", "date_opened", "credit_limit", "original_amount", "current_balance",
    "amount_past_due", "account_status", "payment_history", "date_first_delinquency",
    "date_closed", "currency", "loaded_at",
)
KEY = ("member_id", "account_ref", "period")
# A stored row is rewritten only when something a report shows has changed.
COMPARED = tuple(
    c for c in COLUMNS if c not in KEY and c not in ("submission_id", "loaded_at")
)

_STAGE = "tradeline_stage"
_STAGE_DDL = {
    "postgresql": f"""CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (
        member_id integer, account_ref varchar(64), period varchar(7), subject_id integer,
        submission_id integer, reporting_date date, account_type varchar(16), date_opened date,
        credit_limit bigint, original_amount bigint, current_balance bigint,
        amount_past_due bigint, account_status varchar(16), payment_history varchar(24),
        date_first_delinquency date, date_closed date, currency varchar(3),
        loaded_at timestamptz) ON COMMIT DROP""",
    "sqlite": f"""CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (
        member_id, account_ref, period, subject_id, submission_id, reporting_date,
        account_type, date_opened, credit_limit, original_amount, current_balance,
        amount_past_due, account_status, payment_history, date_first_delinquency, date_closed,
        currency, loaded_at)""",
}


def _merge_sql() -> str:
    cols = ", ".join(COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in KEY)
    changed = " OR ".join(f"tradelines.{c} IS DISTINCT FROM excluded.{c}" for c in COMPARED)
    return (
        f"INSERT INTO tradelines ({cols}) SELECT {cols} FROM {_STAGE} WHERE true "
        f"ON CONFLICT (member_id, account_ref, period) DO UPDATE SET {updates} WHERE {changed}"
    )


def stage_frame(records: pl.DataFrame, member_id: int, submission_id: int, now: datetime) -> pl.DataFrame:
    return records.select(
        pl.lit(member_id, pl.Int32).alias("member_id"),
        "account_ref",
        "period",
        pl.col("subject_id").cast(pl.Int64),
        pl.lit(submission_id, pl.Int32).alias("submission_id"),
        "reporting_date", "account_type", "date_opened", "credit_limit", "original_amount",
        "current_balance", "amount_past_due", "account_status", "payment_history",
        "date_first_delinquency", "date_closed", "currency",
        pl.lit(now).alias("loaded_at"),
    )


def upsert_tradelines(session: Session, staged: pl.DataFrame) -> int:
    """Merges staged rows into tradelines; returns how many rows were inserted or replaced."""
    if staged.is_empty():
        return 0
    connection = session.connection()
    dialect = connection.dialect.name
    connection.execute(text(_STAGE_DDL[dialect]))
    connection.execute(text(f"DELETE FROM {_STAGE}"))
    if is_postgres(connection.engine):
        _copy_postgres(connection, staged)
    else:
        _insert_sqlite(connection, staged)
    return connection.execute(text(_merge_sql())).rowcount


def _copy_postgres(connection, staged: pl.DataFrame) -> None:
    buffer = io.BytesIO()
    staged.write_csv(buffer, include_header=False, null_value="\\N", datetime_format="%Y-%m-%dT%H:%M:%S%.f%z")
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
        f"COPY {_STAGE} ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    ) as copy:
        copy.write(buffer.getvalue())


def _insert_sqlite(connection, staged: pl.DataFrame) -> None:
    as_text = staged.with_columns(
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
        pl.col("loaded_at").dt.strftime("%Y-%m-%d %H:%M:%S.%f"),
    )
    raw = connection.connection.driver_connection
    placeholders = ", ".join("?" for _ in COLUMNS)
    raw.executemany(
        f"INSERT INTO {_STAGE} ({', '.join(COLUMNS)}) VALUES ({placeholders})", as_text.rows()
    )
