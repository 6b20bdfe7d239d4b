"""The reader's fast paths decide exactly what straightforward code decides.

Every optimised piece of the parse (string views and their trimmed lengths, the per-record
bitmaps, date decoding by table, byte range checks, code lookups, the payment history check and
the segment discovery shortcut for uniform chunks) is swapped here for a plain reference
implementation, and files with random byte mutations must come out identical: the same frames,
the same rejections (record numbers, fields, rules, messages) or the same file rejection.
"""

from __future__ import annotations

import contextlib
import io
from unittest import mock

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from openbureau.furnishing.metro2 import FileRejected, decode, read_file, reader, validate
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


def _ref_span_below(mat: np.ndarray, lo: int) -> int:
    return 255 if int(mat.min()) < lo else int(mat.max()) - lo


def _ref_date_from_word(x: np.ndarray, empty: np.ndarray):
    mm, dd, cc, yy = col.digit_pairs(x)
    return col.date_from_parts(mm, dd, cc * 100 + yy, empty)


def _ref_ts_from_words(x: np.ndarray, t: np.ndarray, empty: np.ndarray):
    mm, dd, cc, yy = col.digit_pairs(x)
    _, hh, mi, ss = col.digit_pairs(t)
    return col.ts_from_parts((mm, dd, cc * 100 + yy), hh, mi, ss, empty)


def _ref_is_in(d, name: str, domain) -> np.ndarray:
    f = d.specs[name]
    raw = d.block.matrix(f.offset, f.length)
    texts = [bytes(r).rstrip(b" ") for r in raw]
    wanted = {c.encode() for c in domain}
    return np.array([t in wanted for t in texts], dtype=bool)


def _ref_not_in(d, name: str, domain, allow_blank: bool = True) -> np.ndarray:
    bad = ~_ref_is_in(d, name, domain)
    return bad & (d.lengths[name] != 0) if allow_blank else bad


def _ref_pairs_of(d, name: str, chars: str) -> np.ndarray:
    f = d.specs[name]
    ok = np.isin(np.arange(256), np.frombuffer(chars.encode(), np.uint8))
    return ok[d.block.matrix(f.offset, f.length)].all(axis=1)


def _ref_decode_fields(block, layout, encoding, clean=False, skip=frozenset()):
    """Digits checked up front, field by field, as the reader used to."""
    block.digits_known = block.numbers_are_digits(layout)
    block.verify_digits = False
    return decode._decode_all(block, layout, encoding, clean, skip)


@contextlib.contextmanager
def reference_paths():
    with contextlib.ExitStack() as stack:
        for target, attr, new in [
            (Block, "text", _ref_text),
            (Block, "text_length", _ref_text_length),
            (Block, "charset_bad", _ref_charset_bad),
            (col, "span_below", _ref_span_below),
            (col, "date_from_word", _ref_date_from_word),
            (col, "ts_from_words", _ref_ts_from_words),
            (validate, "is_in", _ref_is_in),
            (validate, "not_in", _ref_not_in),
            (validate, "pairs_of", _ref_pairs_of),
            (reader._ChunkParser, "_uniform", lambda self, fc: None),
            (reader, "decode_fields", _ref_decode_fields),
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


def test_date_words_decide_as_date_parts():
    """Every month and day number 00-99 in years at and beyond the accepted range's edges,
    and random bytes: table-driven date decoding gives the same days and verdicts."""
    years = [0, 1799, 1800, 1801, 1900, 1996, 2000, 2023, 2024, 2100, 2199, 2200, 9999]
    text = "".join(f"{m:02d}{d:02d}{y:04d}" for m in range(100) for d in range(100) for y in years)
    words = [
        np.frombuffer(text.encode(), "<u8"),
        np.random.default_rng(5).integers(0, 1 << 63, 100_000, dtype=np.uint64),
    ]
    for x in words:
        empty = x == np.uint64(0x3030303030303030)
        got, want = col.date_from_word(x, empty), _ref_date_from_word(x, empty)
        for a, b in zip(got, want, strict=True):
            assert (a == b).all()
        t = np.roll(x, 1)
        both = empty & (t == np.uint64(0x3030303030303030))
        got, want = col.ts_from_words(x, t, both), _ref_ts_from_words(x, t, both)
        for a, b in zip(got, want, strict=True):
            assert (a == b).all()


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


def test_payment_history_pairs_and_byte_ranges_decide_as_plain_checks():
    rng = np.random.default_rng(7)
    allowed = np.frombuffer(validate.C.PAYMENT_HISTORY_CHARS.encode(), np.uint8)
    mat = rng.choice(allowed, (3000, 24)).astype(np.uint8)
    at = rng.integers(0, 24, 3000)
    mat[np.arange(0, 3000, 2), at[::2]] = rng.integers(0, 256, 1500)  # one byte each, any
    d = type("D", (), {})()
    d.block, d.n = _block(mat), len(mat)
    d.specs = {"p": type("F", (), {"offset": 0, "length": 24})()}
    chars = validate.C.PAYMENT_HISTORY_CHARS
    assert (validate.pairs_of(d, "p", chars) == _ref_pairs_of(d, "p", chars)).all()
    for lo, k in ((0x30, 9), (0x20, 0x5E)):
        for rows in range(0, 3000, 97):
            m = d.block.matrix(0, 24)[rows : rows + 40]
            assert (col.span_below(m, lo) <= k) == (_ref_span_below(m, lo) <= k)
            c = np.ascontiguousarray(m)
            assert (col.span_below(c, lo) <= k) == (_ref_span_below(c, lo) <= k)


def test_non_digit_bits_find_every_non_digit_byte():
    """Every byte value at every position of an otherwise all-digit word, and random words."""
    rng = np.random.default_rng(11)
    base = rng.integers(0x30, 0x3A, (256 * 8, 8)).astype(np.uint8)
    pos = np.repeat(np.arange(8), 256)
    base[np.arange(256 * 8), pos] = np.tile(np.arange(256), 8)
    words = base.reshape(-1).view("<u8")
    digit = (base >= 0x30) & (base <= 0x39)
    for i, w in enumerate(words):
        got = col.non_digit_bits(w[None] - np.uint64(0x3030303030303030)) != 0
        assert got == (not digit[i].all())
    rand = rng.integers(0, 1 << 63, 5000, dtype=np.uint64)
    rand[::2] = rng.integers(0x30, 0x3A, (2500, 8)).astype(np.uint8).reshape(-1).view("<u8")
    for w in rand:
        got = col.non_digit_bits(w[None] - np.uint64(0x3030303030303030)) != 0
        assert got == (not bool(col.all_digits(w[None])[0]))


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
