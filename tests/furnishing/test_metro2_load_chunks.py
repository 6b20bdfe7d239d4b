"""A Metro 2 file larger than one reader chunk reaches the loader in chunks that grow: the
first goes out alone, later ones join reader chunks up to the load's chunk size, and no
record or appended segment is lost, repeated or reordered on the way."""

from __future__ import annotations

import polars as pl

from openbureau.furnishing.metro2 import read_chunks, write_file
from openbureau.furnishing.metro2.sample import HEADER, sample_base
from openbureau.furnishing.parse import iter_chunks_with_segments

RECORDS = 60_000


def _file(tmp_path):
    base = sample_base(RECORDS, seed=3)
    rec = base["record_no"]
    k1 = rec.filter(rec % 7 == 0)
    segments = {
        "K1": pl.DataFrame(
            {"record_no": k1, "original_creditor_name": "FIRST BANK", "creditor_classification": 8}
        )
    }
    path = tmp_path / "big.m2"
    write_file(path, HEADER, base, segments)
    return path, k1


def test_reader_chunks_are_joined_into_growing_load_chunks(tmp_path):
    path, k1_records = _file(tmp_path)
    reader_sizes = [len(c.base) for c in read_chunks(path)]
    assert len(reader_sizes) >= 3  # else this test would not join anything

    chunks = list(iter_chunks_with_segments(path, "metro2", chunk_records=30_000))
    sizes = [raw.height for raw, _, _ in chunks]

    assert sizes[0] == reader_sizes[0]
    assert sizes[1] > sizes[0]
    assert len(chunks) < len(reader_sizes)
    # A load chunk stops growing once it holds chunk_records (one reader chunk may tip it over).
    assert all(size < 30_000 + max(reader_sizes) for size in sizes)

    records = pl.concat([raw["record_no"] for raw, _, _ in chunks])
    assert records.to_list() == list(range(2, RECORDS + 2))
    creditors = pl.concat([side["original_creditor"] for _, _, side in chunks])
    assert creditors["record_no"].to_list() == k1_records.to_list()
    assert creditors["original_creditor_name"].unique().to_list() == ["FIRST BANK"]
    assert all(errors.is_empty() for _, errors, _ in chunks)
