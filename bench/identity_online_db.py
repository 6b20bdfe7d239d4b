"""Online identity resolution inside the bureau: one inquiry against N stored subjects.

The bureau is filled with N generated people (one identity each, encrypted as the product
stores them, blocking keys hashed and indexed), then inquiries are resolved through the same
function the inquiry endpoint calls (`identity.decide.match_inquiry`):

* with the national ID (the exact stage settles it);
* without it, with name, birth date, address and phone (candidates from blocking keys, the
  stored Fellegi-Sunter model scores them);
* with name and birth date only (the answer should be "more identity data needed").

Baseline, side by side in the same run: fetching one stored identity row by primary key
through the same session, the cheapest round trip the database offers.

    python bench/identity_online_db.py [--subjects 1000000] [--queries 2000] [--pg-url URL]
        [--workdir DIR]

With --workdir the filled bureau (SQLite) is kept there and reused by the next run with the
same --subjects, so a change to the online path can be measured without rebuilding it.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from ingest import keyed_settings
from sqlalchemy import text

from openbureau.context import Bureau
from openbureau.db import bulk_insert
from openbureau.governance.crypto import generate_key_pair_b64
from openbureau.governance.members import Role, add_member
from openbureau.identity.blind import identity_keys
from openbureau.identity.decide import InquiryIdentity, match_inquiry
from openbureau.identity.matching import (
    IDENTITY_SCHEMA,
    MatchSettings,
    hashed_blocking_keys,
    normalized,
)
from openbureau.identity.model_store import inquiry_model
from openbureau.identity.normalize import normalize_date, normalize_national_id
from openbureau.identity.store import encrypted_identity_columns, identity_hash
from openbureau.identity.synth import generate_population
from openbureau.schema_migrations import upgrade


def people(count: int) -> pl.DataFrame:
    """`count` generated people with a valid national ID, in the furnishing identity shape."""
    raw = generate_population(int(count * 2.2), records_per_subject=1.0, seed=5)
    rows = []
    for p in raw.iter_rows(named=True):
        nid = normalize_national_id(p["national_id"], p["id_country"])
        dob = normalize_date(p["dob"])
        if not (nid.valid and dob and p["full_name"]):
            continue
        rows.append(
            (
                len(rows) + 1,
                p["full_name"],
                nid.type,
                nid.value,
                date(int(dob[:4]), int(dob[4:6]), int(dob[6:])),
                " ".join(x for x in (p["address"], p["postcode"]) if x) or None,
                p["phone"],
            )
        )
        if len(rows) == count:
            break
    return pl.DataFrame(
        rows,
        # As a furnished record carries it: the birth date typed, as validation leaves it.
        schema=IDENTITY_SCHEMA | {"date_of_birth": pl.Date},
        orient="row",
    )


def fill(bureau: Bureau, persons: pl.DataFrame) -> None:
    keys, now = bureau.keys, datetime.now(UTC)
    region = MatchSettings.from_settings(bureau.settings).phone_region
    keyed = identity_keys(persons, keys).with_columns(identity_hash(persons, keys))
    identities = keyed.select(
        pl.col("record_no").alias("subject_id"),
        pl.lit(1).alias("member_id"),
        "national_id_type",
        "national_id_bidx",
        "name_bidx",
        "dob_bidx",
        "identity_hash",
    ).with_columns(
        *encrypted_identity_columns(persons, keys), first_seen=pl.lit(now), last_seen=pl.lit(now)
    )
    blocking = hashed_blocking_keys(normalized(persons, region), keys).select(
        "key_bidx", pl.col("record_id").alias("subject_id")
    ).unique()
    with bureau.sessions() as session, session.begin():
        add_member(session, "bank", "Bank", [Role.FURNISHER], "operator:bench")
        connection = session.connection()
        bulk_insert(
            connection,
            "subjects",
            persons.select(pl.col("record_no").alias("id"), pl.lit(now).alias("created_at")),
        )
        bulk_insert(connection, "subject_identities", identities)
        bulk_insert(connection, "identity_blocking_keys", blocking)
    print(f"  {persons.height:,} subjects, {blocking.height:,} blocking keys")


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.5), "p99": at(0.99), "mean": statistics.fmean(ordered)}


def run(bureau: Bureau, persons: pl.DataFrame, queries: int) -> None:
    settings = bureau.settings
    match_settings = MatchSettings.from_settings(settings)
    sample = random.Random(9).sample(range(persons.height), queries)
    chosen = [persons.row(i, named=True) for i in sample]
    kinds = {
        "with national ID": lambda p: InquiryIdentity(
            p["full_name"], p["national_id_type"], p["national_id"], p["date_of_birth"]
        ),
        "no ID: name, birth date, address, phone": lambda p: InquiryIdentity(
            p["full_name"], None, None, p["date_of_birth"], p["address"], p["phone"]
        ),
        "no ID: name and birth date only": lambda p: InquiryIdentity(
            p["full_name"], None, None, p["date_of_birth"]
        ),
    }
    with bureau.sessions() as session:
        primary_key = text("SELECT * FROM subject_identities WHERE id = :id")
        base = [
            timed(lambda p=p: session.execute(primary_key, {"id": p["record_no"]}).first())[0]
            for p in chosen
        ]
        base_p = percentiles(base)
        print(f"  baseline, one row by primary key: p50 {base_p['p50']:.3f} ms, "
              f"p99 {base_p['p99']:.3f} ms")
        for label, make in kinds.items():
            latencies, outcomes, correct = [], {}, 0
            for p in chosen:
                identity = make(p)
                ms, found = timed(
                    lambda identity=identity: match_inquiry(
                        session,
                        bureau.keys,
                        lambda: inquiry_model(session, settings, bureau.identity_models),
                        match_settings,
                        identity,
                    )
                )
                latencies.append(ms)
                outcomes[found.outcome] = outcomes.get(found.outcome, 0) + 1
                correct += found.subject_id == p["record_no"]
                assert found.subject_id in (None, p["record_no"]), "served somebody else's file"
            q = percentiles(latencies)
            print(
                f"  {label}: p50 {q['p50']:.2f} ms, p99 {q['p99']:.2f} ms "
                f"(p99 / baseline p99 = {q['p99'] / base_p['p99']:.0f}x); outcomes {outcomes}, "
                f"right subject {correct}, wrong subject 0"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--pg-url", default=None, help="PostgreSQL URL instead of SQLite")
    parser.add_argument("--workdir", default=None, help="keep and reuse the filled bureau here")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="ob-idbench-"))
    work.mkdir(parents=True, exist_ok=True)
    built = work / f"persons-{args.subjects}.parquet"
    key_file = work / "keys.json"
    reuse = args.workdir and not args.pg_url and built.exists() and key_file.exists()
    if reuse:
        persons, keys = pl.read_parquet(built), json.loads(key_file.read_text())
    else:
        start = time.perf_counter()
        persons = people(args.subjects)
        print(f"generated {persons.height:,} people in {time.perf_counter() - start:.0f} s")
        keys = generate_key_pair_b64()
        (work / f"bureau-{args.subjects}.db").unlink(missing_ok=True)
    url = args.pg_url or f"sqlite:///{work}/bureau-{args.subjects}.db"
    bureau = Bureau.from_settings(keyed_settings(work, url, keys))
    if reuse:
        print(f"reusing the bureau of {persons.height:,} subjects in {work}")
    else:
        upgrade(bureau.engine)
        start = time.perf_counter()
        fill(bureau, persons)
        print(f"loaded in {time.perf_counter() - start:.0f} s; "
              f"database {bureau.engine.dialect.name}")
        if args.workdir:
            persons.write_parquet(built)
            key_file.write_text(json.dumps(keys))
    run(bureau, persons, args.queries)
    bureau.dispose()
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
