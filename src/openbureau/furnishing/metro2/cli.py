"""``openbureau metro2 …``: validate, convert and print Metro 2 files."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from enum import StrEnum
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .errors import FileRejected
from .reader import Chunk, read_chunks, validate_file
from .writer import Metro2Writer

app = typer.Typer(help="Metro 2 files: validate, convert, print.", no_args_is_help=True)
console = Console(stderr=True)
PROGRESS_MIN_BYTES = 32 << 20

EXIT_VALID, EXIT_RECORDS_REJECTED, EXIT_FILE_REJECTED = 0, 1, 2


class Target(StrEnum):
    jsonl = "jsonl"
    parquet = "parquet"
    metro2 = "metro2"


@contextlib.contextmanager
def _progress(path: Path, show: bool | None):
    size = path.stat().st_size
    if show is None:
        show = size >= PROGRESS_MIN_BYTES and console.is_terminal
    if not show:
        yield None
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=console, transient=True) as prog:
        task = prog.add_task(path.name, total=size)
        yield lambda n: prog.advance(task, n)


def _check_file(path: Path) -> None:
    if not path.is_file():
        console.print(f"[red]no such file: {path}")
        raise typer.Exit(EXIT_FILE_REJECTED)


@app.command()
def validate(
    file: Path = typer.Argument(..., help="Metro 2 file (any layout; auto-detected)."),
    as_json: bool = typer.Option(False, "--json", help="Print the rejection report as JSON."),
    csv: Path | None = typer.Option(None, "--csv", help="Also write the rejections as CSV."),
    limit: int = typer.Option(20, help="Rejections to list in the text output."),
    progress: bool | None = typer.Option(None, "--progress/--no-progress",
                                         help="Progress bar (default: on for large files)."),
) -> None:
    """Validate FILE. Exit 0 if valid, 1 if records were rejected, 2 if the file was rejected."""
    _check_file(file)
    with _progress(file, progress) as cb:
        report = validate_file(file, progress=cb)
    if csv is not None:
        csv.write_text(report.to_csv())
    if as_json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        out = Console()
        if report.file_rejection is not None:
            fr = report.file_rejection
            out.print(f"[bold red]FILE REJECTED[/] ({fr.rule}) at byte {fr.byte_offset}: "
                      f"{fr.message}")
        style = {"valid": "green", "records_rejected": "yellow"}.get(report.status, "red")
        out.print(f"[{style}]{report.status}[/]: {report.records_read} base records read, "
                  f"{report.records_rejected} rejected, {report.rejections.height} problems")
        if report.rejections.height:
            t = Table(*report.rejections.columns)
            for row in report.rejections.head(limit).iter_rows():
                t.add_row(*["" if v is None else str(v) for v in row])
            out.print(t)
    code = {"valid": EXIT_VALID, "records_rejected": EXIT_RECORDS_REJECTED}.get(
        report.status, EXIT_FILE_REJECTED)
    raise typer.Exit(code)


def _nested(chunk: Chunk) -> pl.DataFrame:
    base = chunk.base
    for name, seg in chunk.segments.items():
        if seg.height == 0:
            continue
        fields = [c for c in seg.columns if c not in ("record_no", "byte_offset")]
        agg = seg.group_by("record_no").agg(pl.struct(fields).alias(name.lower()))
        base = base.join(agg, on="record_no", how="left")
    return base


@app.command()
def convert(
    file: Path = typer.Argument(..., help="Metro 2 file to convert."),
    to: Target = typer.Option(..., "--to", help="Output format."),
    output: Path | None = typer.Option(None, "-o", "--output",
                                       help="Output path (parquet: a directory)."),
    packed: bool = typer.Option(False, "--packed", help="metro2 output: packed layout."),
    blocked: bool = typer.Option(False, "--blocked", help="metro2 output: variable-blocked."),
    bcd: bool = typer.Option(False, "--bcd", help="metro2 packed output: COMP-3 numbers."),
    progress: bool | None = typer.Option(None, "--progress/--no-progress"),
) -> None:
    """Convert FILE's accepted records to JSON lines, Parquet or Metro 2 (any layout)."""
    _check_file(file)
    suffix = {"jsonl": ".jsonl", "parquet": ".parquet", "metro2": ".m2"}[to.value]
    out = output or file.with_suffix(suffix)
    rejected = 0
    writer: Metro2Writer | None = None
    pq_writers: dict = {}
    try:
        with _progress(file, progress) as cb:
            fh = out.open("wb") if to is not Target.parquet else None
            try:
                for chunk in read_chunks(file, progress=cb):
                    rejected += chunk.rejected_record_nos().len()
                    c = chunk.accepted()
                    if to is Target.jsonl:
                        _nested(c).write_ndjson(fh)
                    elif to is Target.parquet:
                        _write_parquet(out, c, pq_writers)
                    else:
                        if writer is None:
                            hdr = {k: v for k, v in c.header.items() if not k.startswith("_")}
                            writer = Metro2Writer(fh, hdr, packed=packed, blocked=blocked,
                                                  packed_encoding="bcd" if bcd else "binary")
                        writer.write(c.base, c.segments)
                if writer is not None:
                    writer.close()
            finally:
                for w in pq_writers.values():
                    w.close()
                if fh is not None:
                    fh.close()
    except FileRejected as e:
        if out.is_dir():
            shutil.rmtree(out)
        elif out.exists():
            out.unlink()
        console.print(f"[bold red]FILE REJECTED[/] ({e.rule}): {e.message}")
        raise typer.Exit(EXIT_FILE_REJECTED) from None
    console.print(f"wrote {out}" + (f"; {rejected} rejected records skipped" if rejected else ""))
    raise typer.Exit(EXIT_RECORDS_REJECTED if rejected else EXIT_VALID)


def _write_parquet(out: Path, chunk: Chunk, writers: dict) -> None:
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    for name, df in [("base", chunk.base), *chunk.segments.items()]:
        if df.height == 0:
            continue
        table = df.to_arrow()
        if name not in writers:
            writers[name] = pq.ParquetWriter(out / f"{name}.parquet", table.schema)
        writers[name].write_table(table.cast(writers[name].schema))


@app.command("print")
def print_(
    file: Path = typer.Argument(..., help="Metro 2 file to show."),
    limit: int = typer.Option(10, help="Base records to show."),
) -> None:
    """Show FILE's header, first records, segments, trailer and rejections readably."""
    _check_file(file)
    out = Console()
    shown = 0
    rej = []
    try:
        for chunk in read_chunks(file):
            if shown == 0:
                t = Table(title=f"HEADER ({chunk.layout.name})", show_header=False)
                for k, v in chunk.header.items():
                    if not k.startswith("_"):
                        t.add_row(k, str(v))
                out.print(t)
            for row in chunk.base.head(max(limit - shown, 0)).iter_rows(named=True):
                t = Table(title=f"record {row['record_no']} @ byte {row['byte_offset']}",
                          show_header=False)
                for k, v in row.items():
                    t.add_row(k, repr(v) if isinstance(v, str) else str(v))
                for name, seg in chunk.segments.items():
                    for srow in seg.filter(pl.col("record_no") == row["record_no"]).iter_rows(
                            named=True):
                        body = {k: v for k, v in srow.items()
                                if k not in ("record_no", "byte_offset", "seq") and v not in
                                ("", None, 0)}
                        t.add_row(f"[bold]{name}", json.dumps(body, default=str))
                out.print(t)
                shown += 1
            rej.append(chunk.rejections)
            if chunk.trailer:
                t = Table(title="TRAILER", show_header=False)
                for k, v in chunk.trailer.items():
                    t.add_row(k, str(v))
                out.print(t)
    except FileRejected as e:
        out.print(f"[bold red]FILE REJECTED[/] ({e.rule}) at byte {e.byte_offset}: {e.message}")
        raise typer.Exit(EXIT_FILE_REJECTED) from None
    r = pl.concat(rej) if rej else None
    if r is not None and r.height:
        t = Table(*r.columns, title=f"{r.height} problems")
        for row in r.head(50).iter_rows():
            t.add_row(*["" if v is None else str(v) for v in row])
        out.print(t)
