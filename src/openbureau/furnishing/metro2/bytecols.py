"""Fixed-width field access over a block of equally spaced records (the reader's hot path).

A :class:`Block` is ``n`` records of the same layout, ``stride`` bytes apart in one byte
buffer. Equally spaced records (the usual case: fixed-length records, or the same segment at
the same place in every record) are used in place; anything else is first gathered into a
contiguous copy. Every field is then a strided numpy view, so decoding never pays for fancy
indexing, and a layout is decoded field by field with a handful of whole-column operations.

Text columns become Arrow ``string_view`` arrays that point into the block's buffer: no
character data is copied, only the 16-byte views are built. Trailing blanks are trimmed by
giving each view the trimmed length, read from a per-record bitmap of non-blank bytes.
polars imports string views without copying the character data.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from . import columns as col
from .layouts import FieldSpec

_U = np.uint64
_PAD = 16  # an 8-byte read at any field stays inside the buffer
# MASKS[k] keeps the low k bytes of a little-endian word
MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_ZEROS = _U(0x3030303030303030)
_MAX_BITS = 48  # bitmap pieces stay below 2**53, where float64 is exact
_INLINE = 12  # string views hold up to 12 bytes inline
# a string view is the length (uint32), the first four bytes, then either bytes 4..12 inline
# or (buffer 0, offset) for longer strings. Indexed by the trimmed length: what to keep of the
# word read at the field's first byte shifted up by 32 (its first four bytes), and of the word
# read at its fifth byte (bytes 4..12; nothing for strings that are not inline)
_MAX_TEXT = 256
_VIEW_MASK0 = np.array([MASKS[min(k, 4)] << _U(32) for k in range(_MAX_TEXT)], dtype=np.uint64)
_VIEW_MASK1 = np.array([MASKS[max(k - 4, 0)] if k <= _INLINE else 0 for k in range(_MAX_TEXT)],
                       dtype=np.uint64)
# the bit length of an integer below 2**53 from the top 16 bits of its float64 (sign,
# exponent and four mantissa bits): one table lookup
_TOP16 = 3 if sys.byteorder == "little" else 0
_BIT_LENGTH = np.maximum((np.arange(1 << 16) >> 4) - 1022, 0).astype(np.int64)


def _short_tables(width: int) -> tuple[np.ndarray, np.ndarray]:
    """For 1- and 2-byte fields: raw code → (trimmed length, string-view word 0)."""
    code = np.arange(1 << (8 * width), dtype=np.uint64)
    length = np.zeros(len(code), dtype=np.int64)
    for j in range(width):
        byte = (code >> _U(8 * j)) & _U(0xFF)
        length = np.where(byte != 0x20, j + 1, length)
    word = length.astype(np.uint64) | ((code & MASKS[length]) << _U(32))
    return length, word


_SHORT = {w: _short_tables(w) for w in (1, 2)}


_DIGIT_KINDS = frozenset({"N", "D8", "TS14"})
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


def _within(mat: np.ndarray, lo: int, hi: int) -> bool:
    return mat.size == 0 or col.span_below(mat, lo) <= hi - lo


def _bit_length(x: np.ndarray) -> np.ndarray:
    """Bit length of uint64 values below 2**53 (the float exponent, no per-bit loop)."""
    return _BIT_LENGTH[x.astype(np.float64).view(np.uint16)[_TOP16::4]]


class Block:
    """``n`` records of ``width`` bytes, ``stride`` apart from ``start`` in ``data``."""

    def __init__(self, data: np.ndarray, start: int, stride: int, n: int, width: int) -> None:
        if len(data) < start + max(n - 1, 0) * stride + width + _PAD:
            data = np.concatenate([data, np.zeros(_PAD + width, np.uint8)])
        self.data = data
        self.start, self.stride, self.n, self.width = start, stride, n, width
        self._buffer: pa.Buffer | None = None
        self._nonblank: np.ndarray | None = None
        self._bad: np.ndarray | None = None
        self._rows: np.ndarray | None = None
        # set by the decoder when every numeric byte of the block is known to be a digit, or
        # is to be taken for one while `non_digits` collects whether any byte was not
        self.digits_known = False
        self.verify_digits = False
        self.non_digits = 0
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

    def numbers_are_digits(self, layout: tuple[FieldSpec, ...]) -> bool:
        """Every byte of the layout's character numbers and dates is a digit: two whole-block
        reductions per run of adjacent numeric fields, so the fields skip their own checks."""
        return self.n > 0 and all(_within(self.matrix(a, b - a), 0x30, 0x39)
                                  for a, b in _runs(layout, _DIGIT_KINDS))

    def text_allowed(self, layout: tuple[FieldSpec, ...]) -> bool:
        """Every byte of the layout's text fields is in the alphanumeric set: one check per
        run of adjacent text fields (the whole record when it is all character data)."""
        return all(col.all_allowed(self.matrix(a, b - a)) for a, b in _runs(layout, _CHAR_KINDS))

    # -- per-record bitmaps --------------------------------------------------------------
    def _bitmap(self, flag: Callable[[np.ndarray, np.ndarray], object]) -> np.ndarray:
        """One bit per byte of every record (`flag` writes the bytes' flags into its second
        argument), rows of whole bytes, plus eight bytes of padding so that a word can be read
        at any row. The flags go to rows padded to a multiple of eight, so that one flat
        packbits packs them (numpy packs row by row far more slowly)."""
        wide = (self.width + 7) // 8 * 8
        flags = np.empty((self.n, wide), bool)
        flag(self.matrix(0, self.width), flags[:, : self.width])
        flags[:, self.width:] = False
        out = np.zeros(self.n * wide // 8 + 8, np.uint8)
        out[:-8] = np.packbits(flags.reshape(-1), bitorder="little")
        return out

    def _bits(self, bitmap: np.ndarray, off: int, width: int) -> np.ndarray:
        """`width` (<= 48) bits of every record's bitmap row, from byte `off` of the record."""
        if self.n == 0:
            return np.zeros(0, np.uint64)
        words = np.ndarray((self.n,), dtype="<u8", buffer=bitmap, offset=off >> 3,
                           strides=((self.width + 7) // 8,))
        out = np.right_shift(words, _U(off & 7))
        return np.bitwise_and(out, _U((1 << width) - 1), out=out)

    def text_length(self, off: int, width: int) -> np.ndarray:
        """Length of each field with trailing blanks removed (int64)."""
        if width <= 2:
            return _SHORT[width][0].take(self.key(off, width))
        if self._nonblank is None:
            self._nonblank = self._bitmap(lambda m, out: np.not_equal(m, 0x20, out=out))
        out = None
        for start in range(0, width, _MAX_BITS):  # wide header fields: piece by piece
            top = _bit_length(self._bits(self._nonblank, off + start,
                                         min(_MAX_BITS, width - start)))
            out = top if out is None else np.where(top > 0, top + start, out)
        return out

    def charset_bad(self, off: int, width: int) -> np.ndarray:
        """Records whose field holds a byte outside the Metro 2 alphanumeric set."""
        if self._bad is None:
            self._bad = self._bitmap(lambda m, out: np.copyto(out, ~col.ALLOWED[m]))
        bad = np.zeros(self.n, dtype=bool)
        for start in range(0, width, _MAX_BITS):
            bad |= self._bits(self._bad, off + start, min(_MAX_BITS, width - start)) != 0
        return bad

    # -- typed reads -------------------------------------------------------------------
    def digits(self, off: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Zero-filled ASCII digits → (int64, ok); same rules as :func:`columns.decode_digits`
        (a leading ``-`` is accepted when the width is not a multiple of eight)."""
        head = width % 8
        known = self.digits_known
        neg = None
        ok = np.ones(self.n, bool)
        if head == 1:  # one leading digit: plain byte arithmetic
            first = self.view("u1", off)
            digit = first - np.uint8(ord("0"))  # wraps for bytes below '0'
            if width > 1 and not known:
                neg = first == ord("-")
                if neg.any():
                    digit = np.where(neg, np.uint8(0), digit)
                else:
                    neg = None
            if not known:
                ok = digit <= 9
            elif self.verify_digits and self.n:
                self.non_digits |= int(digit.max()) > 9
            val = digit.astype(np.int64)
        elif head:
            # the leading digits, shifted up so the word reads as zero-padded on the left
            shift = _U(8 * (8 - head))
            x = (self.view("<u8", off) << shift) | (_ZEROS & MASKS[8 - head])
            if width > 1 and not known:
                neg = self.view("u1", off) == ord("-")
                if neg.any():  # '-' becomes '0' for the digit check; the sign comes last
                    x = np.where(neg, x + (_U(3) << shift), x)
                else:
                    neg = None
            val = self._digits_value(x)
            if not known:
                ok = col.all_digits(x)
        else:
            val = np.zeros(self.n, np.int64)
        for j in range(head, width, 8):
            x = self.view("<u8", off + j)
            val = val * 100_000_000 + self._digits_value(x)
            if not known:
                ok &= col.all_digits(x)
        if neg is not None:
            val = np.where(neg, -val, val)
        return val, ok

    def _digits_value(self, x: np.ndarray) -> np.ndarray:
        d = x - _ZEROS
        if self.verify_digits:
            self.non_digits |= col.non_digit_bits(d)
        return col.swar8_offsets(d)

    def digit_words(self, off: int, count: int) -> tuple[list[np.ndarray], np.ndarray]:
        """`count` 8-byte words from `off`, `off + 8`, … and whether all are ASCII digits."""
        words = [self.view("<u8", off + 8 * j) for j in range(count)]
        ok = np.ones(self.n, bool)
        if not self.digits_known:
            for w in words:
                ok &= col.all_digits(w)
        elif self.verify_digits:
            offsets = [w - _ZEROS for w in words]
            for d in offsets:
                self.non_digits |= col.non_digit_bits(d)
            words = [d + _ZEROS for d in offsets]  # contiguous from here on
        return words, ok

    def text(self, off: int, width: int, trim: bool = True) -> tuple[pa.Array, np.ndarray]:
        """Arrow string_view array of each record's field (trailing blanks trimmed unless
        `trim` is False) and the lengths it holds. No character data is copied."""
        n = self.n
        views = np.empty((n, 2), dtype=np.uint64)  # every word is written below
        if width <= 2 and trim:
            _SHORT[width][1].take(self.key(off, width), out=views[:, 0])
            views[:, 1] = 0
            length = views.view(np.uint32)[:, 0]
        else:
            length = self.text_length(off, width) if trim else np.full(n, width, np.int64)
            head, tail = views[:, 0], views[:, 1]
            np.left_shift(self.view("<u8", off), _U(32), out=head)
            np.bitwise_and(head, _VIEW_MASK0[length], out=head)
            np.bitwise_or(head, length.view(np.uint64), out=head)
            np.bitwise_and(self.view("<u8", off + 4), _VIEW_MASK1[length], out=tail)
            if width > _INLINE:
                long = length > _INLINE
                if long.any():  # buffer 0 at this record's field
                    np.add(self._row_offsets(), _U((self.start + off) << 32), out=tail,
                           where=long)
        if self._buffer is None:
            self._buffer = pa.py_buffer(self.data)
        array = pa.Array.from_buffers(pa.string_view(), n,
                                      [None, pa.py_buffer(views), self._buffer])
        return array, length

    def _row_offsets(self) -> np.ndarray:
        """Each record's offset from the block start, in the high half of a uint64."""
        if self._rows is None:
            self._rows = (np.arange(self.n, dtype=np.uint64) * _U(self.stride)) << _U(32)
        return self._rows
