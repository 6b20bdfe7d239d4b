"""Fixed-width matrix → typed arrow columns, plus field-level problems (parse, charset, required).

Everything here works on an ``(n, record_length)`` uint8 matrix: one numpy slice per field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import columns as col
from . import packed
from .layouts import FieldSpec

# fields whose blanks are meaningful and must not be trimmed
UNTRIMMED = frozenset({"payment_history_profile"})


@dataclass
class Problem:
    field: str
    rule: str
    message: str
    mask: np.ndarray  # bool over rows


_TEXT_COLS: dict = {}


def _text_columns(layout: tuple[FieldSpec, ...], skip: frozenset[str]) -> np.ndarray:
    key = (id(layout), skip)
    if key not in _TEXT_COLS:
        _TEXT_COLS[key] = np.concatenate([
            np.arange(f.offset, f.end) for f in layout if f.kind == "AN" and f.name not in skip])
    return _TEXT_COLS[key]


def _date_col(days: np.ndarray, null: np.ndarray) -> pa.Array:
    return col.prim_array(days.astype(np.int32), pa.date32(), null)


def decode_matrix(mat: np.ndarray, layout: tuple[FieldSpec, ...], encoding: str,
                  text_clean: bool | None = None,
                  skip: frozenset[str] = frozenset()) -> tuple[dict[str, pa.Array], list[Problem]]:
    """Decode every field of `layout` from `mat`. Returns arrow columns and problems."""
    n = mat.shape[0]
    cols: dict[str, pa.Array] = {}
    probs: list[Problem] = []
    text_fields = [f for f in layout if f.kind == "AN" and f.name not in skip]
    if not text_clean and text_fields:
        # one check over all text columns at once; per-field checks only if it fails
        text_clean = col.all_allowed(mat[:, _text_columns(layout, skip)])
    for f in layout:
        if f.kind in ("RDW", "RES") or f.name in skip:
            continue
        m = mat[:, f.offset:f.end]
        if f.kind == "AN":
            bad = None if text_clean else col.charset_bad(m)
            if bad is not None and bad.any():
                probs.append(Problem(f.name, "charset", "characters outside the Metro 2 "
                                     "alphanumeric set", bad))
            cols[f.name] = col.text_array(m, sanitize=bad is not None and bool(bad.any()),
                                          trim=f.name not in UNTRIMMED)
            if f.required:
                blank = (m == 0x20).all(axis=1)
                if blank.any():
                    probs.append(Problem(f.name, "required", "required field is blank", blank))
            continue
        if f.kind in ("N", "PN"):
            if f.kind == "N":
                val, ok = col.decode_digits(m)
                msg = "not a zero-filled number"
            else:
                val, ok = packed.decode_number(m, encoding)
                msg = f"not a valid packed ({encoding}) number"
            if not ok.all():
                probs.append(Problem(f.name, "numeric", msg, ~ok))
            if f.required:
                z = ok & (val == 0)
                if z.any():
                    probs.append(Problem(f.name, "required", "required number is zero", z))
            cols[f.name] = col.prim_array(val.astype(np.int64), pa.int64(), ~ok)
            continue
        if f.kind in ("D8", "TS14"):
            val, ok = col.decode_digits(m)
            ok &= val >= 0
            empty = ok & (val == 0)
        else:  # PD5 / PTS8
            val, empty, ok = packed.decode_tagged(m)
        if f.kind in ("D8", "PD5"):
            out, vok = col.date_from_value(val, empty)
        else:
            out, vok = col.ts_from_value(val, empty)
        good = ok & vok
        if not good.all():
            kind = "date" if f.kind in ("D8", "PD5") else "timestamp"
            probs.append(Problem(f.name, kind, f"not a valid {kind} (or all zeros)", ~good))
        if f.required:
            miss = good & empty
            if miss.any():
                probs.append(Problem(f.name, "required", "required date is empty", miss))
        null = ~good | empty
        if f.kind in ("D8", "PD5"):
            cols[f.name] = _date_col(out, null)
        else:
            cols[f.name] = col.prim_array(out.astype(np.int64), pa.timestamp("us"), null)
    del n
    return cols, probs
