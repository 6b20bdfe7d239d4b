"""One subject's as-of view in NumPy: the input of the online attribute engine.

:func:`account_lazy` and :func:`inquiry_lazy` in :mod:`openbureau.scoring.history` define the
account and inquiry frames for the batch engine; this module builds the same columns for the
few rows of one subject, with the same rules (see history.py for what each column means), so
that :mod:`openbureau.scoring.expr` can evaluate the attribute catalogue without polars' fixed
per-query cost. The monthly grid is a small ``accounts x 24`` array rather than 24 columns.
tests/scoring/test_attributes.py checks that every attribute comes out the same either way.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from openbureau.furnishing.schema import PAYMENT_HISTORY_LENGTH, STATUS_SEVERITY
from openbureau.scoring.expr import Column, Frame
from openbureau.scoring.history import (
    BALANCE_MONTHS,
    HISTORY_MONTHS,
    INQUIRY_COLUMNS,
    INSTALLMENT_TYPES,
    OPEN_STATUSES,
    PROFILE_SEVERITY,
    REVOLVING_TYPES,
    TRADELINE_COLUMNS,
    _check_columns,
    month_index,
)

UNKNOWN = -1  # severity sentinel for "no known status" (null); real severities are >= 0

_STATUS_SEVERITY = {str(k): v for k, v in STATUS_SEVERITY.items()}


def _profile_lookup() -> np.ndarray:
    """Severity of each ASCII code point of a payment history profile (UNKNOWN otherwise):
    mapped letters as in PROFILE_SEVERITY, any other digit as its value, as history.py's
    replace-then-cast does."""
    table = np.full(128, UNKNOWN, np.int8)
    for digit in range(10):
        table[ord(str(digit))] = digit
    for char, severity in PROFILE_SEVERITY.items():
        table[ord(char)] = severity
    return table


_PROFILE_LOOKUP = _profile_lookup()


def _month_index(days: np.ndarray) -> np.ndarray:
    """history.month_index, element-wise (NumPy counts months from 1970-01)."""
    return days.astype("datetime64[M]").astype(np.int64) + 1970 * 12


def _numbers(values: np.ndarray) -> Column:
    """An integer column as converted by polars (float64, NaN for null)."""
    valid = ~np.isnan(values)
    return Column(np.where(valid, values, 0.0), valid)


def _categories(values: np.ndarray, mapping: dict[str, int]) -> np.ndarray:
    """Map a string column through ``mapping`` (UNKNOWN if absent or null), one dict lookup
    per distinct value."""
    if not values.size:
        return np.empty(0, np.int8)
    distinct, inverse = np.unique(values.astype(str), return_inverse=True)
    codes = np.array([mapping.get(v, UNKNOWN) for v in distinct], np.int8)
    return np.where(values == None, UNKNOWN, codes[inverse])  # noqa: E711 - element-wise


def _is_in(values: np.ndarray, allowed: tuple[str, ...]) -> Column:
    valid = values != None  # noqa: E711 - element-wise null test on an object array
    return Column(np.isin(values, allowed) & valid, valid)


def _severity(codes: np.ndarray) -> Column:
    return Column(codes.astype(np.float64), codes != UNKNOWN)


def _accounts(
    member: np.ndarray, ref: np.ndarray, reported: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Account number of each row (0..n-1) and the row index of each account's latest record."""
    _, member_code = np.unique(member, return_inverse=True)
    refs, ref_code = np.unique(ref.astype(str), return_inverse=True)
    _, account = np.unique(member_code * len(refs) + ref_code, return_inverse=True)
    order = np.lexsort((reported, account))  # by account, then reporting date
    last_of_group = np.append(account[order][1:] != account[order][:-1], True)
    return account, order[last_of_group]


def _profile_grid(profiles: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Severities read from each account's latest profile, placed on the as-of month grid:
    grid month j is profile position k = j - d (1-based) of a record reported d months ago."""
    present = np.where(profiles == None, "", profiles)  # noqa: E711
    text = present.astype(f"U{PAYMENT_HISTORY_LENGTH}")
    points = text.view(np.uint32).reshape(len(text), PAYMENT_HISTORY_LENGTH)
    by_position = np.where(points < 128, _PROFILE_LOOKUP[np.minimum(points, 127)], UNKNOWN)
    k = np.arange(HISTORY_MONTHS)[None, :] - d[:, None]
    inside = (k >= 1) & (k <= PAYMENT_HISTORY_LENGTH)
    picked = np.take_along_axis(by_position, np.clip(k - 1, 0, PAYMENT_HISTORY_LENGTH - 1), 1)
    return np.where(inside, picked, UNKNOWN)


def _first(mask: np.ndarray) -> Column:
    """Per row of ``mask``: the first column index that is true (null if none)."""
    hit = mask.any(axis=1)
    return Column(np.argmax(mask, axis=1).astype(np.float64), hit)


def _worst(grid: np.ndarray) -> Column:
    worst = grid.max(axis=1) if grid.shape[1] else np.full(len(grid), UNKNOWN)
    return _severity(worst)


def _counts(mask: np.ndarray) -> Column:
    return Column(mask.sum(axis=1).astype(np.float64), np.ones(len(mask), bool))


def _grid_summaries(sev: np.ndarray) -> dict[str, Column]:
    def between(low: int, high: int) -> np.ndarray:
        return (sev >= low) & (sev <= high)

    return {
        "w_0": _worst(sev[:, :1]),
        "w_1": _worst(sev[:, 1:2]),
        "w_1_5": _worst(sev[:, 1:6]),
        "w_6": _worst(sev[:, :6]),
        "w_12": _worst(sev[:, :12]),
        "w_24": _worst(sev),
        "n_30": _counts(sev == 1),
        "n_60": _counts(sev == 2),
        "n_90": _counts(between(3, 8)),
        "n_dlq6": _counts(between(1, 8)[:, :6]),
        "ms_30": _first(between(1, 8)),
        "ms_60": _first(between(2, 8)),
        "ms_90": _first(between(3, 8)),
    }


def _balance_summaries(bal: np.ndarray) -> dict[str, Column]:
    """``bal`` is accounts x BALANCE_MONTHS with NaN for months without a record."""
    known = ~np.isnan(bal)
    with np.errstate(invalid="ignore"):
        pay = np.clip(bal[:, 1:] - bal[:, :-1], 0, None)  # derived payment of months 0..5
    pay_known = ~np.isnan(pay)

    def zeroed(values: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(values), 0.0, values)

    def total(values: np.ndarray) -> Column:
        return Column(zeroed(values).sum(axis=1), np.ones(len(values), bool))

    def highest(values: np.ndarray, present: np.ndarray) -> Column:
        return Column(np.where(present, values, -np.inf).max(axis=1), present.any(axis=1))

    columns = {f"bal_{j}": Column(zeroed(bal[:, j]), known[:, j]) for j in range(BALANCE_MONTHS)}
    return columns | {
        "bal6_sum": total(bal[:, :6]),
        "bal6_known": _counts(known[:, :6]),
        "bal6_max": highest(bal[:, :6], known[:, :6]),
        "bal_prev6_sum": total(bal[:, 1:]),
        "zero6": _counts((bal[:, :6] == 0) & known[:, :6]),
        "pay_0": Column(zeroed(pay[:, 0]), pay_known[:, 0]),
        "pay3": total(pay[:, :3]),
        "pay6": total(pay),
        "pay6_max": highest(pay, pay_known),
        "pay_months6": _counts((pay > 0) & pay_known),
    }


def account_columns(tradelines: pl.DataFrame, as_of: dt.date) -> Frame:
    """One row per account of one subject, with the columns of ``history.account_frame``."""
    _check_columns(tradelines, TRADELINE_COLUMNS, "tradelines")
    # One conversion per column, then NumPy only: polars' per-call cost is what we avoid.
    reported = tradelines.get_column("reporting_date").to_numpy()
    visible = reported <= np.datetime64(as_of)
    data = {
        name: tradelines.get_column(name).to_numpy()[visible]
        for name in TRADELINE_COLUMNS
        if name not in ("subject_id", "date_first_delinquency")
    }
    a_idx = month_index(as_of)
    if data["reporting_date"].size:
        account, latest = _accounts(data["member_id"], data["account_ref"], data["reporting_date"])
    else:
        account, latest = np.empty(0, np.int64), np.empty(0, np.int64)
    n_acc = len(latest)

    mago = a_idx - _month_index(data["reporting_date"])
    record_sev = _categories(data["account_status"], _STATUS_SEVERITY)
    rsev = np.full((n_acc, HISTORY_MONTHS), UNKNOWN, np.int8)
    in_grid = mago < HISTORY_MONTHS
    np.maximum.at(rsev, (account[in_grid], mago[in_grid]), record_sev[in_grid])

    balance = _numbers(data["current_balance"])
    bal = np.full((n_acc, BALANCE_MONTHS), np.nan)
    in_window = (mago < BALANCE_MONTHS) & balance.valid
    np.fmax.at(bal, (account[in_window], mago[in_window]), balance.data[in_window])

    last = {name: values[latest] for name, values in data.items()}
    sev = np.maximum(rsev, _profile_grid(last["payment_history"], mago[latest]).astype(np.int8))

    account_type = last["account_type"]
    is_rev = _is_in(account_type, REVOLVING_TYPES)
    closed_on = last["date_closed"]
    closed_by_date = ~np.isnat(closed_on) & (closed_on <= np.datetime64(as_of))
    open_status = _is_in(last["account_status"], OPEN_STATUSES)
    opened = last["date_opened"]
    limit = _numbers(last["credit_limit"])
    has_limit = is_rev.data & limit.valid & (limit.data > 0)

    columns = {
        "account_type": Column(account_type, account_type != None),  # noqa: E711
        "current_balance": _numbers(last["current_balance"]),
        "amount_past_due": _numbers(last["amount_past_due"]),
        "original_amount": _numbers(last["original_amount"]),
        "sev_now": _severity(record_sev[latest]),  # the latest record's own status
        "is_rev": is_rev,
        "is_inst": _is_in(account_type, INSTALLMENT_TYPES),
        "is_open": Column(open_status.data & ~closed_by_date, open_status.valid),
        "mob": Column((a_idx - _month_index(opened)).astype(np.float64), ~np.isnat(opened)),
        "rev_limit": Column(limit.data, has_limit),
    }
    columns |= _grid_summaries(sev) | _balance_summaries(bal)
    return Frame(n_acc, columns)


def inquiry_columns(inquiries: pl.DataFrame, as_of: dt.date) -> Frame:
    """The hard inquiries of one subject visible as of ``as_of``, as ``history.inquiry_frame``."""
    _check_columns(inquiries, INQUIRY_COLUMNS, "inquiries")
    end = np.datetime64(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()), "us")
    created = inquiries.get_column("created_at").to_numpy().astype("datetime64[us]")
    hard = inquiries.get_column("hard").to_numpy() == True  # noqa: E712 - null is not hard
    visible = hard & (created < end)
    months_ago = month_index(as_of) - _month_index(created[visible])
    return Frame(
        int(visible.sum()),
        {"inq_mago": Column(months_ago.astype(np.float64), np.ones(len(months_ago), bool))},
    )
