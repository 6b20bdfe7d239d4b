"""Attribute expressions that run on two engines.

An attribute is written once, in this small expression language that mirrors the polars API
(``col``, ``when``, ``filter``, ``sum`` ...). Every expression carries

* ``.polars``: the polars expression the batch engine aggregates per subject, and
* ``.evaluate(frame)``: the same computation in NumPy over one subject's rows.

The NumPy engine exists because polars has a fixed cost per query - about 20 ms for the whole
catalogue on a handful of rows - that no single-subject request can amortise, while NumPy on a
few rows costs microseconds per operation. Both engines follow polars' semantics, nulls
included: element-wise operations propagate nulls, ``&`` and ``|`` use three-valued (Kleene)
logic, ``filter`` drops null predicates, and aggregations skip nulls (``sum`` of nothing is 0;
``max``, ``min`` and ``mean`` of nothing are null). tests/scoring/test_attributes.py checks the
two engines agree, attribute by attribute, on generated bureaus.

In the NumPy engine a value is a :class:`Column`: the data (float64 for numbers - exact for the
integers a credit file holds - bool for predicates, object for strings) plus a validity mask.
Aggregations return 0-d columns, which broadcast against row columns like polars' scalars.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl


@dataclass(frozen=True, slots=True)
class Column:
    data: np.ndarray
    valid: np.ndarray

    def scalar(self, integer: bool) -> Any:
        """The 0-d column as a Python value (``None`` for null)."""
        if not bool(self.valid):
            return None
        value = self.data.item()
        return int(value) if integer else float(value)


@dataclass(frozen=True, slots=True)
class Frame:
    """One subject's rows as NumPy columns (the NumPy engine's input).

    ``memo`` holds the values of the sub-expressions evaluated so far, by their structural
    key: the catalogue repeats many (open revolving balances, filters on open trades ...)."""

    height: int
    columns: Mapping[str, Column]
    memo: dict[str, Column] = field(default_factory=dict)


def _null() -> Column:
    return Column(np.array(np.nan), np.array(False))


def _elementwise(op: Callable, a: Column, b: Column) -> Column:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return Column(op(a.data, b.data), a.valid & b.valid)


def _known(c: Column) -> tuple[np.ndarray, np.ndarray]:
    """(definitely true, definitely false) of a predicate column."""
    return c.data & c.valid, ~c.data & c.valid


def _and(a: Column, b: Column) -> Column:
    a_true, a_false = _known(a)
    b_true, b_false = _known(b)
    true = a_true & b_true
    return Column(true, true | a_false | b_false)


def _or(a: Column, b: Column) -> Column:
    a_true, a_false = _known(a)
    b_true, b_false = _known(b)
    true = a_true | b_true
    return Column(true, true | (a_false & b_false))


def _numeric(c: Column) -> np.ndarray:
    return c.data.astype(np.float64) if c.data.dtype == np.bool_ else c.data


class Expr:
    """One node of an attribute definition (see the module docstring)."""

    __slots__ = ("polars", "_run", "key")

    def __init__(self, polars: pl.Expr, run: Callable[[Frame], Column], key: str) -> None:
        self.polars = polars
        self._run = run
        self.key = key  # the expression's structure, spelled out; equal keys, equal values

    def evaluate(self, frame: Frame) -> Column:
        memo = frame.memo
        value = memo.get(self.key)
        if value is None:
            value = memo[self.key] = self._run(frame)
        return value

    # ------------------------------------------------------------ element-wise
    def _binary(self, other: Any, op: Callable, reflected: bool = False) -> Expr:
        a, b = (lift(other), self) if reflected else (self, lift(other))
        ea, eb = a.evaluate, b.evaluate
        key = f"({a.key} {op.__name__} {b.key})"
        return Expr(op(a.polars, b.polars), lambda f: _elementwise(op, ea(f), eb(f)), key)

    def __add__(self, other: Any) -> Expr:
        return self._binary(other, operator.add)

    def __sub__(self, other: Any) -> Expr:
        return self._binary(other, operator.sub)

    def __mul__(self, other: Any) -> Expr:
        return self._binary(other, operator.mul)

    def __rmul__(self, other: Any) -> Expr:
        return self._binary(other, operator.mul, reflected=True)

    def __truediv__(self, other: Any) -> Expr:
        return self._binary(other, operator.truediv)

    def __lt__(self, other: Any) -> Expr:
        return self._binary(other, operator.lt)

    def __le__(self, other: Any) -> Expr:
        return self._binary(other, operator.le)

    def __gt__(self, other: Any) -> Expr:
        return self._binary(other, operator.gt)

    def __ge__(self, other: Any) -> Expr:
        return self._binary(other, operator.ge)

    def __eq__(self, other: Any) -> Expr:  # type: ignore[override]
        return self._binary(other, operator.eq)

    __hash__ = None  # type: ignore[assignment]  # == builds an expression, as in polars

    def __and__(self, other: Expr) -> Expr:
        a, b = self.evaluate, other.evaluate
        key = f"({self.key} & {other.key})"
        return Expr(self.polars & other.polars, lambda f: _and(a(f), b(f)), key)

    def __or__(self, other: Expr) -> Expr:
        a, b = self.evaluate, other.evaluate
        key = f"({self.key} | {other.key})"
        return Expr(self.polars | other.polars, lambda f: _or(a(f), b(f)), key)

    def __invert__(self) -> Expr:
        a = self.evaluate

        def run(f: Frame) -> Column:
            c = a(f)
            return Column(~c.data, c.valid)

        return Expr(~self.polars, run, f"~{self.key}")

    def fill_null(self, value: Any) -> Expr:
        a = self.evaluate

        def run(f: Frame) -> Column:
            c = a(f)
            return Column(np.where(c.valid, c.data, value), np.ones_like(c.valid))

        return Expr(self.polars.fill_null(value), run, f"{self.key}.fill_null({value!r})")

    def cast(self, dtype: pl.DataType | type[pl.DataType]) -> Expr:
        a = self.evaluate
        integer = dtype.is_integer()

        def run(f: Frame) -> Column:
            c = a(f)
            data = _numeric(c)
            return Column(np.trunc(data) if integer else data, c.valid)

        return Expr(self.polars.cast(dtype), run, f"{self.key}.cast({dtype})")

    def filter(self, predicate: Expr) -> Expr:
        a, p = self.evaluate, predicate.evaluate

        def run(f: Frame) -> Column:
            c = a(f)
            keep, _ = _known(p(f))
            return Column(c.data[keep], c.valid[keep])

        key = f"{self.key}.filter({predicate.key})"
        return Expr(self.polars.filter(predicate.polars), run, key)

    # ------------------------------------------------------------ aggregations
    def sum(self) -> Expr:
        a = self.evaluate

        def run(f: Frame) -> Column:
            c = a(f)
            return Column(np.array(_numeric(c)[c.valid].sum(), np.float64), np.array(True))

        return Expr(self.polars.sum(), run, f"{self.key}.sum()")

    def _skipping_nulls(
        self, reduce: Callable[[np.ndarray], Any], polars: pl.Expr, name: str
    ) -> Expr:
        a = self.evaluate

        def run(f: Frame) -> Column:
            c = a(f)
            values = _numeric(c)[c.valid]
            if not values.size:
                return _null()
            return Column(np.array(reduce(values), np.float64), np.array(True))

        return Expr(polars, run, f"{self.key}.{name}()")

    def max(self) -> Expr:
        return self._skipping_nulls(np.max, self.polars.max(), "max")

    def min(self) -> Expr:
        return self._skipping_nulls(np.min, self.polars.min(), "min")

    def mean(self) -> Expr:
        return self._skipping_nulls(lambda v: v.sum() / v.size, self.polars.mean(), "mean")


def col(name: str) -> Expr:
    return Expr(pl.col(name), lambda f: f.columns[name], f"col({name!r})")


def lit(value: Any) -> Expr:
    if value is None:
        return Expr(pl.lit(None), lambda f: _null(), "lit(None)")
    column = Column(np.array(value), np.array(True))
    return Expr(pl.lit(value), lambda f: column, f"lit({value!r}:{type(value).__name__})")


def lift(value: Any) -> Expr:
    return value if isinstance(value, Expr) else lit(value)


def length() -> Expr:
    """The number of rows (``pl.len()``)."""
    return Expr(pl.len(), lambda f: Column(np.array(float(f.height)), np.array(True)), "len()")


def sum_horizontal(*exprs: Expr) -> Expr:
    """Element-wise sum with nulls counted as 0, as ``pl.sum_horizontal``."""
    runs = [e.evaluate for e in exprs]

    def run(f: Frame) -> Column:
        cols = [r(f) for r in runs]
        total = sum(np.where(c.valid, _numeric(c), 0.0) for c in cols)
        return Column(np.asarray(total, np.float64), np.ones(np.shape(total), bool))

    key = f"sum_horizontal({', '.join(e.key for e in exprs)})"
    return Expr(pl.sum_horizontal(*(e.polars for e in exprs)), run, key)


class _When:
    def __init__(self, condition: Expr, value: Expr | None = None) -> None:
        self.condition, self.value = condition, value

    def then(self, value: Any) -> _When:
        return _When(self.condition, lift(value))

    def otherwise(self, value: Any) -> Expr:
        assert self.value is not None, "when(...).then(...) comes before otherwise(...)"
        other = lift(value)
        cond, yes, no = self.condition.evaluate, self.value.evaluate, other.evaluate

        def run(f: Frame) -> Column:
            pick, _ = _known(cond(f))
            a, b = yes(f), no(f)
            return Column(np.where(pick, a.data, b.data), np.where(pick, a.valid, b.valid))

        polars = pl.when(self.condition.polars).then(self.value.polars).otherwise(other.polars)
        key = f"when({self.condition.key}).then({self.value.key}).otherwise({other.key})"
        return Expr(polars, run, key)


def when(condition: Expr) -> _When:
    return _When(condition)
