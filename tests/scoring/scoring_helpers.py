"""Hand-built frames in the bureau's table layout."""

from __future__ import annotations

import datetime as dt

import polars as pl

from openbureau.scoring.history import INQUIRY_SCHEMA, TRADELINE_SCHEMA

TL_SCHEMA = TRADELINE_SCHEMA | {"period": pl.String()}
INQ_SCHEMA = INQUIRY_SCHEMA


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
    return {
        "subject_id": subject_id,
        "member_id": 3,
        "purpose": "credit_card",
        "hard": hard,
        "created_at": created_at,
    }


def tl_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=TL_SCHEMA)


def inq_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=INQ_SCHEMA)
