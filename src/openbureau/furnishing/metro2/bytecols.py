"""Field access by absolute byte position in a chunk buffer (the reader's hot path).

A field of ``n`` records is addressed by an int64 array of byte positions (record start +
field offset), so base records, segments at varying offsets and single records all go through
the same code without first gathering an ``(n, width)`` matrix. Reads are word gathers from
overlapping little-endian views of the buffer; the buffer is padded so an 8-byte read at the
last field never runs off its end.

Text columns become Arrow ``string_view`` arrays that point into the chunk buffer: no bytes are
copied, only 16-byte views are built (with numpy, vectorised). Trailing blanks are trimmed by
giving each view the trimmed length, taken from a bitmap of non-blank bytes built once per
chunk. polars imports string views without copying the character data.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import columns as col

_PAD = 16
_U = np.uint64
# MASKS[k] keeps the low k bytes of a little-endian word
MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_ZEROS = _U(0x3030303030303030)
_MAX_BITS = 56  # a bitmap read is one 8-byte word shifted by up to 7 bits
_INLINE = 12  # string views hold up to 12 bytes inline


class ChunkBytes:
    """One chunk's bytes with lazily built per-byte bitmaps (non-blank, outside charset)."""

    def __init__(self, data: np.ndarray, used_end: int | None = None) -> None:
        end = len(data) if used_end is None else used_end
        if len(data) - end < _PAD:
            data = np.concatenate([data, np.zeros(_PAD, np.uint8)])
        self.data = data
        self.buffer = pa.py_buffer(data)
        self._u64 = _overlapping(data, np.uint64)
        self._u32 = _overlapping(data, np.uint32)
        self._nonblank: np.ndarray | None = None
        self._bad: np.ndarray | None = None

    # -- raw reads -----------------------------------------------------------------------
    def u8(self, pos: np.ndarray) -> np.ndarray:
        return self.data[pos]

    def u32(self, pos: np.ndarray) -> np.ndarray:
        return self._u32[pos]

    def u64(self, pos: np.ndarray) -> np.ndarray:
        return self._u64[pos]

    def code(self, pos: np.ndarray, width: int) -> np.ndarray:
        """Up to 8 bytes as one little-endian integer (short code lookups)."""
        return self._u64[pos] & MASKS[width]

    def matrix(self, pos: np.ndarray, width: int) -> np.ndarray:
        """``(n, width)`` copy of the field bytes (packed decoding, rare paths)."""
        if not len(pos):
            return np.zeros((0, width), np.uint8)
        return np.lib.stride_tricks.sliding_window_view(self.data, width)[pos]

    # -- bitmaps ---------------------------------------------------------------------------
    def _bitmap(self, flags: np.ndarray) -> np.ndarray:
        bits = np.packbits(flags, bitorder="little")
        return _overlapping(np.concatenate([bits, np.zeros(8, np.uint8)]), np.uint64)

    def _bits(self, words: np.ndarray, pos: np.ndarray, width: int) -> np.ndarray:
        """`width` (<= 56) bits of a bitmap starting at byte position `pos`."""
        got = words[pos >> 3] >> (pos & 7).astype(np.uint64)
        return got & _U((1 << width) - 1)

    def text_length(self, pos: np.ndarray, width: int) -> np.ndarray:
        """Length of each field with trailing blanks removed (int64)."""
        if self._nonblank is None:
            self._nonblank = self._bitmap(self.data != 0x20)
        out = np.zeros(len(pos), dtype=np.int64)
        for start in range(0, width, _MAX_BITS):  # wide header fields: piece by piece
            w = min(_MAX_BITS, width - start)
            bits = self._bits(self._nonblank, pos + start, w)
            # the exponent of a float is the bit length: index of the last non-blank + 1
            top = np.frexp(bits.astype(np.float64))[1].astype(np.int64)
            out = np.where(top > 0, top + start, out)
        return out

    def charset_bad(self, pos: np.ndarray, width: int) -> np.ndarray:
        """Rows whose field holds a byte outside the Metro 2 alphanumeric set."""
        if self._bad is None:
            d = self.data
            self._bad = self._bitmap((d < 0x20) | (d > 0x7E) | (d == 0x60))
        bad = np.zeros(len(pos), dtype=bool)
        for start in range(0, width, _MAX_BITS):
            bad |= self._bits(self._bad, pos + start, min(_MAX_BITS, width - start)) != 0
        return bad

    def clean(self, lo: int, hi: int) -> bool:
        """Every byte of data[lo:hi] is in the alphanumeric set (three SIMD reductions)."""
        return col.all_allowed(self.data[lo:hi])

    # -- typed reads -----------------------------------------------------------------------
    def digits(self, pos: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Zero-filled ASCII digits → (int64, ok); same rules as :func:`columns.decode_digits`
        (a leading ``-`` is accepted when the width is not a multiple of eight)."""
        head = width % 8
        val = np.zeros(len(pos), dtype=np.int64)
        ok = np.ones(len(pos), dtype=bool)
        neg = None
        if head:
            shift = _U(8 * (8 - head))
            x = (self._u64[pos] << shift) | (_ZEROS & MASKS[8 - head])
            if width > 1:
                neg = self.data[pos] == ord("-")
                if neg.any():  # '-' becomes '0' for the digit check, the sign comes last
                    x = np.where(neg, x + (_U(3) << shift), x)
                else:
                    neg = None
            val, ok = col.swar8_words(x)
        for j in range(head, width, 8):
            v, k = col.swar8_words(self._u64[pos + j])
            ok &= k
            val = val * 100_000_000 + v
        if neg is not None:
            val = np.where(neg, -val, val)
        return val, ok

    def text(self, pos: np.ndarray, length: np.ndarray) -> pa.Array:
        """Arrow string_view array of data[pos : pos + length] without copying the bytes."""
        n = len(pos)
        views = np.empty((n, 2), dtype=np.uint64)
        ln = length.astype(np.uint64)
        head = np.minimum(length, 4)
        views[:, 0] = ln | ((self._u32[pos].astype(np.uint64) & MASKS[head]) << _U(32))
        inline = self._u64[pos + 4] & MASKS[np.clip(length - 4, 0, 8)]
        long = length > _INLINE
        if long.any():  # buffer 0, offset into it
            inline = np.where(long, pos.astype(np.uint64) << _U(32), inline)
        views[:, 1] = inline
        return pa.Array.from_buffers(pa.string_view(), n,
                                     [None, pa.py_buffer(views), self.buffer])


def _overlapping(data: np.ndarray, dtype) -> np.ndarray:
    """A word starting at every byte of `data` (unaligned little-endian reads)."""
    size = np.dtype(dtype).itemsize
    return np.ndarray((max(len(data) - size + 1, 0),), dtype=np.dtype(dtype).newbyteorder("<"),
                      buffer=data, strides=(1,))
