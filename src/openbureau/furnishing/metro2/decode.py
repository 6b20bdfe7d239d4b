"""A block of records → typed arrow columns, numpy values for the rules, and field-level
problems (parse, charset, required). Field access is in :mod:`bytecols`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from . import columns as col
from . import packed
from .bytecols import Block
from .layouts import FieldSpec

# fields whose blanks are meaningful and must not be trimmed
UNTRIMMED = frozenset({"payment_history_profile"})


@dataclass
class Problem:
    field: str | None
    rule: str
    message: str
    mask: np.ndarray  # bool over rows


@dataclass
class Decoded:
    """One layout decoded for ``n`` records; the numpy side feeds the record rules."""

    block: Block
    specs: dict[str, FieldSpec]
    arrays: dict[str, pa.Array] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    lengths: dict[str, np.ndarray] = field(default_factory=dict)  # text: length in the column
    # numbers, dates (days) and timestamps (microseconds): value and "not null"
    values: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.block.n


def _date_col(days: np.ndarray, null: np.ndarray) -> pa.Array:
    return col.prim_array(days.astype(np.int32), pa.date32(), null)


def _text(d: Decoded, f: FieldSpec, clean: bool) -> None:
    b = d.block
    trim = f.name not in UNTRIMMED
    d.arrays[f.name], length = b.text(f.offset, f.length, trim)
    d.lengths[f.name] = length
    if not clean:
        bad = b.charset_bad(f.offset, f.length)
        if bad.any():
            d.problems.append(Problem(f.name, "charset", "characters outside the Metro 2 "
                                      "alphanumeric set", bad))
            # rare: bad bytes are shown as '?', so this column gets its own copy of the bytes
            d.arrays[f.name] = col.text_array(b.matrix(f.offset, f.length), sanitize=True,
                                              trim=trim)
    if f.required:
        blank = (length if trim else b.text_length(f.offset, f.length)) == 0
        if blank.any():
            d.problems.append(Problem(f.name, "required", "required field is blank", blank))


def _number(d: Decoded, f: FieldSpec, encoding: str) -> None:
    if f.kind == "N":
        val, ok = d.block.digits(f.offset, f.length)
        msg = "not a zero-filled number"
    else:
        val, ok = packed.decode_number(d.block.matrix(f.offset, f.length), encoding,
                                       d.block.code(f.offset, f.length))
        msg = f"not a valid packed ({encoding}) number"
    if not ok.all():
        d.problems.append(Problem(f.name, "numeric", msg, ~ok))
    if f.required:
        z = ok & (val == 0)
        if z.any():
            d.problems.append(Problem(f.name, "required", "required number is zero", z))
    val = val.astype(np.int64)
    d.values[f.name] = (val, ok)
    d.arrays[f.name] = col.prim_array(val, pa.int64(), ~ok)


def _moment(d: Decoded, f: FieldSpec) -> None:
    is_date = f.kind in ("D8", "PD5")
    if f.kind in ("D8", "TS14"):
        out, good, empty = d.block.moment(f.kind, f.offset)
    else:  # PD5 / PTS8
        val, empty, ok = packed.decode_tagged(d.block.matrix(f.offset, f.length),
                                              d.block.code(f.offset, f.length))
        out, vok = (col.date_from_value if is_date else col.ts_from_value)(val, empty)
        good = ok & vok
    if not good.all():
        kind = "date" if is_date else "timestamp"
        d.problems.append(Problem(f.name, kind, f"not a valid {kind} (or all zeros)", ~good))
    if f.required:
        miss = good & empty
        if miss.any():
            d.problems.append(Problem(f.name, "required", "required date is empty", miss))
    null = ~good | empty
    d.values[f.name] = (out, ~null)
    if is_date:
        d.arrays[f.name] = _date_col(out, null)
    else:
        d.arrays[f.name] = col.prim_array(out.astype(np.int64), pa.timestamp("us"), null)


def decode_fields(block: Block, layout: tuple[FieldSpec, ...], encoding: str,
                  clean: bool = False, skip: frozenset[str] = frozenset()) -> Decoded:
    """Decode every field of `layout` for the records of `block`.

    ``clean`` says the caller already knows every byte of these records is in the
    alphanumeric set (character layouts), so per-field charset checks are skipped.
    """
    d = Decoded(block, {f.name: f for f in layout})
    fields = [f for f in layout if f.kind not in ("RDW", "RES") and f.name not in skip]
    _prepare(block, fields)
    for f in fields:
        if f.kind == "AN":
            _text(d, f, clean)
        elif f.kind in ("N", "PN"):
            _number(d, f, encoding)
        else:
            _moment(d, f)
    return d


def _prepare(block: Block, fields: list[FieldSpec]) -> None:
    """Character text, numbers, dates and timestamps: one compiled pass over the records per
    kind, for all of the layout's fields of that kind at once."""
    texts = [f for f in fields if f.kind == "AN"]
    # untrimmed required fields are checked for blanks on their trimmed length
    block.prepare_texts([(f.offset, f.length, f.name not in UNTRIMMED) for f in texts]
                        + [(f.offset, f.length, True) for f in texts
                           if f.required and f.name in UNTRIMMED])
    block.prepare_numbers([(f.offset, f.length) for f in fields if f.kind == "N"])
    for kind in ("D8", "TS14"):
        block.prepare_moments(kind, [f.offset for f in fields if f.kind == kind])
