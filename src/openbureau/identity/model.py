"""Fellegi-Sunter model: fit with Splink (EM on DuckDB), store as versioned JSON, score online
in pure Python (this module never imports Splink at import time; only :func:`fit_model` and
:meth:`IdentityModel.to_splink_settings` users touch it).

JSON shape::

    {
      "format": "openbureau.identity.fs-model",
      "schema_version": 1,
      "version": "2026-11-25T19:50:00Z",          # caller-chosen model version
      "created": "2026-11-25T19:50:00Z",
      "settings": {
        "link_type": "dedupe_only",
        "comparisons": [{"name": "given_name", "levels": ["null", "exact", ...]}, ...],
        "blocking_key_kinds": ["id", "sy", ...],
        "thresholds": {"match": 0.99, "review": 0.5},
        "normalization": {"default_region": "US", "dayfirst": false},
        "training": {"records": 5000, "splink_version": "5.0.0", "em_blocking": [...], ...}
      },
      "prior": {"probability_two_random_records_match": 0.0004},
      "parameters": {"given_name": {"exact": {"m": 0.9, "u": 0.002}, ...}, ...}
    }

Null levels carry no parameters (weight 0).
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .blocking import KEY_KINDS
from .compare import COMPARISON_COLUMNS, COMPARISONS, Comparison, compare
from .guards import (
    corroborated,
    dob_conflict,
    given_name_conflict,
    hard_conflict,
    ids_corroborate,
    is_twin_like,
    suffix_unconfirmed,
)

__all__ = [
    "FORMAT",
    "Explanation",
    "FieldEvidence",
    "IdentityModel",
    "Score",
    "Thresholds",
    "fit_model",
]

FORMAT = "openbureau.identity.fs-model"
SCHEMA_VERSION = 1
_M_FLOOR = 1e-6
_U_FLOOR = 1e-9


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on match probability: ≥ match → "match", ≥ review → "review",
    else "new" (create a new subject)."""

    match: float = 0.99
    review: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.review <= self.match <= 1.0:
            raise ValueError("need 0 <= review <= match <= 1")


@dataclass(frozen=True)
class FieldEvidence:
    comparison: str
    level: str
    weight: float  # log2(m/u); 0 for the null level
    m: float | None
    u: float | None


@dataclass(frozen=True)
class Score:
    match_weight: float
    probability: float
    decision: str  # "match" | "review" | "new"
    reason: str | None = None  # guard that overrode the weight, if any
    levels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    score: Score
    prior_weight: float
    fields: list[FieldEvidence]

    def as_dict(self) -> dict[str, Any]:
        return {
            "match_weight": self.score.match_weight,
            "probability": self.score.probability,
            "decision": self.score.decision,
            "reason": self.score.reason,
            "prior_weight": self.prior_weight,
            "fields": [f.__dict__ for f in self.fields],
        }


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _logit2(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


def _prob(w: float) -> float:
    if w > 60:
        return 1.0
    if w < -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-w))


class IdentityModel:
    """A stored Fellegi-Sunter model and its pure-Python scorer."""

    def __init__(
        self,
        parameters: Mapping[str, Mapping[str, Mapping[str, float]]],
        prior: float,
        *,
        version: str | None = None,
        created: str | None = None,
        settings: Mapping[str, Any] | None = None,
        comparisons: Sequence[Comparison] = COMPARISONS,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.comparisons = tuple(comparisons)
        self.parameters = {c: {lv: dict(mu) for lv, mu in p.items()} for c, p in parameters.items()}
        self.prior = float(prior)
        self.created = created or _utc_now()
        self.version = version or self.created
        base = {
            "link_type": "dedupe_only",
            "comparisons": [
                {"name": c.name, "levels": [lv.label for lv in c.levels]} for c in self.comparisons
            ],
            "blocking_key_kinds": list(KEY_KINDS),
            "thresholds": {"match": 0.99, "review": 0.5},
            "normalization": {"default_region": "US", "dayfirst": False},
        }
        base.update(dict(settings or {}))
        if thresholds is not None:
            base["thresholds"] = {"match": thresholds.match, "review": thresholds.review}
        self.settings = base
        t = base["thresholds"]
        self.thresholds = Thresholds(float(t["match"]), float(t["review"]))
        self._check()
        self._weights = {
            c.name: {
                lv.label: (0.0 if lv.is_null else self._w(c.name, lv.label)) for lv in c.levels
            }
            for c in self.comparisons
        }
        self.prior_weight = _logit2(self.prior)

    # ------------------------------------------------------------------ validation / io
    def _check(self) -> None:
        if not 0 < self.prior < 1:
            raise ValueError("prior must be in (0, 1)")
        for c in self.comparisons:
            p = self.parameters.get(c.name)
            if p is None:
                raise ValueError(f"model has no parameters for comparison {c.name!r}")
            for lv in c.levels:
                if lv.is_null:
                    continue
                mu = p.get(lv.label)
                if mu is None or not (0 < mu["m"] <= 1 and 0 < mu["u"] <= 1):
                    raise ValueError(f"bad m/u for {c.name}.{lv.label}: {mu}")

    def _w(self, comp: str, label: str) -> float:
        mu = self.parameters[comp][label]
        return math.log2(mu["m"] / mu["u"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "version": self.version,
            "created": self.created,
            "settings": self.settings,
            "prior": {"probability_two_random_records_match": self.prior},
            "parameters": self.parameters,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, sort_keys=False)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IdentityModel:
        if d.get("format") != FORMAT:
            raise ValueError(f"not an {FORMAT} document")
        if int(d.get("schema_version", 0)) != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema_version {d.get('schema_version')}")
        declared = [c["name"] for c in d["settings"]["comparisons"]]
        known = {c.name: c for c in COMPARISONS}
        unknown = [n for n in declared if n not in known]
        if unknown:
            raise ValueError(f"model uses unknown comparisons {unknown}")
        for c in d["settings"]["comparisons"]:
            if [lv.label for lv in known[c["name"]].levels] != list(c["levels"]):
                raise ValueError(f"level definitions changed for {c['name']}; refit the model")
        return cls(
            d["parameters"],
            d["prior"]["probability_two_random_records_match"],
            version=d.get("version"),
            created=d.get("created"),
            settings=d.get("settings"),
            comparisons=[known[n] for n in declared],
        )

    @classmethod
    def load(cls, path_or_json: str | Path | Mapping[str, Any]) -> IdentityModel:
        """Load from a path, a JSON string or an already-parsed dict."""
        if isinstance(path_or_json, Mapping):
            return cls.from_dict(path_or_json)
        s = str(path_or_json)
        if s.lstrip().startswith("{"):
            return cls.from_dict(json.loads(s))
        return cls.from_dict(json.loads(Path(s).read_text(encoding="utf-8")))

    def with_thresholds(self, thresholds: Thresholds) -> IdentityModel:
        return IdentityModel(
            self.parameters, self.prior, version=self.version, created=self.created,
            settings=self.settings, comparisons=self.comparisons, thresholds=thresholds,
        )

    # ------------------------------------------------------------------ scoring
    def weight_of(self, comparison: str, level: str) -> float:
        return self._weights[comparison][level]

    def _decide(
        self, p: float, a: Mapping[str, Any], b: Mapping[str, Any]
    ) -> tuple[str, str | None]:
        reason = hard_conflict(a, b)
        if reason == "different_valid_national_ids" and p >= self.thresholds.review and (
            ids_corroborate(a.get("nid"), b.get("nid"))
        ):
            # Two valid IDs one typo apart (an SSN has no check digit to catch a swap): a
            # person cannot be merged on that, nor safely split from it.
            return "review", "national_id_typo"
        if reason:
            return "new", reason
        if p >= self.thresholds.match:
            if is_twin_like(a, b):
                return "review", "possible_twins"
            if dob_conflict(a, b):
                return "review", "dob_conflict"
            if given_name_conflict(a, b):
                return "review", "given_name_conflict"
            if not corroborated(a, b):
                return "review", "insufficient_evidence"
            if suffix_unconfirmed(a, b):
                return "review", "generational_suffix_unconfirmed"
            return "match", None
        if p >= self.thresholds.review:
            return "review", None
        return "new", None

    def score(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> Score:
        """Score two normalised records (or a record and a subject's representative record)."""
        levels = compare(a, b, self.comparisons)
        w = self.prior_weight
        for name, label in levels.items():
            w += self._weights[name][label]
        p = _prob(w)
        decision, reason = self._decide(p, a, b)
        return Score(w, p, decision, reason, levels)

    def explain(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> Explanation:
        """Score plus per-field evidence: level reached and its weight log2(m/u)."""
        s = self.score(a, b)
        fields = []
        for c in self.comparisons:
            label = s.levels[c.name]
            mu = self.parameters[c.name].get(label)
            fields.append(
                FieldEvidence(c.name, label, self._weights[c.name][label],
                              mu["m"] if mu else None, mu["u"] if mu else None)
            )
        return Explanation(s, self.prior_weight, fields)

    def score_candidates(
        self, record: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]]
    ) -> list[tuple[int, Score]]:
        """Score one record against candidates; returns (index, score) best first."""
        scored = [(i, self.score(record, c)) for i, c in enumerate(candidates)]
        scored.sort(key=lambda t: -t[1].match_weight)
        return scored

    # ------------------------------------------------------------------ splink bridge
    def to_splink_settings(self, unique_id_column: str = "record_id") -> dict[str, Any]:
        """Splink settings dict carrying this model's m/u (for batch prediction)."""
        comps = []
        for c in self.comparisons:
            d = c.to_splink()
            for lvd, lv in zip(d["comparison_levels"], c.levels, strict=True):
                if not lv.is_null:
                    mu = self.parameters[c.name][lv.label]
                    lvd["m_probability"] = mu["m"]
                    lvd["u_probability"] = mu["u"]
            comps.append(d)
        return {
            "link_type": "dedupe_only",
            "unique_id_column_name": unique_id_column,
            "probability_two_random_records_match": self.prior,
            "comparisons": comps,
            "blocking_rules_to_generate_predictions": [],
            "retain_matching_columns": False,
            "retain_intermediate_calculation_columns": False,
        }


# ---------------------------------------------------------------------------- fitting


def _extract_parameters(
    splink_dict: Mapping[str, Any], comparisons: Sequence[Comparison], u_floor: float
) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    by_name = {c["output_column_name"]: c for c in splink_dict["comparisons"]}
    for c in comparisons:
        levels = by_name[c.name]["comparison_levels"]
        params: dict[str, dict[str, float]] = {}
        for lvd, lv in zip(levels, c.levels, strict=True):
            if lv.is_null:
                continue
            m = lvd.get("m_probability")
            u = lvd.get("u_probability")
            # Levels never observed during training: conservative defaults (no evidence for
            # a match from an unseen agreement level, mild evidence against from unseen
            # disagreement levels is left to the data).
            m_ok = m is not None and m > 0
            u_ok = u is not None and u > 0
            if not m_ok and not u_ok:
                m = u = 1e-6  # level never seen at all: weight 0
            else:
                m = float(m) if m_ok else _M_FLOOR
                u = float(u) if u_ok else max(u_floor, _U_FLOOR)
            params[lv.label] = {"m": min(m, 1.0), "u": min(u, 1.0)}
        out[c.name] = params
    return out


class _PassFailed(Exception):
    """One expectation-maximisation pass Splink could not estimate."""

    def __init__(self, columns: Sequence[str], error: Exception) -> None:
        super().__init__(str(error))
        self.columns = tuple(columns)
        self.reason = str(error)[:200]


def fit_model(
    records: Any,
    *,
    version: str | None = None,
    max_pairs: float | None = None,
    seed: int = 1,
    em_blocking: Sequence[Sequence[str]] = (("dob",), ("surname", "given")),
    deterministic_rules: Sequence[str] = (
        "l.nid = r.nid",
        "l.given = r.given and l.surname = r.surname and l.dob = r.dob",
    ),
    deterministic_recall: float = 0.8,
    em_max_pairs: float | None = 1e6,
    thresholds: Thresholds | None = None,
    default_region: str = "US",
    dayfirst: bool = False,
) -> IdentityModel:
    """Estimate m/u per comparison level with Splink (DuckDB backend).

    ``records``: a *normalised* polars frame (``normalize_records`` output). Steps, as in
    Splink's documented workflow: prior from deterministic rules, u by random sampling,
    m by expectation maximisation over the ``em_blocking`` rules (each a list of columns).
    """
    import logging

    import polars as pl
    import splink
    from splink import DuckDBAPI, Linker, block_on

    cols = ["record_id", *[c for c in COMPARISON_COLUMNS if c != "record_id"]]
    frame = records.select(cols)
    n = frame.height
    if n < 2:
        raise ValueError("need at least two records to fit a model")
    if max_pairs is None:  # u sampling: 2% of all pairs, between 1e5 and 5e5
        max_pairs = min(5e5, max(1e5, 0.02 * n * (n - 1) / 2))

    neutral = {
        c.name: {lv.label: {"m": 0.5, "u": 0.5} for lv in c.levels if not lv.is_null}
        for c in COMPARISONS
    }
    # Comparisons whose field is (almost) never present cannot be trained: they keep neutral
    # parameters (m = u → weight 0) and are left out of the Splink model, which also lets
    # Splink's u sampling stop early.
    present = frame.select(
        [
            (pl.col(c.columns[0]).list.len() > 0).sum().alias(c.name)
            if c.columns[0] == "addr_tokens"
            else pl.col(c.columns[0]).is_not_null().sum().alias(c.name)
            for c in COMPARISONS
        ]
    ).row(0, named=True)
    trainable = tuple(c for c in COMPARISONS if present[c.name] >= 2)
    untrained = [c.name for c in COMPARISONS if c not in trainable]
    settings = IdentityModel(neutral, 1e-4).to_splink_settings()
    settings["comparisons"] = [
        d for d in settings["comparisons"] if d["output_column_name"] not in untrained
    ]
    for comp in settings["comparisons"]:
        for lv in comp["comparison_levels"]:
            lv.pop("m_probability", None)
            lv.pop("u_probability", None)
    settings.pop("probability_two_random_records_match")

    db_api = DuckDBAPI()
    sdf = db_api.register(frame.to_arrow())

    def train(passes: Sequence[Sequence[str]]) -> Any:
        # ERROR: Splink warns about every level it saw no pair for; those levels get the
        # defaults of _extract_parameters, so the warnings would only be noise.
        linker = Linker(sdf, copy.deepcopy(settings), log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            list(deterministic_rules), recall=deterministic_recall
        )
        linker.training.estimate_u_using_random_sampling(
            max_pairs=max_pairs, seed=seed, num_chunks=1
        )
        for cols_ in passes:
            # large inputs: sample ~em_max_pairs blocked pairs (hash-based, deterministic)
            em_pairs = em_max_pairs if (em_max_pairs and n > 50_000) else None
            try:
                try:
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        block_on(*cols_),
                        estimate_without_term_frequencies=True,
                        max_pairs=em_pairs,
                    )
                except Exception:
                    if em_pairs is None:
                        raise
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        block_on(*cols_), estimate_without_term_frequencies=True
                    )
            except ValueError as exc:
                raise _PassFailed(cols_, exc) from exc
        return linker

    # Splink refuses an EM pass whose estimates underflow, e.g. when its blocked pairs hold
    # no match at some level (a bureau whose people rarely appear twice). Such a pass is left
    # out and the model trained again from scratch on the others; levels they leave unseen
    # get the conservative defaults of _extract_parameters.
    passes = [tuple(c) for c in em_blocking]
    failed_passes: list[dict[str, Any]] = []
    while True:
        try:
            linker = train(passes)
            break
        except _PassFailed as failed:
            failed_passes.append({"em_blocking": list(failed.columns), "error": failed.reason})
            passes = [p for p in passes if p != failed.columns]
            if not passes:
                raise ValueError(
                    f"no expectation-maximisation pass could be estimated: {failed.reason}"
                ) from None
    trained = linker.misc.save_model_to_json()
    total_pairs = n * (n - 1) / 2
    params = _extract_parameters(trained, trainable, 0.5 / min(max_pairs, total_pairs))
    for name in untrained:
        params[name] = neutral[name]
    prior = float(trained.get("probability_two_random_records_match") or 1.0 / n)
    training = {
        "records": n,
        "splink_version": splink.__version__,
        "max_pairs_for_u": max_pairs,
        "seed": seed,
        "em_blocking": [list(c) for c in em_blocking],
        "em_max_pairs": em_max_pairs,
        "deterministic_rules": list(deterministic_rules),
        "deterministic_recall": deterministic_recall,
        "untrained_comparisons": untrained,
        "failed_em_passes": failed_passes,
    }
    return IdentityModel(
        params,
        min(max(prior, 1e-9), 0.5),
        version=version,
        settings={
            "training": training,
            "normalization": {"default_region": default_region, "dayfirst": dayfirst},
        },
        thresholds=thresholds,
    )
