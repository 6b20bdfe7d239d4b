"""Streaming, columnar Metro 2 reader.

``read_chunks`` yields :class:`Chunk` objects: a polars frame of base records (raw Metro 2
fields, typed), one frame per appended segment type keyed by ``record_no``, and the chunk's
rejections. Memory stays bounded by the chunk size whatever the file size.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl
import pyarrow as pa
from numpy.lib.stride_tricks import sliding_window_view

from . import columns as col
from . import packed
from .bytecols import Block
from .decode import Decoded, Problem, decode_fields
from .errors import FileRejected, RejectionReport, empty_rejections
from .framing import FramedChunk, Framer, Layout
from .layouts import (
    SEGMENT_LENGTHS,
    SEGMENT_ORDER,
    SEGMENTS,
    SINGLE_SEGMENTS,
    base_layout,
    header_layout,
    trailer_layout,
)
from .validate import (
    BASE_RULES,
    SEGMENT_RULES,
    DecodedCounts,
    TrailerTotals,
    check_header,
    reconcile,
    rule_problems,
)

_SEG_INDEX = np.full(65536, -1, dtype=np.int16)
for _i, _name in enumerate(SEGMENT_ORDER):
    _SEG_INDEX[(ord(_name[0]) << 8) | ord(_name[1])] = _i
_SEG_LEN = np.array([SEGMENT_LENGTHS[s] for s in SEGMENT_ORDER], dtype=np.int64)
_PAD = b" \x00"


@dataclass
class Chunk:
    layout: Layout
    header: dict
    base: pl.DataFrame
    segments: dict[str, pl.DataFrame]
    rejections: pl.DataFrame
    trailer: dict | None = None
    packed_encoding: str | None = None

    def rejected_record_nos(self) -> pl.Series:
        return self.rejections.get_column("record_no").unique()

    def accepted(self) -> Chunk:
        """The chunk without its rejected records (base and segments)."""
        bad = self.rejected_record_nos()
        if bad.len() == 0:
            return self
        keep = ~pl.col("record_no").is_in(bad.implode())
        return replace(self, base=self.base.filter(keep),
                       segments={k: v.filter(keep) for k, v in self.segments.items()})


@dataclass
class Metro2File:
    """A whole file read into memory (small files, tests)."""

    layout: Layout
    header: dict
    base: pl.DataFrame
    segments: dict[str, pl.DataFrame]
    rejections: pl.DataFrame
    trailer: dict
    packed_encoding: str | None = None
    extra: dict = field(default_factory=dict)


def _to_frame(cols: dict[str, pa.Array], lead: dict[str, np.ndarray]) -> pl.DataFrame:
    arrays = {k: col.prim_array(np.asarray(v, dtype=np.int64), pa.int64(), None)
              for k, v in lead.items()} | cols
    return pl.from_arrow(pa.Table.from_arrays(list(arrays.values()), names=list(arrays)))


def _problem_rows(probs: list[Problem], record_nos: np.ndarray, offsets: np.ndarray,
                  segment: str) -> list[pl.DataFrame]:
    out = []
    for p in probs:
        idx = np.nonzero(p.mask)[0]
        if len(idx):
            out.append(pl.DataFrame({
                "record_no": record_nos[idx], "byte_offset": offsets[idx],
                "segment": [segment] * len(idx), "field": [p.field] * len(idx),
                "rule": [p.rule] * len(idx), "message": [p.message] * len(idx),
            }, schema=empty_rejections().schema))
    return out


def _decode_single(rec: bytes, layout, encoding: str, what: str) -> dict:
    block = Block.at(np.frombuffer(rec, dtype=np.uint8), np.zeros(1, np.int64), layout[-1].end)
    d = decode_fields(block, layout, encoding)
    row = _to_frame(d.arrays, {}).row(0, named=True)
    row["_problems"] = [f"{what} {p.field}: {p.message}" for p in d.problems]
    return row


class _ChunkParser:
    def __init__(self, layout: Layout, encoding: str) -> None:
        self.layout = layout
        self.encoding = encoding
        self.base_fields = base_layout(layout.packed)
        self.wl = 4 if layout.blocked else 0

    def parse(self, fc: FramedChunk, header: dict) -> tuple[Chunk, DecodedCounts]:
        lay = self.layout
        block = Block.at(fc.data, fc.starts, lay.base_length)
        # character records side by side: one check over their whole span covers every
        # field of the base and its segments; otherwise one per run of text fields
        span = self._span_clean(fc)
        clean = (span and not lay.packed) or block.text_allowed(self.base_fields)
        d = decode_fields(block, self.base_fields, self.encoding, clean)
        base = _to_frame(d.arrays, {"record_no": fc.record_nos, "byte_offset": fc.offsets,
                                    "rdw": fc.lengths})
        rej = _problem_rows(d.problems, fc.record_nos, fc.offsets, "BASE")
        segments, decoded, seg_rej = self._segments(fc, span)
        rej += seg_rej
        rej += _problem_rows(rule_problems(d, BASE_RULES), fc.record_nos, fc.offsets, "BASE")
        for name, (sd, nos, offs) in decoded.items():
            rej += _problem_rows(rule_problems(sd, SEGMENT_RULES.get(name, [])), nos, offs, name)
        rejections = pl.concat(rej) if rej else empty_rejections()
        counts = DecodedCounts(d, {name: sd for name, (sd, _, _) in decoded.items()})
        return Chunk(lay, header, base, segments, rejections, None,
                     self.encoding if lay.packed else None), counts

    def _span_clean(self, fc: FramedChunk) -> bool:
        """Character data throughout: the whole span of character records, or the bytes after
        the base of equally long packed records."""
        n = len(fc.starts)
        if not n:
            return False
        if not self.layout.packed:
            start, end = int(fc.starts.min()), int((fc.starts + fc.lengths).max())
            span = fc.data[start:end]
            if not (span.min() >= 0x20 and span.max() <= 0x7E):
                return False
            if fc.raw is not None:  # the backtick: one memchr, no temporary
                return fc.raw.find(b"`", start, end) < 0
            return col.all_allowed(span)
        rdw = int(fc.lengths[0])
        if not (fc.lengths == rdw).all():
            return False
        blen = self.layout.base_length
        return Block.at(fc.data, fc.starts + blen, rdw - blen).all_allowed()

    def _uniform(self, fc: FramedChunk) -> list[tuple[int, str]] | None:
        """(position, name) of the appended segments when every record of the chunk has the
        same length and the same segments, each at most once, filling it exactly (files whose
        records all carry the same segments): the discovery loop below would find just that."""
        n = len(fc.starts)
        blen = self.layout.base_length
        if not n or int(fc.lengths[0]) <= blen or not (fc.lengths == fc.lengths[0]).all():
            return None
        data, first, rdw = fc.data, int(fc.starts[0]), int(fc.lengths[0])
        found, pos = [], blen
        while pos < rdw:
            name = SEGMENT_ORDER[k] if rdw - pos >= 2 and (k := int(_SEG_INDEX[
                (int(data[first + pos]) << 8) | int(data[first + pos + 1])])) >= 0 else None
            if name is None or pos + SEGMENT_LENGTHS[name] > rdw or name in dict(found).values():
                return None
            found.append((pos, name))
            pos += SEGMENT_LENGTHS[name]
        if pos != rdw:
            return None
        for pos, name in found:
            at = fc.starts + pos
            if not ((data[at] == ord(name[0])) & (data[at + 1] == ord(name[1]))).all():
                return None
        return found

    def _segments(self, fc: FramedChunk, span_clean: bool):
        uniform = self._uniform(fc)
        if uniform is not None:
            segments: dict[str, pl.DataFrame] = {}
            decoded: dict[str, tuple[Decoded, np.ndarray, np.ndarray]] = {}
            rej: list[pl.DataFrame] = []
            n = len(fc.starts)
            for seq, (pos, name) in sorted(enumerate(uniform),
                                           key=lambda x: SEGMENT_ORDER.index(x[1][1])):
                self._segment_kind(fc, name, np.arange(n), np.full(n, pos, np.int64),
                                   np.full(n, seq, np.int64), span_clean, fc.starts + pos,
                                   segments, decoded, rej, whole=True)
            return segments, decoded, rej
        data = fc.data
        blen = self.layout.base_length
        starts, lengths = fc.starts, fc.lengths
        pos = np.full(len(starts), blen, dtype=np.int64)
        active = lengths > blen
        found_rec, found_kind, found_pos, found_seq = [], [], [], []
        rej: list[pl.DataFrame] = []
        decoded: dict[str, tuple[Decoded, np.ndarray, np.ndarray]] = {}
        seq = 0
        while active.any():
            idx = np.nonzero(active)[0]
            a = starts[idx] + pos[idx]
            remaining = lengths[idx] - pos[idx]
            two = remaining >= 2
            code = np.full(len(idx), -1, dtype=np.int64)
            if two.any():
                aa = a[two]
                code[two] = _SEG_INDEX[(data[aa].astype(np.int64) << 8) | data[aa + 1]]
            known = code >= 0
            seglen = np.where(known, _SEG_LEN[np.maximum(code, 0)], 0)
            fits = known & (seglen <= remaining)
            short = known & ~fits
            if short.any():
                bad = idx[short]
                rej += _problem_rows([Problem("segment_identifier", "segment_truncated",
                                              "appended segment runs past the record's RDW",
                                              np.ones(len(bad), bool))],
                                     fc.record_nos[bad], fc.offsets[bad] + self.wl + pos[bad],
                                     "SEGMENT")
            unknown = ~known
            if unknown.any():
                # rare path: tail must be blank padding
                bad = []
                for j in np.nonzero(unknown)[0]:
                    s = int(a[j])
                    if data[s:s + int(remaining[j])].tobytes().strip(_PAD):
                        bad.append(j)
                if bad:
                    bi = idx[bad]
                    ids = [data[int(a[j]):int(a[j]) + 2].tobytes() for j in bad]
                    msgs = [f"unknown segment identifier {i!r} or garbage before the end of "
                            f"the record" for i in ids]
                    rej.append(pl.DataFrame({
                        "record_no": fc.record_nos[bi],
                        "byte_offset": fc.offsets[bi] + self.wl + pos[bi],
                        "segment": ["SEGMENT"] * len(bi), "field": [None] * len(bi),
                        "rule": ["unknown_segment"] * len(bi), "message": msgs,
                    }, schema=empty_rejections().schema))
            ok = idx[fits]
            found_rec.append(ok)
            found_kind.append(code[fits])
            found_pos.append(pos[ok].copy())
            found_seq.append(np.full(len(ok), seq, dtype=np.int64))
            pos[ok] += seglen[fits]
            active[idx[~fits]] = False
            active &= pos < lengths
            seq += 1
        segments: dict[str, pl.DataFrame] = {}
        if not found_rec:
            return segments, decoded, rej
        rec = np.concatenate(found_rec)
        kind = np.concatenate(found_kind)
        spos = np.concatenate(found_pos)
        sseq = np.concatenate(found_seq)
        for k, name in enumerate(SEGMENT_ORDER):
            sel = np.nonzero(kind == k)[0]
            if not len(sel):
                continue
            # found position by position, so a stable sort by record keeps each record's
            # segments in file order (a merge of a few sorted runs)
            sel = sel[np.argsort(rec[sel], kind="stable")]
            r, p, q = rec[sel], spos[sel], sseq[sel]
            self._segment_kind(fc, name, r, p, q, span_clean, starts[r] + p, segments, decoded,
                               rej, whole=False)
        return segments, decoded, rej

    def _segment_kind(self, fc: FramedChunk, name: str, r: np.ndarray, p: np.ndarray,
                      q: np.ndarray, span_clean: bool, at: np.ndarray,
                      segments: dict, decoded: dict, rej: list, whole: bool) -> None:
        """Decode the segments `name` found in records `r` (indexes into the chunk, sorted) at
        positions `p` (from the record's RDW; `at` in the chunk's data), `q`-th in their
        record; `whole`: exactly one in every record, so `r` is every record in order."""
        block = Block.at(fc.data, at, SEGMENT_LENGTHS[name])
        clean = span_clean or block.text_allowed(SEGMENTS[name])
        sd = decode_fields(block, SEGMENTS[name], self.encoding, clean,
                           skip=frozenset({"segment_identifier"}))
        nos = fc.record_nos if whole else fc.record_nos[r]
        offs = (fc.offsets if whole else fc.offsets[r]) + self.wl + p
        df = _to_frame(sd.arrays, {"record_no": nos, "seq": q, "byte_offset": offs})
        segments[name] = df
        decoded[name] = (sd, nos, offs)
        rej += _problem_rows(sd.problems, nos, offs, name)
        if name in SINGLE_SEGMENTS and len(r) > 1 and not whole:
            # rows are sorted by record then position: a repeat follows its first
            dup = np.nonzero(r[1:] == r[:-1])[0] + 1
            if len(dup):
                rej += _problem_rows([Problem(
                    None, "duplicate_segment", f"more than one {name} segment in the record",
                    np.isin(np.arange(len(r)), dup))], nos, offs, name)


@contextlib.contextmanager
def _open(source: str | os.PathLike | BinaryIO | bytes):
    if isinstance(source, bytes | bytearray):
        import io

        yield io.BytesIO(bytes(source))
    elif isinstance(source, str | os.PathLike):
        with open(source, "rb", buffering=0) as f:
            yield f
    else:
        yield source


def read_chunks(source: str | os.PathLike | BinaryIO | bytes, *,
                chunk_bytes: int | None = None, packed_encoding: str = "auto",
                progress: Callable[[int], None] | None = None) -> Iterator[Chunk]:
    """Stream a Metro 2 file as validated chunks.

    ``chunk_bytes`` bounds the bytes read at a time; by default 8 MiB and then, by the record
    length seen so far, enough for about 20,000 records (at most 32 MiB).

    Raises :class:`FileRejected` (possibly after some chunks were yielded) when the file's
    framing, header or trailer cannot be trusted; consumers must stage chunks and only commit
    once the iterator is exhausted. The last chunk carries ``trailer`` (the reconciled totals
    are checked before it is yielded).
    """
    if packed_encoding not in ("auto", *packed.ENCODINGS):
        raise ValueError(f"packed_encoding must be auto, binary or bcd, not {packed_encoding!r}")
    with _open(source) as stream:
        framer = Framer(stream, chunk_bytes, progress)
        parser: _ChunkParser | None = None
        header: dict | None = None
        totals = TrailerTotals()
        pending: Chunk | None = None
        for fc in framer:
            lay = framer.layout
            if parser is None:
                enc = packed_encoding
                if lay.packed and enc == "auto":
                    enc = _detect(fc, lay) or packed.BINARY
                parser = _ChunkParser(lay, enc if lay.packed else packed.BINARY)
            if fc.header is not None:
                header = _decode_single(fc.header, header_layout(lay.packed), parser.encoding,
                                        "header")
                header["_layout"] = lay.name
                check_header(header, fc.header_offset)
            chunk, counts = parser.parse(fc, header or {})
            totals.add_counts(counts)
            if fc.trailer is not None:
                trailer = _decode_single(fc.trailer, trailer_layout(lay.packed),
                                         parser.encoding, "trailer")
                reconcile(trailer, totals, framer.total_blocks, fc.trailer_offset,
                          fc.trailer_record_no)
                trailer.pop("_problems", None)
                chunk.trailer = trailer
            if pending is not None:
                yield pending
            pending = chunk
        if pending is not None:
            yield pending


def _detect(fc: FramedChunk, lay: Layout) -> str | None:
    if not len(fc.starts):
        if fc.trailer is None:
            return None
        # no accounts: every packed trailer count ends in a COMP-3 sign nibble, or none does
        rec = np.frombuffer(fc.trailer, np.uint8)
        lows = [rec[f.end - 1] & 0x0F for f in trailer_layout(True) if f.kind == "PN"]
        return packed.BCD if all(v in (0x0C, 0x0D, 0x0F) for v in lows) else packed.BINARY
    fields = {f.name: f for f in base_layout(True)}
    k = min(len(fc.starts), 64)
    mats = []
    for name in ("date_opened", "date_account_information", "date_closed", "date_birth"):
        f = fields[name]
        at = fc.starts[:k] + f.offset
        mats.append(sliding_window_view(fc.data, f.length)[at])
    return packed.detect_encoding(mats)


def read_file(source, **kwargs) -> Metro2File:
    """Read a whole file into memory. Raises :class:`FileRejected`."""
    chunks = list(read_chunks(source, **kwargs))
    first, last = chunks[0], chunks[-1]
    names = sorted({k for c in chunks for k in c.segments}, key=SEGMENT_ORDER.index)
    segs = {n: pl.concat([c.segments[n] for c in chunks if n in c.segments]) for n in names}
    return Metro2File(first.layout, first.header, pl.concat([c.base for c in chunks]), segs,
                      pl.concat([c.rejections for c in chunks]), last.trailer or {},
                      first.packed_encoding)


def validate_file(source, **kwargs) -> RejectionReport:
    """Validate a file; never raises for bad data. Status: valid/records_rejected/file_rejected."""
    parts, read, rejected = [], 0, 0
    try:
        for c in read_chunks(source, **kwargs):
            read += c.base.height
            rejected += c.rejected_record_nos().len()
            parts.append(c.rejections)
    except FileRejected as e:
        return RejectionReport(pl.concat(parts) if parts else empty_rejections(), read,
                               rejected, e)
    return RejectionReport(pl.concat(parts) if parts else empty_rejections(), read, rejected)


def source_size(source) -> int | None:
    if isinstance(source, str | os.PathLike):
        return Path(source).stat().st_size
    return None
