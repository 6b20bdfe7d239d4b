"""Property: write → read is the identity for every layout (hypothesis)."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbureau.furnishing.metro2 import read_file, write_file
from openbureau.furnishing.metro2.layouts import BASE_CHAR, SEGMENTS
from openbureau.furnishing.metro2.sample import HEADER
from openbureau.furnishing.metro2.writer import _dtype

from .conftest import LAYOUTS

ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -&/.,'#"
DATES = st.one_of(st.none(), st.dates(dt.date(1800, 1, 1), dt.date(2199, 12, 31)))
TIMES = st.one_of(st.none(), st.datetimes(dt.datetime(1800, 1, 1), dt.datetime(2199, 12, 31))
                  .map(lambda d: d.replace(microsecond=0)))


def _field(f):
    if f.kind == "AN":
        if f.name == "payment_history_profile":
            return st.text("0123456BDEGHJKLZ ", min_size=24, max_size=24)
        return st.text(ALPHA, max_size=f.length).map(str.rstrip)
    if f.kind == "N":
        return st.integers(0, 10**f.length - 1)
    if f.kind == "D8":
        return DATES
    if f.kind == "TS14":
        return TIMES
    raise AssertionError(f.kind)


def _record(layout, skip=("segment_identifier",)):
    fields = [f for f in layout if f.kind not in ("RDW", "RES") and f.name not in skip]
    return st.fixed_dictionaries({f.name: _field(f) for f in fields})


def _frame(rows, layout, extra):
    schema = {f.name: _dtype(f) for f in layout
              if f.kind not in ("RDW", "RES") and f.name != "segment_identifier"}
    return pl.DataFrame(rows, schema=extra | schema, orient="row")


@st.composite
def files(draw):
    n = draw(st.integers(1, 4))
    bases = [draw(_record(BASE_CHAR)) | {"record_no": i + 2} for i in range(n)]
    base = _frame(bases, BASE_CHAR, {"record_no": pl.Int64()})
    segs = {}
    for name in draw(st.lists(st.sampled_from(sorted(SEGMENTS)), unique=True, max_size=8)):
        rows = []
        for i in range(n):
            reps = draw(st.integers(0, 2 if name in ("J1", "J2") else 1))
            rows += [draw(_record(SEGMENTS[name])) | {"record_no": i + 2, "seq": k}
                     for k in range(reps)]
        if rows:
            segs[name] = _frame(rows, SEGMENTS[name], {"record_no": pl.Int64(), "seq": pl.Int64()})
    return base, segs


@pytest.mark.parametrize("layout", LAYOUTS,
                         ids=lambda d: "-".join(f"{k}={v}" for k, v in d.items()))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=files(), line_break=st.sampled_from([b"", b"\n", b"\r\n"]))
def test_write_read_identity(layout, data, line_break):
    base, segs = data
    buf = io.BytesIO()
    write_file(buf, HEADER, base, segs, line_break=line_break, **layout)
    got = read_file(buf.getvalue(), packed_encoding=layout.get("packed_encoding", "auto")
                    if layout["packed"] else "auto")
    assert got.layout.packed == layout["packed"] and got.layout.blocked == layout["blocked"]
    assert got.base.select(base.columns).equals(base)
    for k, v in HEADER.items():
        assert got.header[k] == v
    assert sorted(got.segments) == sorted(segs)
    for name, want in segs.items():
        have = got.segments[name].sort("record_no", "seq", maintain_order=True)
        want = want.sort("record_no", "seq", maintain_order=True)
        assert have.drop("seq", "byte_offset").equals(want.drop("seq")), name
    assert got.trailer["total_base_records"] == base.height
