"""Merging and splitting subjects, with their history kept.

A merge never moves rows: the absorbed subject (and anything already merged into it) points
at the kept one through `subjects.merged_into`, every lookup follows that redirect, and the
credit file of the kept subject reads the whole family. So a merge loses nothing and can be
told from `subject_changes`. A split moves named accounts, every month of them, to a new
subject together with the identities they were reported with, and rebuilds both subjects'
blocking keys. Both are audited.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import polars as pl
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from openbureau.files.tables import tradelines
from openbureau.governance.audit import append_event
from openbureau.governance.crypto import BureauKeys
from openbureau.identity.matching import (
    ENCRYPTED_IDENTITY,
    decrypted_identities,
    forget_blocking_keys,
    hashed_blocking_keys,
    normalized,
    store_blocking_keys,
)
from openbureau.identity.tables import (
    identity_blocking_keys,
    subject_changes,
    subject_identities,
    subjects,
)


class SubjectChangeError(ValueError):
    """A merge or split that cannot be made, with the reason."""


def canonical_subject(session: Session, subject_id: int) -> int | None:
    """The subject id a (possibly merged) id now stands for; None if it never existed."""
    row = session.execute(
        select(subjects.c.id, subjects.c.merged_into).where(subjects.c.id == subject_id)
    ).first()
    if row is None:
        return None
    return row.merged_into or row.id


def _family(session: Session, subject_id: int) -> list[int]:
    return list(
        session.execute(
            select(subjects.c.id).where(
                or_(subjects.c.id == subject_id, subjects.c.merged_into == subject_id)
            )
        ).scalars()
    )


def _record(
    session: Session, kind: str, subject_id: int, other: int, actor: str, reason: str,
    detail: dict,
) -> None:
    session.execute(
        subject_changes.insert().values(
            created_at=datetime.now(UTC),
            kind=kind,
            subject_id=subject_id,
            other_subject_id=other,
            actor=actor,
            reason=reason,
            detail=orjson.dumps(detail).decode(),
        )
    )
    append_event(
        session,
        actor,
        f"subject.{kind}",
        {"other_subject_id": other, "reason": reason} | detail,
        subject_id=subject_id,
    )


def merge_subjects(
    session: Session, keep_id: int, absorb_id: int, actor: str, reason: str
) -> dict:
    """Folds `absorb_id` into `keep_id`; the absorbed id redirects from now on."""
    keep, absorb = canonical_subject(session, keep_id), canonical_subject(session, absorb_id)
    if keep is None or absorb is None:
        missing = keep_id if keep is None else absorb_id
        raise SubjectChangeError(f"no subject {missing}")
    if keep == absorb:
        raise SubjectChangeError(f"subjects {keep_id} and {absorb_id} are already one subject")
    redirected = _family(session, absorb)
    session.execute(
        update(subjects)
        .where(or_(subjects.c.id == absorb, subjects.c.merged_into == absorb))
        .values(merged_into=keep)
    )
    detail = {"redirected": redirected}
    _record(session, "merge", keep, absorb, actor, reason, detail)
    return {"subject_id": keep, "merged_subject_id": absorb} | detail


def split_subject(
    session: Session,
    keys: BureauKeys,
    phone_region: str,
    subject_id: int,
    accounts: list[tuple[int, str]],
    actor: str,
    reason: str,
) -> dict:
    """Moves the named (member id, account ref) accounts to a new subject; returns its id."""
    current = canonical_subject(session, subject_id)
    if current is None:
        raise SubjectChangeError(f"no subject {subject_id}")
    if not accounts:
        raise SubjectChangeError("name at least one account to split off")
    family = _family(session, current)
    on_file = _accounts_of(session, family)
    wanted = set(accounts)
    unknown = sorted(wanted - set(on_file))
    if unknown:
        listed = ", ".join(f"{member}:{ref}" for member, ref in unknown)
        raise SubjectChangeError(f"not on subject {current}'s file: {listed}")
    if wanted == set(on_file):
        raise SubjectChangeError("a split must leave at least one account on the file")
    now = datetime.now(UTC)
    new_id = session.execute(
        subjects.insert().values(created_at=now).returning(subjects.c.id)
    ).scalar_one()
    moving = [h for key, hashes in on_file.items() if key in wanted for h in hashes]
    staying = {h for key, hashes in on_file.items() if key not in wanted for h in hashes}
    for member_id, account_ref in sorted(wanted):
        session.execute(
            update(tradelines)
            .where(
                tradelines.c.subject_id.in_(family),
                tradelines.c.member_id == member_id,
                tradelines.c.account_ref == account_ref,
            )
            .values(subject_id=new_id)
        )
    held_before = identity_key_rows(session, keys, phone_region, family)
    moved_identities = _move_identities(session, family, new_id, moving, staying)
    held_after = identity_key_rows(session, keys, phone_region, [*family, new_id])
    # The keys only the moved identities gave leave the old subject; the new one gets them.
    forget_blocking_keys(session, held_before.join(held_after, on=KEY_PAIR, how="anti"))
    store_blocking_keys(session, held_after)
    detail = {
        "accounts": [{"member_id": m, "account_ref": r} for m, r in sorted(wanted)],
        "identities": moved_identities,
    }
    _record(session, "split", current, new_id, actor, reason, detail)
    return {"subject_id": current, "new_subject_id": new_id} | detail


def _accounts_of(session: Session, family: list[int]) -> dict[tuple[int, str], set]:
    rows = session.execute(
        select(tradelines.c.member_id, tradelines.c.account_ref, tradelines.c.identity_hash)
        .where(tradelines.c.subject_id.in_(family))
        .distinct()
    ).all()
    accounts: dict[tuple[int, str], set] = {}
    for member_id, account_ref, identity in rows:
        accounts.setdefault((member_id, account_ref), set()).add((member_id, identity))
    return accounts


def _move_identities(
    session: Session, family: list[int], new_id: int, moving: list, staying: set
) -> int:
    """Copies the identities the moved accounts were reported with to the new subject; an
    identity no remaining account was reported with leaves the old subject."""
    columns = [c for c in subject_identities.columns if c.name != "id"]
    moved = 0
    for member_id, identity in sorted(set(moving)):
        source = session.execute(
            select(subject_identities).where(
                subject_identities.c.subject_id.in_(family),
                subject_identities.c.member_id == member_id,
                subject_identities.c.identity_hash == identity,
            )
        ).first()
        if source is None:
            continue
        values = {c.name: source._mapping[c.name] for c in columns} | {"subject_id": new_id}
        session.execute(subject_identities.insert().values(values))
        if (member_id, identity) not in staying:
            session.execute(
                delete(subject_identities).where(subject_identities.c.id == source.id)
            )
        moved += 1
    return moved


KEY_PAIR = ["key_bidx", "subject_id"]


def identity_key_rows(
    session: Session, keys: BureauKeys, phone_region: str, subject_ids: list[int] | None = None
) -> pl.DataFrame:
    """(key_bidx, subject_id): the blocking keys the stored identities of these subjects (all
    when None) give, computed afresh; the table has no index by subject to read them from."""
    query = select(*ENCRYPTED_IDENTITY)
    if subject_ids is not None:
        query = query.where(subject_identities.c.subject_id.in_(subject_ids))
    rows = session.execute(query).all()
    if not rows:
        return pl.DataFrame(schema={"key_bidx": pl.Int64, "subject_id": pl.Int64})
    frame = decrypted_identities(keys, rows)
    hashed = hashed_blocking_keys(normalized(frame, phone_region), keys)
    owners = pl.DataFrame(
        {"record_id": frame["record_no"], "subject_id": [row[0] for row in rows]},
        schema={"record_id": pl.Int64, "subject_id": pl.Int64},
    )
    return hashed.join(owners, on="record_id").select(KEY_PAIR).unique()


def rebuild_blocking_keys(
    session: Session, keys: BureauKeys, phone_region: str, subject_ids: list[int] | None = None
) -> int:
    """Stores the blocking keys of these subjects' identities (all subjects when None, after
    removing every stored key). For named subjects keys are only added: an identity was
    attached to them; a split removes what leaves with `forget_blocking_keys`."""
    if subject_ids is None:
        session.execute(delete(identity_blocking_keys))
    linked = identity_key_rows(session, keys, phone_region, subject_ids)
    store_blocking_keys(session, linked, new_subjects=subject_ids is None)
    return linked.height
