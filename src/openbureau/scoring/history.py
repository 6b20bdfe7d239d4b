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
* monthly balances ``bal_0 .. bal_6`` (``bal_j`` = balance of month ``j`` before the as-of
  month) come from the per-period records, and the
  *derived payment* of month ``j`` is ``max(bal_{j+1} - bal_j, 0)`` - the fall in balance,
  a lower bound of what was paid, because tradelines carry no payment-amount field.

Severity scale (``STATUS_SEVERITY`` in the furnishing schema): 0 current / paid / zero
balance, 1..6 = 30..180+ days past due, 7 collection (and foreclosure, voluntary surrender,
repossession), 8 charge-off. Profile characters ``B`` (no history) and ``D`` (no data) are
unknown (null), never "current".
"""

from __future__ import annotations

import datetime as dt
import functools

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

# The polars types of those columns, for empty frames and for reading the bureau's tables.
TRADELINE_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.Int64(),
    "member_id": pl.Int64(),
    "account_ref": pl.String(),
    "reporting_date": pl.Date(),
    "account_type": pl.String(),
    "date_opened": pl.Date(),
    "credit_limit": pl.Int64(),
    "original_amount": pl.Int64(),
    "current_balance": pl.Int64(),
    "amount_past_due": pl.Int64(),
    "account_status": pl.String(),
    "payment_history": pl.String(),
    "date_first_delinquency": pl.Date(),
    "date_closed": pl.Date(),
}
INQUIRY_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.Int64(),
    "member_id": pl.Int64(),
    "purpose": pl.String(),
    "hard": pl.Boolean(),
    "created_at": pl.Datetime("us"),
}

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
    schema = frame.schema
    missing = [c for c in required if c not in schema]
    if missing:
        raise InputFrameError(f"{what} frame lacks required columns: {', '.join(missing)}")
    for col in ("reporting_date", "date_opened", "created_at"):
        if col in required and not schema[col].is_temporal():
            raise InputFrameError(
                f"{what} column {col} must be a date/datetime, got {frame.schema[col]}"
            )


def _as_date(as_of: dt.date | dt.datetime | str) -> dt.date:
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError as exc:
        raise InputFrameError(f"as_of must be a date or 'YYYY-MM-DD', got {as_of!r}") from exc


def _profile_digits() -> pl.Expr:
    """The payment history profile with every character replaced by its severity digit
    (``.`` for unknown), so that one slice + cast reads a month's severity."""
    expr = pl.col("payment_history")
    for char, sev in PROFILE_SEVERITY.items():
        if not char.isdigit():
            expr = expr.str.replace_all(char, str(sev), literal=True)
    for char in "BD":
        expr = expr.str.replace_all(char, ".", literal=True)
    return expr


@functools.cache
def _record_exprs() -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Per-record month columns and their per-account aggregation (built once)."""
    mago = pl.col("mago")
    cols = [
        pl.when(mago == j).then(pl.col("sev_rec")).alias(f"rsev_{j}") for j in range(HISTORY_MONTHS)
    ]
    cols += [
        pl.when(mago == j).then(pl.col("current_balance")).alias(f"bal_{j}")
        for j in range(BALANCE_MONTHS)
    ]
    aggs = [pl.col("_row").last()]
    aggs += [pl.col(f"rsev_{j}").max() for j in range(HISTORY_MONTHS)]
    aggs += [pl.col(f"bal_{j}").max() for j in range(BALANCE_MONTHS)]
    return cols, aggs


@functools.cache
def _history_exprs() -> tuple[list[pl.Expr], dict[str, pl.Expr]]:
    """The monthly grid and the per-account summaries (built once; no as-of dependence)."""
    # Month j of the grid is profile position k = j - d of the latest record.
    d = pl.col("d")
    sev = [
        pl.max_horizontal(
            pl.col(f"rsev_{j}"),
            pl.when((pl.lit(j, pl.Int32) - d).is_between(1, PAYMENT_HISTORY_LENGTH))
            .then(pl.col("_prof").str.slice(pl.lit(j, pl.Int32) - d - 1, 1))
            .cast(pl.Int8, strict=False),
        ).alias(f"sev_{j}")
        for j in range(HISTORY_MONTHS)
    ]
    s = [pl.col(f"sev_{j}") for j in range(HISTORY_MONTHS)]

    # The grid as a 24-character string ("." = unknown) so counts and "months since" are
    # single string kernels: str.find of the first delinquent month is the months since.
    g = pl.col("_grid")
    grid = pl.concat_str([x.cast(pl.String).fill_null(".") for x in s]).alias("_grid")

    def count(pattern: str, n: int = HISTORY_MONTHS) -> pl.Expr:
        return (g if n == HISTORY_MONTHS else g.str.slice(0, n)).str.count_matches(pattern)

    def since(pattern: str) -> pl.Expr:
        return g.str.find(pattern).cast(pl.Int32)

    pay = [
        (pl.col(f"bal_{j + 1}") - pl.col(f"bal_{j}")).clip(lower_bound=0)
        for j in range(BALANCE_MONTHS - 1)
    ]
    summaries = dict(
        w_0=s[0],
        w_1_5=pl.max_horizontal(s[1:6]),
        w_6=pl.max_horizontal(s[:6]),
        w_12=pl.max_horizontal(s[:12]),
        w_24=pl.max_horizontal(s),
        n_30=count("1"),
        n_60=count("2"),
        n_90=count("[3-8]"),
        n_dlq6=count("[1-8]", 6),
        ms_30=since("[1-8]"),
        ms_60=since("[2-8]"),
        ms_90=since("[3-8]"),
        bal6_sum=pl.sum_horizontal([pl.col(f"bal_{j}").fill_null(0) for j in range(6)]),
        bal6_known=pl.sum_horizontal(
            [pl.col(f"bal_{j}").is_not_null().cast(pl.Int32) for j in range(6)]
        ),
        w_1=s[1],
        bal6_max=pl.max_horizontal([pl.col(f"bal_{j}") for j in range(6)]),
        bal_prev6_sum=pl.sum_horizontal(
            [pl.col(f"bal_{j}").fill_null(0) for j in range(1, BALANCE_MONTHS)]
        ),
        pay6=pl.sum_horizontal([p.fill_null(0) for p in pay]),
        pay6_max=pl.max_horizontal(pay),
        zero6=pl.sum_horizontal(
            [(pl.col(f"bal_{j}") == 0).fill_null(False).cast(pl.Int32) for j in range(6)]
        ),
        pay_0=pay[0],
        pay3=pl.sum_horizontal([p.fill_null(0) for p in pay[:3]]),
        pay_months6=pl.sum_horizontal([(p > 0).fill_null(False).cast(pl.Int32) for p in pay]),
    )
    return sev + [grid], summaries


def account_frame(tradelines: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """One row per account: its latest visible state plus per-account history summaries.

    Summary columns (over the monthly grid ``sev_0..sev_23`` described above):

    * worst severity: ``w_0`` this month, ``w_1`` last month, ``w_1_5`` months 1..5,
      ``w_6`` / ``w_12`` / ``w_24`` the last 6 / 12 / 24 months;
    * ``n_30``, ``n_60``, ``n_90``: months at severity 1, 2 and >= 3; ``n_dlq6``: months at
      severity >= 1 among the last 6;
    * ``ms_30``, ``ms_60``, ``ms_90``: months since the latest month at severity >= 1, 2, 3
      (null: none in 24 months);
    * balances ``bal_0..bal_6``; ``bal6_sum`` (months 0..5, unknown = 0), ``bal6_known``
      (months reported), ``bal6_max`` (highest), ``bal_prev6_sum`` (months 1..6);
    * ``zero6``: months among 0..5 with a reported balance of 0;
    * derived payments ``pay_0``, ``pay3`` (months 0..2), ``pay6`` (months 0..5),
      ``pay6_max`` (largest of months 0..5) and ``pay_months6`` (months among 0..5 with a
      derived payment > 0).
    """
    return account_lazy(tradelines, as_of).collect()


def account_lazy(tradelines: pl.DataFrame, as_of: dt.date) -> pl.LazyFrame:
    """The query behind :func:`account_frame`, uncollected (one plan for batch and online)."""
    _check_columns(tradelines, TRADELINE_COLUMNS, "tradelines")
    a_idx = month_index(as_of)
    sev_map = {str(k): v for k, v in STATUS_SEVERITY.items()}
    recs = (
        tradelines.lazy()
        .select(TRADELINE_COLUMNS)
        .filter(pl.col("reporting_date") <= as_of)
        .with_columns(mago=pl.lit(a_idx, pl.Int32) - month_index_expr("reporting_date"))
        .sort("reporting_date")
        .with_row_index("_row")
    )
    keys = ["subject_id", "member_id", "account_ref"]
    agg = (
        recs.select(
            *keys,
            "_row",
            "mago",
            "current_balance",
            sev_rec=pl.col("account_status").replace_strict(
                sev_map, default=None, return_dtype=pl.Int8
            ),
        )
        .with_columns(_record_exprs()[0])
        .group_by(keys)
        .agg(_record_exprs()[1])
    )
    # the latest record of each account: join its row back (an integer-key join)
    acct = agg.join(recs.drop(keys), on="_row", how="inner").rename({"mago": "d"})

    sev, summaries = _history_exprs()
    is_rev = pl.col("account_type").is_in(REVOLVING_TYPES)
    closed_by_date = pl.col("date_closed").is_not_null() & (pl.col("date_closed") <= as_of)
    return (
        acct.with_columns(_prof=_profile_digits())
        .with_columns(sev[:-1])
        .with_columns(sev[-1])
        .with_columns(
            **summaries,
            sev_now=pl.col("account_status").replace_strict(
                sev_map, default=None, return_dtype=pl.Int8
            ),
            is_rev=is_rev,
            is_inst=pl.col("account_type").is_in(INSTALLMENT_TYPES),
            is_open=pl.col("account_status").is_in(OPEN_STATUSES) & ~closed_by_date,
            mob=pl.lit(a_idx, pl.Int32) - month_index_expr("date_opened"),
            rev_limit=pl.when(is_rev & (pl.col("credit_limit") > 0)).then(pl.col("credit_limit")),
        )
        .drop(
            [f"rsev_{j}" for j in range(HISTORY_MONTHS)]
            + [f"sev_{j}" for j in range(HISTORY_MONTHS)]
            + ["_prof", "_grid", "_row"]
        )
    )


def inquiry_frame(inquiries: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Hard inquiries visible as of ``as_of`` with their age in calendar months."""
    return inquiry_lazy(inquiries, as_of).collect()


def inquiry_lazy(inquiries: pl.DataFrame, as_of: dt.date) -> pl.LazyFrame:
    """The query behind :func:`inquiry_frame`, uncollected."""
    _check_columns(inquiries, INQUIRY_COLUMNS, "inquiries")
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    created = pl.col("created_at").cast(pl.Datetime("us"))
    return (
        inquiries.lazy()
        .select("subject_id", "hard", created.alias("created_at"))
        .filter(pl.col("hard") & (pl.col("created_at") < end))
        .with_columns(
            inq_mago=pl.lit(month_index(as_of), pl.Int32) - month_index_expr("created_at"),
        )
    )
