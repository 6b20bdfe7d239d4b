"""Writing reported identities (encrypted) and review items for resolved records."""

from __future__ import annotations

from datetime import datetime

import orjson
import polars as pl
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from openbureau.governance.crypto import BureauKeys
from openbureau.identity.resolve import REVIEW, _batches
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
    existing_rows: list[tuple] = []
    for batch in _batches(latest["subject_id"].unique().to_list()):
        existing_rows += session.execute(
            select(
                subject_identities.c.id,
                subject_identities.c.subject_id,
                subject_identities.c.name_bidx,
                subject_identities.c.dob_bidx,
                subject_identities.c.identity_hash.label("old_hash"),
            ).where(
                subject_identities.c.member_id == member_id,
                subject_identities.c.subject_id.in_(batch),
            )
        ).all()
    existing = pl.DataFrame(
        existing_rows,
        schema={
            "id": pl.Int64,
            "subject_id": pl.Int64,
            "name_bidx": pl.Utf8,
            "dob_bidx": pl.Utf8,
            "old_hash": pl.Utf8,
        },
        orient="row",
    )
    merged = latest.join(existing, on=["subject_id", "name_bidx", "dob_bidx"], how="left")
    to_insert = merged.filter(pl.col("id").is_null())
    to_update = merged.filter(
        pl.col("id").is_not_null() & (pl.col("old_hash") != pl.col("identity_hash"))
    )
    if to_insert.height:
        session.execute(
            subject_identities.insert(), _identity_rows(to_insert, member_id, keys, now, new=True)
        )
    if to_update.height:
        session.execute(
            update(subject_identities)
            .where(subject_identities.c.id == bindparam("row_id"))
            .values(
                identity_hash=bindparam("identity_hash"),
                national_id_enc=bindparam("national_id_enc"),
                name_enc=bindparam("name_enc"),
                dob_enc=bindparam("dob_enc"),
                address_enc=bindparam("address_enc"),
                phone_enc=bindparam("phone_enc"),
                last_seen=bindparam("last_seen"),
            ),
            _identity_rows(to_update, member_id, keys, now, new=False),
        )
    return to_insert.height + to_update.height


def _identity_rows(
    frame: pl.DataFrame, member_id: int, keys: BureauKeys, now: datetime, new: bool
) -> list[dict]:
    enc = {
        "national_id_enc": keys.encrypt_many(frame["national_id"].to_list()),
        "name_enc": keys.encrypt_many(frame["full_name"].to_list()),
        "dob_enc": keys.encrypt_many(frame["date_of_birth"].cast(pl.Utf8).to_list()),
        "address_enc": keys.encrypt_many(frame["address"].to_list()),
        "phone_enc": keys.encrypt_many(frame["phone"].to_list()),
    }
    rows = []
    columns = frame.select(
        "id",
        "subject_id",
        "national_id_type",
        "national_id_bidx",
        "name_bidx",
        "dob_bidx",
        "identity_hash",
    ).to_dict(as_series=False)
    for i in range(frame.height):
        row = {name: values[i] for name, values in enc.items()}
        row["identity_hash"] = columns["identity_hash"][i]
        row["last_seen"] = now
        if new:
            row |= {
                "subject_id": columns["subject_id"][i],
                "member_id": member_id,
                "national_id_type": columns["national_id_type"][i],
                "national_id_bidx": columns["national_id_bidx"][i],
                "name_bidx": columns["name_bidx"][i],
                "dob_bidx": columns["dob_bidx"][i],
                "first_seen": now,
            }
        else:
            row["row_id"] = columns["id"][i]
        rows.append(row)
    return rows


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
    open_keys: set[tuple[str, str]] = set()
    for batch in _batches(held["account_ref"].unique().to_list()):
        open_keys |= {
            tuple(row)
            for row in session.execute(
                select(review_items.c.account_ref, review_items.c.period).where(
                    review_items.c.member_id == member_id,
                    review_items.c.status == "open",
                    review_items.c.account_ref.in_(batch),
                )
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
