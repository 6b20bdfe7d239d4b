"""The scorecard model file and the scorer (no optbinning needed at scoring time).

A model is a readable JSON document (see docs/attributes.md, "Model file"), protected by a
SHA-256 checksum over its canonical form. :class:`ScoreModel` validates and loads it, then
scores either a polars frame of attributes (vectorised numpy) or one subject's attribute dict
(pure-Python fast path). Thin files get no score, with a reason, never a number.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from openbureau.scoring.errors import InputFrameError, ModelFileError
from openbureau.scoring.reasons import MAX_KEY_FACTORS, Reason, select_factors

FORMAT = "openbureau.scorecard"
FORMAT_VERSION = 1
RULE_OPS = {">=": float.__ge__, ">": float.__gt__, "<=": float.__le__, "<": float.__lt__}


def canonical_json(doc: dict[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "checksum"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def checksum(doc: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


def save_model(doc: dict[str, Any], path: str | Path) -> Path:
    """Write a model document (adds/refreshes its checksum) as indented UTF-8 JSON."""
    doc = dict(doc)
    doc["checksum"] = checksum(doc)
    path = Path(path)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class ScoreResult:
    """Outcome of scoring one subject. ``score`` is None exactly when ``scored`` is False."""

    scored: bool
    score: int | None
    probability_of_bad: float | None
    reasons: list[Reason] = field(default_factory=list)
    no_score_code: str | None = None
    no_score_reason: str | None = None
    no_score_reason_zh: str | None = None
    model_version: str = ""


@dataclass(frozen=True)
class _Attr:
    code: str
    splits: np.ndarray
    splits_list: list[float]
    points: np.ndarray
    points_list: list[float]
    missing_points: float
    max_points: float
    is_inquiry: bool
    reason: tuple[str, str, str]  # code, en, zh


def _fail(msg: str) -> ModelFileError:
    return ModelFileError(f"invalid model: {msg}")


def _num(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(f"{what} must be a finite number, got {value!r}")
    return float(value)


class ScoreModel:
    """A validated scorecard. Build with :meth:`load` or :meth:`from_dict`."""

    def __init__(self, doc: dict[str, Any]):
        self.doc = doc
        self._validate_and_compile(doc)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path) -> ScoreModel:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ModelFileError(f"model file not found: {path}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelFileError(f"cannot read model file {path}: {exc}") from exc
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelFileError(f"model file {path} is not valid JSON: {exc}") from exc
        return cls.from_dict(doc, source=str(path))

    @classmethod
    def from_dict(cls, doc: Any, source: str = "<dict>") -> ScoreModel:
        if not isinstance(doc, dict):
            raise ModelFileError(f"model {source} must be a JSON object")
        stored = doc.get("checksum")
        if stored is None:
            raise ModelFileError(f"model {source} has no checksum")
        if stored != checksum(doc):
            raise ModelFileError(
                f"model {source} is corrupted: checksum mismatch (file edited or truncated)"
            )
        try:
            return cls(doc)
        except ModelFileError as exc:
            raise ModelFileError(f"{source}: {exc}") from None

    def save(self, path: str | Path) -> Path:
        return save_model(self.doc, path)

    def _validate_and_compile(self, doc: dict[str, Any]) -> None:
        if doc.get("format") != FORMAT:
            raise _fail(f"format must be {FORMAT!r}, got {doc.get('format')!r}")
        if doc.get("format_version") != FORMAT_VERSION:
            raise _fail(f"unsupported format_version {doc.get('format_version')!r}")
        for key in (
            "model_version",
            "created_at",
            "training_spec",
            "scaling",
            "attributes",
            "intercept",
            "intercept_points",
            "reason_codes",
            "no_score_rules",
        ):
            if key not in doc:
                raise _fail(f"missing key {key!r}")
        sc = doc["scaling"]
        if not isinstance(sc, dict):
            raise _fail("scaling must be an object")
        self.factor = _num(sc.get("factor"), "scaling.factor")
        self.offset = _num(sc.get("offset"), "scaling.offset")
        self.min_score = _num(sc.get("min_score"), "scaling.min_score")
        self.max_score = _num(sc.get("max_score"), "scaling.max_score")
        if not (self.min_score < self.max_score and self.factor > 0):
            raise _fail("scaling needs min_score < max_score and factor > 0")
        self.intercept_points = _num(doc["intercept_points"], "intercept_points")
        attrs = doc["attributes"]
        if not isinstance(attrs, list) or not attrs:
            raise _fail("attributes must be a non-empty list")
        rc = doc["reason_codes"]
        if not isinstance(rc, dict):
            raise _fail("reason_codes must be an object")
        compiled = []
        for a in attrs:
            code = a.get("code") if isinstance(a, dict) else None
            if not isinstance(code, str):
                raise _fail("every attribute needs a string 'code'")
            bins = a.get("bins")
            if not isinstance(bins, list) or not bins:
                raise _fail(f"{code}: bins must be a non-empty list")
            pts, splits = [], []
            for i, b in enumerate(bins):
                pts.append(_num(b.get("points"), f"{code} bin {i} points"))
                lo, hi = b.get("lower"), b.get("upper")
                if (i == 0) != (lo is None) or (i == len(bins) - 1) != (hi is None):
                    raise _fail(f"{code}: only the first/last bin may be open-ended")
                if hi is not None:
                    splits.append(_num(hi, f"{code} bin {i} upper"))
                    nxt = bins[i + 1].get("lower") if i + 1 < len(bins) else None
                    if nxt != hi:
                        raise _fail(f"{code}: bin {i} upper {hi} != bin {i + 1} lower {nxt}")
            if any(b <= a for a, b in zip(splits, splits[1:], strict=False)):
                raise _fail(f"{code}: bin edges must increase")
            miss = a.get("missing")
            if not isinstance(miss, dict):
                raise _fail(f"{code}: missing-value bin required")
            mp = _num(miss.get("points"), f"{code} missing points")
            r = rc.get(code)
            if not isinstance(r, dict) or not all(
                isinstance(r.get(k), str) for k in ("code", "en", "zh")
            ):
                raise _fail(f"{code}: reason_codes entry with code/en/zh required")
            compiled.append(
                _Attr(
                    code,
                    np.asarray(splits, float),
                    splits,
                    np.asarray(pts, float),
                    pts,
                    mp,
                    max(max(pts), mp),
                    bool(a.get("is_inquiry", False)),
                    (r["code"], r["en"], r["zh"]),
                )
            )
        self._attrs = compiled
        self._inq_mask = np.array([a.is_inquiry for a in compiled])
        rules = doc["no_score_rules"]
        if not isinstance(rules, list):
            raise _fail("no_score_rules must be a list")
        self._rules = []
        for rule in rules:
            if not isinstance(rule, dict) or rule.get("op") not in RULE_OPS:
                raise _fail(f"bad no_score rule {rule!r}")
            self._rules.append(
                (
                    rule["code"],
                    rule["attribute"],
                    rule["op"],
                    _num(rule.get("value"), "rule value"),
                    rule["text_en"],
                    rule["text_zh"],
                )
            )

    # ------------------------------------------------------------------ metadata
    @property
    def version(self) -> str:
        return str(self.doc["model_version"])

    @property
    def attribute_codes(self) -> list[str]:
        """Attributes with points in the scorecard."""
        return [a.code for a in self._attrs]

    @property
    def required_attributes(self) -> list[str]:
        """Attributes the scorer reads: scorecard attributes plus thin-file rule attributes."""
        out = self.attribute_codes
        return out + [r[1] for r in self._rules if r[1] not in out]

    def probability_of_bad(self, raw_score: np.ndarray | float) -> np.ndarray | float:
        """Model probability of the bad outcome for an (unclipped) score."""
        return 1.0 / (1.0 + np.exp((np.asarray(raw_score) - self.offset) / self.factor))

    # ------------------------------------------------------------------ batch scoring
    def points(self, frame: pl.DataFrame) -> np.ndarray:
        """``(n, k)`` points per scorecard attribute, vectorised."""
        missing = [c for c in self.attribute_codes if c not in frame.columns]
        if missing:
            raise InputFrameError(f"attribute frame lacks model attributes: {missing}")
        out = np.empty((frame.height, len(self._attrs)))
        for i, a in enumerate(self._attrs):
            x = frame[a.code].cast(pl.Float64).to_numpy()
            idx = np.searchsorted(a.splits, x, side="right")
            binned = a.points[np.minimum(idx, a.points.size - 1)]
            out[:, i] = np.where(np.isnan(x), a.missing_points, binned)
        return out

    def _no_score(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Index of the first failing thin-file rule per row (-1 = scoreable)."""
        first = np.full(frame.height, -1)
        for i in range(len(self._rules) - 1, -1, -1):
            _, attr, op, value, _, _ = self._rules[i]
            if attr not in frame.columns:
                raise InputFrameError(f"attribute frame lacks thin-file attribute {attr}")
            x = frame[attr].cast(pl.Float64).to_numpy()
            with np.errstate(invalid="ignore"):
                ok = {">=": x >= value, ">": x > value, "<=": x <= value, "<": x < value}[op]
            first = np.where(~ok, i, first)  # NaN compares False -> not scoreable
        return first, first >= 0

    def score_frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Score every row of an attribute frame (e.g. from compute_attributes_batch).

        Columns: [subject_id], score (Int64, null = no score), probability_of_bad,
        no_score_code, no_score_reason, reason_1..reason_4 (key factors), reason_5
        (inquiry factor), model_version.
        """
        pts = self.points(frame)
        raw = self.intercept_points + pts.sum(axis=1)
        score = np.clip(np.rint(raw), self.min_score, self.max_score).astype(np.int64)
        rule_idx, unscored = self._no_score(frame)
        maxp = np.array([a.max_points for a in self._attrs])
        factors = select_factors(maxp[None, :] - pts, self._inq_mask)
        # lookups: index -1 picks the trailing None
        codes = pl.Series([a.reason[0] for a in self._attrs] + [None], dtype=pl.String)
        rule_code = pl.Series([r[0] for r in self._rules] + [None], dtype=pl.String)
        rule_text = pl.Series([r[4] for r in self._rules] + [None], dtype=pl.String)

        def pick(table: pl.Series, idx: np.ndarray) -> pl.Series:
            return table.gather(np.where(idx < 0, table.len() - 1, idx))

        cols: dict[str, Any] = {}
        if "subject_id" in frame.columns:
            cols["subject_id"] = frame["subject_id"]
        cols["score"] = pl.Series(score).set(pl.Series(unscored), None)
        cols["probability_of_bad"] = pl.Series(self.probability_of_bad(raw)).set(
            pl.Series(unscored), None
        )
        cols["no_score_code"] = pick(rule_code, rule_idx)
        cols["no_score_reason"] = pick(rule_text, rule_idx)
        for j in range(MAX_KEY_FACTORS + 1):
            f = np.where(unscored, -1, factors[:, j])
            cols[f"reason_{j + 1}"] = pick(codes, f)
        out = pl.DataFrame(cols)
        return out.with_columns(model_version=pl.lit(self.version))

    # ------------------------------------------------------------------ one subject
    def score_one(self, attributes: dict[str, Any]) -> ScoreResult:
        """Fast path for one subject's attribute dict (e.g. compute_attributes_online)."""
        for code, attr, op, value, en, zh in self._rules:
            if attr not in attributes:
                raise InputFrameError(f"attributes lack thin-file attribute {attr}")
            x = attributes[attr]
            if (
                x is None
                or (isinstance(x, float) and math.isnan(x))
                or not RULE_OPS[op](float(x), value)
            ):
                return ScoreResult(False, None, None, [], code, en, zh, self.version)
        pts = []
        for a in self._attrs:
            if a.code not in attributes:
                raise InputFrameError(f"attributes lack model attribute {a.code}")
            x = attributes[a.code]
            if x is None or (isinstance(x, float) and math.isnan(x)):
                pts.append(a.missing_points)
            else:
                pts.append(a.points_list[bisect.bisect_right(a.splits_list, float(x))])
        raw = self.intercept_points + sum(pts)
        score = int(min(max(round(raw), self.min_score), self.max_score))
        losses = np.array([[a.max_points - p for a, p in zip(self._attrs, pts, strict=True)]])
        idx = select_factors(losses, self._inq_mask)[0]
        reasons = [
            Reason(
                self._attrs[i].reason[0],
                self._attrs[i].code,
                float(losses[0, i]),
                self._attrs[i].reason[1],
                self._attrs[i].reason[2],
            )
            for i in idx
            if i >= 0
        ]
        return ScoreResult(
            True, score, float(self.probability_of_bad(raw)), reasons, model_version=self.version
        )

    def score(self, attributes: pl.DataFrame | dict[str, Any]) -> pl.DataFrame | ScoreResult:
        """Score a frame (batch, vectorised) or one subject's dict (fast path)."""
        if isinstance(attributes, pl.DataFrame):
            return self.score_frame(attributes)
        if isinstance(attributes, dict):
            return self.score_one(attributes)
        raise InputFrameError("score() takes a polars DataFrame or a dict of attributes")
