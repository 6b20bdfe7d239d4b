"""Framing files whose record lengths change every few records (some with a J1, some with a
K1, ...), in every layout, with and without line breaks, in one chunk and in many."""

from __future__ import annotations

import io

import numpy as np
import polars as pl
import pytest

from openbureau.furnishing.metro2 import FileRejected, read_file, write_file
from openbureau.furnishing.metro2.layouts import (
    CHAR_BASE_LENGTH,
    PACKED_BASE_LENGTH,
    SEGMENT_LENGTHS,
)
from openbureau.furnishing.metro2.sample import HEADER, sample_base, sample_segments

from .conftest import LAYOUTS, make_file

KINDS = ("J1", "J2", "K1", "K2", "K3", "K4", "L1", "N1")
N = 700
MIN_CHUNK = 1  # clamped to the framer's minimum (about 128 KiB): several chunks per file


def _has(rec: np.ndarray, kind: str) -> np.ndarray:
    """Which records carry `kind`: lengths change every few records, and records 300-449
    carry nothing (a long run of equal lengths between the mixed parts)."""
    k = KINDS.index(kind)
    has = (rec * (k + 3) + rec // 7) % (k + 2) == 0
    return has & ((rec < 300) | (rec >= 450))


def _mixed(layout: dict, line_break: bytes, n: int = N, twice: frozenset = frozenset()
           ) -> tuple[bytes, pl.DataFrame, dict[str, pl.DataFrame]]:
    base = sample_base(n, seed=3)
    rec = base.get_column("record_no").to_numpy()
    segs = {}
    for kind, df in sample_segments(base, KINDS, seed=3).items():
        keep = rec[_has(rec, kind)]
        segs[kind] = df.filter(pl.col("record_no").is_in(keep.tolist()))
    for kind in twice:  # records with a second J1: longer records, lengths with other bytes
        segs[kind] = pl.concat([segs[kind], segs[kind].with_columns(seq=pl.lit(1, pl.Int64))])
    buf = io.BytesIO()
    write_file(buf, HEADER, base, segs, line_break=line_break, **layout)
    return buf.getvalue(), base, segs


def _expected(layout: dict, line_break: bytes, base: pl.DataFrame,
              segs: dict[str, pl.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """RDW and byte offset of every base record, from what was written."""
    blen = PACKED_BASE_LENGTH if layout["packed"] else CHAR_BASE_LENGTH
    wl = 4 if layout["blocked"] else 0
    rec = base.get_column("record_no").to_numpy()
    rdw = np.full(len(rec), blen, dtype=np.int64)
    for kind, df in segs.items():
        at = np.searchsorted(rec, df.get_column("record_no").to_numpy())
        np.add.at(rdw, at, SEGMENT_LENGTHS[kind])
    size = wl + rdw + len(line_break)
    offsets = wl + blen + len(line_break) + np.concatenate(([0], np.cumsum(size[:-1])))
    return rdw, offsets


def _check(data: bytes, layout: dict, line_break: bytes, base, segs, chunk_bytes: int) -> None:
    rdw, offsets = _expected(layout, line_break, base, segs)
    assert len(np.unique(rdw)) >= 8
    assert (rdw[1:] != rdw[:-1]).sum() > N // 3  # lengths change every few records
    got = read_file(data, chunk_bytes=chunk_bytes, **_encoding(layout))
    assert got.rejections.height == 0
    assert got.base.get_column("record_no").to_list() == list(range(2, N + 2))
    assert got.base.get_column("rdw").to_numpy().tolist() == rdw.tolist()
    assert got.base.get_column("byte_offset").to_numpy().tolist() == offsets.tolist()
    wl = 4 if layout["blocked"] else 0
    for off, length in zip(offsets[::37].tolist(), rdw[::37].tolist(), strict=True):
        word = data[off + wl:off + wl + 4]
        assert (word[:2] == length.to_bytes(2, "big")) if layout["packed"] else \
            (word == b"%04d" % length)
    assert got.base.select(base.columns).equals(base)
    assert sorted(got.segments) == sorted(segs)
    for kind, want in segs.items():
        have = got.segments[kind]
        assert have.get_column("record_no").sort().to_list() == \
            want.get_column("record_no").sort().to_list(), kind
    assert got.trailer["total_base_records"] == N


def _encoding(layout: dict) -> dict:
    return {"packed_encoding": layout.get("packed_encoding", "auto")} if layout["packed"] \
        else {}


@pytest.mark.parametrize("line_break", [b"", b"\n", b"\r\n"], ids=["none", "lf", "crlf"])
@pytest.mark.parametrize("layout", LAYOUTS,
                         ids=lambda d: "-".join(f"{k}={v}" for k, v in d.items()))
def test_mixed_lengths_frame_every_record(layout, line_break):
    data, base, segs = _mixed(layout, line_break)
    for chunk_bytes in (MIN_CHUNK, len(data) * 2):
        _check(data, layout, line_break, base, segs, chunk_bytes)


@pytest.mark.parametrize("line_break", [b"", b"\n", b"\r\n"], ids=["none", "lf", "crlf"])
@pytest.mark.parametrize("blocked", [False, True])
def test_packed_lengths_whose_first_byte_looks_like_a_line_break(blocked, line_break):
    # 366 + 22 x 100 = 2566 = 0x0A06: the length word of such a record starts with byte 0A
    layout = dict(packed=True, blocked=blocked)
    base = sample_base(N, seed=4)
    rec = base.get_column("record_no").to_numpy()
    j1 = sample_segments(base, ("J1",), seed=4)["J1"]
    every = j1.filter(pl.col("record_no").is_in(rec[rec % 3 == 0].tolist()))
    many = j1.filter(pl.col("record_no").is_in(rec[rec % 5 == 1].tolist()))
    segs = {"J1": pl.concat([every] + [many.with_columns(seq=pl.lit(k, pl.Int64))
                                       for k in range(1, 23)])}
    buf = io.BytesIO()
    write_file(buf, HEADER, base, segs, line_break=line_break, **layout)
    data = buf.getvalue()
    rdw, offsets = _expected(layout, line_break, base, segs)
    assert (rdw >> 8 == 0x0A).sum() > 100
    for chunk_bytes in (MIN_CHUNK, len(data) * 2):
        got = read_file(data, chunk_bytes=chunk_bytes)
        assert got.rejections.height == 0
        assert got.base.get_column("rdw").to_numpy().tolist() == rdw.tolist()
        assert got.base.get_column("byte_offset").to_numpy().tolist() == offsets.tolist()
        assert got.segments["J1"].height == segs["J1"].height


def _record_at(data: bytes, k: int, layout: dict, line_break: bytes, base, segs) -> int:
    """Byte offset of base record number k (the header is record 1)."""
    return int(_expected(layout, line_break, base, segs)[1][k - 2])


@pytest.mark.parametrize("line_break", [b"", b"\r\n"], ids=["none", "crlf"])
def test_line_breaks_inside_one_character_record_of_a_chain(line_break):
    layout = dict(packed=False, blocked=False)
    data, base, segs = _mixed(layout, line_break)
    at = _record_at(data, 123, layout, line_break, base, segs)
    broken = data[:at + 81] + b"\r\n" + data[at + 81:at + 162] + b"\n" + data[at + 162:]
    got = read_file(broken, chunk_bytes=MIN_CHUNK)
    assert got.rejections.height == 0
    assert got.base.select(base.columns).equals(base)
    offs = got.base.get_column("byte_offset").to_list()
    assert offs[123 - 2] == at and offs[124 - 2] == offs[123 - 2] + len(line_break) + 3 + int(
        got.base.filter(pl.col("record_no") == 123).get_column("rdw").item())


def _rejected(data: bytes, rule: str) -> FileRejected:
    with pytest.raises(FileRejected) as ei:
        read_file(data, chunk_bytes=MIN_CHUNK)
    assert ei.value.rule == rule, ei.value
    return ei.value


@pytest.mark.parametrize("layout", LAYOUTS[:4],
                         ids=lambda d: "-".join(f"{k}={v}" for k, v in d.items()))
def test_bad_records_inside_a_chain(layout):
    # in packed files a line break only separates records when a valid length word follows
    # it, so the offset of a bad word would be the line break's
    line_break = b"" if layout["packed"] else b"\n"
    data, base, segs = _mixed(layout, line_break)
    wl = 4 if layout["blocked"] else 0
    k = 211
    at = _record_at(data, k, layout, line_break, base, segs)
    # a length word that is not one
    bad = data[:at + wl] + (b"\x01\x6e\x00\x01" if layout["packed"] else b"04X6") + \
        data[at + wl + 4:]
    e = _rejected(bad, "misframed")
    assert (e.byte_offset, e.record_no) == (at, k)
    # an RDW below the minimum length
    small = b"\x00\x10\x00\x00" if layout["packed"] else b"0016"
    e = _rejected(data[:at + wl] + small + data[at + wl + 4:], "bad_rdw")
    assert (e.byte_offset, e.record_no) == (at, k)
    # a second header where a base should be
    blen = PACKED_BASE_LENGTH if layout["packed"] else CHAR_BASE_LENGTH
    header = data[:wl + blen]
    e = _rejected(data[:at] + header + line_break + data[at:], "second_header")
    assert (e.byte_offset, e.record_no) == (at, k)
    # a trailer early: what follows it is data after the trailer
    trailer = data[len(data) - blen - len(line_break):len(data) - len(line_break)]
    assert trailer[4:11] == b"TRAILER"
    e = _rejected(data[:at] + trailer + line_break + data[at:], "data_after_trailer")
    assert e.byte_offset == at + len(trailer) + len(line_break)


@pytest.mark.parametrize("packed", [False, True])
def test_blocks_holding_more_than_their_record_inside_a_chain(packed):
    layout = dict(packed=packed, blocked=True)
    data, base, segs = _mixed(layout, b"")
    k = 155  # in the first mixed part
    at = _record_at(data, k, layout, b"", base, segs)
    rdw = int(_expected(layout, b"", base, segs)[0][k - 2])

    def bdw(n: int) -> bytes:
        return n.to_bytes(2, "big") + b"\x00\x00" if packed else b"%04d" % n

    end = at + 4 + rdw
    padded = data[:at] + bdw(rdw + 10) + data[at + 4:end] + b" " * 6 + data[end:]
    got = read_file(padded, chunk_bytes=MIN_CHUNK)
    assert got.rejections.height == 0 and got.base.height == N
    offs = got.base.get_column("byte_offset").to_list()
    assert offs[k - 1] == offs[k - 2] + rdw + 10
    multi = data[:at] + bdw(rdw + 10) + data[at + 4:end] + b"QQQQQQ" + data[end:]
    e = _rejected(multi, "multi_record_block")
    assert (e.byte_offset, e.record_no) == (at, k)


@pytest.mark.parametrize("layout", LAYOUTS[:4],
                         ids=lambda d: "-".join(f"{k}={v}" for k, v in d.items()))
def test_truncated_inside_a_chain(layout):
    data, base, segs = _mixed(layout, b"")
    at = _record_at(data, 550, layout, b"", base, segs)  # in the second mixed part
    e = _rejected(data[:at + 100], "truncated")
    assert e.byte_offset == at


def _blocks_padded(data: bytes, packed: bool, bad: int | None) -> tuple[bytes, list[int]]:
    """A blocked file of equal-length records with 6 bytes of padding after every base record
    (BDW = RDW + 10); the padding of base record number `bad` is not blank."""
    blen = PACKED_BASE_LENGTH if packed else CHAR_BASE_LENGTH
    size = 4 + blen
    out, offsets = bytearray(data[:size]), []
    p, k = size, 2
    while data[p + 4:p + 11] != b"TRAILER":
        bdw = blen + 10
        offsets.append(len(out))
        out += (bdw.to_bytes(2, "big") + b"\0\0" if packed else b"%04d" % bdw)
        out += data[p + 4:p + size] + (b"QQQQQQ" if k == bad else b" " * 3 + b"\0" * 3)
        p, k = p + size, k + 1
    return bytes(out + data[p:]), offsets


@pytest.mark.parametrize("packed", [False, True])
def test_padding_of_every_block_in_a_long_run_is_checked(packed):
    data = make_file(400, (), packed=packed, blocked=True)
    padded, offsets = _blocks_padded(data, packed, None)
    got = read_file(padded, chunk_bytes=MIN_CHUNK)
    assert got.rejections.height == 0
    assert got.base.get_column("byte_offset").to_list() == offsets
    multi, offsets = _blocks_padded(data, packed, 150)
    e = _rejected(multi, "multi_record_block")
    assert (e.byte_offset, e.record_no) == (offsets[150 - 2], 150)


@pytest.mark.parametrize("layout", LAYOUTS[:4],
                         ids=lambda d: "-".join(f"{k}={v}" for k, v in d.items()))
def test_second_header_inside_a_long_run(layout):
    data = make_file(400, (), **layout)
    size = (4 if layout["blocked"] else 0) + (
        PACKED_BASE_LENGTH if layout["packed"] else CHAR_BASE_LENGTH)
    at = 300 * size  # record 301 of equal-length records
    e = _rejected(data[:at] + data[:size] + data[at:], "second_header")
    assert (e.byte_offset, e.record_no) == (at, 301)
