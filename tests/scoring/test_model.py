"""Training, the JSON model file, scoring paths, thin files and reason codes."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import polars as pl
import pytest
from scoring_helpers import inq_frame, tl, tl_frame

from openbureau.scoring.attributes import ATTRIBUTE_BY_CODE, compute_attributes_online
from openbureau.scoring.errors import InputFrameError, ModelFileError, TrainingError
from openbureau.scoring.model import ScoreModel, checksum
from openbureau.scoring.reasons import select_factors
from openbureau.scoring.report import discrimination


def test_model_discriminates_on_holdout(model, holdout):
    scored = model.score_frame(holdout)
    m = discrimination(holdout["label"], scored["score"])
    assert m["auc"] > 0.7, m
    assert m["ks"] > 0.3, m


def test_scores_in_range_and_points_monotonic(model, holdout):
    s = model.score_frame(holdout)["score"].drop_nulls()
    assert s.min() >= 300 and s.max() <= 850
    for a in model.doc["attributes"]:
        pts = np.array([b["points"] for b in a["bins"]])
        d = np.diff(pts)
        assert (d >= -1e-9).all() or (d <= 1e-9).all(), a["code"]


def test_scaling_is_as_configured(model):
    # 600 points <-> odds 50:1, +20 points doubles the odds
    p600 = model.probability_of_bad(600.0)
    p620 = model.probability_of_bad(620.0)
    assert (1 - p600) / p600 == pytest.approx(50)
    assert (1 - p620) / p620 == pytest.approx(100)


def test_points_reproduce_logistic_regression(model, holdout):
    pts = model.points(holdout)
    raw = model.intercept_points + pts.sum(axis=1)
    cols = []
    for a in model.doc["attributes"]:
        x = holdout[a["code"]].cast(pl.Float64).to_numpy()
        woe_bins = np.array([b["woe"] for b in a["bins"]])
        uppers = [b["upper"] for b in a["bins"][:-1]]
        idx = np.searchsorted(uppers, x, side="right").clip(0, len(a["bins"]) - 1)
        cols.append(np.where(np.isnan(x), a["missing"]["woe"], woe_bins[idx]))
    woe = np.column_stack(cols)
    beta = np.array([a["coefficient"] for a in model.doc["attributes"]])
    logit = model.doc["intercept"] + woe @ beta
    assert np.allclose(1 / (1 + np.exp(-logit)), model.probability_of_bad(raw))


def test_bins_match_optbinning_woe(model, sample):
    """Our bin statistics equal optbinning's own binning table for the same splits."""
    from optbinning import OptimalBinning

    dev = sample.filter(pl.col("subject_id") % 3 != 0)
    dev = dev.filter(pl.col("TRD02") >= 1, pl.col("AGE01") >= 6)
    a = model.doc["attributes"][0]
    splits = [b["upper"] for b in a["bins"][:-1]]
    ob = OptimalBinning(name=a["code"], dtype="numerical", user_splits=splits,
                        user_splits_fixed=[True] * len(splits))
    ob.fit(dev[a["code"]].cast(pl.Float64).to_numpy(), dev["label"].to_numpy())
    table = ob.binning_table.build()
    ours = [b["woe"] for b in a["bins"]]
    theirs = [float(w) for w in table["WoE"].iloc[: len(ours)]]
    counts = [int(c) for c in table["Count"].iloc[: len(ours)]]
    assert counts == [b["count"] for b in a["bins"]]
    assert np.allclose(ours, theirs, atol=1e-9)


def test_json_roundtrip_and_shape(model, holdout, tmp_path):
    path = model.save(tmp_path / "m.json")
    text = path.read_text(encoding="utf-8")
    assert "\n  " in text  # indented, readable
    doc = json.loads(text)
    for key in ("format", "format_version", "model_version", "created_at", "training_spec",
                "scaling", "attributes", "intercept", "intercept_points", "reason_codes",
                "no_score_rules", "checksum"):
        assert key in doc
    assert doc["model_version"] == "test-1.0"
    assert doc["scaling"]["base_points"] == 600 and doc["scaling"]["pdo"] == 20
    for a in doc["attributes"]:
        assert {"code", "bins", "missing", "iv", "coefficient"} <= set(a)
        assert {"lower", "upper", "points", "woe", "iv", "count"} <= set(a["bins"][0])
        assert doc["reason_codes"][a["code"]]["code"] == ATTRIBUTE_BY_CODE[a["code"]].reason_code
    loaded = ScoreModel.load(path)
    assert loaded.score_frame(holdout).equals(model.score_frame(holdout))


def _corrupt(tmp_path, model, mutate, fix_checksum=False):
    doc = json.loads(json.dumps(model.doc))
    mutate(doc)
    if fix_checksum:
        doc["checksum"] = checksum(doc)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


def test_corrupted_model_files(model, tmp_path):
    good = model.save(tmp_path / "good.json").read_text(encoding="utf-8")
    trunc = tmp_path / "trunc.json"
    trunc.write_text(good[: len(good) // 2], encoding="utf-8")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        ScoreModel.load(trunc)
    with pytest.raises(ModelFileError, match="not found"):
        ScoreModel.load(tmp_path / "nope.json")

    def edit_points(d):
        d["attributes"][0]["bins"][0]["points"] += 5

    with pytest.raises(ModelFileError, match="checksum"):
        ScoreModel.load(_corrupt(tmp_path, model, edit_points))

    def no_scaling(d):
        del d["scaling"]

    with pytest.raises(ModelFileError, match="missing key 'scaling'"):
        ScoreModel.load(_corrupt(tmp_path, model, no_scaling, fix_checksum=True))

    def bad_edges(d):
        bins = d["attributes"][0]["bins"]
        bins[0]["upper"] = "x"

    with pytest.raises(ModelFileError, match="finite number"):
        ScoreModel.load(_corrupt(tmp_path, model, bad_edges, fix_checksum=True))

    def gap(d):
        bins = d["attributes"][0]["bins"]
        bins[1]["lower"] = bins[1]["lower"] + 1 if bins[1]["lower"] is not None else 1

    with pytest.raises(ModelFileError, match="lower"):
        ScoreModel.load(_corrupt(tmp_path, model, gap, fix_checksum=True))

    def wrong_format(d):
        d["format"] = "something.else"

    with pytest.raises(ModelFileError, match="format"):
        ScoreModel.load(_corrupt(tmp_path, model, wrong_format, fix_checksum=True))
    arr = tmp_path / "arr.json"
    arr.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelFileError, match="JSON object"):
        ScoreModel.load(arr)


def test_batch_and_one_subject_scoring_agree(model, holdout):
    batch = model.score_frame(holdout)
    for i in range(0, holdout.height, 7):
        one = model.score(holdout.row(i, named=True))
        row = batch.row(i, named=True)
        assert one.score == row["score"]
        assert one.scored == (row["score"] is not None)
        assert one.no_score_code == row["no_score_code"]
        codes = [r.code for r in one.reasons]
        expect = [row[f"reason_{j}"] for j in range(1, 6) if row[f"reason_{j}"] is not None]
        assert codes == expect
        if one.scored:
            assert math.isclose(one.probability_of_bad, row["probability_of_bad"])


def test_reason_codes_rank_points_lost(model, holdout):
    checked = 0
    for i in range(0, holdout.height, 5):
        res = model.score_one(holdout.row(i, named=True))
        if not res.scored:
            continue
        key = [r for r in res.reasons if r.attribute not in ("INQ01", "INQ02")] or res.reasons
        lost = [r.points_lost for r in res.reasons[:4]]
        assert lost == sorted(lost, reverse=True)
        assert all(r.points_lost > 0 for r in res.reasons)
        assert len(res.reasons) <= 5 and key
        assert all(r.text_en and r.text_zh for r in res.reasons)
        checked += 1
    assert checked > 50


def test_select_factors_inquiry_fifth():
    losses = np.array([
        [5.0, 9.0, 1.0, 7.0, 3.0, 2.0],  # inquiry (col 5) not in top 4 -> fifth
        [5.0, 9.0, 1.0, 7.0, 3.0, 8.0],  # inquiry already in top 4 -> no fifth
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # nothing lost -> no factors
        [0.0, 4.0, 0.0, 0.0, 0.0, 0.0],
    ])
    inq = np.array([False, False, False, False, False, True])
    f = select_factors(losses, inq)
    assert f[0].tolist() == [1, 3, 0, 4, 5]
    assert f[1].tolist() == [1, 5, 3, 0, -1]
    assert f[2].tolist() == [-1, -1, -1, -1, -1]
    assert f[3].tolist() == [1, -1, -1, -1, -1]


AS_OF = dt.date(2025, 6, 30)


def test_thin_files_get_no_score(model):
    cases = {
        "NS01": ([], "no tradeline at all"),
        "NS02": ([tl(1, "A", AS_OF, opened=dt.date(2025, 3, 1), balance=100)], "too new"),
        "NS03": ([tl(1, "A", AS_OF, opened=dt.date(2019, 1, 1), status="paid_closed",
                     closed=dt.date(2025, 1, 1))], "nothing open"),
    }
    for code, (rows, _why) in cases.items():
        attrs = compute_attributes_online(tl_frame(rows), inq_frame([]), AS_OF)
        res = model.score(attrs)
        assert not res.scored and res.score is None and res.probability_of_bad is None
        assert res.no_score_code == code and res.no_score_reason and res.no_score_reason_zh
        batch = model.score_frame(pl.DataFrame([attrs]))
        assert batch["score"][0] is None and batch["no_score_code"][0] == code
        assert batch["reason_1"][0] is None
    ok = compute_attributes_online(
        tl_frame([tl(1, "A", AS_OF, opened=dt.date(2019, 1, 1), balance=100)]),
        inq_frame([]), AS_OF)
    assert model.score(ok).scored


def test_scoring_bad_inputs(model):
    with pytest.raises(InputFrameError):
        model.score_frame(pl.DataFrame({"TRD01": [1]}))
    with pytest.raises(InputFrameError):
        model.score({"TRD01": 1, "AGE01": 100, "TRD02": 1})
    with pytest.raises(InputFrameError):
        model.score([1, 2, 3])


def test_training_rejects_bad_samples(sample):
    from openbureau.scoring.train import TrainingSpec, train_scorecard

    with pytest.raises(InputFrameError, match="label"):
        train_scorecard(sample.drop("label"))
    with pytest.raises(TrainingError, match="both goods and bads"):
        train_scorecard(sample.with_columns(label=pl.lit(0)))
    noise = sample.select("TRD01", "AGE01", "TRD02", "label").with_columns(
        NOISE=pl.Series(np.random.default_rng(1).random(sample.height)))
    with pytest.raises(TrainingError, match="information value"):
        train_scorecard(noise, TrainingSpec(attributes=["NOISE"], min_iv=0.5))


def test_scoring_needs_no_optbinning(model, holdout, tmp_path):
    """A fresh interpreter loads the JSON model and scores without importing optbinning."""
    import subprocess
    import sys
    from pathlib import Path

    path = model.save(tmp_path / "m.json")
    holdout.head(50).write_parquet(tmp_path / "x.parquet")
    expected = model.score_frame(holdout.head(50))["score"].to_list()
    code = (
        "import sys, json, polars as pl\n"
        "from openbureau.scoring import ScoreModel\n"
        f"m = ScoreModel.load({str(path)!r})\n"
        f"s = m.score_frame(pl.read_parquet({str(tmp_path / 'x.parquet')!r}))\n"
        "print(json.dumps({'scores': s['score'].to_list(),"
        " 'heavy': [k for k in ('optbinning', 'sklearn', 'matplotlib') if k in sys.modules]}))\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"}, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert result["scores"] == expected
