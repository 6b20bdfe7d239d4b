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

from sqlalchemy import select, text
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
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def append_event(
    session: Session,
    actor: str,
    action: str,
    detail: dict[str, Any],
    subject_id: int | None = None,
) -> int:
    """Append one event inside the caller's transaction; returns its sequence number."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_LOCK, {"k": _AUDIT_LOCK_ID})
    last = session.connection().execute(_HEAD).first()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS_HASH
    occurred_at = datetime.now(UTC)
    detail_text = _canonical(detail)
    session.connection().execute(
        _APPEND,
        {
            "seq": seq,
            "occurred_at": occurred_at,
            "actor": actor,
            "action": action,
            "subject_id": subject_id,
            "detail": detail_text,
            "prev_hash": prev,
            "hash": event_hash(prev, seq, occurred_at, actor, action, subject_id, detail_text),
        },
    )
    return seq


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
