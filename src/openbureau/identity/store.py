"""Writing reported identities (encrypted) and review items for resolved records."""

from __future__ import annotations

from datetime import datetime

import orjson
import polars as pl
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from openbureau.db import bulk_insert, in_values, list_param
from openbureau.governance.crypto import BureauKeys
from openbureau.identity.resolve import NEW, REVIEW
from openbureau.identity.tables import review_items, subject_identities

IDENTITY_TEXT_FIELDS = ("national_id", "full_name", "date_of_birth", "address", "phone")


def identity_hash(frame: pl.DataFrame, keys: BureauKeys) -> pl.Series:
    """Keyed hash of all identity fields of each record (type included)."""
    text = pl.concat_str(
        [
            pl.col(c).cast(pl.Utf8).fill_null("")
            for c in ("national_id_type", *IDENTITY_TEXT_FIELDS)
        ],
        separator="\x1f",
    )
    values = frame.select(text.alias("t"))["t"].to_list()
    return pl.Series("identity_hash", keys.blind_index_many("identity", values))


def store_identities(
    session: Session, resolved: pl.DataFrame, member_id: int, keys: BureauKeys, now: datetime
) -> int:
    """Upserts one identity row per (subject, member, name, birth date); returns rows written."""
    linked = resolved.filter(pl.col("subject_id").is_not_null())
    if linked.is_empty():
        return 0
    latest = linked.sort("record_no").unique(
        ["subject_id", "name_bidx", "dob_bidx"], keep="last", maintain_order=True
    )
    merged = latest.join(
        _stored_identities(session, member_id, _maybe_known_subjects(latest)),
        on=["subject_id", "name_bidx", "dob_bidx"],
        how="left",
    )
    to_insert = merged.filter(pl.col("id").is_null())
    to_update = merged.filter(
        pl.col("id").is_not_null() & (pl.col("old_hash") != pl.col("identity_hash"))
    )
    if to_insert.height:
        bulk_insert(
            session.connection(),
            "subject_identities",
            to_insert.select(
                "subject_id",
                pl.lit(member_id, pl.Int64).alias("member_id"),
                "national_id_type",
                "national_id_bidx",
                "name_bidx",
                "dob_bidx",
                "identity_hash",
                *encrypted_identity_columns(to_insert, keys),
                pl.lit(now).alias("first_seen"),
                pl.lit(now).alias("last_seen"),
            ),
        )
    if to_update.height:
        changed = to_update.select(
            pl.col("id").alias("row_id"),
            "identity_hash",
            *encrypted_identity_columns(to_update, keys),
            pl.lit(now).alias("last_seen"),
        )
        session.execute(
            update(subject_identities)
            .where(subject_identities.c.id == bindparam("row_id"))
            .values({name: bindparam(name) for name in changed.columns if name != "row_id"}),
            changed.to_dicts(),
        )
    return to_insert.height + to_update.height


def _maybe_known_subjects(latest: pl.DataFrame) -> list[int]:
    """Subjects that may already hold identities from this member.

    A subject created for this very load has none yet, so looking it up would only cost a
    round trip per thousands of new people in a first submission.
    """
    if "decision" in latest.columns:
        latest = latest.filter(pl.col("decision") != NEW)
    return latest["subject_id"].unique().to_list()


def _stored_identities(session: Session, member_id: int, subject_ids: list[int]) -> pl.DataFrame:
    rows = []
    if subject_ids:
        rows = session.execute(
            text(
                "SELECT id, subject_id, name_bidx, dob_bidx, identity_hash "
                "FROM subject_identities WHERE member_id = :member AND "
                + in_values(session, "subject_id", "subjects", "integer")
            ),
            {"member": member_id, "subjects": list_param(session, subject_ids)},
        ).all()
    return pl.DataFrame(
        rows,
        schema={
            "id": pl.Int64,
            "subject_id": pl.Int64,
            "name_bidx": pl.Utf8,
            "dob_bidx": pl.Utf8,
            "old_hash": pl.Utf8,
        },
        orient="row",
    )


def encrypted_identity_columns(frame: pl.DataFrame, keys: BureauKeys) -> list[pl.Series]:
    """The reported identity fields, each value encrypted on its own (fresh nonce per value)."""
    sources = {
        "national_id_enc": frame["national_id"],
        "name_enc": frame["full_name"],
        "dob_enc": frame["date_of_birth"].cast(pl.Utf8),
        "address_enc": frame["address"],
        "phone_enc": frame["phone"],
    }
    return [
        pl.Series(name, keys.encrypt_many(values.to_list()), dtype=pl.Binary)
        for name, values in sources.items()
    ]


def queue_reviews(
    session: Session,
    resolved: pl.DataFrame,
    member_id: int,
    submission_id: int,
    keys: BureauKeys,
    now: datetime,
) -> int:
    """Opens one review item per held record, unless the same account/period is already open."""
    held = resolved.filter(pl.col("decision") == REVIEW)
    if held.is_empty():
        return 0
    open_keys = {
        tuple(row)
        for row in session.execute(
            text(
                "SELECT account_ref, period FROM review_items "
                "WHERE member_id = :member AND status = 'open' AND "
                + in_values(session, "account_ref", "refs")
            ),
            {
                "member": member_id,
                "refs": list_param(session, held["account_ref"].unique().to_list()),
            },
        ).all()
    }
    rows = []
    for rec in held.iter_rows(named=True):
        if (rec["account_ref"], rec["period"]) in open_keys:
            continue
        identity = {f: rec[f] for f in IDENTITY_TEXT_FIELDS} | {
            "national_id_type": rec["national_id_type"]
        }
        rows.append(
            {
                "created_at": now,
                "submission_id": submission_id,
                "member_id": member_id,
                "account_ref": rec["account_ref"],
                "period": rec["period"],
                "candidate_subject_id": rec["candidate_subject_id"],
                "reason": rec["reason"],
                "status": "open",
                "identity_enc": keys.encrypt(orjson.dumps(identity, default=str).decode()),
                "national_id_bidx": rec["national_id_bidx"],
            }
        )
    if rows:
        session.execute(review_items.insert(), rows)
    return len(rows)


def open_reviews(session: Session, keys: BureauKeys, limit: int = 100) -> list[dict]:
    rows = session.execute(
        select(review_items)
        .where(review_items.c.status == "open")
        .order_by(review_items.c.id)
        .limit(limit)
    ).all()
    return [
        {
            "review_id": r.id,
            "created_at": r.created_at.isoformat(),
            "member_id": r.member_id,
            "account_ref": r.account_ref,
            "period": r.period,
            "candidate_subject_id": r.candidate_subject_id,
            "reason": r.reason,
            "reported_identity": orjson.loads(keys.decrypt(r.identity_enc)),
        }
        for r in rows
    ]
