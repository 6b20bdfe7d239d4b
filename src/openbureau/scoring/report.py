"""Validation report (self-contained HTML) and population-stability monitoring.

* :func:`psi` - population stability index of two samples;
* :func:`monitor` - PSI by month of the score and of every scorecard attribute against a
  development baseline;
* :func:`discrimination` - AUC, Gini and KS of a score against a label;
* :func:`validation_report` - HTML file with ROC, KS, score distribution, bad rate by score
  band, calibration, PSI development vs recent, and the IV/WoE table of every attribute;
  figures are matplotlib PNGs embedded as base64.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from openbureau.scoring.errors import InputFrameError
from openbureau.scoring.model import ScoreModel

EPS = 1e-4


def _clean(values: Any) -> np.ndarray:
    if isinstance(values, pl.Series):
        values = values.cast(pl.Float64).to_numpy()
    return np.asarray(values, dtype=float)


def psi(expected: Any, actual: Any, bins: int | np.ndarray = 10, eps: float = EPS) -> float:
    """Population stability index, sum((a - e) * ln(a / e)) over buckets.

    ``bins`` is a number of quantile buckets of ``expected`` or an array of inner edges.
    Missing values (NaN/null) form their own bucket. Bucket shares are floored at ``eps``.
    """
    e, a = _clean(expected), _clean(actual)
    if e.size == 0 or a.size == 0:
        raise InputFrameError("psi needs two non-empty samples")
    if np.isscalar(bins) or np.ndim(bins) == 0:
        finite = e[~np.isnan(e)]
        qs = np.linspace(0, 1, int(bins) + 1)[1:-1]
        edges = np.unique(np.quantile(finite, qs)) if finite.size else np.array([])
    else:
        edges = np.asarray(bins, dtype=float)

    def shares(x: np.ndarray) -> np.ndarray:
        nan = np.isnan(x)
        idx = np.searchsorted(edges, x[~nan], side="right")
        counts = np.append(np.bincount(idx, minlength=edges.size + 1), nan.sum())
        return np.maximum(counts / x.size, eps)

    pe, pa = shares(e), shares(a)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def _score_edges(scores: np.ndarray, n: int = 10) -> np.ndarray:
    finite = scores[~np.isnan(scores)]
    return (
        np.unique(np.quantile(finite, np.linspace(0, 1, n + 1)[1:-1]))
        if finite.size
        else np.array([])
    )


def _scores(model: ScoreModel, frame: pl.DataFrame) -> np.ndarray:
    if "score" in frame.columns:
        return _clean(frame["score"])
    return _clean(model.score_frame(frame)["score"])


def monitor(
    model: ScoreModel,
    baseline: pl.DataFrame,
    recent: pl.DataFrame,
    month_col: str = "month",
    attributes: list[str] | None = None,
) -> pl.DataFrame:
    """PSI by month of the score and of each attribute against ``baseline``.

    ``baseline`` and ``recent`` hold attribute columns (and optionally ``score``); ``recent``
    also has ``month_col``. ``attributes`` defaults to the scorecard's attributes; scorecard
    attributes are bucketed by the model's own bins (plus missing), any other attribute and the
    score by baseline deciles. Returns ``month, variable, n, psi`` (long format).
    """
    if month_col not in recent.columns:
        raise InputFrameError(f"recent frame lacks the month column {month_col!r}")
    base_scores = _scores(model, baseline)
    score_edges = _score_edges(base_scores)
    model_edges = {
        a["code"]: np.array([b["upper"] for b in a["bins"][:-1]], dtype=float)
        for a in model.doc["attributes"]
    }
    codes = attributes if attributes is not None else list(model_edges)
    absent = [c for c in codes if c not in baseline.columns or c not in recent.columns]
    if absent:
        raise InputFrameError(f"frames lack attributes {absent}")
    attr_edges = {
        c: model_edges[c] if c in model_edges else _score_edges(_clean(baseline[c])) for c in codes
    }
    rows = []
    for (month,), part in recent.group_by(month_col, maintain_order=True):
        rows.append(
            (month, "score", part.height, psi(base_scores, _scores(model, part), score_edges))
        )
        for code, edges in attr_edges.items():
            rows.append((month, code, part.height, psi(baseline[code], part[code], edges)))
    return pl.DataFrame(
        rows,
        schema={
            "month": recent.schema[month_col],
            "variable": pl.String,
            "n": pl.Int64,
            "psi": pl.Float64,
        },
        orient="row",
    ).sort("month", "variable")


def discrimination(label: Any, score: Any) -> dict[str, float]:
    """AUC, Gini and KS for a score where *higher = lower risk* (rows with NaN score dropped)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    y, s = _clean(label), _clean(score)
    ok = ~np.isnan(s)
    y, s = y[ok], s[ok]
    if y.size == 0 or y.min() == y.max():
        raise InputFrameError("discrimination needs scored goods and bads")
    auc = float(roc_auc_score(y, -s))
    fpr, tpr, _ = roc_curve(y, -s)
    return {"auc": auc, "gini": 2 * auc - 1, "ks": float(np.max(tpr - fpr)), "n": int(y.size)}


# --------------------------------------------------------------------------- HTML report
def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def validation_report(
    model: ScoreModel,
    development: pl.DataFrame,
    recent: pl.DataFrame | None = None,
    path: str | Path = "validation_report.html",
    label: str = "label",
    title: str = "Scorecard validation",
    band_width: int = 20,
) -> Path:
    """Write the HTML validation report; returns its path.

    ``development`` holds attributes and ``label``; ``recent`` (optional) holds attributes of a
    more recent population (its label, if present, is used for the recent metrics).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    if label not in development.columns:
        raise InputFrameError(f"development frame lacks label {label!r}")
    dev = model.score_frame(development)
    s_all = _clean(dev["score"])
    y_all = _clean(development[label])
    ok = ~np.isnan(s_all)
    s, y = s_all[ok], y_all[ok]
    metrics = discrimination(y, s)
    pd_hat = _clean(dev["probability_of_bad"])[ok]
    figs: dict[str, str] = {}

    fpr, tpr, thr = roc_curve(y, -s)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(fpr, tpr, label=f"AUC {metrics['auc']:.3f}")
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set(xlabel="False positive rate (goods)", ylabel="True positive rate (bads)", title="ROC")
    ax.legend()
    figs["ROC curve"] = _png(fig)

    order = np.sort(np.unique(s))
    cum_bad = np.searchsorted(np.sort(s[y == 1]), order, side="right") / (y == 1).sum()
    cum_good = np.searchsorted(np.sort(s[y == 0]), order, side="right") / (y == 0).sum()
    k = int(np.argmax(cum_bad - cum_good))
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(order, cum_bad, label="bads (cumulative)")
    ax.plot(order, cum_good, label="goods (cumulative)")
    ax.vlines(
        order[k],
        cum_good[k],
        cum_bad[k],
        colors="red",
        label=f"KS {metrics['ks']:.3f} at {order[k]:.0f}",
    )
    ax.set(xlabel="score", ylabel="cumulative share", title="Kolmogorov-Smirnov")
    ax.legend()
    figs["KS (Kolmogorov-Smirnov)"] = _png(fig)

    fig, ax = plt.subplots(figsize=(5, 4))
    bins = np.arange(np.floor(s.min() / 10) * 10, s.max() + 11, 10)
    ax.hist(s[y == 0], bins=bins, alpha=0.6, density=True, label="goods")
    ax.hist(s[y == 1], bins=bins, alpha=0.6, density=True, label="bads")
    ax.set(xlabel="score", ylabel="density", title="Score distribution")
    ax.legend()
    figs["Score distribution"] = _png(fig)

    lo = np.floor(s.min() / band_width) * band_width
    band = (np.floor((s - lo) / band_width) * band_width + lo).astype(int)
    bands = sorted(set(band.tolist()))
    band_rows = []
    for b in bands:
        m = band == b
        band_rows.append(
            [
                f"{b}-{b + band_width - 1}",
                int(m.sum()),
                int(y[m].sum()),
                float(y[m].mean()),
                float(pd_hat[m].mean()),
            ]
        )
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar([r[0] for r in band_rows], [r[3] for r in band_rows])
    ax.set(xlabel="score band", ylabel="observed bad rate", title="Bad rate by score band")
    ax.tick_params(axis="x", rotation=60)
    figs["Bad rate by score band"] = _png(fig)

    dec = np.searchsorted(
        np.unique(np.quantile(pd_hat, np.linspace(0, 1, 11)[1:-1])), pd_hat, side="right"
    )
    cal = [(pd_hat[dec == d].mean(), y[dec == d].mean()) for d in np.unique(dec)]
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([c[0] for c in cal], [c[1] for c in cal], "o-", label="deciles of predicted PD")
    top = max(max(c[0] for c in cal), max(c[1] for c in cal))
    ax.plot([0, top], [0, top], "--", color="grey", label="perfect calibration")
    ax.set(xlabel="predicted bad rate", ylabel="observed bad rate", title="Calibration")
    ax.legend()
    figs["Calibration"] = _png(fig)

    psi_html = "<p>No recent population supplied.</p>"
    recent_metrics = None
    if recent is not None:
        rec = model.score_frame(recent)
        rs = _clean(rec["score"])
        edges = _score_edges(s)
        score_psi = psi(s, rs[~np.isnan(rs)], edges)
        attr_psi = [
            [
                a["code"],
                a["name"],
                psi(
                    development[a["code"]],
                    recent[a["code"]],
                    np.array([b["upper"] for b in a["bins"][:-1]], dtype=float),
                ),
            ]
            for a in model.doc["attributes"]
        ]
        e_sh = np.bincount(np.searchsorted(edges, s, side="right"), minlength=edges.size + 1)
        r_ok = rs[~np.isnan(rs)]
        a_sh = np.bincount(np.searchsorted(edges, r_ok, side="right"), minlength=edges.size + 1)
        fig, ax = plt.subplots(figsize=(6, 4))
        x = np.arange(edges.size + 1)
        ax.bar(x - 0.2, e_sh / max(e_sh.sum(), 1), width=0.4, label="development")
        ax.bar(x + 0.2, a_sh / max(a_sh.sum(), 1), width=0.4, label="recent")
        ax.set(
            xlabel="development score decile", ylabel="share", title=f"Score PSI {score_psi:.4f}"
        )
        ax.legend()
        figs["PSI development vs recent"] = _png(fig)
        psi_html = (
            f"<p>Score PSI: <b>{score_psi:.4f}</b> (&lt;0.1 stable, 0.1-0.25 watch, "
            f"&gt;0.25 shift). Recent population: {recent.height} rows, "
            f"{int((~np.isnan(rs)).sum())} scored.</p>"
            + _table(["attribute", "name", "PSI"], attr_psi)
        )
        if label in recent.columns and (~np.isnan(rs)).any():
            try:
                recent_metrics = discrimination(recent[label], rs)
            except InputFrameError:
                recent_metrics = None

    iv_rows = sorted(
        ([a["code"], a["name"], a["iv"], a["coefficient"]] for a in model.doc["attributes"]),
        key=lambda r: -r[2],
    )
    woe_tables = []
    for a in model.doc["attributes"]:
        rows = [
            [b["label"], b["count"], b["event_rate"], b["woe"], b["iv"], b["points"]]
            for b in a["bins"]
        ]
        mi = a["missing"]
        rows.append(["missing", mi["count"], mi["event_rate"], mi["woe"], None, mi["points"]])
        woe_tables.append(
            f"<h3>{html.escape(a['code'])} - {html.escape(a['name'])} "
            f"(IV {a['iv']:.4f})</h3>"
            + _table(["bin", "count", "bad rate", "WoE", "IV", "points"], rows)
        )

    summary = [
        ["AUC", metrics["auc"]],
        ["Gini", metrics["gini"]],
        ["KS", metrics["ks"]],
        ["scored rows", metrics["n"]],
        ["no-score rows", int((~ok).sum())],
    ]
    if recent_metrics:
        summary += [["recent AUC", recent_metrics["auc"]], ["recent KS", recent_metrics["ks"]]]
    imgs = "".join(
        f"<figure><img src='{src}' alt='{html.escape(name)}'>"
        f"<figcaption>{html.escape(name)}</figcaption></figure>"
        for name, src in figs.items()
    )
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}figure{{display:inline-block}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Model <b>{html.escape(model.version)}</b>, created {html.escape(model.doc["created_at"])}.</p>
<h2>Discrimination (development sample)</h2>{_table(["metric", "value"], summary)}
<h2>Figures</h2>{imgs}
<h2>Bad rate by score band</h2>
{_table(["band", "count", "bads", "bad rate", "predicted bad rate"], band_rows)}
<h2>Population stability</h2>{psi_html}
<h2>Information value</h2>{_table(["attribute", "name", "IV", "coefficient"], iv_rows)}
<h2>WoE tables</h2>{"".join(woe_tables)}
</body></html>
"""
    path = Path(path)
    path.write_text(doc, encoding="utf-8")
    return path
