"""As-of views of the bureau's tradeline and inquiry tables.

Everything an attribute may look at is prepared here, once, for a given ``as_of`` date:

* only tradeline rows with ``reporting_date <= as_of`` and inquiries with
  ``created_at <= as_of`` (end of that day) are visible;
* the latest visible record of each account (``subject_id, member_id, account_ref``) is its
  current state;
* the account's monthly history is a grid ``sev_0 .. sev_23`` of delinquency severities,
  ``sev_j`` being the calendar month ``j`` months before the as-of month. Each cell is the
  worst of (a) the ``account_status`` of the account's own record for that period, and
  (b) the Metro 2 payment history profile of the latest record, whose position ``k``
  (1-based) describes the month ``k`` months before that record's reporting month;
* monthly balances ``bal_0 .. bal_6`` come from the per-period records, and the
  *derived payment* of month ``j`` is ``max(bal_{j+1} - bal_j, 0)`` - the fall in balance,
  a lower bound of what was paid, because tradelines carry no payment-amount field.

Severity scale (``STATUS_SEVERITY`` in the furnishing schema): 0 current / paid / zero
balance, 1..6 = 30..180+ days past due, 7 collection (and foreclosure, voluntary surrender,
repossession), 8 charge-off. Profile characters ``B`` (no history) and ``D`` (no data) are
unknown (null), never "current".
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from openbureau.furnishing.schema import (
    PAYMENT_HISTORY_LENGTH,
    STATUS_SEVERITY,
    AccountStatus,
    AccountType,
)
from openbureau.scoring.errors import InputFrameError

HISTORY_MONTHS = 24  # sev_0 .. sev_23
BALANCE_MONTHS = 7  # bal_0 .. bal_6 (derived payments pay_0 .. pay_5)

TRADELINE_COLUMNS = (
    "subject_id",
    "member_id",
    "account_ref",
    "reporting_date",
    "account_type",
    "date_opened",
    "credit_limit",
    "original_amount",
    "current_balance",
    "amount_past_due",
    "account_status",
    "payment_history",
    "date_first_delinquency",
    "date_closed",
)
INQUIRY_COLUMNS = ("subject_id", "member_id", "purpose", "hard", "created_at")

PROFILE_SEVERITY: dict[str, int] = {
    "0": 0,
    "E": 0,  # zero balance, current
    "1": 1,
    "2": 2,
    "3": 3,
    "4": 4,
    "5": 5,
    "6": 6,
    "G": 7,  # collection
    "H": 7,  # foreclosure completed
    "J": 7,  # voluntary surrender
    "K": 7,  # repossession
    "L": 8,  # charge-off
    # "B" (no history before this month) and "D" (no data this month) -> unknown (null)
}

OPEN_STATUSES = (
    AccountStatus.CURRENT.value,
    AccountStatus.PAST_DUE_30.value,
    AccountStatus.PAST_DUE_60.value,
    AccountStatus.PAST_DUE_90.value,
    AccountStatus.PAST_DUE_120.value,
    AccountStatus.PAST_DUE_150.value,
    AccountStatus.PAST_DUE_180.value,
)
REVOLVING_TYPES = (AccountType.REVOLVING.value, AccountType.LINE_OF_CREDIT.value)
INSTALLMENT_TYPES = (AccountType.INSTALLMENT.value, AccountType.MORTGAGE.value)


def month_index(d: dt.date) -> int:
    """Months since year 0 - differences of these are calendar-month distances."""
    return d.year * 12 + d.month - 1


def month_index_expr(col: str) -> pl.Expr:
    return pl.col(col).dt.year().cast(pl.Int32) * 12 + pl.col(col).dt.month().cast(pl.Int32) - 1


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` shifted by whole calendar months, the day clipped to the month's length."""
    idx = month_index(d) + months
    year, month = divmod(idx, 12)
    month += 1
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(d.day, (nxt - dt.timedelta(days=1)).day))


def _check_columns(frame: pl.DataFrame, required: tuple[str, ...], what: str) -> None:
    if not isinstance(frame, pl.DataFrame):
        raise InputFrameError(f"{what} must be a polars DataFrame, got {type(frame).__name__}")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputFrameError(f"{what} frame lacks required columns: {', '.join(missing)}")


def _as_date(as_of: dt.date | dt.datetime | str) -> dt.date:
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError as exc:
        raise InputFrameError(f"as_of must be a date or 'YYYY-MM-DD', got {as_of!r}") from exc


def account_frame(tradelines: pl.DataFrame, as_of: dt.date) -> pl.LazyFrame:
    """One row per account: its latest visible state plus the monthly history grid."""
    _check_columns(tradelines, TRADELINE_COLUMNS, "tradelines")
    a_idx = month_index(as_of)
    sev_map = {str(k): v for k, v in STATUS_SEVERITY.items()}
    recs = (
        tradelines.lazy()
        .select(TRADELINE_COLUMNS)
        .filter(pl.col("reporting_date") <= as_of)
        .with_columns(
            mago=pl.lit(a_idx, pl.Int32) - month_index_expr("reporting_date"),
            sev_rec=pl.col("account_status").replace_strict(
                sev_map, default=None, return_dtype=pl.Int8
            ),
        )
        .sort("reporting_date")
    )
    latest_cols = [c for c in TRADELINE_COLUMNS if c not in ("subject_id", "member_id")]
    latest_cols.remove("account_ref")
    keys = ["subject_id", "member_id", "account_ref"]
    aggs: list[pl.Expr] = [pl.col(c).last() for c in latest_cols]
    aggs.append(pl.col("mago").last().alias("d"))
    aggs += [
        pl.col("sev_rec").filter(pl.col("mago") == j).max().alias(f"rsev_{j}")
        for j in range(HISTORY_MONTHS)
    ]
    aggs += [
        pl.col("current_balance").filter(pl.col("mago") == j).max().alias(f"bal_{j}")
        for j in range(BALANCE_MONTHS)
    ]
    acct = recs.group_by(keys).agg(aggs)

    # Month j of the grid is profile position k = j - d of the latest record.
    ph = pl.col("payment_history")
    sev_cols = []
    for j in range(HISTORY_MONTHS):
        k = pl.lit(j, pl.Int32) - pl.col("d")
        prof = (
            pl.when((k >= 1) & (k <= PAYMENT_HISTORY_LENGTH))
            .then(ph.str.slice(k - 1, 1))
            .otherwise(None)
            .replace_strict(PROFILE_SEVERITY, default=None, return_dtype=pl.Int8)
        )
        sev_cols.append(pl.max_horizontal(pl.col(f"rsev_{j}"), prof).alias(f"sev_{j}"))
    pay_cols = [
        (pl.col(f"bal_{j + 1}") - pl.col(f"bal_{j}")).clip(lower_bound=0).alias(f"pay_{j}")
        for j in range(BALANCE_MONTHS - 1)
    ]
    is_rev = pl.col("account_type").is_in(REVOLVING_TYPES)
    closed_by_date = pl.col("date_closed").is_not_null() & (pl.col("date_closed") <= as_of)
    acct = acct.with_columns(
        sev_cols
        + pay_cols
        + [
            pl.col("account_status")
            .replace_strict(sev_map, default=None, return_dtype=pl.Int8)
            .alias("sev_now"),
            is_rev.alias("is_rev"),
            pl.col("account_type").is_in(INSTALLMENT_TYPES).alias("is_inst"),
            (pl.col("account_status").is_in(OPEN_STATUSES) & ~closed_by_date).alias("is_open"),
            (pl.lit(a_idx, pl.Int32) - month_index_expr("date_opened")).alias("mob"),
            pl.when(is_rev & (pl.col("credit_limit") > 0))
            .then(pl.col("credit_limit"))
            .otherwise(None)
            .alias("rev_limit"),
        ]
    )
    return acct.drop([f"rsev_{j}" for j in range(HISTORY_MONTHS)])


def inquiry_frame(inquiries: pl.DataFrame, as_of: dt.date) -> pl.LazyFrame:
    """Hard inquiries visible as of ``as_of`` with their age in days and calendar months."""
    _check_columns(inquiries, INQUIRY_COLUMNS, "inquiries")
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    created = pl.col("created_at").cast(pl.Datetime("us"))
    return (
        inquiries.lazy()
        .select("subject_id", "hard", created.alias("created_at"))
        .filter(pl.col("hard") & (pl.col("created_at") < end))
        .with_columns(
            inq_date=pl.col("created_at").dt.date(),
            inq_mago=pl.lit(month_index(as_of), pl.Int32) - month_index_expr("created_at"),
        )
    )
