"""Answering many inquiries at once on PostgreSQL: one transaction, three round trips.

Under load an API worker holds many inquiries at the same time. Answered one by one, each
pays for its own transaction, pool checkout and about fourteen statements, and that
per-statement work (psycopg's, SQLAlchemy's and the server's) was most of a report's cost:
building the report itself is a tenth of it. Here the inquiries that arrived together share
it all:

1. the API keys and the national IDs' identities on file, for every inquiry at once;
2. the reads of every report (reports/pg_reads.py, the statements make_inquiry uses too);
3. the inquiry rows, the chained audit events and the COMMIT.

Each report is the one make_inquiry would give: the same checks in the same order, the same
reads, the same report builder; tests/reports/test_pg_batch.py holds them equal. Inquiries
answered together are concurrent: like two requests in flight at once, none of them lists
another among the recent inquiries. Inquiries the national ID does not settle as a hit (no ID,
an ID new to the bureau, names and birth dates that disagree) go through make_inquiry one by
one after the batch, each in its own transaction; so do all of a batch's inquiries when
building its reports fails, before anything of it was written, so that one request's error
is its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from openbureau.api.deps import refusal
from openbureau.api.problems import Problem
from openbureau.context import Bureau
from openbureau.governance.audit import Event
from openbureau.governance.members import Member, Role, queue_authenticate_pg
from openbureau.identity.decide import (
    HIT,
    InquiryIdentity,
    InquiryIndexes,
    decide_on_national_id,
)
from openbureau.identity.resolve import queue_exact_candidates_pg
from openbureau.reports.inquiry import (
    SERVED,
    Answer,
    check_inquiry,
    make_inquiry,
    report_from_reads,
    served_detail,
    write_pg,
)
from openbureau.reports.pg_reads import read_for_reports


@dataclass(frozen=True)
class InquiryRequest:
    """One inquiry as it came in: the key presented and what it asks."""

    key: str
    identity: InquiryIdentity
    purpose: str
    consent_reference: str


@dataclass
class _Hit:
    position: int
    member: Member
    answer: Answer
    subject_id: int


def answer_many(bureau: Bureau, requests: list[InquiryRequest]) -> list[dict | Exception]:
    """Each request's report, or the Problem refusing it, in the order given.

    A request whose report fails (an error, not a refusal) gets its exception, for the
    endpoint to raise, and takes no other request down: when building the batch's reports
    fails, nothing of it was written, and its inquiries are answered one by one instead."""
    results: list[dict | Exception | None] = [None] * len(requests)
    one_by_one: list[tuple[int, Member]] = []
    hits: list[_Hit] = []
    indexes = [InquiryIndexes.of(bureau.keys, r.identity) for r in requests]
    with bureau.sessions() as session:
        raw = session.connection().connection.driver_connection
        with raw.pipeline():
            members_by_key = queue_authenticate_pg(raw, sorted({r.key for r in requests}))
            candidates_of = queue_exact_candidates_pg(
                raw, sorted({i.national_id for i in indexes if i.national_id is not None})
            )
        members, on_file = members_by_key(), candidates_of()
        now = datetime.now(UTC)
        for position, (request, blind) in enumerate(zip(requests, indexes, strict=True)):
            member = members[request.key]
            try:
                purpose = _checked(bureau, member, request)
            except Problem as refused:
                results[position] = refused
                continue
            match = (
                decide_on_national_id(on_file.get(blind.national_id, []), blind.name, blind.dob)
                if blind.national_id is not None
                else None
            )
            if match is None or match.outcome != HIT:
                one_by_one.append((position, member))
                continue
            answer = Answer(member, purpose, request.consent_reference, now)
            hits.append(_Hit(position, member, answer, match.subject_id))
        if hits:
            try:
                _answer_hits(bureau, session, hits, now, results)
            except _NotWritten:
                session.rollback()
                one_by_one += [(hit.position, hit.member) for hit in hits]
    for position, member in sorted(one_by_one):
        try:
            results[position] = _answer_alone(bureau, member, requests[position])
        except Exception as failed:  # a refusal (a Problem) or an error, for its endpoint
            results[position] = failed
    return results  # type: ignore[return-value]  # every position is filled above


class _NotWritten(Exception):
    """The batch failed before any of it was sent to be written."""


def _checked(bureau: Bureau, member: Member | None, request: InquiryRequest):
    """The request's purpose, or the Problem the one-by-one endpoint would answer."""
    if (refused := refusal(member, Role.SUBSCRIBER)) is not None:
        raise refused
    return check_inquiry(bureau, member, request.purpose, request.consent_reference)


def _answer_hits(bureau, session, hits: list[_Hit], now: datetime, results: list) -> None:
    """The hits' reports, written and committed together."""
    since = now - timedelta(days=bureau.settings.inquiry_history_days)
    try:
        reads = read_for_reports(session, [hit.subject_id for hit in hits], since)
        served = []
        for hit, read in zip(hits, reads, strict=True):
            report, score = report_from_reads(bureau, session, hit.answer, hit.subject_id, read)
            served.append((hit, report, score))
    except Exception as failed:
        raise _NotWritten from failed
    rows = [
        hit.answer.row(hit.subject_id, score) | {"id": report["inquiry"]["inquiry_id"]}
        for hit, report, score in served
    ]
    events = [
        Event(hit.member.actor, SERVED, served_detail(hit.answer, report, score), hit.subject_id)
        for hit, report, score in served
    ]
    write_pg(session, rows, events, commit=True)
    for hit, report, _ in served:
        results[hit.position] = report


def _answer_alone(bureau: Bureau, member: Member, request: InquiryRequest) -> dict:
    with bureau.sessions() as session:
        return make_inquiry(
            bureau,
            session,
            member,
            request.identity,
            request.purpose,
            request.consent_reference,
            commit=True,
        )
