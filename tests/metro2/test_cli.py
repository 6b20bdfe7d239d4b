"""The ``metro2`` Typer sub-app."""

from __future__ import annotations

import json

import polars as pl
from typer.testing import CliRunner

from openbureau.furnishing.metro2 import read_file
from openbureau.furnishing.metro2.cli import app
from openbureau.furnishing.metro2.sample import sample_base

from .conftest import make_file

runner = CliRunner()


def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_validate_exit_codes(tmp_path):
    good = _write(tmp_path, "good.m2", make_file(10))
    base = sample_base(10).with_columns(
        account_status=pl.when(pl.col("record_no") == 4).then(pl.lit("XX"))
        .otherwise(pl.col("account_status")))
    some_bad = _write(tmp_path, "bad.m2", make_file(base=base, kinds=()))
    broken = _write(tmp_path, "broken.m2", make_file(10)[:-30])
    assert runner.invoke(app, ["validate", str(good)]).exit_code == 0
    r = runner.invoke(app, ["validate", str(some_bad), "--json"])
    assert r.exit_code == 1
    rep = json.loads(r.stdout)
    assert rep["status"] == "records_rejected" and rep["rejections"][0]["record_no"] == 4
    r = runner.invoke(app, ["validate", str(broken), "--json"])
    assert r.exit_code == 2 and json.loads(r.stdout)["file_rejection"]["rule"] == "truncated"
    csv = tmp_path / "rej.csv"
    assert runner.invoke(app, ["validate", str(some_bad), "--csv", str(csv)]).exit_code == 1
    assert csv.read_text().startswith("record_no,byte_offset,segment,field,rule,message")


def test_convert_all_targets(tmp_path):
    src = _write(tmp_path, "in.m2", make_file(15, ("J1", "J2", "K1", "N1")))
    orig = read_file(src)
    out = tmp_path / "out.jsonl"
    assert runner.invoke(app, ["convert", str(src), "--to", "jsonl", "-o", str(out)]).exit_code == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 15 and lines[0]["j1"][0]["surname"]
    pq = tmp_path / "pq"
    r = runner.invoke(app, ["convert", str(src), "--to", "parquet", "-o", str(pq)])
    assert r.exit_code == 0
    assert pl.read_parquet(pq / "base.parquet").height == 15
    assert pl.read_parquet(pq / "J2.parquet").height == 15
    m2 = tmp_path / "out.m2"
    r = runner.invoke(app, ["convert", str(src), "--to", "metro2", "--packed", "--blocked",
                            "-o", str(m2)])
    assert r.exit_code == 0, r.output
    back = read_file(m2)
    assert back.layout.packed and back.layout.blocked
    cols = [c for c in orig.base.columns if c not in ("byte_offset", "rdw")]
    assert back.base.select(cols).equals(orig.base.select(cols))


def test_convert_rejected_file(tmp_path):
    src = _write(tmp_path, "in.m2", make_file(5)[:-30])
    out = tmp_path / "o.jsonl"
    r = runner.invoke(app, ["convert", str(src), "--to", "jsonl", "-o", str(out)])
    assert r.exit_code == 2 and not out.exists()


def test_print_and_help(tmp_path):
    src = _write(tmp_path, "in.m2", make_file(3, ("K1",), packed=True))
    r = runner.invoke(app, ["print", str(src), "--limit", "2"])
    assert r.exit_code == 0 and "packed-fixed" in r.stdout and "TRAILER" in r.stdout
    assert "K1" in r.stdout
    for cmd in ([], ["validate"], ["convert"], ["print"]):
        assert runner.invoke(app, [*cmd, "--help"]).exit_code == 0
