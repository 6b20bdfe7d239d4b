"""The openbureau OB extension segment: read, validated and written like any segment, while
the rest of the file stays standard."""

from __future__ import annotations

import io

import polars as pl

from openbureau.furnishing.metro2 import read_file, to_native, write_file
from openbureau.furnishing.metro2.reader import read_chunks
from openbureau.furnishing.metro2.sample import HEADER, sample_base, sample_segments


def _file(base: pl.DataFrame, segments: dict) -> bytes:
    buffer = io.BytesIO()
    write_file(buffer, HEADER, base, segments)
    return buffer.getvalue()


def test_extension_comes_last_and_leaves_the_trailer_standard():
    base = sample_base(4, seed=2)
    standard = sample_segments(base, ("J1", "K1", "N1"))
    with_ob = standard | sample_segments(base, ("OB",))
    plain, extended = _file(base, standard), _file(base, with_ob)
    assert plain[-426:] == extended[-426:]  # same trailer, byte for byte
    parsed = read_file(extended)
    assert parsed.rejections.height == 0
    first = parsed.base.row(0, named=True)
    # In every record OB follows N1, which ends the standard segments.
    assert first["rdw"] == 426 + 100 + 34 + 146 + 60
    record = extended[426 : 426 + first["rdw"]]
    assert record[426 + 100 + 34 : 426 + 100 + 34 + 2] == b"N1"
    assert record[-60:-58] == b"OB"


def test_extension_identity_replaces_the_base_ssn_phone_and_currency():
    base = sample_base(3, seed=5)
    ob = sample_segments(base, ("OB",))["OB"]
    accounts = to_native(next(iter(read_chunks(_file(base, {"OB": ob}))))).accounts
    assert accounts["national_id_type"].to_list() == ["cn_ric"] * 3
    assert accounts["national_id"].to_list() == ob["national_id"].to_list()
    assert accounts["phone"].to_list() == ob["telephone_e164"].to_list()
    assert accounts["currency"].to_list() == ["CNY"] * 3


def test_bad_extension_fields_reject_their_records():
    base = sample_base(3, seed=6)
    ob = sample_segments(base, ("OB",))["OB"].with_columns(
        national_id_type=pl.Series(["XX_ID", "CN_RIC", "CN_RIC"]),
        telephone_e164=pl.Series(["+8613800138000", "13800138000", "+8613800138000"]),
        currency=pl.Series(["CNY", "CNY", "cny"]),
    )
    rejections = read_file(_file(base, {"OB": ob})).rejections
    found = {(r["record_no"], r["field"]) for r in rejections.iter_rows(named=True)}
    assert found == {(2, "national_id_type"), (3, "telephone_e164"), (4, "currency")}
    assert set(rejections["segment"]) == {"OB"}
