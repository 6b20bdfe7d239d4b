"""Reading native submission files (JSON Lines, CSV, Parquet) in chunks of raw text columns.

Every chunk is a frame with `record_no` plus one Utf8 column per native field, so validation
treats all three formats alike. Broken records become record errors; a file that cannot be
read at all raises FileRejected.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from openbureau.furnishing.errors import FileRejected, RecordError, errors_frame
from openbureau.furnishing.schema import (
    DELETE_REQUEST,
    DELETE_REQUESTS,
    FIELD_NAMES,
    REQUIRED_FIELDS,
)
from openbureau.furnishing.validate import Rule, rule_errors

FORMATS = ("jsonl", "csv", "parquet", "metro2")
# what the native readers read: the fields, and the column that turns a record into a delete
# request (split off by iter_chunks_with_segments)
READ_NAMES = (*FIELD_NAMES, DELETE_REQUEST)
RAW_SCHEMA = {name: pl.Utf8 for name in READ_NAMES}
READ_BLOCK_BYTES = 8 * 1024 * 1024
PARQUET_MAGIC = b"PAR1"

Chunk = tuple[pl.DataFrame, pl.DataFrame]  # (raw records, record errors)
Segments = dict[str, pl.DataFrame]  # side frames keyed by record_no


def detect_format(path: Path, declared: str | None = None) -> str:
    """The declared format, else by extension, else by content."""
    if declared:
        if declared not in FORMATS:
            raise FileRejected("unknown_format", f"format must be one of {', '.join(FORMATS)}")
        return declared
    suffix = path.suffix.lower().lstrip(".")
    by_suffix = {"jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl", "csv": "csv"}
    by_suffix |= {"parquet": "parquet", "pq": "parquet", "m2": "metro2", "metro2": "metro2"}
    if suffix in by_suffix:
        return by_suffix[suffix]
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head[4:10] == b"HEADER" or head[8:14] == b"HEADER":
        return "metro2"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "jsonl"
    if b"," in head.split(b"\n", 1)[0]:
        return "csv"
    raise FileRejected(
        "unknown_format", "cannot tell the file's format; name it .jsonl/.csv/.parquet"
    )


def iter_chunks(path: Path, fmt: str, chunk_records: int = 100_000) -> Iterator[Chunk]:
    for raw, errors, _ in iter_chunks_with_segments(path, fmt, chunk_records):
        yield raw, errors


def iter_chunks_with_segments(
    path: Path, fmt: str, chunk_records: int = 100_000
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, Segments]]:
    """As iter_chunks, with what a file carries beyond the month's account records, as
    mapping.to_native's side frames: Metro 2's appended segments and base ECOA codes, and
    either format's delete requests ("deletions")."""
    if fmt == "metro2":
        if path.stat().st_size == 0:
            raise FileRejected("empty_file", "the file is empty")
        yield from _coalesced(_metro2_chunks(path), chunk_records)
        return
    for raw, errors in _native_chunks(path, fmt, chunk_records):
        raw, requests, request_errors = _split_delete_requests(raw)
        side = {"deletions": requests} if requests.height else {}
        yield raw, pl.concat([errors, request_errors]), side


def _split_delete_requests(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(records, delete requests as (record_no, account_ref, status DA/DF), errors of bad
    requests): a record with delete_request set asks for its account to be withdrawn, as
    Metro 2's DA/DF records do, and only its account_ref is read."""
    asked = pl.col(DELETE_REQUEST).is_not_null()
    records = raw.filter(~asked).drop(DELETE_REQUEST)
    requests = raw.filter(asked).select(
        "record_no",
        "account_ref",
        pl.col(DELETE_REQUEST).replace_strict(DELETE_REQUESTS, default=None).alias("status"),
        DELETE_REQUEST,
    )
    known, named = pl.col("status").is_not_null(), pl.col("account_ref").is_not_null()
    errors = rule_errors(
        requests,
        [
            Rule(DELETE_REQUEST, "unknown_code", ~known,
                 pl.format(f"delete_request {{}} is not one of: {', '.join(DELETE_REQUESTS)}",
                           DELETE_REQUEST)),
            Rule("account_ref", "required", known & ~named,
                 pl.lit("a delete request names the account_ref it withdraws")),
        ],
    )
    good = requests.filter(known, named)
    return records, good.select("record_no", "account_ref", "status"), errors


def _native_chunks(path: Path, fmt: str, chunk_records: int) -> Iterator[Chunk]:
    if path.stat().st_size == 0:
        raise FileRejected("empty_file", "the file is empty")
    if fmt == "jsonl":
        yield from _jsonl_chunks(path, chunk_records)
    elif fmt == "csv":
        yield from _csv_chunks(path, chunk_records)
    elif fmt == "parquet":
        yield from _parquet_chunks(path, chunk_records)
    else:
        raise FileRejected("unknown_format", f"format must be one of {', '.join(FORMATS)}")


def _text_lines(path: Path, chunk_records: int) -> Iterator[tuple[int, list[bytes], bool]]:
    """Yields (number of the first line, lines, whether the last line ended the file unterminated).

    Checks UTF-8 as it goes, so a wrongly encoded file is rejected whole, with the offset.
    """
    line_no = 1
    offset = 0
    pending = b""
    lines: list[bytes] = []
    first = True
    with path.open("rb") as fh:
        while True:
            block = fh.read(READ_BLOCK_BYTES)
            if first and block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]
                offset = 3
            first = False
            data = pending + block
            if not block:
                if data:
                    _check_utf8(data, offset)
                    lines.append(data)
                if lines:
                    yield line_no, lines, bool(data)
                return
            cut = data.rfind(b"\n")
            if cut < 0:
                pending = data
                continue
            complete, pending = data[: cut + 1], data[cut + 1 :]
            _check_utf8(complete, offset)
            offset += len(complete)
            parts = complete.split(b"\n")[:-1]
            while parts:  # whole slices of lines: a loop per line cost a third of reading
                room = chunk_records - len(lines)
                lines += parts[:room]
                parts = parts[room:]
                if len(lines) >= chunk_records:
                    yield line_no, lines, False
                    line_no += len(lines)
                    lines = []


def _check_utf8(data: bytes, base_offset: int) -> None:
    try:
        # Polars validates UTF-8 with SIMD, some fifty times faster than bytes.decode, which
        # is kept only to name the offending byte.
        pl.Series([data], dtype=pl.Binary).cast(pl.Utf8)
    except pl.exceptions.ComputeError:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileRejected(
                "encoding",
                f"the file is not UTF-8: invalid byte 0x{data[exc.start]:02x} at offset "
                f"{base_offset + exc.start}",
            ) from None
    if b"\x00" in data:
        nul_at = base_offset + data.index(b"\x00")
        raise FileRejected("encoding", f"the file holds a NUL byte at offset {nul_at}")


def _jsonl_chunks(path: Path, chunk_records: int) -> Iterator[Chunk]:
    for first_line, lines, unterminated in _text_lines(path, chunk_records):
        if all(lines):  # the usual case: no blank lines, so numbering needs no per-line work
            numbers, kept = list(range(first_line, first_line + len(lines))), lines
        else:
            numbers = [first_line + i for i, line in enumerate(lines) if line.strip()]
            kept = [line for line in lines if line.strip()]
        if not kept:
            continue
        try:
            frame = pl.read_ndjson(io.BytesIO(b"\n".join(kept)), schema=RAW_SCHEMA)
            if frame.height != len(kept):  # e.g. a line holding only a carriage return
                raise ValueError("record count differs from line count")
            errors: list[RecordError] = []
        except Exception:  # polars names no narrower type for a malformed line
            ends_cut = unterminated and numbers[-1] == first_line + len(lines) - 1
            frame, errors = _jsonl_slow(numbers, kept, ends_cut)
            numbers = frame["record_no"].to_list()
            frame = frame.drop("record_no")
        frame = frame.with_columns(pl.Series("record_no", numbers, dtype=pl.Int64))
        yield frame.select(["record_no", *READ_NAMES]), errors_frame(errors)


def _scalar_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TypeError
    return str(value)


def _jsonl_slow(
    numbers: list[int], lines: list[bytes], last_unterminated: bool
) -> tuple[pl.DataFrame, list[RecordError]]:
    """Line-by-line parse of a chunk the fast reader refused, to name each bad line."""
    rows: list[dict] = []
    errors: list[RecordError] = []
    for pos, (number, line) in enumerate(zip(numbers, lines, strict=True)):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            truncated = last_unterminated and pos == len(lines) - 1
            why = "the file ends inside this record (truncated)" if truncated else str(exc)
            errors.append(RecordError(number, "", "malformed_json", f"not valid JSON: {why}"))
            continue
        if not isinstance(obj, dict):
            errors.append(
                RecordError(number, "", "malformed_json", "a record must be a JSON object")
            )
            continue
        row: dict = {"record_no": number}
        bad = False
        for name in READ_NAMES:
            try:
                row[name] = _scalar_text(obj.get(name))
            except TypeError:
                errors.append(RecordError(number, name, "wrong_type", f"{name} must be a scalar"))
                bad = True
        if not bad:
            rows.append(row)
    schema = {"record_no": pl.Int64} | RAW_SCHEMA
    return pl.DataFrame(rows, schema=schema), errors


def _csv_chunks(path: Path, chunk_records: int) -> Iterator[Chunk]:
    header: list[str] | None = None
    header_line = b""
    for first_line, lines, _ in _text_lines(path, chunk_records):
        if header is None:
            header_line, lines = lines[0].rstrip(b"\r"), lines[1:]
            first_line += 1
            try:
                header = next(csv.reader([header_line.decode()]))
            except csv.Error as exc:  # e.g. a lone carriage return inside the header
                raise FileRejected("malformed_csv", f"cannot read the CSV header: {exc}") from None
            header = [h.strip() for h in header]
            missing = [f for f in REQUIRED_FIELDS if f not in header]
            if missing:
                raise FileRejected("missing_columns", f"CSV header lacks: {', '.join(missing)}")
            if len(set(header)) != len(header):
                raise FileRejected("duplicate_columns", "CSV header names a column twice")
        numbers = [first_line + i - 1 for i, line in enumerate(lines) if line.strip()]
        kept = [line for line in lines if line.strip()]
        if not kept:
            continue
        try:
            frame = pl.read_csv(
                io.BytesIO(header_line + b"\n" + b"\n".join(kept)),
                infer_schema=False,
                missing_utf8_is_empty_string=False,
            )
            if frame.height != len(kept):
                raise ValueError("row count differs")
            errors: list[RecordError] = []
        except Exception:  # polars raises several types for ragged or badly quoted rows
            frame, numbers, errors = _csv_slow(header, numbers, kept)
        frame = _select_fields(frame).with_columns(pl.Series("record_no", numbers, dtype=pl.Int64))
        yield frame.select(["record_no", *READ_NAMES]), errors_frame(errors)


def _csv_slow(
    header: list[str], numbers: list[int], lines: list[bytes]
) -> tuple[pl.DataFrame, list[int], list[RecordError]]:
    rows, kept_numbers, errors = [], [], []
    for number, line in zip(numbers, lines, strict=True):
        try:
            fields = next(csv.reader([line.decode().rstrip("\r")], strict=True))
        except csv.Error as exc:
            errors.append(RecordError(number, "", "malformed_csv", f"cannot parse the row: {exc}"))
            continue
        if len(fields) != len(header):
            errors.append(
                RecordError(
                    number,
                    "",
                    "malformed_csv",
                    f"expected {len(header)} fields, got {len(fields)}",
                )
            )
            continue
        rows.append(fields)
        kept_numbers.append(number)
    frame = pl.DataFrame(rows, schema=dict.fromkeys(header, pl.Utf8), orient="row")
    return frame, kept_numbers, errors


def _select_fields(frame: pl.DataFrame) -> pl.DataFrame:
    present = set(frame.columns)
    cols = [
        (pl.col(name).str.strip_chars().replace("", None) if name in present else pl.lit(None))
        .cast(pl.Utf8)
        .alias(name)
        for name in READ_NAMES
    ]
    return frame.select(cols)


def _parquet_chunks(path: Path, chunk_records: int) -> Iterator[Chunk]:
    try:
        parquet = pq.ParquetFile(path)
        names = set(parquet.schema_arrow.names)
    except (pa.ArrowException, OSError) as exc:
        raise FileRejected("malformed_parquet", f"not a readable Parquet file: {exc}") from None
    missing = [f for f in REQUIRED_FIELDS if f not in names]
    if missing:
        raise FileRejected("missing_columns", f"Parquet schema lacks: {', '.join(missing)}")
    wanted = [n for n in READ_NAMES if n in names]
    next_no = 1
    try:
        for batch in parquet.iter_batches(batch_size=chunk_records, columns=wanted):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            frame = frame.select(_as_text(frame, name) for name in frame.columns)
            frame = _select_fields(frame).with_columns(
                pl.int_range(next_no, next_no + frame.height, dtype=pl.Int64).alias("record_no")
            )
            next_no += frame.height
            yield frame.select(["record_no", *READ_NAMES]), errors_frame([])
    except (pa.ArrowException, OSError) as exc:
        raise FileRejected("malformed_parquet", f"the Parquet data is corrupt: {exc}") from None


def _as_text(frame: pl.DataFrame, name: str) -> pl.Expr:
    dtype = frame.schema[name]
    if dtype == pl.Date:
        return pl.col(name).dt.strftime("%Y-%m-%d")
    if dtype in (pl.Datetime, pl.List, pl.Struct) or isinstance(
        dtype, pl.Datetime | pl.List | pl.Struct
    ):
        return pl.col(name).cast(pl.Utf8, strict=False).alias(name)
    return pl.col(name).cast(pl.Utf8)


def _coalesced(
    chunks: Iterator[tuple[pl.DataFrame, pl.DataFrame, Segments]], chunk_records: int
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, Segments]]:
    """Consecutive chunks joined into ones that double in size up to `chunk_records` records.

    The Metro 2 reader's chunks (about 20,000 records) suit its column passes, but loading
    pays a cost per chunk (queries, COPYs, plans, and a search for candidates among the
    chunks before) that larger chunks spread, as native files' chunks of `chunk_records` do.
    The first chunk goes out alone so that the database starts while the rest is parsed.
    Record numbers are the file's own, so joined chunks keep them.
    """
    held: list[tuple[pl.DataFrame, pl.DataFrame, Segments]] = []
    records, target = 0, 0
    for chunk in chunks:
        held.append(chunk)
        records += chunk[0].height
        if records >= target:
            yield _joined(held)
            target = min(max(2 * records, 1), chunk_records)
            held, records = [], 0
    if held:
        yield _joined(held)


def _joined(
    chunks: list[tuple[pl.DataFrame, pl.DataFrame, Segments]],
) -> tuple[pl.DataFrame, pl.DataFrame, Segments]:
    if len(chunks) == 1:
        return chunks[0]
    names = {name for _, _, side in chunks for name in side}
    side = {
        name: pl.concat(
            [s[name] for _, _, s in chunks if name in s], how="vertical_relaxed", rechunk=False
        )
        for name in names
    }
    return (
        pl.concat([raw for raw, _, _ in chunks], how="vertical_relaxed", rechunk=False),
        pl.concat([errors for _, errors, _ in chunks], how="vertical_relaxed", rechunk=False),
        side,
    )


def _metro2_chunks(path: Path) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, Segments]]:
    """Metro 2 through the same path: its own framing and rules, then the native rules.

    Record numbers are Metro 2's own (the header is record 1). A Metro 2 rejection becomes
    one error per problem, with its segment and byte offset in the message.
    """
    from openbureau.furnishing import metro2

    try:
        for chunk in metro2.read_chunks(path):
            native = metro2.to_native(chunk)
            accounts = native.accounts
            raw = accounts.select(
                "record_no",
                *[
                    (
                        pl.col(name).dt.strftime("%Y-%m-%d")
                        if accounts.schema[name] == pl.Date
                        else pl.col(name).cast(pl.Utf8)
                    ).alias(name)
                    for name in FIELD_NAMES
                ],
            ).with_columns(pl.col(pl.Utf8).exclude("record_no").replace("", None))
            rejected = chunk.rejections.select(
                pl.col("record_no").cast(pl.Int64),
                pl.col("field").cast(pl.Utf8),
                pl.col("rule").cast(pl.Utf8),
                pl.format(
                    "{} (segment {}, byte offset {})", "message", "segment", "byte_offset"
                ).alias("message"),
            )
            side = native.side
            if native.deletions is not None and native.deletions.height:
                side = side | {"deletions": native.deletions}
            yield raw, rejected, side
    except metro2.FileRejected as exc:
        where = f" at byte offset {exc.byte_offset}" if exc.byte_offset is not None else ""
        raise FileRejected(exc.rule, exc.message + where) from None
