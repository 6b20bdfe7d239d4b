"""The reader's byte-level field access agrees with plain Python on arbitrary bytes."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from openbureau.furnishing.metro2 import columns as col
from openbureau.furnishing.metro2.bytecols import Block
from openbureau.furnishing.metro2.decode import decode_fields
from openbureau.furnishing.metro2.layouts import FieldSpec


def _block(values: list[str], gap: str = "#") -> Block:
    """Records `gap + value + gap`, so every field read is unaligned and strided."""
    raw = "".join(gap + v + gap for v in values).encode("latin-1")
    width = len(values[0]) + 2
    pos = np.arange(len(values), dtype=np.int64) * width
    return Block.at(np.frombuffer(raw, np.uint8), pos, width)


@given(st.integers(1, 14).flatmap(
    lambda w: st.lists(st.text("0123456789- /A", min_size=w, max_size=w), min_size=1,
                       max_size=30)))
def test_digits_match_the_column_decoder(values):
    w = len(values[0])
    got, ok = _block(values).digits(1, w)
    mat = np.frombuffer("".join(values).encode(), np.uint8).reshape(len(values), w)
    want, want_ok = col.decode_digits(mat)
    assert (ok == want_ok).all()
    assert (got[ok] == want[ok]).all()
    assert (got[~ok] == 0).all()


@given(st.integers(1, 60).flatmap(
    lambda w: st.lists(st.text(" AB`\x01\x7f", max_size=w).map(lambda s, w=w: s.ljust(w)),
                       min_size=1, max_size=20)))
def test_text_views_are_the_trimmed_strings(values):
    w = len(values[0])
    block = _block(values)
    arr, length = block.text(1, w)
    raw = [v.encode() for v in values]
    assert list(length) == [len(r.rstrip(b" ")) for r in raw]
    assert pl.from_arrow(arr).to_list() == [v.rstrip(" ") for v in values]
    bad = block.charset_bad(1, w)
    assert list(bad) == [any(b < 0x20 or b > 0x7E or b == 0x60 for b in r) for r in raw]


@given(st.lists(st.text("0123456789-", min_size=14, max_size=14), min_size=1, max_size=20)
       | st.lists(st.sampled_from(["-0000000000000", "00000000000000", "-1231202012000",
                                   "12312020235959", "02292021000000"]), min_size=1))
def test_timestamps_match_the_value_path(values):
    layout = (FieldSpec("ts", 1, 14, "TS14"),)
    d = decode_fields(_block(values), layout, "binary")
    micros, valid = d.values["ts"]
    mat = np.frombuffer("".join(values).encode(), np.uint8).reshape(len(values), 14)
    val, ok = col.decode_digits(mat)
    ok &= val >= 0
    empty = ok & (val == 0)
    want, vok = col.ts_from_value(val, empty)
    want_valid = ok & vok & ~empty
    assert list(valid) == list(want_valid)
    assert (micros[valid] == want[want_valid]).all()
