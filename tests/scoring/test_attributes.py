"""Attribute engine: batch == online, as-of visibility, hand-computed values, docs coverage."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import polars as pl
import pytest
from scoring_helpers import inq, inq_frame, tl, tl_frame

from openbureau.scoring.attributes import (
    ATTRIBUTE_CODES,
    ATTRIBUTES,
    compute_attributes_batch,
    compute_attributes_online,
)
from openbureau.scoring.errors import InputFrameError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "attributes.md"


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


@pytest.mark.parametrize("as_of", [dt.date(2025, 12, 31), dt.date(2025, 10, 15)])
def test_batch_equals_online_on_generated_data(bureau, as_of):
    tradelines, inquiries, _ = bureau
    subset = list(range(1, 3001, 17))
    tl_sub = tradelines.filter(pl.col("subject_id").is_in(subset))
    inq_sub = inquiries.filter(pl.col("subject_id").is_in(subset))
    batch = compute_attributes_batch(tl_sub, inq_sub, as_of)
    assert batch.height > 100
    checked = 0
    for row in batch.iter_rows(named=True):
        sid = row.pop("subject_id")
        online = compute_attributes_online(
            tl_sub.filter(pl.col("subject_id") == sid),
            inq_sub.filter(pl.col("subject_id") == sid),
            as_of,
        )
        assert list(online) == list(ATTRIBUTE_CODES)
        diff = {k: (row[k], online[k]) for k in ATTRIBUTE_CODES if not _same(row[k], online[k])}
        assert not diff, f"subject {sid}: {diff}"
        checked += 1
    assert checked == batch.height


def test_batch_equals_online_for_subject_with_only_inquiries():
    inqs = inq_frame([inq(9, dt.datetime(2025, 5, 1, 10))])
    empty = tl_frame([])
    batch = compute_attributes_batch(empty, inqs, "2025-06-30").row(0, named=True)
    online = compute_attributes_online(empty, inqs, "2025-06-30")
    assert batch.pop("subject_id") == 9
    assert batch == online
    assert online["TRD01"] == 0 and online["AGE01"] is None and online["INQ01"] == 1


def test_future_rows_are_invisible(bureau):
    tradelines, inquiries, _ = bureau
    as_of = dt.date(2025, 10, 31)
    full = compute_attributes_batch(tradelines, inquiries, as_of)
    cut = compute_attributes_batch(
        tradelines.filter(pl.col("reporting_date") <= as_of),
        inquiries.filter(pl.col("created_at") < dt.datetime(2025, 11, 1)),
        as_of,
    )
    assert full.equals(cut)
    later = compute_attributes_batch(tradelines, inquiries, dt.date(2025, 12, 31))
    assert not full.equals(later)


AS_OF = dt.date(2025, 6, 30)


@pytest.fixture()
def hand_built():
    rows = [
        # A: revolving, limit 1000; April profile says nothing, June profile says April was
        # 60 days late although the April record itself said current -> worst wins.
        tl(1, "A", dt.date(2025, 4, 30), opened=dt.date(2020, 6, 10), balance=500),
        tl(1, "A", dt.date(2025, 5, 31), opened=dt.date(2020, 6, 10), balance=400),
        tl(1, "A", dt.date(2025, 6, 30), opened=dt.date(2020, 6, 10), balance=600,
           profile="02" + "0" * 22),
        tl(1, "A", dt.date(2025, 7, 31), opened=dt.date(2020, 6, 10), balance=900,
           status="charge_off"),  # after as_of: invisible
        # B: installment, last reported in March (stale by 3 months), 30 days late then.
        tl(1, "B", dt.date(2025, 3, 31), account_type="installment", opened=dt.date(2024, 1, 15),
           limit=None, original=10000, balance=8000, past_due=300, status="past_due_30"),
    ]
    inqs = [
        inq(1, dt.datetime(2025, 6, 30, 23, 0)),  # same day, included
        inq(1, dt.datetime(2025, 2, 1, 9, 0)),  # within 6 months
        inq(1, dt.datetime(2024, 9, 1, 9, 0)),  # within 12 months only
        inq(1, dt.datetime(2025, 6, 1, 9, 0), hard=False),  # soft: ignored
        inq(1, dt.datetime(2025, 7, 1, 0, 0)),  # after as_of: ignored
    ]
    return tl_frame(rows), inq_frame(inqs)


def test_hand_computed_values(hand_built):
    tls, inqs = hand_built
    v = compute_attributes_online(tls, inqs, AS_OF)
    assert v["TRD01"] == 2 and v["TRD02"] == 2 and v["TRD03"] == 1 and v["TRD04"] == 1
    assert v["DLQ01"] == 1  # worst *current* status: B past_due_30; July charge-off unseen
    assert v["DLQ02"] == 2  # A's April month from the June profile
    assert v["DLQ05"] == 1 and v["DLQ06"] == 1 and v["DLQ07"] == 0
    assert v["DLQ08"] == 2 and v["DLQ09"] == 2 and v["DLQ10"] is None
    assert v["DLQ11"] == 2 and v["DLQ12"] == 0.0
    assert v["UTL01"] == pytest.approx(0.6)
    assert v["UTL03"] == pytest.approx((600 + 400 + 500) / 3000)
    assert v["BAL01"] == 8600 and v["BAL02"] == 600 and v["BAL03"] == 8000
    assert v["BAL04"] == 300
    assert v["BAL06"] == pytest.approx(0.8)
    # derived payments: A paid 100 in May (500 -> 400), nothing in June (400 -> 600)
    assert v["PAY02"] == 0.0
    assert v["PAY01"] == pytest.approx(100 / (400 + 500 + 8000))
    assert v["AGE01"] == 60 and v["AGE02"] == 17
    assert v["INQ01"] == 2 and v["INQ02"] == 3 and v["INQ03"] == 0
    batch = compute_attributes_batch(tls, inqs, AS_OF).row(0, named=True)
    batch.pop("subject_id")
    assert batch == v


def test_unknown_profile_months_are_not_current():
    rows = [tl(2, "C", dt.date(2025, 6, 30), profile="D" * 12 + "B" * 12,
               status="paid_closed", closed=dt.date(2025, 6, 1))]
    v = compute_attributes_online(tl_frame(rows), inq_frame([]), AS_OF)
    assert v["DLQ04"] == 0  # only June itself is known (paid_closed = severity 0)
    assert v["DLQ03"] == 0
    assert v["TRD02"] == 0 and v["TRD09"] == 1
    rows[0]["payment_history"] = "D" * 5 + "3" + "D" * 18
    v = compute_attributes_online(tl_frame(rows), inq_frame([]), AS_OF)
    assert v["DLQ04"] == 3 and v["DLQ10"] == 6 and v["DLQ02"] == 0


def test_bad_frames_raise():
    with pytest.raises(InputFrameError, match="lacks required columns"):
        compute_attributes_batch(pl.DataFrame({"subject_id": [1]}), inq_frame([]), AS_OF)
    as_text = tl_frame([tl(1, "A", AS_OF)]).with_columns(pl.col("reporting_date").cast(pl.String))
    with pytest.raises(InputFrameError, match="reporting_date must be a date"):
        compute_attributes_batch(as_text, inq_frame([]), AS_OF)
    two = tl_frame([tl(1, "A", AS_OF), tl(2, "A", AS_OF)])
    with pytest.raises(InputFrameError, match="one subject"):
        compute_attributes_online(two, inq_frame([]), AS_OF)
    with pytest.raises(InputFrameError, match="as_of"):
        compute_attributes_online(two.head(1), inq_frame([]), "30/06/2025")


def test_catalogue_is_well_formed():
    codes = [a.code for a in ATTRIBUTES]
    reasons = [a.reason_code for a in ATTRIBUTES]
    assert len(codes) >= 30
    assert len(set(codes)) == len(codes) and len(set(reasons)) == len(reasons)
    assert all(re.fullmatch(r"R\d\d", r) for r in reasons)
    assert all(a.reason_en and a.reason_zh and a.definition and a.unit for a in ATTRIBUTES)


def test_every_attribute_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and re.fullmatch(r"`?[A-Z]{3}\d\d`?", cells[0]):
            rows[cells[0].strip("`")] = cells
    undocumented = [a.code for a in ATTRIBUTES if a.code not in rows]
    assert not undocumented, f"attributes missing from docs/attributes.md: {undocumented}"
    for a in ATTRIBUTES:
        code, name, _definition, unit, missing, reason = rows[a.code][:6]
        assert name == a.name, a.code
        assert unit == a.unit, a.code
        assert missing == a.missing, a.code
        assert reason.strip("`") == a.reason_code, a.code
    stale = set(rows) - set(ATTRIBUTE_CODES)
    assert not stale, f"documented but not defined: {stale}"
