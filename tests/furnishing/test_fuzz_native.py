"""Fuzzing the native parser and validator: whatever the bytes, no exception escapes.

Every input ends as FileRejected or as (valid rows, errors) that account for every record.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from factories import record
from openbureau.furnishing.errors import FileRejected
from openbureau.furnishing.parse import READ_NAMES, iter_chunks, iter_chunks_with_segments
from openbureau.furnishing.validate import _national_id_valid, validate_chunk

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "2005-02-30",
            "2005-09-30",
            "current",
            "revolving",
            "0" * 24,
            "X" * 25,
            "cn_ric",
            "us_ssn",
            "fraud",
            "reported_in_error",
            "",
        ]
    ),
)
mutated_records = st.builds(
    lambda base, changes: {**base, **changes},
    st.just(record()),
    st.dictionaries(st.sampled_from(READ_NAMES), scalars, max_size=6),
)


def _run(path: Path, fmt: str) -> None:
    """Every record ends up loaded, rejected or as a delete request, and only one of these."""
    try:
        for raw, parse_errors, side in iter_chunks_with_segments(path, fmt, chunk_records=7):
            typed, errors = validate_chunk(raw, "CNY", date(2026, 1, 1))
            accounted = set(typed["record_no"]) | set(errors["record_no"])
            assert accounted == set(raw["record_no"])
            assert not set(typed["record_no"]) & set(errors["record_no"])
            asked = set(side["deletions"]["record_no"]) if "deletions" in side else set()
            assert not asked & (accounted | set(parse_errors["record_no"]))
            assert parse_errors["rule"].is_in(
                ["malformed_json", "wrong_type", "malformed_csv", "unknown_code", "required"]
            ).all()
    except FileRejected as exc:
        assert exc.rule and exc.message


@FUZZ
@given(st.lists(mutated_records, min_size=1, max_size=12))
def test_mutated_jsonl_records(tmp_path, records):
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records))
    _run(path, "jsonl")


@FUZZ
@given(st.binary(max_size=600), st.sampled_from(["jsonl", "csv", "parquet"]))
def test_arbitrary_bytes(tmp_path, data, fmt):
    path = tmp_path / f"f.{fmt}"
    path.write_bytes(data)
    _run(path, fmt)


@FUZZ
@given(st.integers(1, 2000), st.sampled_from(["jsonl", "csv"]))
def test_truncated_files(tmp_path, cut, fmt):
    rows = [record(account_ref=f"A{i}") for i in range(5)]
    frame = pl.DataFrame([{k: None if v is None else str(v) for k, v in r.items()} for r in rows])
    path = tmp_path / f"f.{fmt}"
    if fmt == "csv":
        frame.write_csv(path)
    else:
        frame.write_ndjson(path)
    path.write_bytes(path.read_bytes()[:cut])
    _run(path, fmt)


@FUZZ
@given(st.lists(st.text(alphabet="0123456789X", min_size=17, max_size=19), max_size=40))
def test_columnar_resident_id_check_agrees_with_stdnum(ids):
    got = _national_id_valid(
        pl.Series(ids, dtype=pl.Utf8), pl.Series(["cn_ric"] * len(ids), dtype=pl.Utf8)
    )
    expected = []
    for number in ids:
        try:
            expected.append(ric.is_valid(number))
        except KeyError:  # stdnum's own lookup fails on a few partial region entries
            expected.append(False)
    assert got.to_list() == expected


def test_resident_id_with_a_non_digit_region_is_rejected_not_raised(tmp_path):
    """Found by the fuzz test: a JSON number as a resident ID reached stdnum's int()."""
    path = tmp_path / "f.jsonl"
    bad = [record(national_id=v, national_id_type="cn_ric") for v in (1.0, "1.0", "X" * 18)]
    path.write_text("\n".join(json.dumps(r) for r in bad))
    for raw, _ in iter_chunks(path, "jsonl"):
        typed, errors = validate_chunk(raw, "CNY", date(2026, 1, 1))
        assert typed.height == 0
        assert set(errors.filter(pl.col("field") == "national_id")["record_no"]) == set(
            raw["record_no"]
        )
