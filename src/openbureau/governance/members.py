"""Members (institutions), their roles, and their API keys.

Keys look like ``ob_<prefix>_<secret>``: the prefix finds the key, and only a SHA-256 of the
secret is stored. A key is shown once, when it is issued.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openbureau.governance.audit import append_event
from openbureau.governance.tables import api_keys, members

MEMBER_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


class Role(StrEnum):
    FURNISHER = "furnisher"
    SUBSCRIBER = "subscriber"
    REGULATOR = "regulator"
    # The bureau's own staff (identity review); every staff lookup is audited.
    OPERATOR = "operator"


class MemberError(ValueError):
    """A member or key operation that cannot be done, with the reason."""


@dataclass(frozen=True)
class Member:
    id: int
    code: str
    name: str
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def actor(self) -> str:
        return f"member:{self.code}"


@dataclass(frozen=True)
class IssuedKey:
    key_id: int
    member_code: str
    prefix: str
    secret_key: str  # shown once; never stored


def _parse_roles(value: str) -> frozenset[Role]:
    return frozenset(Role(r) for r in value.split(",") if r)


def _row_to_member(row) -> Member:
    return Member(row.id, row.code, row.name, _parse_roles(row.roles))


def add_member(session: Session, code: str, name: str, roles: list[Role], actor: str) -> Member:
    if not MEMBER_CODE.match(code):
        raise MemberError(
            f"member code {code!r} must be 2-64 lowercase letters, digits, '-' or '_'"
        )
    if not roles:
        raise MemberError("a member needs at least one role")
    role_text = ",".join(sorted({r.value for r in roles}))
    try:
        with session.begin_nested():
            member_id = session.connection().execute(
                members.insert()
                .values(code=code, name=name, roles=role_text, created_at=datetime.now(UTC))
                .returning(members.c.id)
            ).scalar_one()
    except IntegrityError as exc:
        raise MemberError(f"member {code!r} already exists") from exc
    append_event(session, actor, "member.add", {"member": code, "roles": role_text})
    return Member(member_id, code, name, frozenset(roles))


def list_members(session: Session) -> list[Member]:
    rows = session.connection().execute(select(members).order_by(members.c.code)).all()
    return [_row_to_member(r) for r in rows]


def get_member(session: Session, code: str) -> Member:
    row = session.connection().execute(select(members).where(members.c.code == code)).first()
    if row is None:
        raise MemberError(f"no member {code!r}")
    return _row_to_member(row)


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(session: Session, member_code: str, actor: str, label: str = "") -> IssuedKey:
    member = get_member(session, member_code)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key_id = session.connection().execute(
        api_keys.insert()
        .values(
            member_id=member.id,
            prefix=prefix,
            key_hash=_hash_secret(secret),
            label=label,
            created_at=datetime.now(UTC),
        )
        .returning(api_keys.c.id)
    ).scalar_one()
    append_event(session, actor, "key.issue", {"member": member_code, "key_id": key_id})
    return IssuedKey(key_id, member_code, prefix, f"ob_{prefix}_{secret}")


def revoke_key(session: Session, key_id: int, actor: str) -> None:
    done = session.connection().execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    ).rowcount
    if not done:
        raise MemberError(f"no active key with id {key_id}")
    append_event(session, actor, "key.revoke", {"key_id": key_id})


def list_keys(session: Session, member_code: str | None = None) -> list[dict]:
    query = select(
        api_keys.c.id,
        members.c.code,
        api_keys.c.prefix,
        api_keys.c.label,
        api_keys.c.created_at,
        api_keys.c.revoked_at,
    ).join(members, members.c.id == api_keys.c.member_id)
    if member_code:
        query = query.where(members.c.code == member_code)
    return [
        {
            "key_id": r.id,
            "member": r.code,
            "prefix": r.prefix,
            "label": r.label,
            "created_at": r.created_at.isoformat(),
            "revoked": r.revoked_at is not None,
        }
        for r in session.connection().execute(query.order_by(api_keys.c.id)).all()
    ]


_KEY_LOOKUP = (
    select(
        api_keys.c.key_hash,
        api_keys.c.revoked_at,
        members.c.id,
        members.c.code,
        members.c.name,
        members.c.roles,
    )
    .join(members, members.c.id == api_keys.c.member_id)
    .where(api_keys.c.prefix == bindparam("prefix"))
)


# Every API request runs this first; on PostgreSQL it goes straight to the driver, skipping
# SQLAlchemy's per-statement work, which costs more than the lookup.
_PG_KEY_LOOKUP = (
    "SELECT k.key_hash, k.revoked_at, m.id, m.code, m.name, m.roles "
    "FROM api_keys k JOIN members m ON m.id = k.member_id WHERE k.prefix = %s"
)


def authenticate(session: Session, presented: str) -> Member | None:
    """The member owning an active key, or None for a malformed, unknown or revoked key."""
    parts = _key_parts(presented)
    if parts is None:
        return None
    prefix, secret = parts
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        row = raw.execute(_PG_KEY_LOOKUP, (prefix,)).fetchone()
    else:
        row = connection.execute(_KEY_LOOKUP, {"prefix": prefix}).first()
    return _member_holding(row, secret)


_PG_KEYS_LOOKUP = (
    "SELECT k.prefix, k.key_hash, k.revoked_at, m.id, m.code, m.name, m.roles "
    "FROM api_keys k JOIN members m ON m.id = k.member_id WHERE k.prefix = ANY(%s)"
)


def queue_authenticate_pg(raw: Any, presented: list[str]) -> Callable[[], dict]:
    """`authenticate` for many presented keys at once, sent on a psycopg connection (in the
    caller's pipeline, if any); the returned function, called once the results are in, maps
    each presented key to its member or None."""
    parts = {key: _key_parts(key) for key in presented}
    prefixes = sorted({p[0] for p in parts.values() if p is not None})
    cursor = raw.execute(_PG_KEYS_LOOKUP, (prefixes,))

    def members_by_key() -> dict[str, Member | None]:
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
        return {
            key: None if p is None else _member_holding(rows.get(p[0]), p[1])
            for key, p in parts.items()
        }

    return members_by_key


def _key_parts(presented: str) -> tuple[str, str] | None:
    """(prefix, secret) of a key shaped `ob_<prefix>_<secret>`, else None."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "ob" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def _member_holding(row: Sequence | None, secret: str) -> Member | None:
    """The member of a key row (key_hash, revoked_at, member columns) if `secret` is its
    secret and it is not revoked."""
    if row is None:
        return None
    key_hash, revoked_at, member_id, code, name, roles = row[:6]
    if revoked_at is not None or not hmac.compare_digest(key_hash, _hash_secret(secret)):
        return None
    return Member(member_id, code, name, _parse_roles(roles))
