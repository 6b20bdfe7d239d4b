"""Outcome labels from a small, safe definition grammar (parsed by hand, never ``eval``).

Grammar (case-insensitive, whitespace-separated)::

    definition := clause ( "or" clause )*
    clause     := metric op value "within" N [ "month" | "months" ]
    metric     := "worst_status" | "amount_past_due" | "balance"
    op         := ">=" | ">" | "=" | "==" | "<=" | "<"
    value      := an account status name (worst_status only, compared by severity)
                | a non-negative integer (severity 0-8 for worst_status, currency units otherwise)
    N          := integer 1..120, the performance window in months after the observation date

Examples: ``worst_status>=past_due_90 within 12``, ``worst_status >= 3 within 12 months``,
``worst_status>=past_due_60 within 6 or amount_past_due>1000 within 6``. Operators may be
written with or without surrounding spaces.

A subject is *bad* (label 1) if any of its accounts has a record in the performance window
``(observation_date, observation_date + N months]`` meeting any clause; *good* (0) if it has
records in the window and none meets a clause. The population is the subjects with a tradeline
visible at the observation date; subjects with no record in the widest window are dropped
(no performance).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl

from openbureau.furnishing.schema import STATUS_SEVERITY
from openbureau.scoring.errors import (
    DefinitionError,
    EmptyDefinitionError,
    NoPerformanceDataError,
)
from openbureau.scoring.history import _as_date, _check_columns, add_months

METRICS = ("worst_status", "amount_past_due", "balance")
OPS = (">=", "<=", "==", ">", "<", "=")
_CLAUSE = re.compile(
    r"^\s*(?P<metric>[a-z_]+)\s*(?P<op>>=|<=|==|>|<|=)\s*(?P<value>[a-z_0-9]+)\s+"
    r"within\s+(?P<n>\d+)(?:\s+months?)?\s*$"
)


@dataclass(frozen=True)
class Clause:
    metric: str
    op: str
    value: int
    months: int


def parse_definition(text: str) -> tuple[Clause, ...]:
    """Parse a bad definition; raises DefinitionError with the offending part."""
    if not isinstance(text, str) or not text.strip():
        raise DefinitionError("label definition is empty")
    parts = re.split(r"\s+or\s+", text.strip().lower())
    clauses = []
    for part in parts:
        m = _CLAUSE.match(part)
        if not m:
            raise DefinitionError(
                f"cannot parse {part!r}: expected '<metric> <op> <value> within <N> [months]', "
                f"metric one of {', '.join(METRICS)}"
            )
        metric, op, raw, n = m["metric"], m["op"], m["value"], int(m["n"])
        if metric not in METRICS:
            raise DefinitionError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
        if raw.isdigit():
            value = int(raw)
            if metric == "worst_status" and value > max(STATUS_SEVERITY.values()):
                raise DefinitionError(f"severity {value} out of range 0-8 in {part!r}")
        elif metric == "worst_status" and raw in STATUS_SEVERITY:
            value = STATUS_SEVERITY[raw]
        else:
            raise DefinitionError(f"bad value {raw!r} for {metric} in {part!r}")
        if not 1 <= n <= 120:
            raise DefinitionError(f"window must be 1..120 months, got {n} in {part!r}")
        clauses.append(Clause(metric, "==" if op == "=" else op, value, n))
    return tuple(clauses)


def _compare(expr: pl.Expr, op: str, value: int) -> pl.Expr:
    return {
        ">=": expr >= value,
        ">": expr > value,
        "==": expr == value,
        "<=": expr <= value,
        "<": expr < value,
    }[op]


def build_labels(
    tradelines: pl.DataFrame, observation_date: dt.date | str, definition: str
) -> pl.DataFrame:
    """``subject_id, label`` for the population observed at ``observation_date``."""
    clauses = parse_definition(definition)
    obs = _as_date(observation_date)
    _check_columns(
        tradelines,
        ("subject_id", "reporting_date", "account_status", "amount_past_due", "current_balance"),
        "tradelines",
    )
    horizon = add_months(obs, max(c.months for c in clauses))
    later = tradelines.filter(pl.col("reporting_date") > obs)
    if later.height == 0:
        latest = tradelines["reporting_date"].max()
        raise NoPerformanceDataError(
            f"no tradeline reported after the observation date {obs} (latest data: {latest}); "
            "choose an earlier observation date"
        )
    population = tradelines.filter(pl.col("reporting_date") <= obs).select("subject_id").unique()
    if population.height == 0:
        raise NoPerformanceDataError(f"no subject has a tradeline on or before {obs}")
    sev = pl.col("account_status").replace_strict(
        {str(k): v for k, v in STATUS_SEVERITY.items()}, default=None, return_dtype=pl.Int8
    )
    metric_expr = {
        "worst_status": sev,
        "amount_past_due": pl.col("amount_past_due"),
        "balance": pl.col("current_balance"),
    }
    hits = [
        (
            (pl.col("reporting_date") <= add_months(obs, c.months))
            & _compare(metric_expr[c.metric], c.op, c.value)
        ).fill_null(False)
        for c in clauses
    ]
    window = later.filter(pl.col("reporting_date") <= horizon)
    labels = (
        window.group_by("subject_id")
        .agg(label=pl.any_horizontal(hits).any().cast(pl.Int8))
        .join(population, on="subject_id", how="inner")
        .sort("subject_id")
    )
    if labels.height == 0:
        raise NoPerformanceDataError(
            f"no subject observed at {obs} has a record in the performance window to {horizon}"
        )
    if labels["label"].sum() == 0:
        raise EmptyDefinitionError(
            f"definition {definition!r} matches no subject in the window ({obs}, {horizon}]"
        )
    return labels
