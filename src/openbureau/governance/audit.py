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

import orjson
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
# The head is read and the events chained onto it in one statement, the hashes computed by
# the server: sha256 of the text event_hash hashes, which is `prev|head seq tail` because the
# seq is the one member only the server knows; each event of the batch chains onto the one
# before (the recursive `chain`). Nothing has to come back to the client while the lock is
# held, so a caller can send the lock, this and its COMMIT in one round trip: the lock is
# then held for the server's work alone, not for a client thread's wake-ups (each one a wait
# for a core and for the GIL on a busy host), which serialised every report under load.
# verify_chain recomputes every hash in Python, which holds the two definitions equal.
_PG_APPEND_CHAINED = """WITH RECURSIVE
events AS (
    SELECT * FROM ROWS FROM (jsonb_to_recordset(%(events)s::jsonb) AS (
        at timestamptz, actor text, action text, subject integer, detail text, head text,
        tail text)) WITH ORDINALITY AS e(at, actor, action, subject, detail, head, tail, i)),
chain AS (
    SELECT 0::bigint AS i, coalesce(last.seq, 0) AS seq,
           coalesce(last.hash, %(genesis)s::text) AS hash, NULL::text AS prev
    FROM (SELECT 1) one
    LEFT JOIN (SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1) last ON true
    UNION ALL
    SELECT c.i + 1, c.seq + 1,
           encode(sha256(convert_to(
               c.hash || '|' || e.head || (c.seq + 1)::text || e.tail, 'UTF8')), 'hex'),
           c.hash
    FROM chain c JOIN events e ON e.i = c.i + 1)
INSERT INTO audit_events (seq, occurred_at, actor, action, subject_id, detail, prev_hash, hash)
SELECT c.seq, e.at, e.actor, e.action, e.subject, e.detail, c.prev, c.hash
FROM chain c JOIN events e ON e.i = c.i
ORDER BY c.seq
RETURNING seq"""


@dataclass(frozen=True)
class Event:
    """An audit event to append: who did what, about which subject."""

    actor: str
    action: str
    detail: dict[str, Any]
    subject_id: int | None = None


def queue_pg_append(
    raw: Any, actor: str, action: str, detail: dict[str, Any], subject_id: int | None = None
) -> Any:
    """Send the audit lock and one chained event on a psycopg connection, in the caller's
    transaction; returns the cursor whose row will be the event's seq (queue_pg_append_many)."""
    return queue_pg_append_many(raw, [Event(actor, action, detail, subject_id)])


def queue_pg_append_many(raw: Any, events: list[Event]) -> Any:
    """Send the audit lock and the events, chained in their order, on a psycopg connection, in
    the caller's transaction; returns the cursor whose rows will be the events' seqs.

    Inside the caller's `raw.pipeline()` both go out in that pipeline's round trip, with what
    else it holds (the rows the events are about, the COMMIT). The server runs the insert once
    the lock is granted, and in READ COMMITTED that statement's snapshot sees every append
    committed before, so two workers never chain onto one event. The events' time is taken
    here, before the lock: concurrent events may be a few milliseconds out of order in time;
    their order is the seq.
    """
    occurred_at = datetime.now(UTC)
    rows = []
    for event in events:
        detail_text = _canonical(event.detail)
        head, tail = _body_around_seq(
            occurred_at, event.actor, event.action, event.subject_id, detail_text
        )
        rows.append(
            {
                "at": occurred_at,
                "actor": event.actor,
                "action": event.action,
                "subject": event.subject_id,
                "detail": detail_text,
                "head": head,
                "tail": tail,
            }
        )
    raw.execute(_PG_LOCK, (_AUDIT_LOCK_ID,))
    # The events go as one JSON document: psycopg dumps arrays of text element by element in
    # Python, which cost more than the whole insert.
    return raw.execute(
        _PG_APPEND_CHAINED, {"events": orjson.dumps(rows).decode(), "genesis": GENESIS_HASH}
    )


def _body_around_seq(
    occurred_at: datetime, actor: str, action: str, subject_id: int | None, detail: str
) -> tuple[str, str]:
    """event_hash's canonical body split around the seq's digits: the members in sorted order
    (action, actor, at, detail, seq, subject), each value encoded as _canonical encodes it."""
    head = (
        f'{{"action":{_canonical(action)},"actor":{_canonical(actor)},'
        f'"at":{_canonical(_timestamp_text(occurred_at))},"detail":{_canonical(detail)},"seq":'
    )
    return head, f',"subject":{_canonical(subject_id)}}}'


def append_event(
    session: Session,
    actor: str,
    action: str,
    detail: dict[str, Any],
    subject_id: int | None = None,
) -> int:
    """Append one event inside the caller's transaction; returns its sequence number.

    Appends are serialised until the caller's commit: on PostgreSQL by a transaction-level
    advisory lock, on SQLite by the write lock every transaction takes up front (db.py). The
    head is read only once the lock is held, so two workers never chain onto the same event.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        # Results are read after the block: reading inside it would cost a round trip more.
        with raw.pipeline():
            appended = queue_pg_append(raw, actor, action, detail, subject_id)
        return appended.fetchone()[0]
    last = connection.execute(_HEAD).first()
    seq = (last[0] + 1) if last else 1
    prev = last[1] if last else GENESIS_HASH
    occurred_at = datetime.now(UTC)
    detail_text = _canonical(detail)
    digest = event_hash(prev, seq, occurred_at, actor, action, subject_id, detail_text)
    values = (seq, occurred_at, actor, action, subject_id, detail_text, prev, digest)
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
