"""Vectorised decoding/encoding of fixed-width columns over ``(n, width)`` uint8 matrices."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

# moov's alphanumeric set (fact sheet §2): printable ASCII except the backtick.
ALLOWED = np.zeros(256, dtype=bool)
ALLOWED[0x20:0x7F] = True
ALLOWED[0x60] = False
_ALLOWED_BYTES = bytes(np.nonzero(ALLOWED)[0].tolist())
SANITIZE = np.where(ALLOWED, np.arange(256), ord("?")).astype(np.uint8)
_ZERO = ord("0")


def span_below(mat: np.ndarray, lo: int) -> int:
    """The largest ``byte - lo`` (modulo 256, so bytes below `lo` count as large) of a
    non-empty matrix: all bytes lie in [lo, lo + k] exactly when it is at most k. One
    reduction, over a contiguous copy when the matrix is a strided view (numpy reduces those
    a few bytes at a time, and min and max would take two such passes)."""
    if mat.flags.c_contiguous:
        low = int(mat.min())
        return 255 if low < lo else int(mat.max()) - lo
    return int(np.subtract(mat, np.uint8(lo)).max())


def all_allowed(mat: np.ndarray) -> bool:
    """Fast check that every byte is in the alphanumeric set (two SIMD reductions)."""
    if mat.size == 0:
        return True
    top = span_below(mat, 0x20) + 0x20
    if top > 0x7E:
        return False
    # upper-case data never reaches the backtick: skip the compare pass
    return bool(top < 0x60 or not (mat == 0x60).any())


def text_array(mat: np.ndarray, sanitize: bool, trim: bool = True) -> pa.Array:
    """Fixed-width bytes → arrow string array, trailing blanks trimmed (vectorised).

    Bad bytes become ``?``.
    """
    n, w = mat.shape
    data = SANITIZE[mat] if sanitize else np.ascontiguousarray(mat)
    if not trim or n == 0:
        offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32) if n else np.zeros(1, np.int32)
    else:
        if w <= 4:  # short codes: a few column operations beat a row reduction
            lengths = np.zeros(n, dtype=np.uint8)
            for j in range(w):
                lengths = np.where(data[:, j] != 0x20, np.uint8(j + 1), lengths)
        else:  # peel trailing blank columns from the right until no row has any left
            lengths = np.full(n, w, dtype=np.uint8)
            blank = np.ones(n, dtype=bool)
            for j in range(w - 1, -1, -1):
                blank &= data[:, j] == 0x20
                if not blank.any():
                    break
                lengths -= blank
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        if offsets[-1] != n * w:
            data = data[_COLS[w] < lengths[:, None]]
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


_COLS = {w: np.arange(w, dtype=np.uint8) for w in range(1, 256)}


_U = np.uint64
_HI_MASK = _U(0xF0F0F0F0F0F0F0F0)
_THREES = _U(0x3030303030303030)
_SIXES = _U(0x0606060606060606)
_M1, _M2, _M3 = _U(0x0F0F0F0F0F0F0F0F), _U(0x00FF00FF00FF00FF), _U(0x0000FFFF0000FFFF)
_K1, _K2, _K3 = _U(2561), _U(6553601), _U(42949672960001)
_S8, _S16, _S32 = _U(8), _U(16), _U(32)


def all_digits(x: np.ndarray) -> np.ndarray:
    """Each uint64 holds eight ASCII digits."""
    return ((x & _HI_MASK) == _THREES) & (((x + _SIXES) & _HI_MASK) == _THREES)


def swar8_value(x: np.ndarray) -> np.ndarray:
    """Eight ASCII digits per little-endian uint64 (first digit in the low byte) → int64,
    SWAR arithmetic instead of eight column operations (garbage if not all digits)."""
    v = (((x - _THREES) & _M1) * _K1) >> _S8
    v = ((v & _M2) * _K2) >> _S16
    v = ((v & _M3) * _K3) >> _S32
    return v.astype(np.int64)


def swar8_words(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(value, ok) of eight ASCII digits per uint64."""
    return swar8_value(x), all_digits(x)


def decode_digits(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ASCII digits → (int64, ok). A leading ``-`` is accepted (negatives are a later rule).

    Groups of eight digits are decoded with SWAR arithmetic on one uint64 per row; the
    leading ``width % 8`` digits one column at a time.
    """
    n, w = mat.shape
    head = w % 8
    val = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    neg = None
    if head:
        neg = mat[:, 0] == ord("-")
        if w == 1 or not neg.any():
            neg = None
        for j in range(head):
            d = mat[:, j] - np.uint8(_ZERO)  # wraps for bytes below '0'
            if j == 0 and neg is not None:
                d = np.where(neg, np.uint8(0), d)
            bad |= d > 9
            val *= 10
            val += d
    for j in range(head, w, 8):
        m8 = mat[:, j:j + 8]
        if m8.strides[1] != 1:
            m8 = np.ascontiguousarray(m8)
        v, ok = swar8_words(m8.view("<u8")[:, 0])
        bad |= ~ok
        val *= 100_000_000
        val += v
    if neg is not None:
        val = np.where(neg, -val, val)
    return val, ~bad


def split_date(value: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MMDDYYYY integer → (month, day, year)."""
    return value // 1_000_000, (value // 10_000) % 100, value % 10_000


def ymd_to_days(m: np.ndarray, d: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Civil date → days since 1970-01-01 (proleptic Gregorian), vectorised."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = np.where(m > 2, m - 3, m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def days_to_ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dt = np.asarray(days, dtype="int64").astype("datetime64[D]")
    months = dt.astype("datetime64[M]")
    y = dt.astype("datetime64[Y]").astype(np.int64) + 1970
    m = months.astype(np.int64) % 12 + 1
    d = (dt - months.astype("datetime64[D]")).astype(np.int64) + 1
    return m, d, y


_YEARS = (1800, 2199)  # dates outside these years are rejected as implausible


def _month_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per (year, month) in range: day number of the 1st and number of days."""
    y = np.repeat(np.arange(_YEARS[0], _YEARS[1] + 1), 12)
    m = np.tile(np.arange(1, 13), _YEARS[1] - _YEARS[0] + 1)
    first = ymd_to_days(m, np.ones_like(m), y)
    nxt = ymd_to_days(np.where(m == 12, 1, m + 1), np.ones_like(m), np.where(m == 12, y + 1, y))
    return first, nxt - first


_FIRST_DAY, _MONTH_DAYS = _month_tables()


def date_from_parts(m: np.ndarray, d: np.ndarray, y: np.ndarray,
                    empty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(month, day, year) → (days since epoch, ok) with two table lookups: a real calendar
    day (leap years included) between 1800 and 2199. Empty rows are ok (null)."""
    known = (m >= 1) & (m <= 12) & (y >= _YEARS[0]) & (y <= _YEARS[1])
    month = np.where(known, (y - _YEARS[0]) * 12 + m - 1, 0)
    ok = (known & (d >= 1) & (d <= _MONTH_DAYS[month])) | empty
    days = np.where(ok & ~empty, _FIRST_DAY[month] + d - 1, 0)
    return days, ok


def date_from_value(value: np.ndarray, empty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MMDDYYYY ints → (days since epoch, ok). Empty rows are ok (null)."""
    return date_from_parts(*split_date(value), empty)


def ts_from_parts(date: tuple[np.ndarray, np.ndarray, np.ndarray], hh: np.ndarray,
                  mi: np.ndarray, ss: np.ndarray,
                  empty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((month, day, year), hour, minute, second) → (microseconds since epoch, ok)."""
    days, dok = date_from_parts(*date, np.zeros(len(hh), dtype=bool))
    ok = (dok & (hh < 24) & (mi < 60) & (ss < 60)) | empty
    secs = days * 86400 + hh * 3600 + mi * 60 + ss
    return np.where(ok & ~empty, secs * 1_000_000, 0), ok


def ts_from_value(value: np.ndarray, empty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MMDDYYYYHHMMSS ints → (microseconds since epoch, ok)."""
    date_part, time_part = value // 1_000_000, value % 1_000_000
    hh, mi, ss = time_part // 10_000, (time_part // 100) % 100, time_part % 100
    return ts_from_parts(split_date(date_part), hh, mi, ss, empty)


def date_value_from_days(days: np.ndarray) -> np.ndarray:
    m, d, y = days_to_ymd(days)
    return m * 1_000_000 + d * 10_000 + y


def ts_value_from_micros(micros: np.ndarray) -> np.ndarray:
    secs = np.floor_divide(np.asarray(micros, dtype=np.int64), 1_000_000)
    days, rem = np.divmod(secs, 86400)
    hh, rem = np.divmod(rem, 3600)
    mi, ss = np.divmod(rem, 60)
    return date_value_from_days(days) * 1_000_000 + hh * 10_000 + mi * 100 + ss


def encode_digits(values: np.ndarray, width: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.int64)
    if (v < 0).any() or (v >= 10**width).any():
        raise ValueError(f"value does not fit a {width}-digit numeric field")
    pw = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((v[:, None] // pw) % 10 + _ZERO).astype(np.uint8)


def encode_text(series: pl.Series, width: int) -> np.ndarray:
    """Strings → ``(n, width)`` uint8, left-justified, blank-filled, truncated, ASCII only."""
    n = len(series)
    s = (
        series.cast(pl.Utf8)
        .fill_null("")
        .str.replace_all(r"[^\x20-\x7E]", "?")
        .str.slice(0, width)
        .str.pad_end(width, " ")
    )
    if n == 0:
        return np.zeros((0, width), dtype=np.uint8)
    arr = s.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    offs = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offs[0] : offs[-1]]
    return data.reshape(n, width)


def prim_array(values: np.ndarray, typ: pa.DataType, null: np.ndarray | None) -> pa.Array:
    """numpy → arrow primitive array with an optional null mask (no pandas round trip)."""
    n = len(values)
    vals = np.ascontiguousarray(values)
    validity = None
    nulls = 0
    if null is not None:
        nulls = int(np.count_nonzero(null))
        if nulls:
            validity = pa.py_buffer(np.packbits(~null, bitorder="little"))
    return pa.Array.from_buffers(typ, n, [validity, pa.py_buffer(vals)], null_count=nulls)
