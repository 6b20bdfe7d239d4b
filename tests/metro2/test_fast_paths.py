"""The reader's fast paths decide exactly what straightforward code decides.

Every optimised piece of the parse (the compiled string views, numbers and dates, the
per-record bitmaps, timestamp decoding by table, byte range checks, code lookups, the payment
history check and the segment discovery shortcut for uniform chunks) is swapped here for a
plain reference implementation, and files with random byte mutations must come out identical:
the same frames, the same rejections (record numbers, fields, rules, messages) or the same file
rejection.
"""

from __future__ import annotations

import contextlib
import io
from unittest import mock

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from openbureau.furnishing.metro2 import FileRejected, read_file, reader, validate
from openbureau.furnishing.metro2 import columns as col
from openbureau.furnishing.metro2.bytecols import Block
from openbureau.furnishing.metro2.framing import Framer

from .conftest import make_file

SEEDS = {
    # every record with the same segments: the uniform shortcut
    "char_uniform": make_file(6, ("J1", "J2", "K3", "L1", "N1")),
    "char_blocked_uniform": make_file(5, ("J1", "K1"), blocked=True),
    "packed_uniform": make_file(
        5, ("J1", "J2", "K1", "K2", "K3", "K4", "L1", "N1"), packed=True, blocked=True
    ),
    "packed_bcd": make_file(5, ("K2", "K4"), packed=True, packed_encoding="bcd"),
    # repeated segments: the general discovery loop
    "char_repeats": make_file(5, ("J2", "J2", "K1")),
    "bases_only": make_file(8, ()),
}
# bytes that exercise the checks: digits, blanks, signs, upper and lower case, the backtick,
# control bytes, the segment identifiers' letters and bytes above 0x7E
_INTERESTING = b"0123456789 -+JKLNOBZDEGHabcz`{\x00\x01\r\n\x7f\x80\xfe\xff/:"


def _record_bytes(data: bytes) -> list[int]:
    """Positions inside the account records past their length words (mutating the header,
    the trailer or a length word mostly rejects the whole file, which says little here)."""
    f = read_file(data)
    words = 8 if f.layout.blocked else 4
    return [
        p
        for off, rdw in f.base.select("byte_offset", "rdw").iter_rows()
        for p in range(off + words, off + words + rdw - 4)
    ]


_POSITIONS = {name: _record_bytes(data) for name, data in SEEDS.items()}


@st.composite
def mutated(draw) -> bytes:
    seed = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[seed])
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.sampled_from(_POSITIONS[seed]))
        if draw(st.booleans()):
            byte = draw(st.sampled_from(_INTERESTING))
        else:
            byte = draw(st.integers(0, 255))
        data[at] = byte
    return bytes(data)


def _ref_text(self: Block, off: int, width: int, trim: bool = True):
    mat = self.matrix(off, width)
    return col.text_array(mat, sanitize=False, trim=trim), _ref_length(mat, trim)


def _ref_length(mat: np.ndarray, trim: bool = True) -> np.ndarray:
    n, width = mat.shape
    if not trim:
        return np.full(n, width, np.int64)
    nonblank = mat != 0x20
    last = width - np.argmax(nonblank[:, ::-1], axis=1)
    return np.where(nonblank.any(axis=1), last, 0).astype(np.int64)


def _ref_text_length(self: Block, off: int, width: int) -> np.ndarray:
    return _ref_length(self.matrix(off, width))


def _ref_charset_bad(self: Block, off: int, width: int) -> np.ndarray:
    return ~col.ALLOWED[self.matrix(off, width)].all(axis=1)


def _ref_digits(self: Block, off: int, width: int):
    val, ok = col.decode_digits(self.matrix(off, width))
    return np.where(ok, val, 0), ok


def _ref_moment(self: Block, kind: str, off: int):
    """Dates and timestamps as the digits' value: a leading '-' makes a timestamp invalid
    unless the rest is zeros, which is empty."""
    val, ok = col.decode_digits(self.matrix(off, 8 if kind == "D8" else 14))
    empty = ok & (val == 0)
    if kind == "D8":
        values, valid = col.date_from_value(val, empty)
    else:
        values, valid = col.ts_from_value(np.maximum(val, 0), empty)
        valid &= (val >= 0) | empty
    good = ok & valid
    return np.where(good & ~empty, values, 0), good, empty


def _ref_span_below(mat: np.ndarray, lo: int) -> int:
    return 255 if int(mat.min()) < lo else int(mat.max()) - lo


def _ref_is_in(d, name: str, domain) -> np.ndarray:
    f = d.specs[name]
    raw = d.block.matrix(f.offset, f.length)
    texts = [bytes(r).rstrip(b" ") for r in raw]
    wanted = {c.encode() for c in domain}
    return np.array([t in wanted for t in texts], dtype=bool)


def _ref_not_in(d, name: str, domain, allow_blank: bool = True) -> np.ndarray:
    bad = ~_ref_is_in(d, name, domain)
    return bad & (d.lengths[name] != 0) if allow_blank else bad


def _ref_made_of(d, name: str, chars: str) -> np.ndarray:
    f = d.specs[name]
    ok = np.isin(np.arange(256), np.frombuffer(chars.encode(), np.uint8))
    return ok[d.block.matrix(f.offset, f.length)].all(axis=1)


def _ref_trimmed(d, name: str) -> list[bytes]:
    f = d.specs[name]
    return [bytes(r).rstrip(b" ") for r in d.block.matrix(f.offset, f.length)]


def _ref_digits_only(d, name: str) -> np.ndarray:
    return np.array([t.isdigit() for t in _ref_trimmed(d, name)], dtype=bool)


def _ref_filled_with(d, name: str, chars: str) -> np.ndarray:
    return np.array(
        [any(t != b"" and t == c.encode() * len(t) for c in chars) for t in _ref_trimmed(d, name)],
        dtype=bool,
    )


@contextlib.contextmanager
def reference_paths():
    with contextlib.ExitStack() as stack:
        for target, attr, new in [
            (Block, "text", _ref_text),
            (Block, "text_length", _ref_text_length),
            (Block, "charset_bad", _ref_charset_bad),
            (Block, "digits", _ref_digits),
            (Block, "moment", _ref_moment),
            (col, "span_below", _ref_span_below),
            (validate, "is_in", _ref_is_in),
            (validate, "not_in", _ref_not_in),
            (validate, "made_of", _ref_made_of),
            (validate, "digits_only", _ref_digits_only),
            (validate, "filled_with", _ref_filled_with),
            (reader._ChunkParser, "_uniform", lambda self, fc: None),
        ]:
            stack.enter_context(mock.patch.object(target, attr, new))
        yield


def _read(data: bytes):
    try:
        f = read_file(data)
    except FileRejected as e:
        return e.to_dict()
    return f


def _same(got, want) -> None:
    if isinstance(want, dict):
        assert got == want
        return
    assert_frame_equal(got.base, want.base)
    assert got.segments.keys() == want.segments.keys()
    for name in want.segments:
        assert_frame_equal(got.segments[name], want.segments[name])
    assert_frame_equal(got.rejections, want.rejections)
    assert got.header == want.header
    assert got.trailer == want.trailer


def test_reference_paths_are_in_use():
    """The patches reach the reader (else the comparison below proves nothing)."""
    calls = []

    def spy(self, fc):
        calls.append(len(fc.starts))
        return None

    with reference_paths(), mock.patch.object(reader._ChunkParser, "_uniform", spy):
        read_file(SEEDS["char_uniform"])
    assert calls == [6]
    fast = read_file(SEEDS["char_uniform"])
    assert fast.segments.keys() == {"J1", "J2", "K3", "L1", "N1"}
    assert fast.rejections.height == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_read_as_the_reference_reads_them(data):
    got = _read(data)
    with reference_paths():
        want = _read(data)
    _same(got, want)


def test_unmutated_seeds_match_the_reference():
    for data in SEEDS.values():
        got = _read(data)
        with reference_paths():
            want = _read(data)
        _same(got, want)
        assert not isinstance(got, dict) and got.rejections.height == 0


def test_bytearray_chunk_buffers_read_the_same(monkeypatch):
    """Where anonymous mappings are missing the framer reads into bytearrays."""
    from openbureau.furnishing.metro2 import framing

    want = {name: _read(data) for name, data in SEEDS.items()}
    monkeypatch.setattr(framing, "_chunk_buffer", bytearray)
    for name, data in SEEDS.items():  # bytes are read through a BytesIO's readinto
        _same(_read(data), want[name])
        _same(_read(io.BufferedReader(io.BytesIO(data))), want[name])


def test_chunks_grow_to_a_record_count_for_long_records():
    """Without an explicit size, chunks after the first are sized by the records seen (about
    20,000 of them, within 8-32 MiB); an explicit size is kept."""
    data = make_file(50, ("J1", "J2", "K3", "L1", "N1"))
    framer = Framer(io.BytesIO(data))
    list(framer)
    per_record = len(data) / 50
    assert framer.chunk_bytes == int(min(max(per_record * 20_000, 8 << 20), 32 << 20))
    fixed = Framer(io.BytesIO(data), 1 << 20)
    list(fixed)
    assert fixed.chunk_bytes == 1 << 20


def _block(mat: np.ndarray) -> Block:
    """The rows of `mat` as records 3 bytes apart from each other's ends (a strided block)."""
    n, width = mat.shape
    data = np.concatenate([np.full((n, 3), ord("#"), np.uint8), mat], axis=1).reshape(-1)
    return Block(np.ascontiguousarray(data), 3, width + 3, n, width)


def test_code_lookups_decide_as_text_comparison():
    """Every one- and two-byte value of a code field, against every domain the rules use."""

    class D:
        pass

    for width in (1, 2):
        codes = np.arange(1 << (8 * width), dtype="<u2" if width == 2 else "u1")
        mat = np.ascontiguousarray(codes).view(np.uint8).reshape(-1, width)
        d = D()
        d.block = _block(mat)
        d.specs = {"f": type("F", (), {"offset": 0, "length": width})()}
        d.lengths = {"f": _ref_length(mat)}
        d.n = len(mat)
        for domain in (
            validate.C.ACCOUNT_STATUSES,
            validate.C.SPECIAL_COMMENTS,
            validate.C.ECOA_CODES,
            validate.C.PORTFOLIO_TYPES,
            ("US",),
            ("2", "5"),
        ):
            for blank_ok in (True, False):
                got = validate.not_in(d, "f", domain, blank_ok)
                assert (got == _ref_not_in(d, "f", domain, blank_ok)).all()
            assert (validate.is_in(d, "f", domain) == _ref_is_in(d, "f", domain)).all()


def test_character_rules_decide_as_plain_checks():
    """Digits only, one character repeated: trailing blanks, blanks inside, empty fields and
    bytes of every value, at widths around the word size."""
    rng = np.random.default_rng(29)
    alphabet = np.frombuffer(b"0000099999123   -A\x00\xff", np.uint8)
    for width in (1, 3, 5, 8, 9, 16, 20, 25):
        mat = rng.choice(alphabet, (3000, width))
        mat[::5] = ord("0")
        mat[1::5, width // 2:] = ord(" ")
        mat[2::5, : width - width // 3] = ord("9")
        mat[2::5, width - width // 3:] = ord(" ")
        d = type("D", (), {})()
        d.block, d.n = _block(mat), len(mat)
        d.specs = {"f": type("F", (), {"offset": 0, "length": width})()}
        got = validate.digits_only(d, "f")
        assert (got == _ref_digits_only(d, "f")).all() and got.any() and not got.all()
        for chars in ("0", "9", "09"):
            got = validate.filled_with(d, "f", chars)
            assert (got == _ref_filled_with(d, "f", chars)).all() and got.any()


def test_payment_history_characters_and_byte_ranges_decide_as_plain_checks():
    rng = np.random.default_rng(7)
    allowed = np.frombuffer(validate.C.PAYMENT_HISTORY_CHARS.encode(), np.uint8)
    mat = rng.choice(allowed, (3000, 24)).astype(np.uint8)
    at = rng.integers(0, 24, 3000)
    mat[np.arange(0, 3000, 2), at[::2]] = rng.integers(0, 256, 1500)  # one byte each, any
    d = type("D", (), {})()
    d.block, d.n = _block(mat), len(mat)
    d.specs = {"p": type("F", (), {"offset": 0, "length": 24})()}
    chars = validate.C.PAYMENT_HISTORY_CHARS
    assert (validate.made_of(d, "p", chars) == _ref_made_of(d, "p", chars)).all()
    for lo, k in ((0x30, 9), (0x20, 0x5E)):
        for rows in range(0, 3000, 97):
            m = d.block.matrix(0, 24)[rows : rows + 40]
            assert (col.span_below(m, lo) <= k) == (_ref_span_below(m, lo) <= k)
            c = np.ascontiguousarray(m)
            assert (col.span_below(c, lo) <= k) == (_ref_span_below(c, lo) <= k)


def test_every_string_view_matches_plain_text():
    """String views (inline up to 12 bytes, else pointing into the chunk) hold the trimmed
    field for every length 0..width, across the inline boundary."""
    rng = np.random.default_rng(3)
    width = 20
    rows = []
    for length in range(width + 1):
        body = rng.choice(list(b"AZ09 -"), length).astype(np.uint8)
        if length:
            body[-1] = ord("X")
        rows.append(np.concatenate([body, np.full(width - length, 0x20, np.uint8)]))
    mat = np.stack(rows)
    data = np.ascontiguousarray(
        np.concatenate([np.full((len(rows), 3), ord("#"), np.uint8), mat], axis=1)
    ).reshape(-1)
    block = Block(data, 0, width + 3, len(rows), width + 3)
    arr, length = block.text(3, width)
    assert pl.Series(arr).to_list() == [bytes(r).rstrip(b" ").decode() for r in rows]
    assert length.tolist() == list(range(width + 1))


# -- the compiled loops (_kernels), field by field against the plain references --------------


def test_compiled_dates_and_timestamps_decide_as_the_digits_value():
    """Every month and day number 00-99 in years at and beyond the accepted range's edges,
    times of day at and past their limits, and random bytes (mostly digits, some signs): the
    same values, verdicts and empties as decoding the digits' value."""
    years = [0, 1799, 1800, 1801, 1900, 1996, 2000, 2023, 2024, 2100, 2199, 2200, 9999]
    text = "".join(f"{m:02d}{d:02d}{y:04d}" for m in range(100) for d in range(100) for y in years)
    days = np.frombuffer(text.encode(), np.uint8).reshape(-1, 8)
    rng = np.random.default_rng(17)
    times = np.frombuffer("".join(rng.choice(["000000", "235959", "240000", "236000", "230060",
                                              "120000", "00000-"], len(days))).encode(),
                          np.uint8).reshape(-1, 6).copy()
    times[0] = np.frombuffer(b"000000", np.uint8)  # the first date is 00000000: empty
    noisy = rng.choice(np.frombuffer(b"0123456789012345678900000000 -/A\xff", np.uint8),
                       (50_000, 14))
    noisy[::7, 0] = ord("-")
    noisy[::11, 1:] = ord("0")
    for mat in (np.concatenate([days, times], axis=1), noisy):
        block = _block(mat)
        for kind in ("D8", "TS14"):
            got, want = block.moment(kind, 0), _ref_moment(block, kind, 0)
            for a, b in zip(got, want, strict=True):
                assert (a == b).all(), kind
            assert got[1].sum() > 0 and (~got[1]).sum() > 0 and got[2].sum() > 0


def test_compiled_numbers_decide_as_column_decoding():
    """Widths 1-18 (a leading '-' is a sign only where the width is not a multiple of 8)."""
    rng = np.random.default_rng(19)
    alphabet = np.frombuffer(b"01234567890123456789" * 3 + b"- +A\x00\xff", np.uint8)
    for width in range(1, 19):
        mat = rng.choice(alphabet, (4_000, width))
        mat[::3, 0] = ord("-")
        block = _block(mat)
        (val, ok), (ref_val, ref_ok) = block.digits(0, width), _ref_digits(block, 0, width)
        assert (ok == ref_ok).all() and (val == ref_val).all(), width
        assert ok.any() and (width == 1 or (val < 0).any() == (width % 8 != 0))


def test_compiled_string_views_hold_the_field_text():
    """Widths 1-40, short and long strings, blanks inside and at the end, trimmed or not."""
    rng = np.random.default_rng(23)
    for width in range(1, 41):
        mat = rng.choice(np.frombuffer(b"AB9 -    ", np.uint8), (2_000, width))
        mat[::4] = ord(" ")
        block = _block(mat)
        for trim in (True, False):
            array, length = block.text(0, width, trim)
            rows = [bytes(r).decode() for r in mat]
            want = [r.rstrip(" ") if trim else r for r in rows]
            assert array.to_pylist() == want
            assert length.tolist() == [len(w) for w in want]


def test_compiled_loops_refuse_what_would_read_outside_the_buffer():
    from openbureau.furnishing.metro2 import _kernels

    data = np.full(100, ord("0"), np.uint8)
    i64 = lambda *v: np.array(v, dtype=np.int64)  # noqa: E731
    views = np.empty((1, 4, 2), np.uint64)
    with pytest.raises(ValueError, match="outside the buffer"):  # 3 * 20 + 30 + 8 > 100
        _kernels.string_views(data, 0, 20, 4, i64(30), i64(10), np.ones(1, np.uint8), views)
    with pytest.raises(ValueError, match="views holds"):
        _kernels.string_views(data, 0, 20, 5, i64(0), i64(5), np.ones(1, np.uint8), views)
    values, oks = np.empty((1, 4), np.int64), np.empty((1, 4), np.uint8)
    with pytest.raises(ValueError, match="outside the buffer"):
        _kernels.digit_numbers(data, 0, 25, 4, i64(20), i64(10), values, oks)
    with pytest.raises(ValueError, match="19 digits"):
        _kernels.digit_numbers(data, 0, 20, 4, i64(0), i64(19), values, oks)
    with pytest.raises(ValueError, match="outside the buffer"):
        _kernels.dates(data, 0, 30, 4, i64(-1), values, oks)
    with pytest.raises(ValueError, match="negative"):
        _kernels.dates(data, -1, 30, 4, i64(0), values, oks)
    _kernels.dates(data, 0, 30, 4, i64(0), values, oks)  # in bounds: '00000000' is empty
    assert oks.tolist() == [[1, 1, 1, 1]]
