"""Record framing: layout detection, BDW/RDW walking, line breaks, chunking (fact sheet §3).

The framer reads a byte stream in blocks and yields :class:`FramedChunk` objects holding the
byte buffer and the start offset / length of every base record in it. Long runs of records with
the same length are found with numpy (one strided compare over the whole run). Records of
varying length (some with a J1, some with a K1, ...) are chained: a loop over integers reads each
record's length word to find the next record, and numpy then checks every record of the chain at
once (length words, separators, no HEADER/TRAILER, no line break inside). Only records that fail
those checks (and one record per chain or run) go through the per-record Python path, which
decides what they are and rejects the file when it must.
"""

from __future__ import annotations

import contextlib
import mmap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from .errors import FileRejected
from .layouts import CHAR_BASE_LENGTH, PACKED_BASE_LENGTH

HEADER_ID = b"HEADER"
TRAILER_ID = b"TRAILER"
_CRLF = b"\r\n"
_TRAILING_OK = b" \r\n\x00\x1a\t"
DEFAULT_CHUNK_BYTES = 8 << 20
# Without an explicit chunk size, later chunks are sized to hold about this many records
# (between DEFAULT_CHUNK_BYTES and _MAX_AUTO_CHUNK): every chunk costs a fixed number of column
# operations, so files of long records (bases with several segments) would otherwise pay that
# cost over half as many records as files of bare bases.
CHUNK_RECORDS = 20_000
_MAX_AUTO_CHUNK = 32 << 20
_MAX_RECORD = 65535 + 8
# Chains are checked in windows that grow fourfold from this many bytes, so that a chain that
# breaks early (a record the chain cannot take) costs little walking.
_CHAIN_WINDOW = 16 << 10
# From this many equal-length records in a row on, the strided run check is cheaper than the
# walk.
_LONG_RUN = 64
# After a chain that breaks on its first record, chains are not tried for 1, 3, 7, ... up to
# this many records (files whose records no chain fits, e.g. with line breaks inside records).
_MAX_COOL = 64


@dataclass(frozen=True)
class Layout:
    packed: bool
    blocked: bool

    @property
    def base_length(self) -> int:
        return PACKED_BASE_LENGTH if self.packed else CHAR_BASE_LENGTH

    @property
    def name(self) -> str:
        return ("packed" if self.packed else "character") + (
            "-blocked" if self.blocked else "-fixed")


def detect_layout(head: bytes) -> Layout:
    """Detect packed/character and blocked/fixed from the first bytes of a file."""
    if len(head) >= 14 and head[8:14] == HEADER_ID:
        blocked = True
        rdw = head[4:8]
    elif len(head) >= 10 and head[4:10] == HEADER_ID:
        blocked = False
        rdw = head[0:4]
    else:
        raise FileRejected("not_metro2", "no HEADER record at the start of the file", 0, 1)
    packed = rdw[2:4] == b"\x00\x00"
    if not packed and not rdw.isdigit():
        raise FileRejected("bad_rdw", f"header RDW {rdw!r} is neither digits nor BIN2+2", 0, 1)
    return Layout(packed=packed, blocked=blocked)


def _matches(buf: bytes, start: int, k: int, stride: int, off: int,
             pattern: bytes) -> np.ndarray:
    """Which of the k records at start, start + stride, ... hold `pattern` at byte `off`:
    one masked integer compare per record when the pattern fits a word."""
    w = len(pattern)
    if w > 8 or off + 8 > stride:
        arr = np.frombuffer(buf, np.uint8, count=k * stride, offset=start).reshape(k, stride)
        return (arr[:, off:off + w] == np.frombuffer(pattern, np.uint8)).all(axis=1)
    words = np.ndarray((k,), dtype="<u8", buffer=buf, offset=start + off, strides=(stride,))
    mask = np.uint64((1 << (8 * w)) - 1)
    return (words & mask) == np.uint64(int.from_bytes(pattern, "little"))


def _is(words: np.ndarray, pattern: bytes) -> np.ndarray:
    """Which little-endian 8-byte words begin with `pattern` (at most 8 bytes)."""
    mask = np.uint64((1 << (8 * len(pattern))) - 1)
    return (words & mask) == np.uint64(int.from_bytes(pattern, "little"))


def _digits(words: np.ndarray, k: int) -> np.ndarray:
    """Which words begin with k ASCII digits: each byte's high nibble is 3 and adding 6 to it
    does not carry into the high nibble."""
    hi = np.uint64(int.from_bytes(b"\xf0" * k, "little"))
    three = np.uint64(int.from_bytes(b"\x30" * k, "little"))
    six = np.uint64(int.from_bytes(b"\x06" * k, "little"))
    return ((words & hi) == three) & (((words + six) & hi) == three)


def _value4(words: np.ndarray) -> np.ndarray:
    """The number written by the first four bytes of each word (ASCII digits)."""
    d = words - np.uint64(0x30303030)
    m = np.uint64(0xFF)
    return (((d & m) * np.uint64(1000)) + ((d >> np.uint64(8) & m) * np.uint64(100))
            + ((d >> np.uint64(16) & m) * np.uint64(10)) + (d >> np.uint64(24) & m))


def _chunk_buffer(size: int) -> mmap.mmap | bytearray:
    """A writable buffer for one chunk: an anonymous mapping, backed by transparent huge pages
    where the kernel offers them, instead of a bytearray that is zero-filled page by page
    before the read (thousands of page faults per chunk; reading a chunk measured 20-40%
    cheaper this way). The mapping is freed when the last array that views it is."""
    if not hasattr(mmap, "MAP_ANONYMOUS"):  # not a POSIX system
        return bytearray(size)
    buf = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(mmap, "MADV_HUGEPAGE"):
        with contextlib.suppress(OSError):
            buf.madvise(mmap.MADV_HUGEPAGE)
    return buf


@dataclass
class FramedChunk:
    data: np.ndarray  # uint8 buffer that all starts index into
    starts: np.ndarray  # int64 offset of each base record's RDW in data
    lengths: np.ndarray  # int64 RDW of each base record
    offsets: np.ndarray  # int64 byte offset of each record (its BDW/RDW) in the file
    record_nos: np.ndarray  # int64, 1-based; the header is record 1
    header: bytes | None = None
    header_offset: int = 0
    trailer: bytes | None = None
    trailer_offset: int = 0
    trailer_record_no: int = 0
    blocks: int = 0  # BDWs seen in this chunk
    raw: bytes | bytearray | mmap.mmap | None = None  # the buffer `data` views, for find()


@dataclass
class _Acc:
    starts: list = field(default_factory=list)
    lengths: list = field(default_factory=list)
    offsets: list = field(default_factory=list)
    single_s: list = field(default_factory=list)
    single_l: list = field(default_factory=list)
    single_o: list = field(default_factory=list)
    aux: bytearray = field(default_factory=bytearray)
    aux_s: list = field(default_factory=list)
    aux_l: list = field(default_factory=list)
    aux_o: list = field(default_factory=list)

    def flush_single(self) -> None:
        if self.single_s:
            self.starts.append(np.asarray(self.single_s, dtype=np.int64))
            self.lengths.append(np.asarray(self.single_l, dtype=np.int64))
            self.offsets.append(np.asarray(self.single_o, dtype=np.int64))
            self.single_s, self.single_l, self.single_o = [], [], []


class Framer:
    """Iterate over a Metro 2 byte stream, yielding framed chunks in constant memory."""

    def __init__(self, stream: BinaryIO, chunk_bytes: int | None = None,
                 progress: Callable[[int], None] | None = None) -> None:
        self.stream = stream
        self.auto_size = chunk_bytes is None
        self.chunk_bytes = max(int(chunk_bytes or DEFAULT_CHUNK_BYTES), 2 * _MAX_RECORD)
        self.progress = progress
        self.layout: Layout | None = None
        self.record_no = 0
        self.seen_header = False
        self.seen_trailer = False
        self.total_bases = 0
        self.total_blocks = 0
        self._run_next = False  # a chain stopped where a long run of equal lengths starts
        self._cool = 0  # records to frame without trying a chain (after chains that failed)
        self._cool_len = 0

    # -- small helpers -------------------------------------------------------------------
    def _word(self, buf: bytes, q: int) -> int:
        """Length word at q: >=0 value, -1 malformed, -2 not enough data."""
        w = buf[q:q + 4]
        if len(w) < 4:
            return -2
        if self.layout.packed:
            if w[2] or w[3]:
                return -1
            return (w[0] << 8) | w[1]
        return int(w) if w.isdigit() else -1

    def _skip_sep(self, buf: bytes, p: int) -> int:
        n = len(buf)
        if not self.layout.packed:
            while p < n and buf[p] in _CRLF:
                p += 1
            return p
        # packed: a CR/LF is only a separator if a valid word follows it; an LF separator
        # before a length word that begins with byte 0A (2560-2815 bytes) is one of one byte
        q = p
        while q < n and q - p < 2 and buf[q] in _CRLF:
            q += 1
        while q != p:
            if self._word(buf, q) >= PACKED_BASE_LENGTH:
                return q
            q -= 1
        return p

    def _take_clean(self, buf: bytes, p: int, need: int) -> tuple[bytes, int] | None:
        """Collect `need` bytes from p skipping CR/LF (unpacked only)."""
        out = bytearray()
        q = p
        n = len(buf)
        while len(out) < need:
            if q >= n:
                return None
            end = min(n, q + (need - len(out)))
            piece = buf[q:end]
            out += piece.replace(b"\r", b"").replace(b"\n", b"")
            q = end
        return bytes(out), q - p

    def _reject(self, rule: str, msg: str, off: int) -> FileRejected:
        return FileRejected(rule, msg, off, self.record_no + 1)

    # -- one record via the slow path ----------------------------------------------------
    def _one(self, buf: bytes, p: int, base_off: int, eof: bool):
        """Frame one record at p. Returns (kind, record_bytes|None, start, rdw, next_p, bdw)
        or None when more data is needed."""
        lay = self.layout
        off = base_off + p
        minlen = lay.base_length
        # trailer never has a BDW
        rdw0 = self._word(buf, p)
        if rdw0 == -2:
            return None
        if buf[p + 4:p + 11] == TRAILER_ID or (lay.blocked and buf[p + 8:p + 15] == TRAILER_ID):
            has_bdw = buf[p + 4:p + 11] != TRAILER_ID
            wl = 4 if has_bdw else 0
            rdw = self._word(buf, p + wl)
            if rdw < minlen:
                raise self._reject("bad_rdw", f"trailer RDW {rdw} is below {minlen}", off)
            total = wl + rdw
            if p + total > len(buf):
                if eof:
                    if not lay.packed:
                        return self._one_clean(buf, p, base_off, eof)
                    raise self._reject("truncated", "file ends inside the trailer", off)
                return None
            if not lay.packed and (buf.find(b"\n", p, p + total) >= 0
                                   or buf.find(b"\r", p, p + total) >= 0):
                return self._one_clean(buf, p, base_off, eof)
            return "trailer", None, p + wl, rdw, p + total, 0
        wl = 4 if lay.blocked else 0
        if len(buf) - p < wl + 14 and not eof:
            return None
        bdw = rdw0 if lay.blocked else 0
        rdw = self._word(buf, p + wl)
        if rdw == -2 or (lay.blocked and bdw == -2):
            if eof:
                raise self._reject("truncated", "file ends inside a record descriptor", off)
            return None
        if rdw < 0 or bdw < 0:
            if not lay.packed:
                got = self._take_clean(buf, p, wl + 4)
                if got is None and not eof:
                    return None
                if got is not None and got[0].isdigit():
                    return self._one_clean(buf, p, base_off, eof)
            what = "BDW/RDW" if lay.blocked else "RDW"
            raise self._reject("misframed", f"no valid {what} at this offset "
                               f"(bytes {bytes(buf[p:p + 8])!r})", off)
        if rdw < minlen:
            raise self._reject("bad_rdw", f"RDW {rdw} is below the minimum {minlen}", off)
        if lay.blocked and bdw < rdw + 4:
            raise self._reject("bad_bdw", f"BDW {bdw} is smaller than RDW {rdw} + 4", off)
        total = bdw if lay.blocked else rdw
        if p + total > len(buf):
            if eof:
                if not lay.packed:
                    return self._one_clean(buf, p, base_off, eof)
                raise self._reject("truncated", f"record of {total} bytes runs past the end "
                                   f"of the file", off)
            return None
        rec_start = p + wl
        if not lay.packed and (buf.find(b"\n", p, p + total) >= 0
                               or buf.find(b"\r", p, p + total) >= 0):
            return self._one_clean(buf, p, base_off, eof)
        kind = "header" if buf[rec_start + 4:rec_start + 10] == HEADER_ID else "base"
        if lay.blocked and bdw > rdw + 4:
            # IBM-style blocking: further records in the same block are not supported
            pad = buf[rec_start + rdw:p + bdw]
            if pad.strip(b" \x00"):
                raise self._reject("multi_record_block", "a block holds more than one record "
                                   "(IBM-style blocking is not supported)", off)
        return kind, None, rec_start, rdw, p + total, 1 if lay.blocked else 0

    def _one_clean(self, buf: bytes, p: int, base_off: int, eof: bool):
        """Unpacked record with CR/LF bytes inside: drop them (moov fixtures do this)."""
        lay = self.layout
        off = base_off + p
        wl = 4 if lay.blocked else 0
        head = self._take_clean(buf, p, 11)
        if head is not None and head[0][4:11] == TRAILER_ID:
            wl = 0  # the trailer never has a BDW
        got = self._take_clean(buf, p, wl + 4)
        if got is None:
            if eof:
                raise self._reject("truncated", "file ends inside a record descriptor", off)
            return None
        words = got[0]
        if not words.isdigit():
            raise self._reject("misframed", f"no valid RDW at this offset ({words!r})", off)
        rdw = int(words[wl:wl + 4])
        bdw = int(words[:4]) if wl else 0
        if rdw < lay.base_length:
            raise self._reject("bad_rdw", f"RDW {rdw} is below the minimum {lay.base_length}",
                               off)
        if wl and bdw != rdw + 4:
            raise self._reject("bad_bdw", f"BDW {bdw} does not equal RDW {rdw} + 4", off)
        total = wl + rdw
        got = self._take_clean(buf, p, total)
        if got is None:
            if eof:
                raise self._reject("truncated", f"record of {total} bytes runs past the end "
                                   f"of the file", off)
            return None
        rec = got[0][wl:]
        kind = "header" if rec[4:10] == HEADER_ID else "base"
        if rec[4:11] == TRAILER_ID:
            kind = "trailer"
        return kind, rec, 0, rdw, p + got[1], 1 if wl else 0

    # -- vectorised run ------------------------------------------------------------------
    def _run(self, buf: bytes, p: int, stride: int, words: bytes, sep: bytes) -> int:
        """Count records at p, p+stride, ... that have exactly `words` and `sep` (numpy)."""
        total = (len(buf) - p) // stride
        if total < 4:
            return 0
        wl = len(words)
        for i in (1, 2, 3):  # cheap probe before building the big view
            q = p + i * stride
            if buf[q:q + wl] != words:
                return 0
        # Windows that grow fourfold: a file whose records vary in length (some with J1, some
        # with K1, ...) has runs of a few records, and checking the whole rest of the chunk
        # for each of them made framing quadratic in the chunk size.
        done, window = 0, 64
        while done < total:
            k = min(window, total - done)
            ok = self._run_ok(buf, p + done * stride, k, stride, words, sep)
            if not ok.all():
                return max(done + int(np.argmin(ok)) - 1, 0)
            done += k
            window *= 4
        return max(total - 1, 0)

    def _run_ok(self, buf: bytes, p: int, k: int, stride: int, words: bytes,
                sep: bytes) -> np.ndarray:
        wl = len(words)
        ok = _matches(buf, p, k, stride, 0, words)
        if sep:
            ok &= _matches(buf, p, k, stride, stride - len(sep), sep)
        # the record identifier follows the length words (BDW and RDW in blocked files)
        ok &= ~_matches(buf, p, k, stride, wl, HEADER_ID)
        ok &= ~_matches(buf, p, k, stride, 4, TRAILER_ID)
        arr = np.frombuffer(buf, dtype=np.uint8, count=k * stride, offset=p).reshape(k, stride)
        if not self.layout.packed and stride - len(sep) > 0:
            body = arr[:, : stride - len(sep)]
            # character data has no byte below 0x20: one minimum usually rules out CR/LF
            if body.min() < 0x20:
                ok &= ~((body == 10) | (body == 13)).any(axis=1)
        if self.layout.blocked:
            bdw, rdw = self._word(words, 0), self._word(words, 4)
            if bdw > rdw + 4:
                # what follows the record in its block must be padding, as _one checks
                pad = arr[:, 4 + rdw:bdw]
                ok &= ((pad == 0x20) | (pad == 0)).all(axis=1)
        return ok

    # -- chains of records of varying length ---------------------------------------------
    def _walk(self, buf: bytes, q: int, ls: int, lim: int) -> list[int]:
        """Start offsets of the records chained from q by their first length word (BDW in
        blocked files, else RDW), each followed by `ls` separator bytes, up to offset lim.
        Nothing is checked here beyond what keeps the walk moving forward: _chain_ok checks
        every record of the chain at once."""
        out = [q]
        if q > lim:
            return out
        app = out.append
        minlen = self.layout.base_length
        if self.layout.packed:
            while True:
                t = (buf[q] << 8) | buf[q + 1]
                if t < minlen:
                    break
                q += t + ls
                if q > lim:
                    break
                app(q)
            return out
        try:
            while True:
                # int() also takes blanks, signs and underscores: _chain_ok wants four digits
                t = int(buf[q:q + 4])
                if t < minlen:
                    break
                q += t + ls
                if q > lim:
                    break
                app(q)
        except ValueError:
            pass
        return out

    def _chain_ok(self, buf: bytes, pos: np.ndarray, sep: bytes) -> tuple[np.ndarray, np.ndarray]:
        """For the records at pos[:-1] (each ending where the next begins, less the separator):
        whether the per-record path would frame each exactly so, and their RDWs. Every check
        is one masked compare of the little-endian 8-byte word at some offset of each record."""
        lay = self.layout
        a = np.frombuffer(buf, np.uint8)
        words = np.ndarray((len(a) - 7,), dtype="<u8", buffer=a, strides=(1,))
        ls = len(sep)
        q, nq = pos[:-1], pos[1:]
        tot = nq - q - ls
        wl = 4 if lay.blocked else 0
        rdw = tot - wl
        w0 = words[q]  # BDW and RDW, or RDW and the record's next bytes
        # the walk went by the BDW in blocked files: the RDW must be 4 less (a longer block
        # has padding or a second record, which the per-record path looks at)
        if lay.packed:
            ok = (w0 & np.uint64(0xFFFF0000FFFF0000 if wl else 0xFFFF0000)) == 0
            if wl:
                ok &= (((w0 >> np.uint64(24)) & np.uint64(0xFF00))
                       | ((w0 >> np.uint64(40)) & np.uint64(0xFF))) == rdw.astype(np.uint64)
        else:
            ok = _digits(w0, 8 if wl else 4)
            if wl:
                ok &= _value4(w0 >> np.uint64(32)) == rdw.astype(np.uint64)
        ok &= rdw >= lay.base_length
        w4 = words[q + 4]
        ok &= ~_is(w4, TRAILER_ID)
        if wl:
            w8 = words[q + 8]
            ok &= ~_is(w8, TRAILER_ID) & ~_is(w8, HEADER_ID)
        else:
            ok &= ~_is(w4, HEADER_ID)
        if 0 < ls <= 8:
            ok &= _is(words[nq - ls], sep)
        elif ls:
            got = a[(nq - ls)[:, None] + np.arange(ls)]
            ok &= (got == np.frombuffer(sep, np.uint8)).all(axis=1)
        if lay.packed:
            # the separator is what _skip_sep would skip: the next record's length word does
            # not begin with a CR/LF byte, and when there is a separator that word is valid
            nxt = words[nq]
            first = nxt & np.uint64(0xFF)
            ok &= (first != 10) & (first != 13)
            if ls:
                ok &= (nxt & np.uint64(0xFFFF0000)) == 0
                ok &= ((first << np.uint64(8)) | ((nxt >> np.uint64(8)) & np.uint64(0xFF))
                       ) >= lay.base_length
        else:
            self._no_line_breaks(a, q, tot, ls, ok)
        return ok, rdw

    @staticmethod
    def _no_line_breaks(a: np.ndarray, q: np.ndarray, tot: np.ndarray, ls: int,
                        ok: np.ndarray) -> None:
        """Clear ok for character records with a CR/LF inside (the per-record path drops
        those bytes). Character data has no byte below 0x20 but the separators', so one count
        over the whole chain usually settles it."""
        start, end = int(q[0]), int(q[-1] + tot[-1])
        span = a[start:end]
        if ls == 0:
            if span.min() >= 0x20:
                return
        elif np.count_nonzero(span < 0x20) == (len(q) - 1) * ls:
            return
        hits = np.flatnonzero((span == 10) | (span == 13)) + start
        rec = np.searchsorted(q, hits, side="right") - 1
        inside = hits < q[rec] + tot[rec]
        ok[rec[inside]] = False

    def _chain(self, buf: bytes, q: int, sep: bytes, acc: _Acc, base_off: int
               ) -> tuple[int, int]:
        """Frame the chain of records starting at q (after a record framed by _one whose
        separator was `sep`): (records framed, offset after them)."""
        n = len(buf)
        ls = len(sep)
        wl = 4 if self.layout.blocked else 0
        window = _CHAIN_WINDOW
        framed = 0
        while True:
            pos = self._walk(buf, q, ls, min(n - 8, q + window))
            if len(pos) < 2:
                break
            pos = np.asarray(pos, dtype=np.int64)
            ok, rdw = self._chain_ok(buf, pos, sep)
            k = len(ok) if ok.all() else int(np.argmin(ok))
            run = self._long_run(pos[1:k + 1] - pos[:k] - ls)
            if run is not None:
                k = run
                self._run_next = True
            if k:
                acc.flush_single()
                acc.starts.append(pos[:k] + wl)
                acc.lengths.append(rdw[:k])
                acc.offsets.append(pos[:k] + base_off)
                framed += k
                q = int(pos[k])
            if k < len(ok) or self._run_next:
                break
            window *= 4
        if framed:
            self._cool_len = 0
        elif not self._run_next and len(pos) >= 2:
            # the chain broke on its first record: give the per-record path a few records
            # before trying again, so that files no chain fits cost no more than before
            self._cool_len = min(2 * self._cool_len + 1, _MAX_COOL)
            self._cool = self._cool_len
        return framed, q

    @staticmethod
    def _long_run(tot: np.ndarray) -> int | None:
        """Index of the first record of the first run of _LONG_RUN equal lengths, if any."""
        if len(tot) < _LONG_RUN:
            return None
        change = np.flatnonzero(tot[1:] != tot[:-1]) + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [len(tot)]))
        long = np.flatnonzero(ends - starts >= _LONG_RUN)
        return int(starts[long[0]]) if len(long) else None

    # -- main loop -----------------------------------------------------------------------
    def _read(self, leftover: bytes) -> bytes | bytearray | mmap.mmap:
        """`leftover` followed by the next chunk_bytes of the stream, read in place (one copy
        of the data instead of two) when the stream supports readinto."""
        if not hasattr(self.stream, "readinto"):
            return leftover + (self.stream.read(self.chunk_bytes) or b"")
        buf = _chunk_buffer(len(leftover) + self.chunk_bytes)
        buf[: len(leftover)] = leftover
        view = memoryview(buf)
        end = len(leftover)
        while end < len(buf):  # raw streams may return short reads before the end
            got = self.stream.readinto(view[end:])
            if not got:
                break
            end += got
        view.release()
        if end < len(buf):
            if isinstance(buf, bytearray):
                del buf[end:]
            elif not end:
                return b""
            else:
                try:
                    buf.resize(end)
                except (OSError, SystemError):  # no mremap: copy the (last) chunk's bytes
                    buf = bytes(buf[:end])
        return buf

    def __iter__(self) -> Iterator[FramedChunk]:
        leftover = b""
        base_off = 0
        eof = False
        while not eof:
            buf = self._read(leftover)
            eof = len(buf) == len(leftover)
            if self.layout is None:
                if not buf:
                    raise FileRejected("empty", "the file is empty", 0, None)
                if len(buf) < 16 and not eof:
                    leftover = buf
                    continue
                self.layout = detect_layout(bytes(buf[:16]))
            chunk, p = self._frame(buf, base_off, eof)
            if self.progress is not None:
                self.progress(p)
            leftover = buf[p:]
            base_off += p
            if chunk is not None:
                if self.auto_size and len(chunk.starts):
                    per_record = p / len(chunk.starts)
                    self.chunk_bytes = int(min(max(per_record * CHUNK_RECORDS,
                                                   DEFAULT_CHUNK_BYTES), _MAX_AUTO_CHUNK))
                yield chunk
        if leftover and not self.seen_trailer:
            raise FileRejected("truncated", "file ends inside a record", base_off,
                               self.record_no + 1)
        if not self.seen_header:
            raise FileRejected("not_metro2", "no HEADER record", 0, 1)
        if not self.seen_trailer:
            raise FileRejected("missing_trailer", "the file has no TRAILER record", base_off,
                               self.record_no + 1)

    def _frame(self, buf: bytes, base_off: int, eof: bool) -> tuple[FramedChunk | None, int]:
        acc = _Acc()
        header = trailer = None
        header_off = trailer_off = trailer_no = 0
        blocks = 0
        p = 0
        n = len(buf)
        lay = self.layout
        while True:
            if self.seen_trailer:
                rest = buf[p:]
                if rest.strip(_TRAILING_OK):
                    stripped = len(rest) - len(rest.lstrip(_TRAILING_OK))
                    raise FileRejected("data_after_trailer", "non-blank data follows the trailer",
                                       base_off + p + stripped, self.record_no + 1)
                p = n
                break
            p = self._skip_sep(buf, p)
            if p >= n:
                break
            res = self._one(buf, p, base_off, eof)
            if res is None:
                break
            kind, rec, start, rdw, nxt, nblk = res
            off = base_off + p
            blocks += nblk
            self.record_no += 1
            if kind == "header":
                if self.seen_header:
                    raise FileRejected("second_header", "a second HEADER record", off,
                                       self.record_no)
                self.seen_header = True
                header = rec if rec is not None else bytes(buf[start:start + rdw])
                header_off = off
                p = nxt
                continue
            if not self.seen_header:
                raise FileRejected("not_metro2", "the first record is not a HEADER", off, 1)
            if kind == "trailer":
                self.seen_trailer = True
                trailer = rec if rec is not None else bytes(buf[start:start + rdw])
                trailer_off, trailer_no = off, self.record_no
                p = nxt
                continue
            if rec is not None:
                acc.aux_s.append(len(acc.aux))
                acc.aux += rec
                acc.aux_l.append(rdw)
                acc.aux_o.append(off)
                acc.single_s.append(-1)  # placeholder, patched below
                acc.single_l.append(rdw)
                acc.single_o.append(off)
                p = nxt
                continue
            acc.single_s.append(start)
            acc.single_l.append(rdw)
            acc.single_o.append(off)
            q = self._skip_sep(buf, nxt)
            sep = bytes(buf[nxt:q])
            if q >= n:
                p = nxt
                continue
            if not (self._run_next or self._cool):
                # records of varying length after this one
                m, end = self._chain(buf, q, sep, acc, base_off)
                self.record_no += m
                blocks += m if lay.blocked else 0
                p = end if m else nxt
                continue
            # a vectorised run of identical-length records after this one
            self._run_next = False
            self._cool = max(self._cool - 1, 0)
            stride = (nxt - p) + len(sep)
            wl = 8 if lay.blocked else 4
            words = buf[p:p + wl]
            m = self._run(buf, q, stride, words, sep)
            if m:
                acc.flush_single()
                idx = np.arange(m, dtype=np.int64) * stride + q
                acc.starts.append(idx + (wl - 4))
                acc.lengths.append(np.full(m, rdw, dtype=np.int64))
                acc.offsets.append(idx + base_off)
                self.record_no += m
                blocks += m if lay.blocked else 0
                p = q + m * stride
            else:
                p = nxt
        acc.flush_single()
        if not acc.starts and header is None and trailer is None:
            return None, p
        starts = np.concatenate(acc.starts) if acc.starts else np.zeros(0, np.int64)
        lengths = np.concatenate(acc.lengths) if acc.lengths else np.zeros(0, np.int64)
        offsets = np.concatenate(acc.offsets) if acc.offsets else np.zeros(0, np.int64)
        data = np.frombuffer(buf, dtype=np.uint8)
        if acc.aux:
            # records that had embedded line breaks live in an auxiliary buffer
            holes = np.nonzero(starts < 0)[0]
            starts[holes] = np.asarray(acc.aux_s, dtype=np.int64) + n
            data = np.concatenate([data, np.frombuffer(bytes(acc.aux), dtype=np.uint8)])
        nb = len(starts)
        first_no = self.record_no - nb - (1 if trailer is not None else 0) + 1
        record_nos = np.arange(first_no, first_no + nb, dtype=np.int64)
        self.total_bases += nb
        self.total_blocks += blocks
        return FramedChunk(data, starts, lengths, offsets, record_nos, header, header_off,
                           trailer, trailer_off, trailer_no, blocks,
                           None if acc.aux else buf), p
