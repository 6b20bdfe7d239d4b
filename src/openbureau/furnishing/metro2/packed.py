"""Packed fields (fact sheet §4), vectorised over an ``(n, width)`` uint8 matrix.

Two encodings exist in the wild and both are decoded:

* ``binary`` (moov-io): numbers are unsigned big-endian integers; dates are ``00`` + a 3-byte
  integer whose decimal digits are MMDDYYYY + ``73``; timestamps are ``00`` + 6 bytes + ``73``.
* ``bcd`` (IBM COMP-3): two decimal digits per byte, the last nibble is the sign
  (``C``/``F`` positive, ``D`` negative).

Dates carry their own marker (last byte ``73`` vs. a sign nibble) so they are decoded per value;
numbers cannot be told apart per value and use the file-level encoding.
"""

from __future__ import annotations

import numpy as np

BINARY = "binary"
BCD = "bcd"
ENCODINGS = (BINARY, BCD)
_DATE_TAG = 0x73
_SIGNS_POS = (0x0C, 0x0F)
_SIGN_NEG = 0x0D


def _nibbles(mat: np.ndarray) -> np.ndarray:
    hi = mat >> 4
    lo = mat & 0x0F
    out = np.empty((mat.shape[0], mat.shape[1] * 2), dtype=np.uint8)
    out[:, 0::2] = hi
    out[:, 1::2] = lo
    return out


def _digits_value(d: np.ndarray) -> np.ndarray:
    w = d.shape[1]
    if w == 0:
        return np.zeros(d.shape[0], dtype=np.int64)
    pw = 10 ** np.arange(w - 1, -1, -1, dtype=np.int64)
    return d.astype(np.int64) @ pw


def decode_bcd(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COMP-3 → (signed int64 values, ok mask)."""
    nib = _nibbles(mat)
    digits, sign = nib[:, :-1], nib[:, -1]
    ok = (digits <= 9).all(axis=1) & (
        (sign == _SIGNS_POS[0]) | (sign == _SIGNS_POS[1]) | (sign == _SIGN_NEG)
    )
    val = _digits_value(np.where(digits <= 9, digits, 0))
    val = np.where(sign == _SIGN_NEG, -val, val)
    return val, ok


def decode_binary(mat: np.ndarray) -> np.ndarray:
    val = np.zeros(mat.shape[0], dtype=np.int64)
    for j in range(mat.shape[1]):
        val <<= 8
        val |= mat[:, j]
    return val


def words(mat: np.ndarray) -> np.ndarray:
    """An ``(n, width <= 8)`` byte matrix as one little-endian uint64 per row."""
    out = np.zeros((mat.shape[0], 8), np.uint8)
    out[:, : mat.shape[1]] = mat
    return out.view("<u8")[:, 0]


def big_endian(words: np.ndarray, width: int) -> np.ndarray:
    """The unsigned big-endian value of the low `width` bytes of little-endian words (the
    other bytes must be zero): one byte swap instead of a loop over columns."""
    return (words.byteswap() >> np.uint64(8 * (8 - width))).astype(np.int64)


def decode_number(mat: np.ndarray, encoding: str,
                  raw: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`raw`, when given, is :func:`words` of `mat` (read straight from the record)."""
    if encoding == BCD:
        return decode_bcd(mat)
    w = mat.shape[1]
    val = big_endian(words(mat) if raw is None else raw, w) if w <= 8 else decode_binary(mat)
    return val, np.ones(mat.shape[0], dtype=bool)


def decode_tagged(mat: np.ndarray,
                  raw: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Packed date / timestamp (up to 8 bytes) → (digit value e.g. MMDDYYYY, empty mask, ok
    mask). `raw`, when given, is :func:`words` of `mat`.

    Accepts the binary ``00 … 73`` form and COMP-3. All-zero bytes, or a COMP-3 zero, is empty.
    """
    n, w = mat.shape
    raw = words(mat) if raw is None else raw
    zero = raw == 0
    last = (raw >> np.uint64(8 * (w - 1))) & np.uint64(0xFF)
    is_bin = ((raw & np.uint64(0xFF)) == 0) & (last == _DATE_TAG)
    val = np.zeros(n, dtype=np.int64)
    if is_bin.any():  # the integer between the 00 and the 73
        val = np.where(is_bin, (big_endian(raw, w) >> 8) & ((1 << (8 * (w - 2))) - 1), val)
    rest = ~is_bin & ~zero
    if rest.any():  # COMP-3 only when some value is neither form above nor empty
        bval, bok = decode_bcd(mat)
        bok &= bval >= 0
        is_bcd = rest & bok
        val = np.where(is_bcd, bval, val)
    else:
        is_bcd = np.zeros(n, dtype=bool)
    empty = zero | ((is_bin | is_bcd) & (val == 0))
    ok = zero | is_bin | is_bcd
    return val, empty, ok


def encode_binary(values: np.ndarray, width: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.int64)
    if (v < 0).any() or (width < 8 and (v >= (1 << (8 * width))).any()):
        raise ValueError(f"value does not fit a {width}-byte packed binary field")
    shifts = 8 * np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((v[:, None] >> shifts) & 0xFF).astype(np.uint8)


def encode_bcd(values: np.ndarray, width: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.int64)
    ndig = 2 * width - 1
    a = np.abs(v)
    if (a >= 10**ndig).any():
        raise ValueError(f"value does not fit a {width}-byte COMP-3 field")
    pw = 10 ** np.arange(ndig - 1, -1, -1, dtype=np.int64)
    nib = np.empty((len(v), 2 * width), dtype=np.uint8)
    nib[:, :-1] = (a[:, None] // pw) % 10
    nib[:, -1] = np.where(v < 0, _SIGN_NEG, _SIGNS_POS[0])
    return ((nib[:, 0::2] << 4) | nib[:, 1::2]).astype(np.uint8)


def encode_number(values: np.ndarray, width: int, encoding: str) -> np.ndarray:
    return encode_bcd(values, width) if encoding == BCD else encode_binary(values, width)


def encode_tagged(values: np.ndarray, empty: np.ndarray, width: int, encoding: str) -> np.ndarray:
    """Digit value (MMDDYYYY…) → packed date/timestamp bytes; empty rows are all zeros."""
    v = np.where(empty, 0, np.asarray(values, dtype=np.int64))
    if encoding == BCD:
        out = encode_bcd(v, width)
    else:
        out = np.zeros((len(v), width), dtype=np.uint8)
        out[:, 1:-1] = encode_binary(v, width - 2)
        out[:, -1] = _DATE_TAG
    out[empty] = 0
    return out


def detect_encoding(date_fields: list[np.ndarray]) -> str | None:
    """Guess the file's packed-number encoding from packed date bytes (None = no evidence)."""
    for mat in date_fields:
        if mat.size == 0:
            continue
        last = mat[:, -1]
        nonzero = mat.any(axis=1)
        if ((last == _DATE_TAG) & (mat[:, 0] == 0) & nonzero).any():
            return BINARY
        low = last & 0x0F
        if (((low == 0x0C) | (low == 0x0F) | (low == 0x0D)) & nonzero).any():
            return BCD
    return None
