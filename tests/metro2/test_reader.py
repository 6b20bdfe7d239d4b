"""Framing, layout detection, chunking and file-level rejection."""

from __future__ import annotations

import polars as pl
import pytest

from openbureau.furnishing.metro2 import FileRejected, detect_layout, read_chunks, read_file
from openbureau.furnishing.metro2.sample import sample_base

from .conftest import LAYOUTS, make_file

REC = 426


def _rec_off(k: int) -> int:
    """Byte offset of record number k in a plain character fixed file (header = 1)."""
    return (k - 1) * REC


@pytest.mark.parametrize("layout", LAYOUTS)
def test_detect_layout(layout):
    data = make_file(3, **layout)
    lay = detect_layout(data[:16])
    assert (lay.packed, lay.blocked) == (layout["packed"], layout["blocked"])
    assert read_file(data).layout == lay


def test_chunking_gives_same_result_as_one_chunk():
    data = make_file(400)
    chunks = list(read_chunks(data, chunk_bytes=1))  # clamped to the minimum chunk size
    assert len(chunks) > 2
    whole = read_file(data, chunk_bytes=len(data) * 2)
    assert pl.concat([c.base for c in chunks]).equals(whole.base)
    for name, df in whole.segments.items():
        assert pl.concat([c.segments[name] for c in chunks if name in c.segments]).equals(df)
    assert whole.base.get_column("record_no").to_list() == list(range(2, 402))


def test_byte_offsets_point_at_records(plain_file):
    f = read_file(plain_file)
    offs = f.base.get_column("byte_offset").to_list()
    assert offs == [_rec_off(k) for k in range(2, 2 + f.base.height)]
    assert all(plain_file[o:o + 4] == b"0426" for o in offs)


@pytest.mark.parametrize("blocked", [False, True])
def test_packed_bytes_that_look_like_line_breaks(blocked):
    base = sample_base(6).with_columns(
        current_balance=pl.Series([10, 13, 2570, 3338, 10, 13]),
        amount_past_due=pl.Series([10, 13, 10, 13, 10, 13]),
        account_status=pl.lit("71"), payment_rating=pl.lit(""),
        date_first_delinquency=pl.col("date_account_information"),
        date_closed=None, original_charge_off_amount=0)
    data = make_file(base=base, kinds=(), packed=True, blocked=blocked, line_break=b"\r\n")
    assert b"\x0a" in data[400:] and b"\x0d" in data[400:]
    f = read_file(data)
    assert f.base.get_column("current_balance").to_list() == [10, 13, 2570, 3338, 10, 13]
    assert f.rejections.height == 0


def test_moov_style_line_breaks_inside_character_records(seg_file):
    broken = b"\r\n".join(seg_file[i:i + 81] for i in range(0, len(seg_file), 81))
    a, b = read_file(seg_file), read_file(broken)
    assert b.base.drop("byte_offset").equals(a.base.drop("byte_offset"))
    assert b.rejections.height == 0


def test_record_padded_beyond_its_fields(plain_file):
    k = 4
    off = _rec_off(k)
    padded = plain_file[:off] + b"0500" + plain_file[off + 4:off + REC] + b" " * 74 + \
        plain_file[off + REC:]
    f = read_file(padded)
    assert f.rejections.height == 0
    assert f.base.filter(pl.col("record_no") == k).get_column("rdw").item() == 500


def test_garbage_after_segments_rejects_only_that_record(plain_file):
    k = 5
    off = _rec_off(k)
    bad = plain_file[:off] + b"0436" + plain_file[off + 4:off + REC] + b"QQ GARBAGE" + \
        plain_file[off + REC:]
    f = read_file(bad)
    assert set(f.rejections.get_column("record_no")) == {k}
    assert f.rejections.get_column("rule").to_list() == ["unknown_segment"]


def _expect_rejected(data: bytes, rule: str):
    with pytest.raises(FileRejected) as ei:
        read_file(data)
    assert ei.value.rule == rule, ei.value
    return ei.value


def test_moov_blocked_bdw_bug_is_rejected():
    data = make_file(3, kinds=("J1",), blocked=True)
    first_base = 4 + 426  # header BDW + RDW/record
    assert data[first_base:first_base + 4] == b"0530"
    bad = data[:first_base] + b"0426" + data[first_base + 4:]
    _expect_rejected(bad, "bad_bdw")


def test_data_after_trailer(plain_file):
    assert read_file(plain_file + b"\r\n  \n").base.height == 40
    e = _expect_rejected(plain_file + plain_file[REC:2 * REC], "data_after_trailer")
    assert e.byte_offset == len(plain_file)


def test_trailer_mismatch(plain_file):
    t = len(plain_file) - REC
    bad = plain_file[:t + 11] + b"000000041" + plain_file[t + 20:]
    e = _expect_rejected(bad, "trailer_mismatch")
    assert "total_base_records" in e.message


def test_trailer_identifier_checked(plain_file):
    t = len(plain_file) - REC
    bad = plain_file[:t + 4] + b"TRAILEX" + plain_file[t + 11:]
    # not a trailer any more: the file has no trailer
    _expect_rejected(bad, "missing_trailer")


def test_missing_trailer_and_truncation(plain_file):
    _expect_rejected(plain_file[:-REC], "missing_trailer")
    _expect_rejected(plain_file[:-100], "truncated")


def test_not_metro2_and_second_header(plain_file):
    _expect_rejected(b"hello world, this is not metro 2" * 20, "not_metro2")
    _expect_rejected(b"", "empty")
    _expect_rejected(plain_file[:REC] + plain_file[:REC] + plain_file[REC:], "second_header")


def test_misframed_rdw(plain_file):
    off = _rec_off(6)
    bad = plain_file[:off] + b"04X6" + plain_file[off + 4:]
    e = _expect_rejected(bad, "misframed")
    assert e.byte_offset == off


def test_huge_rdw(plain_file):
    off = _rec_off(6)
    with pytest.raises(FileRejected) as ei:  # swallows the next records, then misframes
        read_file(plain_file[:off] + b"9999" + plain_file[off + 4:])
    assert ei.value.rule in ("bad_rdw", "misframed") and ei.value.byte_offset == off + 9999
    last = _rec_off(40)
    _expect_rejected(plain_file[:last] + b"9999" + plain_file[last + 4:], "truncated")
    packed = make_file(3, kinds=(), packed=True)
    _expect_rejected(packed[:366] + b"\xff\xff\x00\x00" + packed[370:], "truncated")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_file_with_no_accounts(layout):
    # Total Base Records is a required (non-zero) trailer field, as in moov
    data = make_file(base=sample_base(0), kinds=(), **layout)
    e = _expect_rejected(data, "trailer")
    assert "total_base_records" in e.message
    assert read_file(make_file(1, kinds=(), **layout)).base.height == 1
