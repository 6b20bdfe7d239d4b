"""Hand-built frames in the bureau's table layout."""

from __future__ import annotations

import datetime as dt

import polars as pl

TL_SCHEMA = {
    "subject_id": pl.Int64,
    "member_id": pl.Int64,
    "account_ref": pl.String,
    "period": pl.String,
    "reporting_date": pl.Date,
    "account_type": pl.String,
    "date_opened": pl.Date,
    "credit_limit": pl.Int64,
    "original_amount": pl.Int64,
    "current_balance": pl.Int64,
    "amount_past_due": pl.Int64,
    "account_status": pl.String,
    "payment_history": pl.String,
    "date_first_delinquency": pl.Date,
    "date_closed": pl.Date,
}
INQ_SCHEMA = {
    "subject_id": pl.Int64,
    "member_id": pl.Int64,
    "purpose": pl.String,
    "hard": pl.Boolean,
    "created_at": pl.Datetime("us"),
}


def tl(
    subject_id: int,
    ref: str,
    reporting_date: dt.date,
    *,
    account_type: str = "revolving",
    opened: dt.date = dt.date(2020, 1, 1),
    limit: int | None = 1000,
    original: int | None = None,
    balance: int = 0,
    past_due: int = 0,
    status: str = "current",
    profile: str = "0" * 24,
    closed: dt.date | None = None,
) -> dict:
    return {
        "subject_id": subject_id,
        "member_id": 7,
        "account_ref": ref,
        "period": reporting_date.strftime("%Y-%m"),
        "reporting_date": reporting_date,
        "account_type": account_type,
        "date_opened": opened,
        "credit_limit": limit,
        "original_amount": original,
        "current_balance": balance,
        "amount_past_due": past_due,
        "account_status": status,
        "payment_history": profile,
        "date_first_delinquency": None,
        "date_closed": closed,
    }


def inq(subject_id: int, created_at: dt.datetime, hard: bool = True) -> dict:
    return {"subject_id": subject_id, "member_id": 3, "purpose": "credit_card", "hard": hard,
            "created_at": created_at}


def tl_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=TL_SCHEMA)


def inq_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=INQ_SCHEMA)
