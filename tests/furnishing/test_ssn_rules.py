"""The columnar SSN check agrees with stdnum.us.ssn, which it replaces on the hot path
(except that a padded blacklisted number stays refused, see ssn_valid_one)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.us import ssn

from openbureau.furnishing.validate import _ssn_valid, ssn_valid_one

DIGITS = st.text("0123456789", min_size=9, max_size=9)
SHAPED = st.builds(
    lambda d, a, b, pad: f"{pad}{d[:3]}{a}{d[3:5]}{b}{d[5:]}{pad}",
    DIGITS,
    st.sampled_from(["", "-", " ", "--"]),
    st.sampled_from(["", "-", "/"]),
    st.sampled_from(["", " ", "\t"]),
)
EDGES = st.sampled_from(
    ["000123456", "666123456", "912345678", "123001234", "123450000", "078-05-1120",
     "457555462", "219-09-9999", "", "12345678", "1234567890", "１２３４５６７８９"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(SHAPED, EDGES, st.text(max_size=12)), min_size=1, max_size=20))
def test_columnar_ssn_rules_match_stdnum(values):
    got = _ssn_valid(pl.Series(values, dtype=pl.Utf8)).to_list()
    assert got == [ssn_valid_one(v) for v in values]
    blacklisted = [v for v in values if ssn.compact(v).replace("-", "") == "219099999"]
    assert not any(ssn_valid_one(v) for v in blacklisted)
