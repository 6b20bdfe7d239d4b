"""Fixed-width field access over a block of equally spaced records (the reader's hot path).

A :class:`Block` is ``n`` records of the same layout, ``stride`` bytes apart in one byte
buffer. Equally spaced records (the usual case: fixed-length records, or the same segment at
the same place in every record) are used in place; anything else is first gathered into a
contiguous copy. Every field is then a strided numpy view, so decoding never pays for fancy
indexing.

Character text, numbers, dates and timestamps are decoded by the compiled loops of
:mod:`._kernels`, one pass over the records for all of a layout's fields of a kind (see
``decode._prepare``), and per-field character checks by ``in_set``; packed fields and code
lookups stay whole-column numpy.
Text columns become Arrow ``string_view`` arrays that point into the block's buffer: no
character data is copied, only the 16-byte views are built, each holding the field's length
without trailing blanks. polars imports string views without copying the character data.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa

from . import _kernels
from . import columns as col
from .layouts import FieldSpec

_U = np.uint64
MOMENT_VALID, MOMENT_EMPTY, MOMENT_INVALID = 0, 1, 2  # states from _kernels.dates/timestamps
_PAD = 16  # an 8-byte read at any field, or 7 bytes past it, stays inside the buffer
# MASKS[k] keeps the low k bytes of a little-endian word
MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_ALLOWED_CHARS = bytes(np.flatnonzero(col.ALLOWED).tolist()).decode("latin-1")

# text fields, with neighbours that are character data anyway (digits, reserved filler)
# bridged so runs stay few
_CHAR_KINDS = frozenset({"AN", "N", "D8", "TS14", "RES"})


@functools.lru_cache(maxsize=64)
def _runs(layout: tuple[FieldSpec, ...], kinds: frozenset[str]) -> tuple[tuple[int, int], ...]:
    """(start, end) byte ranges of adjacent fields of the given kinds."""
    runs: list[list[int]] = []
    for f in layout:
        if f.kind in kinds and runs and runs[-1][1] == f.offset:
            runs[-1][1] = f.end
        elif f.kind in kinds:
            runs.append([f.offset, f.end])
    return tuple((a, b) for a, b in runs)


@functools.lru_cache(maxsize=64)
def _byte_table(chars: str) -> bytes:
    """256 bytes, 1 at the byte values of `chars`."""
    table = bytearray(256)
    for b in chars.encode("latin-1"):
        table[b] = 1
    return bytes(table)


class Block:
    """``n`` records of ``width`` bytes, ``stride`` apart from ``start`` in ``data``."""

    def __init__(self, data: np.ndarray, start: int, stride: int, n: int, width: int) -> None:
        if len(data) < start + max(n - 1, 0) * stride + width + _PAD:
            data = np.concatenate([data, np.zeros(_PAD + width, np.uint8)])
        self.data = data
        self.start, self.stride, self.n, self.width = start, stride, n, width
        self._buffer: pa.Buffer | None = None
        # decoded by the compiled loops, one pass for all fields of a kind
        self._texts: dict[tuple[int, int, bool], np.ndarray] = {}  # string views
        self._numbers: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._moments: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        self._keys: dict[tuple[int, int], np.ndarray] = {}

    @classmethod
    def at(cls, data: np.ndarray, pos: np.ndarray, width: int) -> Block:
        """Records of `width` bytes starting at byte positions `pos` of `data`."""
        n = len(pos)
        if n == 0:
            return cls(np.zeros(_PAD + width, np.uint8), 0, width, 0, width)
        stride = int(pos[1] - pos[0]) if n > 1 else width
        if stride > 0 and (n < 3 or bool((np.diff(pos) == stride).all())):
            return cls(data, int(pos[0]), stride, n, width)
        rows = np.lib.stride_tricks.sliding_window_view(data, width)[pos]
        buf = np.zeros(n * width + _PAD, np.uint8)
        buf[: n * width] = rows.reshape(-1)
        return cls(buf, 0, width, n, width)

    # -- raw views ---------------------------------------------------------------------
    def view(self, dtype: str, off: int) -> np.ndarray:
        """One value per record read at `off` (little-endian, unaligned, no copy)."""
        return np.ndarray((self.n,), dtype=dtype, buffer=self.data,
                          offset=self.start + off, strides=(self.stride,))

    def matrix(self, off: int, width: int) -> np.ndarray:
        """``(n, width)`` view of a field's bytes."""
        return np.ndarray((self.n, width), dtype=np.uint8, buffer=self.data,
                          offset=self.start + off, strides=(self.stride, 1))

    def code(self, off: int, width: int) -> np.ndarray:
        """A field of up to 8 bytes as one little-endian integer (code lookups)."""
        if width == 1:
            return self.view("u1", off)
        if width == 2:
            return self.view("<u2", off)
        return self.view("<u8", off) & MASKS[width]

    def key(self, off: int, width: int) -> np.ndarray:
        """A field of one or two bytes as table indexes (intp), made once per field: the text
        column and every code rule on the field look tables up with it, and numpy would
        otherwise convert the raw bytes to indexes for each lookup."""
        k = (off, width)
        if k not in self._keys:
            self._keys[k] = self.code(off, width).astype(np.intp)
        return self._keys[k]

    def all_allowed(self) -> bool:
        return self.n == 0 or col.all_allowed(self.matrix(0, self.width))

    def text_allowed(self, layout: tuple[FieldSpec, ...]) -> bool:
        """Every byte of the layout's text fields is in the alphanumeric set: one check per
        run of adjacent text fields (the whole record when it is all character data)."""
        return all(col.all_allowed(self.matrix(a, b - a)) for a, b in _runs(layout, _CHAR_KINDS))

    def in_set(self, off: int, width: int, chars: str, trim: bool = True,
               repeated: bool = False) -> np.ndarray:
        """Records whose field (trailing blanks dropped unless `trim` is False) is not empty
        and holds only bytes of `chars` (one of them, repeated, when `repeated`): one compiled
        pass."""
        out = np.empty(self.n, dtype=np.bool_)
        _kernels.in_set(self.data, self.start, self.stride, self.n, off, width, trim, repeated,
                        _byte_table(chars), out.view(np.uint8))
        return out

    def text_length(self, off: int, width: int) -> np.ndarray:
        """Length of each field with trailing blanks removed (uint32, read from the views)."""
        return self._views(off, width, True).view(np.uint32)[:, 0]

    def charset_bad(self, off: int, width: int) -> np.ndarray:
        """Records whose field holds a byte outside the Metro 2 alphanumeric set."""
        return ~self.in_set(off, width, _ALLOWED_CHARS, trim=False)

    # -- typed reads -------------------------------------------------------------------
    def prepare_numbers(self, fields: list[tuple[int, int]]) -> None:
        """Decode several zero-filled number fields, given as (offset, width), in one compiled
        pass over the records; :meth:`digits` then returns them."""
        fields = [f for f in fields if f not in self._numbers]
        if not fields:
            return
        offsets, widths = (np.array(v, dtype=np.int64) for v in zip(*fields, strict=True))
        values = np.empty((len(fields), self.n), dtype=np.int64)
        ok = np.empty((len(fields), self.n), dtype=np.bool_)
        _kernels.digit_numbers(self.data, self.start, self.stride, self.n, offsets, widths,
                               values, ok.view(np.uint8))
        for j, f in enumerate(fields):
            self._numbers[f] = (values[j], ok[j])

    def digits(self, off: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Zero-filled ASCII digits → (int64, ok); same rules as :func:`columns.decode_digits`
        (a leading ``-`` is accepted when the width is not a multiple of eight); invalid
        values are 0."""
        self.prepare_numbers([(off, width)])
        return self._numbers[off, width]

    def prepare_moments(self, kind: str, offsets: list[int]) -> None:
        """Decode several dates (``kind`` "D8", MMDDYYYY) or timestamps ("TS14",
        MMDDYYYYHHMMSS) in one compiled pass; :meth:`moment` then returns them."""
        offsets = [o for o in offsets if (kind, o) not in self._moments]
        if not offsets:
            return
        values = np.empty((len(offsets), self.n), dtype=np.int64)
        states = np.empty((len(offsets), self.n), dtype=np.uint8)
        decode = _kernels.dates if kind == "D8" else _kernels.timestamps
        decode(self.data, self.start, self.stride, self.n, np.array(offsets, dtype=np.int64),
               values, states)
        for j, o in enumerate(offsets):
            self._moments[kind, o] = (values[j], states[j])

    def moment(self, kind: str, off: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A date ("D8") or timestamp ("TS14") field → (days or microseconds since the epoch,
        valid or empty, empty). Valid is a real calendar day between 1800 and 2199 (as
        :func:`columns.date_from_parts` decides) and a real time of day; empty is all zeros
        (for a timestamp, also "-" and 13 zeros); values are 0 unless valid."""
        self.prepare_moments(kind, [off])
        values, state = self._moments[kind, off]
        return values, state != MOMENT_INVALID, state == MOMENT_EMPTY

    def prepare_texts(self, fields: list[tuple[int, int, bool]]) -> None:
        """Build the string views of several text fields, given as (offset, width, trim), in
        one compiled pass over the records; :meth:`text` then returns them."""
        fields = [f for f in fields if f not in self._texts]
        if not fields:
            return
        offsets, widths, trims = (np.array(v, dtype=np.int64) for v in zip(*fields, strict=True))
        views = np.empty((len(fields), self.n, 2), dtype=np.uint64)
        _kernels.string_views(self.data, self.start, self.stride, self.n, offsets, widths,
                              trims.astype(np.uint8), views)
        for j, f in enumerate(fields):
            self._texts[f] = views[j]

    def _views(self, off: int, width: int, trim: bool) -> np.ndarray:
        """The field's (n, 2) uint64 string views; the low half of each first word is the
        length."""
        self.prepare_texts([(off, width, trim)])
        return self._texts[off, width, trim]

    def text(self, off: int, width: int, trim: bool = True) -> tuple[pa.Array, np.ndarray]:
        """Arrow string_view array of each record's field (trailing blanks trimmed unless
        `trim` is False) and the lengths it holds (a uint32 view of the string views). No
        character data is copied."""
        views = self._views(off, width, trim)
        if self._buffer is None:
            self._buffer = pa.py_buffer(self.data)
        array = pa.Array.from_buffers(pa.string_view(), self.n,
                                      [None, pa.py_buffer(views), self._buffer])
        return array, views.view(np.uint32)[:, 0]
