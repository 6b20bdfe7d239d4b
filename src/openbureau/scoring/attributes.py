"""The bureau attribute engine.

Each attribute has exactly one definition: an aggregation expression, written in the
two-engine expression language of :mod:`openbureau.scoring.expr`, over one of two as-of views -
the *account frame* (one row per account, current state plus monthly history summaries) or the
*inquiry frame* (hard inquiries).

* Batch: the definitions' polars form runs in a ``group_by("subject_id")`` over the views
  built by :mod:`openbureau.scoring.history`. The value a subject gets when it has no rows in a
  frame is the same expression evaluated on an empty frame.
* Online (one subject): the definitions' NumPy form runs over the same views built for one
  subject by :mod:`openbureau.scoring.subject`, in about a millisecond instead of polars'
  fixed ~20 ms per query.

tests/scoring/test_attributes.py checks the two paths give identical values on generated data.

Every attribute is catalogued in docs/attributes.md (a test fails if one is missing).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from openbureau.scoring.errors import InputFrameError
from openbureau.scoring.expr import Expr, col, length, sum_horizontal, when
from openbureau.scoring.history import (
    INQUIRY_SCHEMA,
    TRADELINE_SCHEMA,
    _as_date,
    account_frame,
    account_lazy,
    inquiry_frame,
    inquiry_lazy,
)
from openbureau.scoring.subject import account_columns, inquiry_columns

Source = Literal["accounts", "inquiries"]


@dataclass(frozen=True)
class Attribute:
    code: str  # stable attribute code, e.g. "UTL01"
    name: str
    source: Source
    build: Callable[[], Expr]  # -> aggregation expression over the source frame
    dtype: pl.DataType
    unit: str
    missing: str  # what a null value means
    definition: str
    reason_code: str  # stable adverse-action reason code, e.g. "R07"
    reason_en: str
    reason_zh: str


# ---------------------------------------------------------------- expression helpers
# Column names refer to the account frame / inquiry frame built in history.py.
def _ratio(num: Expr, den: Expr) -> Expr:
    return when(den > 0).then(num.cast(pl.Float64) / den.cast(pl.Float64)).otherwise(None)


def _open() -> Expr:
    return col("is_open")


def _count(pred: Expr) -> Expr:
    return pred.fill_null(False).cast(pl.Int64).sum()


def _sum(name: str, where: Expr | None = None) -> Expr:
    e = col(name).fill_null(0)
    return (e.filter(where) if where is not None else e).sum()


I64 = pl.Int64()
F64 = pl.Float64()
NEVER = "no trade visible as of the date"
NOREV = "no open revolving trade with a positive credit limit"


def _a(code, name, source, build, dtype, unit, missing, definition, rc, en, zh) -> Attribute:
    return Attribute(code, name, source, build, dtype, unit, missing, definition, rc, en, zh)


# ---------------------------------------------------------------- the catalogue
ATTRIBUTES: tuple[Attribute, ...] = (
    # --- trade counts
    _a(
        "TRD01",
        "Total trades",
        "accounts",
        lambda: length().cast(pl.Int64),
        I64,
        "count",
        "never null (0 = no trade)",
        "Number of accounts with at least one visible record.",
        "R01",
        "Too few accounts on file",
        "信用账户数量过少",
    ),
    _a(
        "TRD02",
        "Open trades",
        "accounts",
        lambda: _count(_open()),
        I64,
        "count",
        "never null",
        "Accounts whose latest status is current or past due and not closed.",
        "R02",
        "Too few or too many open accounts",
        "未结清账户数量不理想",
    ),
    _a(
        "TRD03",
        "Open revolving trades",
        "accounts",
        lambda: _count(_open() & col("is_rev")),
        I64,
        "count",
        "never null",
        "Open accounts of type revolving or line_of_credit.",
        "R03",
        "Number of open revolving accounts",
        "循环信用账户数量",
    ),
    _a(
        "TRD04",
        "Open installment trades",
        "accounts",
        lambda: _count(_open() & (col("account_type") == "installment")),
        I64,
        "count",
        "never null",
        "Open accounts of type installment.",
        "R04",
        "Number of open installment accounts",
        "分期贷款账户数量",
    ),
    _a(
        "TRD05",
        "Open mortgage trades",
        "accounts",
        lambda: _count(_open() & (col("account_type") == "mortgage")),
        I64,
        "count",
        "never null",
        "Open accounts of type mortgage.",
        "R05",
        "No or few mortgage accounts",
        "无住房贷款或数量过少",
    ),
    _a(
        "TRD06",
        "Trades opened in last 12 months",
        "accounts",
        lambda: _count(col("mob") < 12),
        I64,
        "count",
        "never null",
        "Accounts opened in the as-of month or the 11 calendar months before.",
        "R06",
        "Too many accounts opened recently",
        "近期新开账户过多",
    ),
    _a(
        "TRD07",
        "Trades currently delinquent",
        "accounts",
        lambda: _count(col("sev_now") >= 1),
        I64,
        "count",
        "never null",
        "Accounts whose latest status is past due, collection or charge-off.",
        "R07",
        "Accounts currently delinquent",
        "当前有逾期账户",
    ),
    _a(
        "TRD08",
        "Derogatory trades",
        "accounts",
        lambda: _count((col("sev_now") >= 7) | (col("w_24") >= 7)),
        I64,
        "count",
        "never null",
        "Accounts in collection/charge-off (or equivalent) now or in the last 24 months.",
        "R08",
        "Collection or charge-off on file",
        "有催收或核销记录",
    ),
    _a(
        "TRD09",
        "Closed trades",
        "accounts",
        lambda: _count(~_open()),
        I64,
        "count",
        "never null",
        "Accounts that are not open (closed, paid, transferred, derogatory).",
        "R09",
        "Number of closed accounts",
        "已结清账户数量",
    ),
    # --- age of file
    _a(
        "AGE01",
        "Months since oldest trade opened",
        "accounts",
        lambda: col("mob").max().cast(pl.Int64),
        I64,
        "months",
        NEVER,
        "Calendar months between the oldest date_opened and as_of.",
        "R10",
        "Length of credit history is too short",
        "信用历史过短",
    ),
    _a(
        "AGE02",
        "Months since newest trade opened",
        "accounts",
        lambda: col("mob").min().cast(pl.Int64),
        I64,
        "months",
        NEVER,
        "Calendar months between the most recent date_opened and as_of.",
        "R11",
        "Account opened too recently",
        "最近新开账户时间过近",
    ),
    _a(
        "AGE03",
        "Average age of open trades",
        "accounts",
        lambda: col("mob").filter(_open()).mean(),
        F64,
        "months",
        "no open trade",
        "Mean months on book over open accounts.",
        "R12",
        "Average age of open accounts is too short",
        "未结清账户平均账龄过短",
    ),
    # --- balances and utilisation
    _a(
        "BAL01",
        "Total balance of open trades",
        "accounts",
        lambda: col("current_balance").filter(_open()).sum().cast(pl.Int64),
        I64,
        "currency units",
        "never null (0 = none)",
        "Sum of latest current_balance, open trades.",
        "R13",
        "Total balances are too high",
        "账户总余额过高",
    ),
    _a(
        "BAL02",
        "Revolving balance",
        "accounts",
        lambda: col("current_balance").filter(_open() & col("is_rev")).sum().cast(pl.Int64),
        I64,
        "currency units",
        "never null",
        "Sum of latest balance over open revolving trades.",
        "R14",
        "Revolving balances are too high",
        "循环信用余额过高",
    ),
    _a(
        "BAL03",
        "Installment and mortgage balance",
        "accounts",
        lambda: col("current_balance").filter(_open() & col("is_inst")).sum().cast(pl.Int64),
        I64,
        "currency units",
        "never null",
        "Sum of latest balance over open installment and mortgage trades.",
        "R15",
        "Installment balances are too high",
        "分期贷款余额过高",
    ),
    _a(
        "BAL04",
        "Total amount past due",
        "accounts",
        lambda: col("amount_past_due").sum().cast(pl.Int64),
        I64,
        "currency units",
        "never null",
        "Sum of latest amount_past_due over all trades.",
        "R16",
        "Amount past due is too high",
        "逾期金额过高",
    ),
    _a(
        "BAL05",
        "Balance change over 3 months",
        "accounts",
        lambda: _ratio(_sum("bal_0"), _sum("bal_3")),
        F64,
        "ratio",
        "no balance reported 3 months ago (or it was 0)",
        "Total balance this month / total balance 3 months ago (per-period records).",
        "R17",
        "Balances have increased recently",
        "近期余额上升",
    ),
    _a(
        "BAL06",
        "Installment balance remaining",
        "accounts",
        lambda: _ratio(
            col("current_balance").filter(_open() & col("is_inst")).sum(),
            col("original_amount").filter(_open() & col("is_inst")).sum(),
        ),
        F64,
        "ratio",
        "no open installment/mortgage trade with an original amount",
        "Sum of open installment balances / sum of their original amounts.",
        "R18",
        "Little paid down on installment loans",
        "分期贷款偿还比例过低",
    ),
    _a(
        "UTL01",
        "Revolving utilisation",
        "accounts",
        lambda: _ratio(
            col("current_balance").filter(_open() & col("is_rev")).sum(),
            col("rev_limit").filter(_open()).sum(),
        ),
        F64,
        "ratio",
        NOREV,
        "Sum of open revolving balances / sum of their credit limits.",
        "R19",
        "Revolving utilisation is too high",
        "循环信用使用率过高",
    ),
    _a(
        "UTL02",
        "Maximum revolving utilisation of a trade",
        "accounts",
        lambda: (col("current_balance") / col("rev_limit")).filter(_open()).max(),
        F64,
        "ratio",
        NOREV,
        "Highest balance/limit over open revolving trades.",
        "R20",
        "A revolving account is at or near its limit",
        "有循环账户接近或超过额度",
    ),
    _a(
        "UTL03",
        "Average revolving utilisation, last 6 months",
        "accounts",
        lambda: _ratio(
            _sum("bal6_sum", col("is_rev")), (col("rev_limit") * col("bal6_known")).sum()
        ),
        F64,
        "ratio",
        NOREV + " or no balance reported in the last 6 months",
        "Sum of monthly revolving balances over the last 6 months / sum of the limits for the "
        "months reported (current limit used for every month).",
        "R21",
        "Revolving utilisation has been high",
        "近半年循环信用使用率偏高",
    ),
    _a(
        "UTL04",
        "Revolving trades at 75%+ utilisation",
        "accounts",
        lambda: _count(_open() & (col("current_balance") >= 0.75 * col("rev_limit"))),
        I64,
        "count",
        "never null",
        "Open revolving trades with balance >= 75% of credit limit.",
        "R22",
        "Too many revolving accounts with high utilisation",
        "高使用率循环账户过多",
    ),
    # --- derived payments (balance changes; see history.py)
    _a(
        "PAY01",
        "Payment-to-balance ratio, 3 months",
        "accounts",
        lambda: _ratio(_sum("pay3"), sum_horizontal(_sum("bal_1"), _sum("bal_2"), _sum("bal_3"))),
        F64,
        "ratio",
        "no balance reported in months 1..3 before as_of (or all 0)",
        "Derived payments of the last 3 months / balances of the 3 months before them. "
        "Derived payment of month j = max(balance(j+1) - balance(j), 0).",
        "R23",
        "Too little paid relative to balances",
        "还款额相对余额过低",
    ),
    _a(
        "PAY02",
        "Payment-to-balance ratio, last month",
        "accounts",
        lambda: _ratio(_sum("pay_0"), _sum("bal_1")),
        F64,
        "ratio",
        "no balance reported the month before as_of (or it was 0)",
        "Derived payment of the as-of month / total balance of the month before.",
        "R24",
        "Too little paid last month relative to the balance",
        "上月还款额相对余额过低",
    ),
    _a(
        "PAY03",
        "Months with a balance reduction, last 6",
        "accounts",
        lambda: col("pay_months6").max().cast(pl.Int64),
        I64,
        "months",
        NEVER,
        "Largest, over trades, number of the last 6 months with a derived payment > 0.",
        "R25",
        "Balances are rarely paid down",
        "余额很少下降",
    ),
    _a(
        "PAY04",
        "Derived payment to limit ratio, 3 months",
        "accounts",
        lambda: _ratio(_sum("pay3", col("is_rev")), col("rev_limit").sum()),
        F64,
        "ratio",
        NOREV,
        "Derived payments of revolving trades over 3 months / sum of revolving limits.",
        "R26",
        "Payments are small relative to credit limits",
        "还款额相对授信额度过低",
    ),
    # --- delinquency
    _a(
        "DLQ01",
        "Worst current status",
        "accounts",
        lambda: col("sev_now").max().cast(pl.Int64),
        I64,
        "severity 0-8",
        NEVER,
        "Worst severity of the latest status over all trades (0 current, 1-6 = 30-180+ days, "
        "7 collection, 8 charge-off).",
        "R27",
        "Serious delinquency on an account now",
        "当前账户存在严重逾期",
    ),
    _a(
        "DLQ02",
        "Worst delinquency, last 6 months",
        "accounts",
        lambda: col("w_6").max().cast(pl.Int64),
        I64,
        "severity 0-8",
        "no known month in the window",
        "Worst monthly severity over the last 6 months.",
        "R28",
        "Delinquency in the last 6 months",
        "近6个月有逾期",
    ),
    _a(
        "DLQ03",
        "Worst delinquency, last 12 months",
        "accounts",
        lambda: col("w_12").max().cast(pl.Int64),
        I64,
        "severity 0-8",
        "no known month in the window",
        "Worst monthly severity over the last 12 months.",
        "R29",
        "Delinquency in the last 12 months",
        "近12个月有逾期",
    ),
    _a(
        "DLQ04",
        "Worst delinquency, last 24 months",
        "accounts",
        lambda: col("w_24").max().cast(pl.Int64),
        I64,
        "severity 0-8",
        "no known month in the window",
        "Worst monthly severity over the last 24 months.",
        "R30",
        "Delinquency in the last 24 months",
        "近24个月有逾期",
    ),
    _a(
        "DLQ05",
        "Times 30 days late, 24 months",
        "accounts",
        lambda: _sum("n_30"),
        I64,
        "account-months",
        "never null",
        "Account-months at severity 1 (30-59 days) in the last 24 months.",
        "R31",
        "Number of times 30 days late",
        "逾期30天次数过多",
    ),
    _a(
        "DLQ06",
        "Times 60 days late, 24 months",
        "accounts",
        lambda: _sum("n_60"),
        I64,
        "account-months",
        "never null",
        "Account-months at severity 2 (60-89 days) in the last 24 months.",
        "R32",
        "Number of times 60 days late",
        "逾期60天次数过多",
    ),
    _a(
        "DLQ07",
        "Times 90+ days late, 24 months",
        "accounts",
        lambda: _sum("n_90"),
        I64,
        "account-months",
        "never null",
        "Account-months at severity >= 3 (90+ days or derogatory), 24 months.",
        "R33",
        "Number of times 90 or more days late",
        "逾期90天以上次数过多",
    ),
    _a(
        "DLQ08",
        "Months since most recent 30+ delinquency",
        "accounts",
        lambda: col("ms_30").min(),
        I64,
        "months",
        "no 30+ delinquency in the last 24 months",
        "Months between as_of month and the latest month with severity >= 1 (0 = this month).",
        "R34",
        "Delinquency is too recent",
        "最近一次逾期时间过近",
    ),
    _a(
        "DLQ09",
        "Months since most recent 60+ delinquency",
        "accounts",
        lambda: col("ms_60").min(),
        I64,
        "months",
        "no 60+ delinquency in the last 24 months",
        "Months since the latest month with severity >= 2.",
        "R35",
        "60-day delinquency is too recent",
        "最近一次逾期60天以上时间过近",
    ),
    _a(
        "DLQ10",
        "Months since most recent 90+ delinquency",
        "accounts",
        lambda: col("ms_90").min(),
        I64,
        "months",
        "no 90+ delinquency in the last 24 months",
        "Months since the latest month with severity >= 3.",
        "R36",
        "Serious delinquency is too recent",
        "最近一次严重逾期时间过近",
    ),
    _a(
        "DLQ11",
        "Trades 30+ days late in 24 months",
        "accounts",
        lambda: _count(col("w_24") >= 1),
        I64,
        "count",
        "never null",
        "Accounts with any month of severity >= 1 in the last 24 months.",
        "R37",
        "Too many accounts with delinquency",
        "有逾期记录的账户过多",
    ),
    _a(
        "DLQ12",
        "Share of trades never delinquent in 24 months",
        "accounts",
        lambda: _ratio(_count(col("w_24").fill_null(0) == 0), length()),
        F64,
        "ratio",
        NEVER,
        "Accounts with no month of severity >= 1 in 24 months / all accounts.",
        "R38",
        "Proportion of accounts paid as agreed is too low",
        "按时还款账户比例过低",
    ),
    _a(
        "DLQ13",
        "Delinquent account-months, last 6 months",
        "accounts",
        lambda: _sum("n_dlq6"),
        I64,
        "account-months",
        "never null",
        "Account-months with severity >= 1, last 6 months.",
        "R39",
        "Frequent recent delinquency",
        "近期频繁逾期",
    ),
    _a(
        "DLQ14",
        "Delinquency trend",
        "accounts",
        lambda: (
            col("w_0").max().cast(pl.Int64).fill_null(0)
            - col("w_1_5").max().cast(pl.Int64).fill_null(0)
        ),
        I64,
        "severity steps",
        "never null",
        "Worst severity this month minus worst severity over months 1..5 (positive = worse).",
        "R40",
        "Delinquency is getting worse",
        "逾期程度在加重",
    ),
    _a(
        "DLQ15",
        "Worst delinquency last month",
        "accounts",
        lambda: col("w_1").max().cast(pl.Int64),
        I64,
        "severity 0-8",
        "no account with a known status for the month before the as-of month",
        "Worst severity over all trades in the calendar month before the as-of month.",
        "R44",
        "Delinquency last month",
        "上月有逾期",
    ),
    # --- limits and longer-range payment behaviour
    _a(
        "LIM01",
        "Total revolving credit limit",
        "accounts",
        lambda: col("rev_limit").filter(_open()).sum().cast(pl.Int64),
        I64,
        "currency units",
        "never null (0 = no open revolving trade with a limit)",
        "Sum of credit limits of open revolving trades.",
        "R45",
        "Total revolving credit limit is low",
        "循环信用总额度偏低",
    ),
    _a(
        "UTL05",
        "Peak revolving utilisation, last 6 months",
        "accounts",
        lambda: (col("bal6_max") / col("rev_limit")).filter(_open()).max(),
        F64,
        "ratio",
        NOREV + " or no balance reported in the last 6 months",
        "Highest, over open revolving trades, of the trade's highest monthly balance in the last "
        "6 months / its current credit limit.",
        "R46",
        "Revolving utilisation peaked high recently",
        "近期循环信用使用率峰值过高",
    ),
    _a(
        "PAY05",
        "Payment-to-balance ratio, 6 months",
        "accounts",
        lambda: _ratio(_sum("pay6"), _sum("bal_prev6_sum")),
        F64,
        "ratio",
        "no balance reported in months 1..6 before as_of (or all 0)",
        "Derived payments of months 0..5 / balances of months 1..6 (the month before each).",
        "R47",
        "Too little paid relative to balances over 6 months",
        "近6个月还款额相对余额过低",
    ),
    _a(
        "PAY06",
        "Largest monthly derived payment to limit, 6 months",
        "accounts",
        lambda: (col("pay6_max") / col("rev_limit")).filter(_open()).max(),
        F64,
        "ratio",
        NOREV + " or fewer than two consecutive balances reported in the last 7 months",
        "Highest, over open revolving trades, of the largest derived payment of months 0..5 / "
        "the trade's credit limit.",
        "R48",
        "Payments have been small relative to credit limits",
        "单月还款额相对额度偏低",
    ),
    _a(
        "BAL07",
        "Zero-balance account-months, last 6 months",
        "accounts",
        lambda: _sum("zero6"),
        I64,
        "account-months",
        "never null",
        "Account-months among the last 6 with a reported balance of 0 (all trades).",
        "R49",
        "Few months with balances paid off",
        "余额结清的月份较少",
    ),
    # --- inquiries
    _a(
        "INQ01",
        "Hard inquiries, last 6 months",
        "inquiries",
        lambda: _count(col("inq_mago") < 6),
        I64,
        "count",
        "never null",
        "Hard inquiries created in the as-of month or the 5 calendar months before.",
        "R41",
        "Too many inquiries in the last 6 months",
        "近6个月查询次数过多",
    ),
    _a(
        "INQ02",
        "Hard inquiries, last 12 months",
        "inquiries",
        lambda: _count(col("inq_mago") < 12),
        I64,
        "count",
        "never null",
        "Hard inquiries created in the as-of month or the 11 calendar months before.",
        "R42",
        "Too many inquiries in the last 12 months",
        "近12个月查询次数过多",
    ),
    _a(
        "INQ03",
        "Months since most recent hard inquiry",
        "inquiries",
        lambda: col("inq_mago").min().cast(pl.Int64),
        I64,
        "months",
        "no hard inquiry on file as of the date",
        "Calendar months between the latest hard inquiry and as_of (0 = same month).",
        "R43",
        "Inquiry too recent",
        "最近查询时间过近",
    ),
)

ATTRIBUTE_BY_CODE: dict[str, Attribute] = {a.code: a for a in ATTRIBUTES}
ATTRIBUTE_CODES: tuple[str, ...] = tuple(a.code for a in ATTRIBUTES)
# Inquiry-count attributes: candidates for the extra key factor (FCRA 1681g(f)(9)).
INQUIRY_COUNT_ATTRIBUTES: tuple[str, ...] = ("INQ01", "INQ02")


@functools.cache
def _exprs(source: Source) -> list[pl.Expr]:
    return [a.build().polars.cast(a.dtype).alias(a.code) for a in ATTRIBUTES if a.source == source]


@functools.cache
def _online_definitions() -> tuple[tuple[str, Source, bool, Expr], ...]:
    """(code, source, integer-valued, expression) of every attribute, built once."""
    return tuple(
        (a.code, a.source, a.dtype.is_integer(), a.build().cast(a.dtype)) for a in ATTRIBUTES
    )


@functools.cache
def _empty_values(source: Source) -> dict[str, Any]:
    """Each attribute's value for a subject with no rows in a frame: same definition,
    evaluated over an empty frame."""
    if source == "accounts":
        frame = account_frame(pl.DataFrame(schema=TRADELINE_SCHEMA), dt.date(2000, 1, 1))
    else:
        frame = inquiry_frame(pl.DataFrame(schema=INQUIRY_SCHEMA), dt.date(2000, 1, 1))
    return frame.select(_exprs(source)).row(0, named=True)


def compute_attributes_batch(
    tradelines: pl.DataFrame, inquiries: pl.DataFrame, as_of: dt.date | str
) -> pl.DataFrame:
    """All attributes for every subject with a visible tradeline or inquiry, one row each.

    Columns: ``subject_id`` then one column per attribute code, sorted by subject_id.
    """
    as_of = _as_date(as_of)
    a_vals = (
        account_lazy(tradelines, as_of)
        .group_by("subject_id")
        .agg(*_exprs("accounts"), _has_accounts=pl.lit(True))
    )
    i_vals = (
        inquiry_lazy(inquiries, as_of)
        .group_by("subject_id")
        .agg(*_exprs("inquiries"), _has_inquiries=pl.lit(True))
    )
    out = a_vals.join(i_vals, on="subject_id", how="full", coalesce=True)
    # A subject absent from one frame gets that frame's "no rows" values (same expressions).
    fills = [
        (flag, c, v)
        for flag, source in (("_has_accounts", "accounts"), ("_has_inquiries", "inquiries"))
        for c, v in _empty_values(source).items()
        if v is not None
    ]
    schema = out.collect_schema()
    out = out.with_columns(
        [
            pl.when(pl.col(flag).is_null())
            .then(pl.lit(v, dtype=schema[c]))
            .otherwise(pl.col(c))
            .alias(c)
            for flag, c, v in fills
        ]
    )
    return out.select("subject_id", *ATTRIBUTE_CODES).sort("subject_id").collect()


def compute_attributes_online(
    tradelines: pl.DataFrame, inquiries: pl.DataFrame, as_of: dt.date | str
) -> dict[str, Any]:
    """All attributes for one subject (the frames hold that subject's rows only)."""
    as_of = _as_date(as_of)
    for frame in (tradelines, inquiries):
        ids = frame.get_column("subject_id") if "subject_id" in frame.columns else None
        if ids is not None and ids.len() and ids.min() != ids.max():
            raise InputFrameError(f"online frames must hold one subject, got {ids.n_unique()}")
    if (
        tradelines.height
        and inquiries.height
        and tradelines["subject_id"][0] != inquiries["subject_id"][0]
    ):
        raise InputFrameError("online frames must hold one subject, got 2")
    frames = {
        "accounts": account_columns(tradelines, as_of),
        "inquiries": inquiry_columns(inquiries, as_of),
    }
    return {
        code: expr.evaluate(frames[source]).scalar(integer)
        for code, source, integer, expr in _online_definitions()
    }
