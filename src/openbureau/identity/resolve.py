"""Exact identity resolution for furnished records and inquiries.

A record joins an existing subject when its national ID matches one that subject was
reported with, and its name or its date of birth agrees. An ID match where both name and
birth date disagree is never merged: the record goes to the review queue. Lookups use only
blind indexes; no personal data is decrypted here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from openbureau.db import in_values, is_postgres, list_param, sqlite_datetime
from openbureau.identity.tables import subject_identities, subjects

MATCHED, NEW, REVIEW = "matched", "new", "review"
REASON_DISAGREE = "national ID matches a subject whose name and date of birth both differ"
REASON_AMBIGUOUS = "national ID, name or birth date match more than one subject"

# What a matcher answers for the first record of each new national ID it could settle:
# "matched" (subject_id set) or "review" (candidate_subject_id set, with the reason).
MATCHER_SCHEMA = {
    "record_no": pl.Int64,
    "decision": pl.Utf8,
    "subject_id": pl.Int64,
    "reason": pl.Utf8,
    "candidate_subject_id": pl.Int64,
}
NewIdentityMatcher = Callable[[pl.DataFrame], pl.DataFrame]
# Optional column: records a batch resolution clustered as one person. A cluster is settled
# as one (instead of one national ID at a time) and follows any member already on file.
GROUP = "identity_group"

EXISTING_SCHEMA = {
    "national_id_bidx": pl.Utf8,
    "subject_id": pl.Int64,
    "e_name_bidx": pl.Utf8,
    "e_dob_bidx": pl.Utf8,
}


def known_identities(session: Session, id_bidx: list[str]) -> pl.DataFrame:
    """Identities already on file for these national IDs, with merged subjects followed."""
    rows = session.execute(
        text(
            "SELECT i.national_id_bidx, COALESCE(s.merged_into, s.id), i.name_bidx, i.dob_bidx "
            "FROM subject_identities i JOIN subjects s ON s.id = i.subject_id "
            f"WHERE {in_values(session, 'i.national_id_bidx', 'ids')}"
        ),
        {"ids": list_param(session, id_bidx)},
    ).all()
    return pl.DataFrame(rows, schema=EXISTING_SCHEMA, orient="row").unique()


def _decide_known(records: pl.DataFrame, existing: pl.DataFrame) -> pl.DataFrame:
    """record_no, decision, subject_id, candidate_subject_id, reason for IDs already on file."""
    pairs = records.select("record_no", "national_id_bidx", "name_bidx", "dob_bidx").join(
        existing, on="national_id_bidx", how="inner"
    )
    agree = (pl.col("name_bidx") == pl.col("e_name_bidx")) | (
        pl.col("dob_bidx") == pl.col("e_dob_bidx")
    )
    per_record = pairs.group_by("record_no").agg(
        pl.col("subject_id").filter(agree).unique().alias("agreeing"),
        pl.col("subject_id").min().alias("candidate_subject_id"),
    )
    n_agree = pl.col("agreeing").list.len()
    return per_record.select(
        "record_no",
        pl.when(n_agree == 1).then(pl.lit(MATCHED)).otherwise(pl.lit(REVIEW)).alias("decision"),
        pl.when(n_agree == 1).then(pl.col("agreeing").list.first()).alias("subject_id"),
        "candidate_subject_id",
        pl.when(n_agree == 0)
        .then(pl.lit(REASON_DISAGREE))
        .when(n_agree > 1)
        .then(pl.lit(REASON_AMBIGUOUS))
        .alias("reason"),
    )


def _create_subjects(session: Session, count: int, now: datetime) -> list[int]:
    """`count` new subjects from one statement that generates its rows server-side.

    Subject rows differ only in their id, so which id goes with which record does not
    matter and RETURNING order need not be relied on.
    """
    if count == 0:
        return []
    connection = session.connection()
    # Straight to the driver: SQLAlchemy's result rows cost about 4 us each, 0.4 s of a
    # first load's 100,000 new people. Each driver takes its own parameter style.
    if is_postgres(connection.engine):
        sql = (
            "INSERT INTO subjects (created_at) SELECT %(now)s "
            "FROM generate_series(1, %(count)s) RETURNING id"
        )
        params = {"count": count, "now": now}
    else:
        sql = (
            "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < :count) "
            "INSERT INTO subjects (created_at) SELECT :now FROM g RETURNING id"
        )
        params = {"count": count, "now": sqlite_datetime(now)}
    ids = [row[0] for row in connection.connection.driver_connection.execute(sql, params)]
    if len(ids) != count:
        raise RuntimeError(f"asked for {count} new subjects, got {len(ids)}")
    return ids


def _decide_new(
    session: Session, records: pl.DataFrame, now: datetime, matcher: NewIdentityMatcher | None
) -> pl.DataFrame:
    """Records whose national ID is new to the bureau, settled per ID (or per batch cluster,
    see GROUP) on its first record.

    The matcher may tie an ID's first record to a subject already on file, or hold it for
    review; every other new ID starts a subject. Later records with the same ID follow the
    first one when their name or birth date agrees with it, and go to review otherwise.
    """
    group = GROUP if GROUP in records.columns else "national_id_bidx"
    ordered = records.select(
        "record_no", *{group, "national_id_bidx"}, "name_bidx", "dob_bidx"
    ).sort("record_no")
    firsts = ordered.unique(group, keep="first", maintain_order=True)
    matched = (
        matcher(firsts)
        if matcher is not None and firsts.height
        else pl.DataFrame(schema=MATCHER_SCHEMA)
    ).select(list(MATCHER_SCHEMA))
    settled = firsts.join(matched, on="record_no", how="left")
    starting = settled.filter(pl.col("decision").is_null())
    ids = _create_subjects(session, starting.height, now)
    created = starting.select("record_no", pl.Series("created_id", ids, dtype=pl.Int64))
    reps = settled.join(created, on="record_no", how="left").select(
        group,
        pl.col("name_bidx").alias("r_name"),
        pl.col("dob_bidx").alias("r_dob"),
        pl.col("decision").fill_null(pl.lit(NEW)).alias("r_decision"),
        pl.coalesce("subject_id", "candidate_subject_id", "created_id").alias("r_subject"),
        pl.col("reason").alias("r_reason"),
    )
    joined = ordered.join(reps, on=group)
    agrees = (pl.col("name_bidx") == pl.col("r_name")) | (pl.col("dob_bidx") == pl.col("r_dob"))
    held = (pl.col("r_decision") == REVIEW) | ~agrees
    return joined.select(
        "record_no",
        pl.when(held).then(pl.lit(REVIEW)).otherwise(pl.col("r_decision")).alias("decision"),
        pl.when(held).then(None).otherwise(pl.col("r_subject")).alias("subject_id"),
        pl.col("r_subject").alias("candidate_subject_id"),
        pl.when(pl.col("r_decision") == REVIEW)
        .then(pl.col("r_reason"))
        .when(~agrees)
        .then(pl.lit(REASON_DISAGREE))
        .alias("reason"),
    )


def _follow_known_members(records: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """Records with a new national ID whose batch cluster holds matched records of exactly
    one subject on file: they join that subject (no cluster column: none do)."""
    empty = pl.DataFrame(schema=MATCHER_SCHEMA)
    if GROUP not in records.columns:
        return empty
    groups = records.select("record_no", GROUP)
    matched = known.filter(pl.col("decision") == MATCHED).join(groups, on="record_no")
    one_subject = (
        matched.group_by(GROUP)
        .agg(pl.col("subject_id").unique().alias("subjects"))
        .filter(pl.col("subjects").list.len() == 1)
        .select(GROUP, pl.col("subjects").list.first().alias("subject_id"))
    )
    return (
        groups.join(known.select("record_no"), on="record_no", how="anti")
        .join(one_subject, on=GROUP)
        .select(
            "record_no",
            pl.lit(MATCHED).alias("decision"),
            pl.col("subject_id").cast(pl.Int64),
            pl.lit(None, pl.Utf8).alias("reason"),
            pl.col("subject_id").cast(pl.Int64).alias("candidate_subject_id"),
        )
    )


def resolve_records(
    session: Session,
    records: pl.DataFrame,
    now: datetime,
    matcher: NewIdentityMatcher | None = None,
) -> pl.DataFrame:
    """Adds decision, subject_id, candidate_subject_id and reason to records with blind indexes.

    Without a matcher, a national ID new to the bureau always starts a new subject.
    """
    existing = known_identities(session, records["national_id_bidx"].unique().to_list())
    known = _decide_known(records, existing)
    unknown = records.filter(
        ~pl.col("national_id_bidx").is_in(existing["national_id_bidx"].implode())
    )
    followed = _follow_known_members(records, known)
    unknown = unknown.join(followed, on="record_no", how="anti")
    new = _decide_new(session, unknown, now, matcher)
    decisions = pl.concat(
        [frame.select(new.columns).cast(new.schema) for frame in (known, followed, new)],
        how="vertical",
    )
    return records.join(decisions, on="record_no", how="left")


_CANDIDATES = (
    select(
        func.coalesce(subjects.c.merged_into, subjects.c.id),
        subject_identities.c.name_bidx,
        subject_identities.c.dob_bidx,
    )
    .join(subjects, subjects.c.id == subject_identities.c.subject_id)
    .where(subject_identities.c.national_id_bidx == bindparam("id_bidx"))
)


_PG_CANDIDATES = (
    "SELECT COALESCE(s.merged_into, s.id), i.name_bidx, i.dob_bidx FROM subject_identities i "
    "JOIN subjects s ON s.id = i.subject_id WHERE i.national_id_bidx = %s"
)


def exact_candidates(session: Session, id_bidx: str) -> list[tuple[int, str, str]]:
    """(subject, name_bidx, dob_bidx) of every identity reported with this national ID."""
    connection = session.connection()
    if is_postgres(connection.engine):
        # Every inquiry asks this first; SQLAlchemy's per-statement work cost more than the
        # indexed lookup itself.
        raw = connection.connection.driver_connection
        return [tuple(row) for row in raw.execute(_PG_CANDIDATES, (id_bidx,)).fetchall()]
    return [tuple(row) for row in connection.execute(_CANDIDATES, {"id_bidx": id_bidx})]


_PG_CANDIDATES_MANY = (
    "SELECT i.national_id_bidx, COALESCE(s.merged_into, s.id), i.name_bidx, i.dob_bidx "
    "FROM subject_identities i JOIN subjects s ON s.id = i.subject_id "
    "WHERE i.national_id_bidx = ANY(%s)"
)


def queue_exact_candidates_pg(raw: Any, id_bidxs: list[str]) -> Callable[[], dict]:
    """`exact_candidates` of many national IDs at once, sent on a psycopg connection (in the
    caller's pipeline, if any); the returned function, called once the results are in,
    gives each ID's candidates (absent: none)."""
    cursor = raw.execute(_PG_CANDIDATES_MANY, (id_bidxs,))

    def candidates() -> dict[str, list[tuple[int, str, str]]]:
        found: dict[str, list[tuple[int, str, str]]] = {}
        for id_bidx, subject, name, dob in cursor.fetchall():
            found.setdefault(id_bidx, []).append((subject, name, dob))
        return found

    return candidates
