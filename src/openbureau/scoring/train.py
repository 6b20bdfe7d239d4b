"""Scorecard training: optimal monotonic binning, WoE logistic regression, points scaling.

``optbinning`` is imported lazily (it takes seconds to import); scoring never needs it.

Pipeline (:func:`train_scorecard`):

1. drop thin files (rows failing the no-score rules) from the development sample;
2. bin every attribute with ``optbinning.OptimalBinning`` (numerical, monotonic trend
   ``spec.monotonic_trend``, minimum bin size ``spec.min_bin_size``); nulls get their own
   "missing" bin;
3. compute WoE = ln(%non-event / %event) per bin (0.5 added to an empty cell) and IV;
4. keep attributes with IV >= ``spec.min_iv``; among pairs whose WoE columns correlate above
   ``spec.max_correlation`` keep the higher-IV one;
5. fit a logistic regression of the label on the WoE columns; drop attributes whose
   coefficient has the wrong sign (higher WoE must mean lower risk) and refit;
6. scale: ``factor = pdo / ln 2``, ``offset = base_points - factor * ln(base_odds)``; points of
   bin j of attribute i are ``-factor * beta_i * woe_ij``, and ``intercept_points =
   offset - factor * beta_0``; score = clip(round(intercept_points + sum of points)).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from openbureau.scoring.attributes import ATTRIBUTE_BY_CODE, INQUIRY_COUNT_ATTRIBUTES
from openbureau.scoring.errors import InputFrameError, TrainingError
from openbureau.scoring.model import FORMAT, FORMAT_VERSION, ScoreModel, checksum


@dataclass
class Scaling:
    base_points: float = 600.0
    base_odds: float = 50.0  # good:bad odds at base_points
    pdo: float = 20.0  # points to double the odds
    min_score: int = 300
    max_score: int = 850

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)


@dataclass
class ThinFileRule:
    min_trade_months: int = 6  # need a trade opened at least this many months before as_of
    require_open_trade: bool = True


@dataclass
class TrainingSpec:
    label: str = "label"
    attributes: list[str] | None = None  # default: every catalogue attribute in the sample
    monotonic_trend: str = "auto_asc_desc"
    min_bin_size: float = 0.02
    max_n_bins: int = 12
    min_iv: float = 0.005
    max_correlation: float = 0.95
    C: float = 1.0  # inverse L2 regularisation of the logistic regression
    scaling: Scaling = field(default_factory=Scaling)
    thin_file: ThinFileRule = field(default_factory=ThinFileRule)
    exclude_thin_files: bool = True
    model_version: str | None = None
    description: str = ""


def no_score_rules(rule: ThinFileRule) -> list[dict[str, Any]]:
    rules = [
        {
            "code": "NS01",
            "attribute": "TRD01",
            "op": ">=",
            "value": 1,
            "text_en": "No credit account on file",
            "text_zh": "无信用账户记录",
        },
        {
            "code": "NS02",
            "attribute": "AGE01",
            "op": ">=",
            "value": rule.min_trade_months,
            "text_en": f"No account with at least {rule.min_trade_months} months of history",
            "text_zh": f"无账龄满{rule.min_trade_months}个月的账户",
        },
    ]
    if rule.require_open_trade:
        rules.append(
            {
                "code": "NS03",
                "attribute": "TRD02",
                "op": ">=",
                "value": 1,
                "text_en": "No open account",
                "text_zh": "无未结清账户",
            }
        )
    return rules


def _bin_stats(x: np.ndarray, y: np.ndarray, splits: np.ndarray) -> dict[str, Any]:
    nan = np.isnan(x)
    idx = np.searchsorted(splits, x, side="right")
    n_bins = splits.size + 1
    ev = np.bincount(idx[~nan], weights=y[~nan], minlength=n_bins)
    cnt = np.bincount(idx[~nan], minlength=n_bins).astype(float)
    ev = np.append(ev, y[nan].sum())
    cnt = np.append(cnt, nan.sum())
    ne = cnt - ev
    tot_e, tot_ne = y.sum(), y.size - y.sum()
    empty = (ev == 0) | (ne == 0)
    ev_s, ne_s = np.where(empty, ev + 0.5, ev), np.where(empty, ne + 0.5, ne)
    woe = np.log((ne_s / tot_ne) / (ev_s / tot_e))
    woe = np.where(cnt == 0, 0.0, woe)
    iv = np.where(cnt == 0, 0.0, (ne_s / tot_ne - ev_s / tot_e) * woe)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(cnt > 0, ev / np.maximum(cnt, 1), np.nan)
    return {"count": cnt, "event": ev, "woe": woe, "iv": iv, "event_rate": rate}


def _woe_column(x: np.ndarray, splits: np.ndarray, woe: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(splits, x, side="right")
    return np.where(np.isnan(x), woe[-1], woe[np.minimum(idx, woe.size - 2)])


def _rule_mask(sample: pl.DataFrame, rules: list[dict[str, Any]]) -> np.ndarray:
    ok = np.ones(sample.height, dtype=bool)
    for r in rules:
        if r["attribute"] not in sample.columns:
            continue
        x = sample[r["attribute"]].cast(pl.Float64).to_numpy()
        with np.errstate(invalid="ignore"):
            ok &= {
                ">=": x >= r["value"],
                ">": x > r["value"],
                "<=": x <= r["value"],
                "<": x < r["value"],
            }[r["op"]]
    return ok


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def train_scorecard(sample: pl.DataFrame, spec: TrainingSpec | None = None) -> ScoreModel:
    """Train a scorecard from ``sample`` (attribute columns + binary label column)."""
    from optbinning import OptimalBinning  # slow import, training only
    from sklearn.linear_model import LogisticRegression

    spec = spec or TrainingSpec()
    if not isinstance(sample, pl.DataFrame):
        raise InputFrameError("sample must be a polars DataFrame")
    if spec.label not in sample.columns:
        raise InputFrameError(f"sample has no label column {spec.label!r}")
    labels = sample[spec.label]
    if labels.null_count() or not set(labels.unique().to_list()) <= {0, 1}:
        raise InputFrameError(f"label {spec.label!r} must be 0/1 without nulls")
    rules = no_score_rules(spec.thin_file)
    dev = sample.filter(pl.Series(_rule_mask(sample, rules))) if spec.exclude_thin_files else sample
    y = dev[spec.label].cast(pl.Float64).to_numpy()
    if y.size == 0 or y.min() == y.max():
        raise TrainingError("the development sample needs both goods and bads")
    candidates = spec.attributes or [c for c in sample.columns if c in ATTRIBUTE_BY_CODE]
    missing = [c for c in candidates if c not in dev.columns]
    if missing:
        raise InputFrameError(f"sample lacks attributes {missing}")
    if not candidates:
        raise TrainingError("no attribute columns to train on")

    binned: dict[str, dict[str, Any]] = {}
    dropped: dict[str, str] = {}
    for code in candidates:
        x = dev[code].cast(pl.Float64).to_numpy()
        finite = x[~np.isnan(x)]
        if finite.size == 0 or finite.min() == finite.max():
            dropped[code] = "constant or all missing"
            continue
        optb = OptimalBinning(
            name=code,
            dtype="numerical",
            monotonic_trend=spec.monotonic_trend,
            min_bin_size=spec.min_bin_size,
            max_n_bins=spec.max_n_bins,
        )
        optb.fit(x, y)
        splits = np.asarray(optb.splits, dtype=float)
        stats = _bin_stats(x, y, splits)
        iv = float(stats["iv"].sum())
        if iv < spec.min_iv:
            dropped[code] = f"IV {iv:.4f} < {spec.min_iv}"
            continue
        binned[code] = {
            **stats,
            "splits": splits,
            "bin_iv": stats["iv"],
            "iv": iv,
            "woe_x": _woe_column(x, splits, stats["woe"]),
        }
    if not binned:
        raise TrainingError("no attribute reaches the minimum information value")

    selected: list[str] = []
    for code in sorted(binned, key=lambda c: -binned[c]["iv"]):
        w = binned[code]["woe_x"]
        clash = next(
            (
                s
                for s in selected
                if w.std() > 0
                and binned[s]["woe_x"].std() > 0
                and abs(np.corrcoef(w, binned[s]["woe_x"])[0, 1]) > spec.max_correlation
            ),
            None,
        )
        if clash:
            dropped[code] = f"WoE correlation with {clash} > {spec.max_correlation}"
        else:
            selected.append(code)

    while True:
        X = np.column_stack([binned[c]["woe_x"] for c in selected])
        lr = LogisticRegression(C=spec.C, max_iter=2000)
        lr.fit(X, y)
        coef = lr.coef_[0]
        if coef.max() <= 0 or len(selected) == 1:
            break
        worst = int(np.argmax(coef))
        dropped[selected[worst]] = "wrong-sign coefficient in the logistic regression"
        del selected[worst]

    sc = spec.scaling
    factor, offset = sc.factor, sc.offset
    attrs_doc, reason_codes = [], {}
    for code, beta in zip(selected, coef, strict=True):
        b = binned[code]
        pts = -factor * beta * b["woe"]
        edges = [None, *b["splits"].tolist(), None]
        bins = []
        for j in range(b["splits"].size + 1):
            lo, hi = edges[j], edges[j + 1]
            bins.append(
                {
                    "label": f"[{'-inf' if lo is None else _fmt(lo)}, "
                    f"{'inf' if hi is None else _fmt(hi)})",
                    "lower": lo,
                    "upper": hi,
                    "count": int(b["count"][j]),
                    "event_rate": None if b["count"][j] == 0 else float(b["event_rate"][j]),
                    "woe": float(b["woe"][j]),
                    "iv": float(b["bin_iv"][j]),
                    "points": float(pts[j]),
                }
            )
        meta = ATTRIBUTE_BY_CODE.get(code)
        attrs_doc.append(
            {
                "code": code,
                "name": meta.name if meta else code,
                "is_inquiry": code in INQUIRY_COUNT_ATTRIBUTES,
                "coefficient": float(beta),
                "iv": b["iv"],
                "bins": bins,
                "missing": {
                    "count": int(b["count"][-1]),
                    "event_rate": None if b["count"][-1] == 0 else float(b["event_rate"][-1]),
                    "woe": float(b["woe"][-1]),
                    "points": float(pts[-1]),
                },
            }
        )
        reason_codes[code] = (
            {"code": meta.reason_code, "en": meta.reason_en, "zh": meta.reason_zh}
            if meta
            else {"code": f"X_{code}", "en": f"Value of {code}", "zh": f"{code} 的取值"}
        )
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    spec_doc = asdict(spec)
    spec_doc.update(
        n_samples=int(sample.height),
        n_development=int(y.size),
        n_bad=int(y.sum()),
        bad_rate=float(y.mean()),
        attributes_considered=list(candidates),
        attributes_selected=list(selected),
        attributes_dropped=dropped,
        information_values={c: binned[c]["iv"] for c in binned},
    )
    doc: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_version": spec.model_version or f"scorecard-{created:%Y%m%dT%H%M%SZ}",
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "training_spec": spec_doc,
        "scaling": {**asdict(sc), "factor": factor, "offset": offset},
        "intercept": float(lr.intercept_[0]),
        "intercept_points": float(offset - factor * lr.intercept_[0]),
        "attributes": attrs_doc,
        "reason_codes": reason_codes,
        "no_score_rules": rules,
    }
    doc["checksum"] = checksum(doc)
    return ScoreModel.from_dict(doc)
