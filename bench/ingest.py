"""Ingest benchmark: native files end to end vs a plain bulk insert of the same rows.

End to end = parse, validate, resolve identity, encrypt, load (submit_file), for every
monthly file of the demo's three furnishers. Baseline = the same rows, already in memory,
bulk-inserted into a plain table of the same database (executemany on SQLite, COPY on
PostgreSQL). A second baseline inserts them the same way into a table with the keys
tradelines must maintain (primary key, unique account/period key, one secondary index).
All run in this process, one after the other, and both ratios are printed.

    python bench/ingest.py [--limit N] [--rounds N] [--pg-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl
from sqlalchemy import create_engine, text

from openbureau.context import Bureau
from openbureau.demo.taiwan import build_demo_submissions, write_submission
from openbureau.furnishing.submit import submit_file
from openbureau.governance.crypto import generate_key_pair_b64
from openbureau.governance.members import Role, add_member, get_member
from openbureau.schema_migrations import upgrade
from openbureau.settings import Settings


def _fresh_pg(admin_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def keyed_settings(data_dir: Path, database_url: str, keys: dict[str, str]) -> Settings:
    """Settings of a bench bureau with explicit keys, as `generate_key_pair_b64` gives them."""
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        encryption_key=keys["OPENBUREAU_ENCRYPTION_KEY"],
        blind_index_key=keys["OPENBUREAU_BLIND_INDEX_KEY"],
    )


def end_to_end(settings: Settings, files: list[tuple[str, Path]]) -> float:
    bureau = Bureau.from_settings(settings)
    upgrade(bureau.engine)
    with bureau.sessions() as session, session.begin():
        for code in sorted({c for c, _ in files}):
            add_member(session, code, code, [Role.FURNISHER], "operator:bench")
    start = time.perf_counter()
    for code, path in files:
        with bureau.sessions() as session:
            member = get_member(session, code)
        report, _ = submit_file(bureau, member, path, actor="operator:bench")
        assert report["rejected"] == 0
    elapsed = time.perf_counter() - start
    bureau.dispose()
    return elapsed


def baseline(url: str, rows: pl.DataFrame, *, indexed: bool = False) -> float:
    """Seconds to bulk-insert `rows` (as text) into a fresh table of the database at `url`.

    indexed=False: a plain table with no keys. indexed=True: the keys tradelines has to
    maintain on every load — a surrogate primary key, a unique (member, account, period)
    key and one secondary index (national_id, standing in for subject_id).
    """
    engine = create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    cols = ", ".join(f"{c} text" for c in rows.columns)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS plain_rows"))
        if indexed:
            pk = "id bigserial" if postgres else "id integer"
            conn.execute(text(f"CREATE TABLE plain_rows ({pk} PRIMARY KEY, {cols})"))
            conn.execute(
                text("CREATE UNIQUE INDEX plain_key ON plain_rows (member, account_ref, period)")
            )
            conn.execute(text("CREATE INDEX plain_person ON plain_rows (national_id)"))
        else:
            conn.execute(text(f"CREATE TABLE plain_rows ({cols})"))
    as_text = rows.with_columns(pl.all().cast(pl.Utf8))
    names = ", ".join(rows.columns)
    start = time.perf_counter()
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        if postgres:
            buffer = io.BytesIO()
            as_text.write_csv(buffer, include_header=False)
            with (
                raw.cursor() as cur,
                cur.copy(f"COPY plain_rows ({names}) FROM STDIN WITH (FORMAT csv)") as copy,
            ):
                copy.write(buffer.getvalue())
        else:
            marks = ", ".join("?" for _ in rows.columns)
            raw.executemany(f"INSERT INTO plain_rows ({names}) VALUES ({marks})", as_text.rows())
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def _row(
    name: str,
    n: int,
    e2e: float,
    base: float,
    keyed: float,
    ratio_plain: float | None = None,
    ratio_keyed: float | None = None,
) -> str:
    ratio_plain = e2e / base if ratio_plain is None else ratio_plain
    ratio_keyed = e2e / keyed if ratio_keyed is None else ratio_keyed
    return (
        f"{name:<11} {n / e2e:>17,.0f} {n / base:>18,.0f} {ratio_plain:>6.1f}x"
        f" {n / keyed:>21,.0f} {ratio_keyed:>6.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="dataset rows (default all)")
    parser.add_argument("--pg-url", default=None, help="admin URL of a PostgreSQL server")
    parser.add_argument(
        "--rounds", type=int, default=1, help="end to end and baselines this many times, in turn"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ob-bench-"))
    data = build_demo_submissions(limit=args.limit)
    files = []
    for sub in sorted(data.submissions, key=lambda s: (s.period, s.member_code)):
        files.append(
            (
                sub.member_code,
                write_submission(sub.records, work / f"{sub.member_code}-{sub.period}.jsonl"),
            )
        )
    rows = pl.concat([s.records for s in data.submissions])
    keyed_rows = pl.concat(
        [
            s.records.with_columns(member=pl.lit(s.member_code), period=pl.lit(s.period))
            for s in data.submissions
        ]
    )
    n = rows.height
    keys = generate_key_pair_b64()

    def fresh_targets(round_no: int) -> list[tuple[str, str, str]]:
        """(database, end-to-end URL, baseline URL), each database new for this round."""
        targets = [
            (
                "sqlite",
                f"sqlite:///{work}/e2e-{round_no}.db",
                f"sqlite:///{work}/plain-{round_no}.db",
            )
        ]
        if args.pg_url:
            targets.append(
                (
                    "postgresql",
                    _fresh_pg(args.pg_url, "bench_e2e"),
                    _fresh_pg(args.pg_url, "bench_plain"),
                )
            )
        return targets

    print(f"{n:,} account records in {len(files)} files, {args.rounds} round(s)")
    header = (
        f"{'database':<11} {'end-to-end rec/s':>17} {'bulk insert rec/s':>18} {'ratio':>7}"
        f" {'indexed insert rec/s':>21} {'ratio':>7}"
    )
    print(header)
    seconds: dict[str, list[tuple[float, float, float]]] = {}
    for round_no in range(args.rounds):
        for name, e2e_url, plain_url in fresh_targets(round_no):
            e2e = end_to_end(keyed_settings(work, e2e_url, keys), files)
            base = baseline(plain_url, rows)
            keyed = baseline(plain_url, keyed_rows, indexed=True)
            seconds.setdefault(name, []).append((e2e, base, keyed))
            print(_row(name, n, e2e, base, keyed))
    if args.rounds > 1:
        # Each ratio's median over the rounds: the machine's speed drifts between rounds,
        # and a ratio is only meaningful between runs made side by side.
        print("median of the rounds' figures and ratios")
        for name, runs in seconds.items():
            e2e, base, keyed = (statistics.median(r[i] for r in runs) for i in range(3))
            ratio_plain = statistics.median(r[0] / r[1] for r in runs)
            ratio_keyed = statistics.median(r[0] / r[2] for r in runs)
            print(_row(name, n, e2e, base, keyed, ratio_plain, ratio_keyed))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
