"""PSI, monitoring and the HTML validation report."""

from __future__ import annotations

import math
import re

import numpy as np
import polars as pl
import pytest

from openbureau.scoring.errors import InputFrameError
from openbureau.scoring.report import discrimination, monitor, psi, validation_report


def test_psi_formula_on_fixed_buckets():
    expected = np.array([0.0] * 50 + [1.0] * 50)
    actual = np.array([0.0] * 30 + [1.0] * 70)
    want = (0.3 - 0.5) * math.log(0.3 / 0.5) + (0.7 - 0.5) * math.log(0.7 / 0.5)
    assert psi(expected, actual, bins=np.array([0.5])) == pytest.approx(want)


def test_psi_stable_vs_shifted():
    rng = np.random.default_rng(0)
    base = rng.normal(size=20_000)
    assert psi(base, rng.normal(size=20_000)) < 0.01
    assert psi(base, rng.normal(0.5, 1, size=20_000)) > 0.1
    with_nan = np.where(rng.random(20_000) < 0.3, np.nan, rng.normal(size=20_000))
    assert psi(base, with_nan) > 0.5  # missing share 0 -> 30 %
    with pytest.raises(InputFrameError):
        psi([], [1.0])


def test_discrimination_matches_definition():
    y = np.array([1, 1, 0, 0, 0, 1])
    s = np.array([300, 320, 700, 650, 340, np.nan])
    m = discrimination(y, s)
    assert m["auc"] == pytest.approx(1.0) and m["ks"] == pytest.approx(1.0) and m["n"] == 5


def _drifted(holdout: pl.DataFrame) -> pl.DataFrame:
    worse = holdout.with_columns(
        (pl.col("UTL03") * 1.6).alias("UTL03"), (pl.col("UTL02") * 1.6).alias("UTL02"),
        (pl.col("DLQ04").fill_null(0) + 2).clip(upper_bound=8).alias("DLQ04"),
    )
    return pl.concat([
        holdout.with_columns(month=pl.lit("2026-01")),
        worse.with_columns(month=pl.lit("2026-02")),
    ])


def test_monitor_flags_the_drifted_month(model, sample, holdout):
    dev = sample.filter(pl.col("subject_id") % 3 != 0)
    out = monitor(model, dev, _drifted(holdout))
    n_vars = 1 + len(model.attribute_codes)
    assert out.height == 2 * n_vars
    score = dict(out.filter(pl.col("variable") == "score").select("month", "psi").iter_rows())
    assert score["2026-01"] < 0.05 < score["2026-02"]
    assert out["psi"].min() >= 0
    extra = monitor(model, dev, _drifted(holdout), attributes=["UTL03", "INQ02"])
    assert set(extra["variable"]) == {"score", "UTL03", "INQ02"}
    utl = dict(extra.filter(pl.col("variable") == "UTL03").select("month", "psi").iter_rows())
    assert utl["2026-01"] < 0.05 < 0.1 < utl["2026-02"]
    inq = dict(extra.filter(pl.col("variable") == "INQ02").select("month", "psi").iter_rows())
    assert max(inq.values()) < 0.05  # not drifted
    with pytest.raises(InputFrameError):
        monitor(model, dev, _drifted(holdout), attributes=["NOPE1"])


def test_validation_report_html(model, sample, holdout, tmp_path):
    dev = sample.filter(pl.col("subject_id") % 3 != 0)
    path = validation_report(model, dev, _drifted(holdout).filter(pl.col("month") == "2026-02"),
                             tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    imgs = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(imgs) == 6
    for title in ("ROC", "Kolmogorov", "Score distribution", "Bad rate by score band",
                  "Calibration", "Score PSI", "Information value", "WoE tables"):
        assert title in html, title
    for code in model.attribute_codes:
        assert f"{code} - " in html
    with pytest.raises(InputFrameError):
        validation_report(model, dev.drop("label"), None, tmp_path / "x.html")
