"""Metro 2 ingest benchmark: files end to end into the bureau vs a plain bulk insert.

End to end = `submit_file` on character Metro 2 files: parse + Metro 2 validation, mapping,
native validation, identity resolution (keyed hashes, new subjects, encrypted identities),
tradeline load, the appended segments (J1 consumers resolved and linked, K1 rows, N1
encrypted) and the audit event, in one transaction per file. Month 1 is a first load (every
account and person new), month 2 the next cycle of the same accounts (known accounts keep
their subjects). Baseline = the same accounts' native rows, already in memory, bulk-inserted
into a plain table of the same database (COPY on PostgreSQL, executemany on SQLite), as in
bench/ingest.py.

    python bench/metro2_ingest.py [--accounts N] [--pg-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from ingest import _fresh_pg, baseline, keyed_settings

from openbureau.context import Bureau
from openbureau.furnishing.metro2 import read_chunks, to_native, write_file
from openbureau.furnishing.metro2.sample import HEADER, current_revolving, sample_base
from openbureau.furnishing.submit import submit_file
from openbureau.governance.crypto import generate_key_pair_b64
from openbureau.governance.members import Role, add_member, get_member
from openbureau.identity.synth import us_consumers
from openbureau.schema_migrations import upgrade
from openbureau.settings import Settings

MONTHS = ("2026-08", "2026-09")


def _ssns(n: int, offset: int = 0) -> np.ndarray:
    """n distinct valid SSNs: area 100-665, group 01-99, serial 0001-9999."""
    i = np.arange(offset, offset + n, dtype=np.int64)
    serial = i % 9999 + 1
    group = (i // 9999) % 99 + 1
    area = 100 + i // (9999 * 99)
    return area * 1_000_000 + group * 10_000 + serial


def _people(n: int, seed: int, population: str) -> dict[str, pl.Series | pl.Expr]:
    """Base identity columns: `realistic` draws varied names, streets, ZIP codes and birth
    dates (identity.synth.us_consumers); `dense` keeps sample_base's 49 names and one ZIP
    code, with J1 consumers all named PAT SMITH born 1960-01-01 (the files measured before
    2026-11-26 06:00 UTC), so that every new person has dozens of look-alike candidates."""
    if population == "dense":
        days = pl.Series(np.arange(n) % 18000)
        return {"date_birth": pl.lit(dt.date(1950, 1, 1)) + pl.duration(days=days)}
    people = us_consumers(n, seed=seed)
    return {
        "surname": people["surname"],
        "first_name": people["first_name"],
        "first_line_address": people["street"],
        "second_line_address": pl.lit(""),
        "city": people["city"],
        "state": people["state"],
        "zip_code": people["zip_code"],
        "date_birth": people["date_of_birth"],
    }


def month_file(
    path: Path, n: int, period: str, seed: int = 1, population: str = "realistic"
) -> Path:
    """n clean current revolving accounts as of `period`; 10% with a J1, 5% K1, 5% N1."""
    year, month = int(period[:4]), int(period[5:])
    as_of = dt.date(year, month, calendar.monthrange(year, month)[1])
    rng = np.random.default_rng(seed)
    base = sample_base(n, seed=seed).with_columns(
        **current_revolving(as_of),
        current_balance=pl.Series(rng.integers(0, 5000, n)),
        social_security_number=pl.Series(_ssns(n)),
        ecoa_code=pl.lit("1"),
        **_people(n, seed, population),
    )
    rec = base["record_no"]
    j1_rows = rec.filter(rec % 10 == 0)
    k1_rows = rec.filter(rec % 20 == 1)
    n1_rows = rec.filter(rec % 20 == 2)
    if population == "dense":
        joint = pl.DataFrame(
            {"surname": "SMITH", "first_name": "PAT", "date_birth": dt.date(1960, 1, 1)}
        ).select(pl.all().repeat_by(len(j1_rows)).explode())
    else:
        joint = us_consumers(len(j1_rows), seed=seed + 1).select(
            "surname", "first_name", date_birth="date_of_birth"
        )
    segments = {
        "J1": pl.DataFrame(
            {
                "record_no": j1_rows,
                "social_security_number": _ssns(len(j1_rows), offset=n),
                "ecoa_code": "2",
            }
        ).hstack(joint),
        "K1": pl.DataFrame(
            {
                "record_no": k1_rows,
                "original_creditor_name": "ORIGINAL BANK NA",
                "creditor_classification": 8,
            }
        ),
        "N1": pl.DataFrame(
            {"record_no": n1_rows, "employer_name": "ACME CORP", "occupation": "ENGINEER"}
        ),
    }
    header = HEADER | {"activity_date": as_of, "date_created": as_of + dt.timedelta(days=1)}
    write_file(path, header, base, segments)
    return path


def end_to_end(settings: Settings, files: list[Path]) -> list[tuple[int, float]]:
    bureau = Bureau.from_settings(settings)
    upgrade(bureau.engine)
    with bureau.sessions() as session, session.begin():
        add_member(session, "usbank", "US Bank", [Role.FURNISHER], "operator:bench")
    out = []
    for path in files:
        with bureau.sessions() as session:
            member = get_member(session, "usbank")
        start = time.perf_counter()
        report, _ = submit_file(bureau, member, path, actor="operator:bench")
        out.append((report["accepted"], time.perf_counter() - start))
        assert report["rejected"] == 0, report["errors"][:3]
    bureau.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--pg-url", default=None, help="admin URL of a PostgreSQL server")
    parser.add_argument("--sqlite", action="store_true", help="also run on SQLite")
    parser.add_argument(
        "--population",
        choices=("realistic", "dense"),
        default="realistic",
        help="who the accounts belong to (see _people); dense reproduces the files before "
        "2026-11-26 06:00 UTC",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ob-m2-bench-"))
    files = [
        month_file(work / f"{p}.m2", args.accounts, p, population=args.population)
        for p in MONTHS
    ]
    native = pl.concat([to_native(c).accounts for path in files for c in read_chunks(path)]).drop(
        "record_no"
    )
    keys = generate_key_pair_b64()
    targets = []
    if args.sqlite:
        targets.append(("sqlite", f"sqlite:///{work}/e2e.db", f"sqlite:///{work}/plain.db"))
    if args.pg_url:
        targets.append(
            ("postgresql", _fresh_pg(args.pg_url, "bench_m2"), _fresh_pg(args.pg_url, "bench_m2p"))
        )
    size = sum(f.stat().st_size for f in files) / 1e6
    print(
        f"{args.accounts:,} accounts x {len(files)} months, {size:,.0f} MB of Metro 2, "
        f"{args.population} population"
    )
    for name, e2e_url, plain_url in targets:
        runs = end_to_end(keyed_settings(work, e2e_url, keys), files)
        plain = baseline(plain_url, native)
        for month, (n, seconds) in zip(MONTHS, runs, strict=True):
            print(
                f"{name:<11} {month} end to end: {n / seconds:>9,.0f} accounts/s ({seconds:.1f} s)"
            )
        total_n = sum(n for n, _ in runs)
        total_s = sum(s for _, s in runs)
        print(
            f"{name:<11} all months end to end {total_n / total_s:>9,.0f} accounts/s; plain bulk"
            f" insert {native.height / plain:>9,.0f} rows/s; ratio {total_s / plain:.1f}x"
        )
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
