"""The identity review queue: records held because their national ID matched a subject whose
name and birth date both differ. An operator links each to a subject or keeps it apart."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openbureau.files.tables import tradelines
from openbureau.governance.audit import append_event
from openbureau.governance.crypto import BureauKeys
from openbureau.identity.blind import identity_keys
from openbureau.identity.changes import canonical_subject, rebuild_blocking_keys
from openbureau.identity.matching import IDENTITY_SCHEMA
from openbureau.identity.store import identity_hash, store_identities
from openbureau.identity.tables import review_items, subjects


class ReviewError(ValueError):
    """A review decision that cannot be made, with the reason."""


def _open_item(session: Session, review_id: int):
    item = session.execute(select(review_items).where(review_items.c.id == review_id)).first()
    if item is None:
        raise ReviewError(f"no review item {review_id}")
    if item.status != "open":
        raise ReviewError(f"review item {review_id} is already {item.status}")
    return item


def _attach(
    session: Session,
    keys: BureauKeys,
    item,
    subject_id: int,
    status: str,
    actor: str,
    phone_region: str,
) -> None:
    now = datetime.now(UTC)
    identity = orjson.loads(keys.decrypt(item.identity_enc))
    frame = pl.DataFrame(
        [identity | {"record_no": 1, "subject_id": subject_id}],
        schema=IDENTITY_SCHEMA | {"subject_id": pl.Int64},
    ).with_columns(pl.col("date_of_birth").str.to_date())
    frame = identity_keys(frame, keys).with_columns(identity_hash(frame, keys))
    store_identities(session, frame, item.member_id, keys, now)
    # The identity is now the subject's: later records and inquiries must find it.
    rebuild_blocking_keys(session, keys, phone_region, [subject_id])
    session.execute(
        update(tradelines)
        .where(
            tradelines.c.member_id == item.member_id,
            tradelines.c.account_ref == item.account_ref,
            tradelines.c.period == item.period,
        )
        .values(subject_id=subject_id)
    )
    session.execute(
        update(review_items)
        .where(review_items.c.id == item.id)
        .values(status=status, resolved_at=now, resolved_subject_id=subject_id)
    )
    append_event(
        session,
        actor,
        f"review.{status}",
        {
            "review_id": item.id,
            "account_ref": item.account_ref,
            "period": item.period,
            "reason": item.reason,
        },
        subject_id=subject_id,
    )


def link(
    session: Session,
    keys: BureauKeys,
    review_id: int,
    subject_id: int,
    actor: str,
    phone_region: str,
) -> None:
    """The operator confirms the record belongs to `subject_id`."""
    item = _open_item(session, review_id)
    current = canonical_subject(session, subject_id)
    if current is None:
        raise ReviewError(f"no subject {subject_id}")
    _attach(session, keys, item, current, "linked", actor, phone_region)


def keep_apart(
    session: Session, keys: BureauKeys, review_id: int, actor: str, phone_region: str
) -> int:
    """The operator decides the record is somebody else: it gets a subject of its own."""
    item = _open_item(session, review_id)
    subject_id = session.execute(
        subjects.insert().values(created_at=datetime.now(UTC)).returning(subjects.c.id)
    ).scalar_one()
    _attach(session, keys, item, subject_id, "kept_apart", actor, phone_region)
    return subject_id
