"""Synthetic bureau data for tests and benchmarks (vectorised numpy, seeded).

Each subject has a latent risk ``r ~ N(0, 1)``. Every account runs a monthly delinquency
Markov chain whose entry and roll rates grow with ``r``; its per-period records and their
24-month payment history profiles are cut from the same chain, so the frames are internally
consistent the way a furnisher's data is. Inquiry counts also grow with ``r``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from openbureau.scoring.history import month_index

STATUS_BY_SEV = np.array(
    [
        "current",
        "past_due_30",
        "past_due_60",
        "past_due_90",
        "past_due_120",
        "past_due_150",
        "past_due_180",
        "collection",
        "charge_off",
    ]
)
CHAR_BY_SEV = np.frombuffer(b"0123456GL", dtype=np.uint8)
TYPES = np.array(["revolving", "installment", "mortgage", "line_of_credit", "open"])
TYPE_P = np.array([0.5, 0.25, 0.1, 0.1, 0.05])


def _month_end(idx: np.ndarray) -> np.ndarray:
    """Last day of month for month indexes (year*12 + month-1), as datetime64[D]."""
    first_next = (idx + 1 - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    return first_next - np.timedelta64(1, "D")


def synthetic_bureau(
    n_subjects: int,
    end: dt.date = dt.date(2025, 12, 31),
    n_periods: int = 3,
    seed: int = 0,
    first_subject_id: int = 1,
) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray]:
    """Return ``(tradelines, inquiries, risk)``; periods are the ``n_periods`` months to ``end``.

    ``risk[i]`` is the latent risk of subject ``first_subject_id + i``.
    """
    rng = np.random.default_rng(seed)
    risk = rng.standard_normal(n_subjects)
    n_acc = np.minimum(1 + rng.poisson(1.8, n_subjects), 8)
    subj = np.repeat(np.arange(n_subjects), n_acc)
    na = subj.size
    r = risk[subj]
    months = 24 + n_periods  # chain length; column 0 = latest period
    p_enter = 1 / (1 + np.exp(-(1.3 * r - 4.0)))
    p_roll = 1 / (1 + np.exp(-(1.0 * r - 0.5)))
    sev = np.zeros((na, months), dtype=np.int8)
    state = (rng.random(na) < p_enter * 3).astype(np.int8)
    for m in range(months - 1, -1, -1):  # oldest first
        u = rng.random(na)
        roll = (state > 0) & (state < 8) & (u < p_roll)
        cure = (state > 0) & (state < 7) & ~roll
        enter = (state == 0) & (u < p_enter)
        state = np.where(roll, np.minimum(state + 1, 8), state)
        state = np.where(roll & (state == 7), 8, state)  # 180+ rolls to charge-off
        state = np.where(cure, 0, state)
        state = np.where(enter, 1, state).astype(np.int8)
        sev[:, m] = state
    end_idx = month_index(end)
    mob_end = rng.integers(n_periods, 150, na)  # months on book at the last period
    opened_idx = end_idx - mob_end
    chars = CHAR_BY_SEV[sev]
    # months before opening have no history
    age = mob_end[:, None] - np.arange(months)[None, :]
    chars = np.where(age < 0, ord("B"), chars).astype(np.uint8)
    sev = np.where(age < 0, 0, sev)
    acc_type = rng.choice(TYPES, size=na, p=TYPE_P)
    is_rev = np.isin(acc_type, ["revolving", "line_of_credit"])
    limit = np.where(is_rev, rng.choice([1000, 2000, 5000, 10000, 20000], na), 0)
    original = np.where(~is_rev, rng.integers(2000, 300000, na), 0)
    util0 = np.clip(rng.beta(2, 5, na) + 0.15 * r, 0, 1.2)
    closed = (rng.random(na) < 0.08) & (sev[:, 0] == 0)
    member = rng.integers(1, 40, na)

    rows = []
    for t in range(n_periods):  # t months before the last period
        idx = end_idx - t
        util_t = np.clip(util0 + rng.normal(0, 0.05, na) + 0.01 * t * np.sign(r), 0, 1.3)
        term = 60
        bal = np.where(
            is_rev,
            limit * util_t,
            original * np.clip(1 - (mob_end - t) / term, 0.05, 1),
        ).astype(np.int64)
        s_t = sev[:, t]
        is_closed = closed & (t == 0)
        bal = np.where(is_closed, 0, bal)
        prof = chars[:, t + 1 : t + 25].copy().view(f"S{24}").ravel()
        status = np.where(is_closed, "paid_closed", STATUS_BY_SEV[s_t])
        rep = _month_end(np.full(na, idx))
        rows.append(
            pl.DataFrame(
                {
                    "subject_id": (subj + first_subject_id).astype(np.int64),
                    "member_id": member.astype(np.int64),
                    "account_ref": np.char.add("A", np.arange(na).astype("U9")),
                    "reporting_date": rep,
                    "account_type": acc_type,
                    "date_opened": _month_end(opened_idx - 1) + np.timedelta64(1, "D"),
                    "credit_limit": limit.astype(np.int64),
                    "original_amount": original.astype(np.int64),
                    "current_balance": bal,
                    "amount_past_due": np.where(s_t > 0, bal // 20 * s_t, 0).astype(np.int64),
                    "account_status": status,
                    "payment_history": prof,
                }
            ).with_columns(
                pl.col("payment_history").cast(pl.String),
                pl.when(pl.col("account_type").is_in(["revolving", "line_of_credit"]))
                .then(pl.col("credit_limit"))
                .otherwise(None)
                .alias("credit_limit"),
                pl.when(pl.col("account_type").is_in(["revolving", "line_of_credit"]))
                .then(None)
                .otherwise(pl.col("original_amount"))
                .alias("original_amount"),
                pl.when(pl.col("account_status") != "current")
                .then(pl.col("reporting_date") - pl.duration(days=30))
                .otherwise(None)
                .alias("date_first_delinquency"),
                pl.when(pl.col("account_status") == "paid_closed")
                .then(pl.col("reporting_date"))
                .otherwise(None)
                .alias("date_closed"),
            )
        )
    tl = pl.concat(rows).with_columns(
        period=pl.col("reporting_date").dt.strftime("%Y-%m"),
    )
    # inquiries
    n_inq = rng.poisson(np.exp(0.5 * risk))
    isub = np.repeat(np.arange(n_subjects), n_inq)
    days_back = rng.integers(0, 730, isub.size)
    created = (np.datetime64(end) - days_back.astype("timedelta64[D]")).astype("datetime64[us]")
    created = created + rng.integers(0, 86_400, isub.size).astype("timedelta64[s]")
    inq = pl.DataFrame(
        {
            "subject_id": (isub + first_subject_id).astype(np.int64),
            "member_id": rng.integers(1, 40, isub.size).astype(np.int64),
            "purpose": rng.choice(["credit_card", "mortgage", "auto", "review"], isub.size),
            "hard": rng.random(isub.size) < 0.85,
            "created_at": created,
        }
    )
    return tl, inq, risk
