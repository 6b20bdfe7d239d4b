"""Typed FastAPI dependencies: the bureau context, the DB session, the calling member."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from openbureau.api.problems import Problem
from openbureau.context import Bureau
from openbureau.db import is_postgres
from openbureau.governance.members import Member, Role, authenticate

# Dependencies that do no I/O are `async def`: FastAPI runs a sync one in the thread pool, and
# a hop there costs more CPU than the whole of a cheap dependency (about 0.3 ms each). The tree
# is kept shallow too: FastAPI's per-request cost grows with every level it resolves.


async def get_bureau(request: Request) -> Bureau:
    return request.app.state.bureau


BureauDep = Annotated[Bureau, Depends(get_bureau)]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; endpoints commit their own unit of work, errors roll back.

    Opening a session does no I/O (it connects on first use), and neither does closing one
    whose work was committed; only a session left in a transaction, whose close rolls back
    over the network, is closed in the thread pool.
    """
    session = request.app.state.bureau.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


Authorization = Annotated[str | None, Header(include_in_schema=False)]


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Problem(401, "Unauthorized", "send an API key as 'Authorization: Bearer <key>'")
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Problem(401, "Unauthorized", "the Authorization header must be 'Bearer <key>'")
    return key.strip()


async def bearer_key(authorization: Authorization = None) -> str:
    """The presented API key, not yet looked up (no I/O); 401 if missing or malformed."""
    return _bearer(authorization)


BearerKey = Annotated[str, Depends(bearer_key)]


def member_for_key(session: Session, key: str, role: Role | None = None) -> Member:
    """The member owning an active key (401 otherwise), holding `role` if given (403)."""
    member = authenticate(session, key)
    if member is not None and not is_postgres(session.get_bind()):
        # SQLite transactions take the database's write lock up front (BEGIN IMMEDIATE): end
        # the key lookup's so that work in another session (a submission) is not blocked by
        # it. PostgreSQL readers lock nothing; the endpoint's work continues this
        # transaction, saving a ROLLBACK and a BEGIN per request.
        session.rollback()
    if (refused := refusal(member, role)) is not None:
        raise refused
    return member  # type: ignore[return-value]  # refusal() answers a missing member


def refusal(member: Member | None, role: Role | None) -> Problem | None:
    """The Problem answering a request whose key gave `member` (None: no active key), if it
    may not do what needs `role`."""
    if member is None:
        return Problem(401, "Unauthorized", "the API key is unknown, malformed or revoked")
    if role is not None and not member.has(role):
        return Problem(
            403,
            "Forbidden",
            f"this operation needs the {role.value} role",
            kind="role-required",
        )
    return None


def get_member(session: SessionDep, authorization: Authorization = None) -> Member:
    return member_for_key(session, _bearer(authorization))


MemberDep = Annotated[Member, Depends(get_member)]


def require(role: Role):
    # Authenticates itself rather than depending on get_member: one level less to resolve.
    def check(session: SessionDep, authorization: Authorization = None) -> Member:
        return member_for_key(session, _bearer(authorization), role)

    return check


FurnisherDep = Annotated[Member, Depends(require(Role.FURNISHER))]
SubscriberDep = Annotated[Member, Depends(require(Role.SUBSCRIBER))]
RegulatorDep = Annotated[Member, Depends(require(Role.REGULATOR))]
OperatorDep = Annotated[Member, Depends(require(Role.OPERATOR))]
