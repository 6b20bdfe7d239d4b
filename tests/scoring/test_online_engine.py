"""The online (NumPy) attribute engine against the batch (polars) engine on random files.

Generated files go where hand-built ones don't: nulls in every optional field, profiles of any
length with every code (B/D unknown months, letters), accounts at several furnishers, records
after the as-of date, stale accounts and soft or future inquiries.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scoring_helpers import inq_frame, tl_frame
from test_attributes import _same

from openbureau.furnishing.schema import AccountStatus, AccountType
from openbureau.scoring.attributes import (
    ATTRIBUTE_CODES,
    compute_attributes_batch,
    compute_attributes_online,
)
from openbureau.scoring.expr import Column, Frame, col, length, lit, sum_horizontal, when

SUBJECT = 42
START = dt.date(2022, 1, 1)
amounts = st.one_of(st.none(), st.integers(0, 5_000_000))
days = st.integers(0, 4 * 365)
profiles = st.one_of(st.none(), st.text(alphabet="0123456BDEGHJKL", max_size=24))


@st.composite
def account(draw, ref: str) -> list[dict]:
    member = draw(st.integers(1, 3))
    opened = START + dt.timedelta(days=draw(days))
    kind = draw(st.sampled_from([t.value for t in AccountType]))
    months = sorted(set(draw(st.lists(st.integers(0, 40), min_size=1, max_size=8))))
    closed = draw(st.one_of(st.none(), days.map(lambda d: START + dt.timedelta(days=d))))
    rows = []
    for m in months:
        year, month = divmod(START.month - 1 + m, 12)
        rows.append(
            {
                "subject_id": SUBJECT,
                "member_id": member,
                "account_ref": ref,
                "period": None,
                "reporting_date": dt.date(START.year + year, month + 1, draw(st.integers(1, 28))),
                "account_type": kind,
                "date_opened": draw(st.one_of(st.none(), st.just(opened))),
                "credit_limit": draw(amounts),
                "original_amount": draw(amounts),
                "current_balance": draw(amounts),
                "amount_past_due": draw(amounts),
                "account_status": draw(st.sampled_from([s.value for s in AccountStatus])),
                "payment_history": draw(profiles),
                "date_first_delinquency": None,
                "date_closed": closed,
            }
        )
    return rows


inquiries = st.lists(
    st.fixed_dictionaries(
        {
            "subject_id": st.just(SUBJECT),
            "member_id": st.integers(1, 5),
            "purpose": st.just("credit_card"),
            "hard": st.one_of(st.none(), st.booleans()),
            "created_at": st.datetimes(dt.datetime(2021, 6, 1), dt.datetime(2026, 1, 1)),
        }
    ),
    max_size=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    refs=st.lists(st.sampled_from("ABCDE"), min_size=0, max_size=4, unique=True),
    data=st.data(),
    asks=inquiries,
    as_of=st.dates(dt.date(2022, 6, 1), dt.date(2026, 1, 31)),
)
def test_online_engine_equals_batch_engine(refs, data, asks, as_of):
    rows = [r for ref in refs for r in data.draw(account(ref))]
    lines, asks_frame = tl_frame(rows), inq_frame(asks)
    online = compute_attributes_online(lines, asks_frame, as_of)
    batch = compute_attributes_batch(lines, asks_frame, as_of)
    if batch.height == 0:  # nothing visible: the batch has no row; online gives the empties
        batch = compute_attributes_batch(tl_frame([]), inq_frame([]), as_of)
        assert batch.height == 0
        assert online["TRD01"] == 0 and online["INQ01"] == 0
        return
    expected = batch.row(0, named=True)
    assert expected.pop("subject_id") == SUBJECT
    diff = {
        k: (expected[k], online[k]) for k in ATTRIBUTE_CODES if not _same(expected[k], online[k])
    }
    assert not diff


def _frame(**columns: tuple[list, list[bool]]) -> Frame:
    import numpy as np

    height = len(next(iter(columns.values()))[0])
    return Frame(
        height,
        {
            k: Column(np.array(v, dtype=object if isinstance(v[0], str) else None), np.array(ok))
            for k, (v, ok) in columns.items()
        },
    )


def test_expressions_follow_polars_null_semantics():
    """Three-valued logic, null-skipping aggregations and when/otherwise, value by value."""
    import polars as pl

    frame = _frame(
        x=([1.0, 0.0, 5.0], [True, False, True]), p=([True, False, False], [True, True, False])
    )
    polars_frame = pl.DataFrame(
        {"x": [1, None, 5], "p": [True, False, None]}, schema={"x": pl.Int64, "p": pl.Boolean}
    )
    cases = {
        "and": (col("p") & (col("x") > 0)).fill_null(False).cast(pl.Int64).sum(),
        "or": (col("p") | (col("x") > 2)).fill_null(False).cast(pl.Int64).sum(),
        "not": (~col("p")).fill_null(True).cast(pl.Int64).sum(),
        "max_filtered": col("x").filter(col("p")).max(),
        "max_of_nothing": col("x").filter(col("x") > 10).max(),
        "mean": col("x").mean(),
        "sum_of_nothing": col("x").filter(col("x") > 10).sum(),
        "len": length(),
        "ratio": when(col("x").sum() > 0).then(col("x").max() / col("x").sum()).otherwise(None),
        "horizontal": sum_horizontal(col("x").max(), lit(None), col("x").min()),
    }
    expected = polars_frame.select(**{k: e.polars.cast(pl.Float64) for k, e in cases.items()}).row(
        0, named=True
    )
    got = {k: e.cast(pl.Float64).evaluate(frame).scalar(False) for k, e in cases.items()}
    assert got == expected
