"""Layout tables and packed encodings against the fact sheet's examples."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from openbureau.furnishing.metro2 import layouts as L
from openbureau.furnishing.metro2 import packed


def _pos(layout, name):
    f = {f.name: f for f in layout}[name]
    return f.offset + 1, f.length


def test_base_positions_match_fact_sheet():
    assert _pos(L.BASE_CHAR, "account_status") == (124, 2)
    assert _pos(L.BASE_CHAR, "payment_history_profile") == (127, 24)
    assert _pos(L.BASE_CHAR, "social_security_number") == (298, 9)
    assert _pos(L.BASE_CHAR, "residence_code") == (426, 1)
    assert _pos(L.BASE_PACKED, "date_opened") == (70, 5)
    assert _pos(L.BASE_PACKED, "telephone_number") == (259, 6)
    assert _pos(L.BASE_PACKED, "ecoa_code") == (265, 1)
    assert _pos(L.TRAILER_CHAR, "total_telephone_numbers_all_segments") == (399, 9)
    assert _pos(L.TRAILER_PACKED, "block_count") == (37, 5)
    assert _pos(L.SEGMENTS["J2"], "zip_code") == (188, 9)
    assert _pos(L.SEGMENTS["N1"], "occupation") == (128, 18)


def test_moov_binary_date_example():
    raw = np.frombuffer(bytes.fromhex("00AB3C0373"), np.uint8)[None, :]
    val, empty, ok = packed.decode_tagged(raw)
    assert val[0] == 11222019 and ok[0] and not empty[0]


def test_comp3_date_example():
    # 11222019 in COMP-3 is 0|1 1|2 2|2 0|1 9|F. (The fact sheet prints 00 11 22 01 9F,
    # which drops a digit: that decodes to 1122019.)
    raw = np.frombuffer(bytes.fromhex("011222019F"), np.uint8)[None, :]
    val, empty, ok = packed.decode_tagged(raw)
    assert val[0] == 11222019 and ok[0] and not empty[0]


def test_bad_packed_date_is_flagged_not_silently_empty():
    raw = np.frombuffer(bytes.fromhex("01AB3C0374"), np.uint8)[None, :]
    _, _, ok = packed.decode_tagged(raw)
    assert not ok[0]


def test_encoding_detection():
    binary = packed.encode_tagged(np.array([11222019]), np.array([False]), 5, "binary")
    bcd = packed.encode_tagged(np.array([11222019]), np.array([False]), 5, "bcd")
    assert binary.tobytes() == bytes.fromhex("00AB3C0373")
    assert bcd.tobytes() == bytes.fromhex("011222019C")
    assert packed.detect_encoding([binary]) == "binary"
    assert packed.detect_encoding([bcd]) == "bcd"


@given(st.lists(st.integers(0, 999_999_999), min_size=1, max_size=50),
       st.sampled_from(["binary", "bcd"]))
def test_packed_numbers_round_trip(values, enc):
    v = np.array(values, dtype=np.int64)
    mat = packed.encode_number(v, 5, enc)
    out, ok = packed.decode_number(mat, enc)
    assert ok.all() and (out == v).all()


def test_comp3_negative_and_bad_sign():
    val, ok = packed.decode_bcd(np.frombuffer(bytes.fromhex("000000123D"), np.uint8)[None, :])
    assert ok[0] and val[0] == -123
    _, ok = packed.decode_bcd(np.frombuffer(bytes.fromhex("0000001234"), np.uint8)[None, :])
    assert not ok[0]


@given(st.integers(1, 14).flatmap(
    lambda w: st.lists(st.text("0123456789- /A", min_size=w, max_size=w), min_size=1,
                       max_size=30)))
def test_digit_decoding_matches_python_int(values):
    from openbureau.furnishing.metro2.columns import decode_digits

    w = len(values[0])
    raw = np.frombuffer("".join("#" + v + "#" for v in values).encode(), np.uint8)
    mat = raw.reshape(len(values), w + 2)[:, 1:-1]  # strided, not contiguous
    got, ok = decode_digits(mat)
    for v, g, k in zip(values, got, ok, strict=True):
        digits = v[1:] if (w > 1 and w % 8 and v.startswith("-")) else v
        expect = int(v) if digits.isdigit() else None
        assert bool(k) == (expect is not None), v
        if expect is not None:
            assert g == expect
