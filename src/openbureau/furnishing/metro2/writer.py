"""Columnar Metro 2 writer: character or packed, fixed or variable-blocked, with segments.

Base records are encoded field by field into an ``(n, 426|366)`` uint8 matrix; appended
segments likewise; records are then scattered into one output buffer per batch with numpy.
"""

from __future__ import annotations

import os
from typing import BinaryIO

import numpy as np
import polars as pl

from . import columns as col
from . import packed as pk
from .layouts import (
    SEGMENT_LENGTHS,
    SEGMENT_ORDER,
    SEGMENTS,
    TRAILER_COUNT_FIELDS,
    FieldSpec,
    base_layout,
    header_layout,
    trailer_layout,
)
from .validate import TrailerTotals

_BATCH = 4096


def _dtype(f: FieldSpec) -> pl.DataType:
    if f.kind in ("N", "PN"):
        return pl.Int64()
    if f.kind in ("D8", "PD5"):
        return pl.Date()
    if f.kind in ("TS14", "PTS8"):
        return pl.Datetime("us")
    return pl.Utf8()


def normalize(df: pl.DataFrame, layout: tuple[FieldSpec, ...]) -> pl.DataFrame:
    """Add missing layout columns (blank / 0 / null) and cast present ones."""
    exprs = []
    for f in layout:
        if f.kind in ("RDW", "RES") or f.name == "segment_identifier":
            continue
        dt = _dtype(f)
        if f.name in df.columns:
            exprs.append(pl.col(f.name).cast(dt))
        elif dt == pl.Utf8():
            exprs.append(pl.lit("", pl.Utf8).alias(f.name))
        elif dt == pl.Int64():
            exprs.append(pl.lit(0, pl.Int64).alias(f.name))
        else:
            exprs.append(pl.lit(None, dt).alias(f.name))
    return df.with_columns(exprs)


def encode_frame(df: pl.DataFrame, layout: tuple[FieldSpec, ...], encoding: str,
                 seg_id: str | None = None) -> np.ndarray:
    """Encode the layout's fields of `df` into an ``(n, length)`` uint8 matrix."""
    n = df.height
    width = layout[-1].end
    mat = np.full((n, width), 0x20, dtype=np.uint8)
    for f in layout:
        a, b, w = f.offset, f.end, f.length
        if f.kind in ("RDW", "RES"):
            continue
        if f.name == "segment_identifier" and seg_id is not None:
            mat[:, a:b] = np.frombuffer(seg_id.encode(), np.uint8)
            continue
        s = df.get_column(f.name)
        if f.kind == "AN":
            mat[:, a:b] = col.encode_text(s, w)
        elif f.kind in ("N", "PN"):
            v = s.fill_null(0).to_numpy().astype(np.int64)
            mat[:, a:b] = col.encode_digits(v, w) if f.kind == "N" else pk.encode_number(
                v, w, encoding)
        elif f.kind in ("D8", "PD5"):
            empty = s.is_null().to_numpy()
            days = s.cast(pl.Int32).fill_null(0).to_numpy().astype(np.int64)
            v = np.where(empty, 0, col.date_value_from_days(days))
            mat[:, a:b] = col.encode_digits(v, w) if f.kind == "D8" else pk.encode_tagged(
                v, empty, w, encoding)
        else:  # TS14 / PTS8
            empty = s.is_null().to_numpy()
            us = s.dt.cast_time_unit("us").cast(pl.Int64).fill_null(0).to_numpy()
            v = np.where(empty, 0, col.ts_value_from_micros(us))
            mat[:, a:b] = col.encode_digits(v, w) if f.kind == "TS14" else pk.encode_tagged(
                v, empty, w, encoding)
    return mat


def _words(lengths: np.ndarray, packed_: bool) -> np.ndarray:
    if packed_:
        if (lengths > 65535).any():
            raise ValueError("packed record longer than 65535 bytes")
        w = np.zeros((len(lengths), 4), dtype=np.uint8)
        w[:, 0] = lengths >> 8
        w[:, 1] = lengths & 0xFF
        return w
    if (lengths > 9999).any():
        raise ValueError("character record longer than 9999 bytes")
    return col.encode_digits(lengths, 4)


def _scatter(out: np.ndarray, at: np.ndarray, mat: np.ndarray) -> None:
    """out[at[i] : at[i] + width] = mat[i] for every i, vectorised."""
    n, w = mat.shape
    if n == 0:
        return
    if n > 1:
        d = np.diff(at)
        if (d == d[0]).all() and d[0] >= w:
            view = np.lib.stride_tricks.as_strided(out[at[0]:], shape=(n, w),
                                                   strides=(int(d[0]), 1))
            view[:] = mat
            return
    ar = np.arange(w, dtype=np.int64)
    for i in range(0, n, _BATCH):
        out[at[i:i + _BATCH, None] + ar] = mat[i:i + _BATCH]


class Metro2Writer:
    """Streaming writer. ``write`` takes raw-field frames; ``close`` writes the trailer.

    ``base`` must hold the base fields (missing ones are blank/zero) and, when segments are
    given, a ``record_no`` column that the segment frames' ``record_no`` refers to. Segment
    frames may carry ``seq`` to order repeated J1/J2 segments.
    """

    def __init__(self, dest: str | os.PathLike | BinaryIO, header: dict, *, packed: bool = False,
                 blocked: bool = False, packed_encoding: str = pk.BINARY,
                 line_break: bytes = b"") -> None:
        if packed_encoding not in pk.ENCODINGS:
            raise ValueError("packed_encoding must be binary or bcd")
        self._own = isinstance(dest, str | os.PathLike)
        self.f: BinaryIO = open(dest, "wb") if self._own else dest  # noqa: SIM115
        self.packed, self.blocked, self.enc = packed, blocked, packed_encoding
        self.sep = line_break
        self.totals = TrailerTotals()
        self.blocks = 0
        self.records = 0
        self.base_layout = base_layout(packed)
        hdr = {"record_identifier": "HEADER"} | dict(header)
        hframe = normalize(pl.DataFrame([hdr]), header_layout(packed))
        hmat = encode_frame(hframe, header_layout(packed), self.enc)
        self._emit_single(hmat[0], bdw=blocked)

    def _emit_single(self, rec: np.ndarray, bdw: bool) -> None:
        ln = np.array([len(rec)], dtype=np.int64)
        parts = []
        if bdw:
            parts.append(_words(ln + 4, self.packed)[0].tobytes())
            self.blocks += 1
        out = rec.copy()
        out[:4] = _words(ln, self.packed)[0]
        parts.append(out.tobytes())
        parts.append(self.sep)
        self.f.write(b"".join(parts))

    def write(self, base: pl.DataFrame, segments: dict[str, pl.DataFrame] | None = None) -> None:
        segments = {k: v for k, v in (segments or {}).items() if v is not None and v.height}
        n = base.height
        if n == 0:
            return
        base = normalize(base, self.base_layout)
        if "record_no" not in base.columns:
            if segments:
                raise ValueError("base needs record_no to attach segments")
            base = base.with_columns(record_no=pl.int_range(0, n, dtype=pl.Int64))
        segs = {k: normalize(v, SEGMENTS[k]) for k, v in segments.items()}
        self.totals.add(base, segs)
        bmat = encode_frame(base, self.base_layout, self.enc)
        blen = bmat.shape[1]
        # where does every segment go?
        index = base.select(pl.col("record_no"), row=pl.int_range(0, n, dtype=pl.Int64))
        if index.get_column("record_no").is_duplicated().any():
            raise ValueError("record_no must be unique in base")
        placed = []
        mats = {}
        for k, name in enumerate(SEGMENT_ORDER):
            if name not in segs:
                continue
            df = segs[name]
            mats[name] = encode_frame(df, SEGMENTS[name], self.enc, seg_id=name)
            seq = df.get_column("seq") if "seq" in df.columns else pl.int_range(
                0, df.height, eager=True)
            placed.append(pl.DataFrame({
                "record_no": df.get_column("record_no").cast(pl.Int64),
                "k": np.full(df.height, k, np.int64), "seq": seq.cast(pl.Int64),
                "srow": np.arange(df.height, dtype=np.int64),
                "slen": np.full(df.height, SEGMENT_LENGTHS[name], np.int64),
            }))
        extra = np.zeros(n, dtype=np.int64)
        if placed:
            pl_all = pl.concat(placed).join(index, on="record_no", how="left")
            if pl_all.get_column("row").null_count():
                raise ValueError("a segment refers to a record_no that is not in base")
            pl_all = pl_all.sort("row", "k", "seq").with_columns(
                soff=pl.col("slen").cum_sum().over("row") - pl.col("slen") + blen)
            sums = pl_all.group_by("row").agg(pl.col("slen").sum())
            extra[sums.get_column("row").to_numpy()] = sums.get_column("slen").to_numpy()
        rdw = blen + extra
        wl = 4 if self.blocked else 0
        size = wl + rdw + len(self.sep)
        starts = np.zeros(n, dtype=np.int64)
        np.cumsum(size[:-1], out=starts[1:])
        out = np.full(int(size.sum()), 0x20, dtype=np.uint8)
        rec_at = starts + wl
        bmat[:, :4] = _words(rdw, self.packed)
        _scatter(out, rec_at, bmat)
        if self.blocked:
            _scatter(out, starts, _words(rdw + 4, self.packed))
            self.blocks += n
        if self.sep:
            _scatter(out, starts + size - len(self.sep),
                     np.tile(np.frombuffer(self.sep, np.uint8), (n, 1)))
        if placed:
            for name, mat in mats.items():
                sel = pl_all.filter(pl.col("k") == SEGMENT_ORDER.index(name))
                rows = sel.get_column("row").to_numpy()
                at = rec_at[rows] + sel.get_column("soff").to_numpy()
                _scatter(out, at, mat[sel.get_column("srow").to_numpy()])
        self.f.write(out.data)
        self.records += n

    def close(self, trailer: dict | None = None) -> dict:
        """Write the trailer (recomputed totals unless `trailer` overrides fields)."""
        t = self.totals.finish(self.blocks)
        t = {k: t[k] for k in TRAILER_COUNT_FIELDS} | dict(trailer or {})
        tframe = normalize(pl.DataFrame([{"record_identifier": "TRAILER"} | t]),
                           trailer_layout(self.packed))
        tmat = encode_frame(tframe, trailer_layout(self.packed), self.enc)
        self._emit_single(tmat[0], bdw=False)
        self.f.flush()
        if self._own:
            self.f.close()
        return t

    def __enter__(self) -> Metro2Writer:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        elif self._own:
            self.f.close()


def write_file(dest, header: dict, base: pl.DataFrame,
               segments: dict[str, pl.DataFrame] | None = None, *, packed: bool = False,
               blocked: bool = False, packed_encoding: str = "binary", line_break: bytes = b"",
               trailer: dict | None = None) -> dict:
    """Write a complete file in one go; returns the trailer totals written."""
    w = Metro2Writer(dest, header, packed=packed, blocked=blocked,
                     packed_encoding=packed_encoding, line_break=line_break)
    w.write(base, segments)
    return w.close(trailer)
