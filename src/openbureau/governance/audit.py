"""The append-only, hash-chained audit log.

Each event's hash commits to the previous event's hash and to its own content, so a
changed, removed or reordered event breaks the chain at that point.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbureau.governance.tables import audit_events

GENESIS_HASH = "0" * 64
# Arbitrary constant naming the PostgreSQL advisory lock that serialises appends.
_AUDIT_LOCK_ID = 0x0B0A0D17


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(
    prev_hash: str,
    seq: int,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject_id: int | None,
    detail: str,
) -> str:
    body = _canonical(
        {
            "seq": seq,
            "at": _timestamp_text(occurred_at),
            "actor": actor,
            "action": action,
            "subject": subject_id,
            "detail": detail,
        }
    )
    return hashlib.sha256((prev_hash + "|" + body).encode()).hexdigest()


def _timestamp_text(value: datetime) -> str:
    # SQLite hands back naive datetimes; the chain always hashes UTC wall time in microseconds.
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


_HEAD = select(audit_events.c.seq, audit_events.c.hash).order_by(audit_events.c.seq.desc()).limit(1)
_APPEND = audit_events.insert()
# PostgreSQL, on the driver connection: appends are on every report's path.
_PG_LOCK = "SELECT pg_advisory_xact_lock(%s)"
_PG_HEAD = "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1"
_PG_APPEND = (
    "INSERT INTO audit_events (seq, occurred_at, actor, action, subject_id, detail, prev_hash, "
    "hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


def append_event(
    session: Session,
    actor: str,
    action: str,
    detail: dict[str, Any],
    subject_id: int | None = None,
    *,
    pg_first: tuple[str, dict[str, Any]] | None = None,
) -> int:
    """Append one event inside the caller's transaction; returns its sequence number.

    Appends are serialised until the caller's commit: on PostgreSQL by a transaction-level
    advisory lock, on SQLite by the write lock every transaction takes up front (db.py). The
    head is read only once the lock is held, so two workers never chain onto the same event.

    `pg_first`, on PostgreSQL only: a driver-level statement and its parameters to run just
    before taking the lock, in the same round trip (the inquiry the event is about).
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        # Pipelined: one round trip. The server runs the head read after the lock is granted,
        # and in READ COMMITTED that statement's snapshot sees every append committed before.
        # Results are read after the block: reading inside it would cost a round trip more.
        with raw.pipeline():
            if pg_first is not None:
                raw.execute(*pg_first)
            raw.execute(_PG_LOCK, (_AUDIT_LOCK_ID,))
            head = raw.execute(_PG_HEAD)
        last = head.fetchone()
    else:
        last = connection.execute(_HEAD).first()
    seq = (last[0] + 1) if last else 1
    prev = last[1] if last else GENESIS_HASH
    occurred_at = datetime.now(UTC)
    detail_text = _canonical(detail)
    digest = event_hash(prev, seq, occurred_at, actor, action, subject_id, detail_text)
    values = (seq, occurred_at, actor, action, subject_id, detail_text, prev, digest)
    if connection.dialect.name == "postgresql":
        raw.execute(_PG_APPEND, values)
    else:
        connection.execute(_APPEND, dict(zip(_COLUMNS, values, strict=True)))
    return seq


_COLUMNS = ("seq", "occurred_at", "actor", "action", "subject_id", "detail", "prev_hash", "hash")


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    events: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head_hash": self.head_hash,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


def _rows(session: Session, batch: int = 10_000) -> Iterator[Any]:
    result = (
        session.connection()
        .execute(select(audit_events).order_by(audit_events.c.seq))
        .yield_per(batch)
    )
    yield from result


def verify_chain(session: Session) -> ChainVerdict:
    """Walk the whole log and report the first event that breaks the chain."""
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for row in _rows(session):
        if row.seq != expected_seq:
            return ChainVerdict(
                False,
                count,
                prev,
                expected_seq,
                f"event {expected_seq} is missing (next present is {row.seq})",
            )
        if row.prev_hash != prev:
            return ChainVerdict(
                False,
                count,
                prev,
                row.seq,
                f"event {row.seq} does not follow event {row.seq - 1} (removed or reordered)",
            )
        recomputed = event_hash(
            prev, row.seq, row.occurred_at, row.actor, row.action, row.subject_id, row.detail
        )
        if recomputed != row.hash:
            return ChainVerdict(
                False, count, prev, row.seq, f"event {row.seq} was changed after it was written"
            )
        prev = row.hash
        expected_seq += 1
        count += 1
    return ChainVerdict(True, count, prev)
