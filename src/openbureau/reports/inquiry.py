"""Answering a member's inquiry: match the consumer, record the inquiry, build the report.

A report goes out only for one clear match, a permissible purpose of this jurisdiction and
a consent reference. Every inquiry is recorded, hit or not, and every report served is
audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from openbureau.api.problems import Problem
from openbureau.context import Bureau
from openbureau.db import is_postgres
from openbureau.files.credit_file import (
    SUBJECT_FAMILY,
    Account,
    accounts_from_rows,
    load_accounts,
    summarize,
    with_associations,
)
from openbureau.governance.audit import Event, append_event, queue_pg_append_many
from openbureau.governance.jurisdictions import Purpose
from openbureau.governance.members import Member, Role
from openbureau.identity.decide import HIT, MORE_DATA, InquiryIdentity, match_inquiry
from openbureau.identity.matching import ENCRYPTED_IDENTITY, MatchSettings
from openbureau.identity.model_store import inquiry_model
from openbureau.identity.tables import subject_identities
from openbureau.reports.pg_reads import ReportReads, read_for_report
from openbureau.reports.tables import inquiries
from openbureau.scoring.service import score_for_report, score_from_inputs

# The identity columns after the subject: type, then the encrypted ID, name, birth date,
# address and phone.
_IDENTITIES = (
    select(*ENCRYPTED_IDENTITY[1:])
    .where(subject_identities.c.subject_id.in_(SUBJECT_FAMILY))
    .order_by(subject_identities.c.id)
)
_RECENT_HARD_INQUIRIES = (
    select(inquiries.c.id, inquiries.c.member_id, inquiries.c.purpose, inquiries.c.created_at)
    .where(
        inquiries.c.subject_id.in_(SUBJECT_FAMILY),
        inquiries.c.hard.is_(True),
        inquiries.c.created_at >= bindparam("since"),
    )
    .order_by(inquiries.c.created_at.desc(), inquiries.c.id.desc())
)
_INSERT_INQUIRY = inquiries.insert().returning(inquiries.c.id)

NO_HIT_MESSAGE = (
    "No credit file matches this identity clearly enough to report. Check the national ID, "
    "name and date of birth."
)


MORE_DATA_MESSAGE = (
    "More than one credit file could fit this identity, or none fits it clearly enough. "
    "Send the inquiry again with the fields listed in missing_fields."
)


class InquiryRefused(Problem):
    """The inquiry cannot be answered at all (role, purpose); nothing was looked up. The API
    answers it as the Problem it is."""


def resolve_purpose(bureau: Bureau, code: str) -> Purpose:
    purpose = bureau.profile.purpose(code)
    if purpose is None:
        allowed = ", ".join(bureau.profile.purpose_codes)
        raise InquiryRefused(
            422,
            "Purpose not permitted",
            f"purpose {code!r} is not permissible in {bureau.profile.code}; use one of: {allowed}",
        )
    return purpose


def check_inquiry(
    bureau: Bureau, member: Member, purpose_code: str, consent_reference: str
) -> Purpose:
    """The inquiry's purpose, if this member may ask for it with this consent reference;
    InquiryRefused otherwise. Nothing is looked up."""
    if not member.has(Role.SUBSCRIBER):
        raise InquiryRefused(403, "Not a subscriber", "only subscribers may request reports")
    purpose = resolve_purpose(bureau, purpose_code)
    if not consent_reference.strip():
        raise InquiryRefused(422, "Consent required", "consent_reference must not be blank")
    return purpose


def make_inquiry(
    bureau: Bureau,
    session: Session,
    member: Member,
    identity: InquiryIdentity,
    purpose_code: str,
    consent_reference: str,
    *,
    commit: bool = False,
) -> dict:
    """The answer to one inquiry, the inquiry recorded and audited in the session's
    transaction. With `commit` that transaction is committed before the answer is returned;
    on PostgreSQL the COMMIT goes out with the last writes (_write)."""
    purpose = check_inquiry(bureau, member, purpose_code, consent_reference)
    settings = bureau.settings
    match = match_inquiry(
        session,
        bureau.keys,
        lambda: inquiry_model(session, settings, bureau.identity_models),
        MatchSettings.from_settings(settings),
        identity,
    )
    subject_id = match.subject_id
    now = datetime.now(UTC)
    answer = Answer(member, purpose, consent_reference, now)
    postgres = is_postgres(session.get_bind())
    if match.outcome != HIT:
        row = answer.row(None, None, match.outcome)
        if postgres:
            raw = session.connection().connection.driver_connection
            inquiry_id = raw.execute(_PG_NEXT_INQUIRY_ID).fetchone()[0]
        else:
            inquiry_id = _record_inquiry(session, row)
        _write(
            session,
            row | {"id": inquiry_id} if postgres else None,
            member.actor,
            f"inquiry.{match.outcome}",
            {"inquiry_id": inquiry_id, "purpose": purpose.code, "consent": consent_reference},
            None,
            commit,
        )
        if match.outcome == MORE_DATA:
            return answer.header(inquiry_id) | {
                "result": MORE_DATA,
                "message": MORE_DATA_MESSAGE,
                "missing_fields": list(match.missing_fields),
            }
        return answer.header(inquiry_id) | {"result": "no_hit", "message": NO_HIT_MESSAGE}
    if postgres:
        report, score = _hit_pg(bureau, session, answer, subject_id)
        inquiry_id = report["inquiry"]["inquiry_id"]
    else:
        score = score_for_report(bureau, session, subject_id)
        inquiry_id = _record_inquiry(session, answer.row(subject_id, score))
        body = build_report_body(bureau, session, member, subject_id, inquiry_id, now)
        report = answer.header(inquiry_id) | {"result": "hit"} | body | {"score": score}
    _write(
        session,
        answer.row(subject_id, score) | {"id": inquiry_id} if postgres else None,
        member.actor,
        SERVED,
        served_detail(answer, report, score),
        subject_id,
        commit,
    )
    return report


SERVED = "report.serve"


def served_detail(answer: Answer, report: dict, score: dict) -> dict:
    """What the audit event of a report served records."""
    return {
        "inquiry_id": report["inquiry"]["inquiry_id"],
        "report_id": report["report_id"],
        "purpose": answer.purpose.code,
        "consent": answer.consent_reference,
        "accounts": len(report["accounts"]),
        "score": score.get("score"),
        "model_version": score.get("model_version"),
    }


def _write(
    session: Session,
    pg_inquiry: dict | None,
    actor: str,
    action: str,
    detail: dict,
    subject_id: int | None,
    commit: bool,
) -> None:
    """The inquiry's audit event, and the commit if asked.

    On PostgreSQL (`pg_inquiry`: the inquiry's row, not written yet) the row, the audit lock,
    the chained event and the COMMIT go out in one round trip: the lock that serialises every
    report is held for the server's work alone. On SQLite the row is written already.
    """
    if pg_inquiry is None:
        append_event(session, actor, action, detail, subject_id=subject_id)
        if commit:
            session.commit()
        return
    write_pg(session, [pg_inquiry], [Event(actor, action, detail, subject_id)], commit)


def write_pg(session: Session, rows: list[dict], events: list[Event], commit: bool) -> None:
    """Inquiry rows (with their reserved ids) and their audit events on PostgreSQL, and the
    commit if asked, in one round trip: the rows in one statement, the audit lock, the events
    chained in one statement, the COMMIT."""
    raw = session.connection().connection.driver_connection
    with raw.pipeline():
        raw.execute(_PG_INSERT_INQUIRIES, (orjson.dumps(rows).decode(),))
        queue_pg_append_many(raw, events)
        if commit:
            # A statement rather than raw.commit(), which would wait for the results inside
            # the pipeline and then pay a second round trip to leave it.
            raw.execute("COMMIT", prepare=False)
    if commit:
        session.commit()  # ends the session's transaction; the connection is idle: no I/O


@dataclass(frozen=True)
class Answer:
    """What an inquiry's answer says about the inquiry itself."""

    member: Member
    purpose: Purpose
    consent_reference: str
    now: datetime

    def header(self, inquiry_id: int) -> dict:
        return {
            "report_id": str(uuid.uuid4()),
            "generated_at": self.now.isoformat(),
            "inquiry": {
                "inquiry_id": inquiry_id,
                "member": self.member.code,
                "purpose": self.purpose.code,
                "hard": self.purpose.hard,
                "consent_reference": self.consent_reference,
            },
        }

    def row(self, subject_id: int | None, score: dict | None, outcome: str = HIT) -> dict:
        return {
            "member_id": self.member.id,
            "subject_id": subject_id,
            "purpose": self.purpose.code,
            "consent_ref": self.consent_reference,
            "hard": self.purpose.hard,
            "outcome": outcome,
            "created_at": self.now,
            "score": score.get("score") if score else None,
            "score_model_version": score.get("model_version") if score else None,
        }


def _record_inquiry(session: Session, row: dict) -> int:
    return session.connection().execute(_INSERT_INQUIRY, row).scalar_one()


_PG_NEXT_INQUIRY_ID = "SELECT nextval(pg_get_serial_sequence('inquiries', 'id'))"


# The rows as one JSON document: psycopg dumps array parameters element by element in
# Python, which cost more than the insert.
_PG_INSERT_INQUIRIES = """INSERT INTO inquiries
    (id, member_id, subject_id, purpose, consent_ref, hard, outcome, created_at, score,
     score_model_version)
SELECT id, member_id, subject_id, purpose, consent_ref, hard, outcome, created_at, score,
       score_model_version
FROM jsonb_to_recordset(%s::jsonb) AS r(
    id integer, member_id integer, subject_id integer, purpose text, consent_ref text,
    hard boolean, outcome text, created_at timestamptz, score integer, score_model_version text)"""


def _hit_pg(
    bureau: Bureau, session: Session, answer: Answer, subject_id: int
) -> tuple[dict, dict]:
    """The report and its score on PostgreSQL, from one round trip of reads (pg_reads.py).
    The inquiry is not written yet (its id is reserved), so its own row is not among the
    recent inquiries, as on the portable path, which leaves it out by id."""
    since = answer.now - timedelta(days=bureau.settings.inquiry_history_days)
    return report_from_reads(
        bureau, session, answer, subject_id, read_for_report(session, subject_id, since)
    )


def report_from_reads(
    bureau: Bureau, session: Session, answer: Answer, subject_id: int, reads: ReportReads
) -> tuple[dict, dict]:
    """The report and its score from pg_reads' reads."""
    score = score_from_inputs(bureau, session, subject_id, reads.score)
    body = _body(
        bureau,
        answer.member,
        subject_id,
        with_associations(
            session.connection(),
            accounts_from_rows(reads.accounts),
            reads.associations,
            primary_segments=reads.segments,
        ),
        _inquiry_list(reads.recent_hard_inquiries, answer.member, None),
        reads.identities,
    )
    report = answer.header(reads.inquiry_id) | {"result": "hit"} | body | {"score": score}
    return report, score


def _body(
    bureau: Bureau,
    member: Member,
    subject_id: int,
    accounts: list[Account],
    inquiry_list: list[dict],
    identity_rows: Iterable[Sequence],
) -> dict:
    return {
        "subject": _identity_block(bureau, subject_id, identity_rows),
        "accounts": [_account_view(a, member) for a in accounts],
        "inquiries": inquiry_list,
        "summary": summarize(accounts) | {"hard_inquiries_24m": len(inquiry_list)},
    }


def _identity_block(bureau: Bureau, subject_id: int, rows: Iterable[Sequence]) -> dict:
    """Rows as _IDENTITIES selects them; each value shown once, in the rows' order."""
    decrypt = bureau.keys.decrypt
    names, births, addresses, phones, national_ids = [], [], [], [], []
    for id_type, id_enc, name_enc, dob_enc, address_enc, phone_enc in rows:
        for bucket, blob in (
            (names, name_enc),
            (births, dob_enc),
            (addresses, address_enc),
            (phones, phone_enc),
        ):
            if blob is not None and (value := decrypt(blob)) not in bucket:
                bucket.append(value)
        masked = {"type": id_type, "masked": _mask(decrypt(id_enc))}
        if masked not in national_ids:
            national_ids.append(masked)
    return {
        "subject_id": subject_id,
        "names": names,
        "dates_of_birth": births,
        "national_ids": national_ids,
        "addresses": addresses,
        "phones": phones,
    }


def _inquiry_list(
    rows: Iterable[Sequence], member: Member, current_inquiry_id: int | None
) -> list[dict]:
    """Rows as _RECENT_HARD_INQUIRIES selects them, without the inquiry being answered."""
    return [
        {
            "date": created_at.date().isoformat(),
            "purpose": purpose,
            # Neutrality: another member's inquiry is shown, never whose it was.
            "inquirer": "you" if member_id == member.id else "another member",
        }
        for inquiry_id, member_id, purpose, created_at in rows
        if inquiry_id != current_inquiry_id
    ]


def _mask(value: str) -> str:
    return "*" * max(len(value) - 4, 0) + value[-4:]


def _account_view(account: Account, member: Member) -> dict:
    # Neutrality: a member never learns which other member furnished an account.
    latest = account.latest
    own = account.member_id == member.id
    return {
        "furnisher": "you" if own else "another member",
        "account_ref": latest["account_ref"] if own else None,
        "account_type": latest["account_type"],
        "date_opened": latest["date_opened"].isoformat(),
        "credit_limit": latest["credit_limit"],
        "original_amount": latest["original_amount"],
        "current_balance": latest["current_balance"],
        "amount_past_due": latest["amount_past_due"],
        "account_status": latest["account_status"],
        "date_first_delinquency": _iso(latest["date_first_delinquency"]),
        "date_closed": _iso(latest["date_closed"]),
        "currency": latest["currency"],
        "last_reported": latest["period"],
        "history": account.history(),
        # Metro 2: this consumer's part in the account (ECOA), and what K1-K4 added.
        "ecoa_code": account.ecoa_code,
        "role": account.role,
        "associated_consumer": account.associated,
        **account.segments,
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def build_report_body(
    bureau: Bureau,
    session: Session,
    member: Member,
    subject_id: int,
    current_inquiry_id: int | None,
    now: datetime,
) -> dict:
    accounts = load_accounts(session, subject_id)
    since = now - timedelta(days=bureau.settings.inquiry_history_days)
    connection = session.connection()
    recent = connection.execute(_RECENT_HARD_INQUIRIES, {"subject": subject_id, "since": since})
    inquiry_list = _inquiry_list(recent, member, current_inquiry_id)
    identities = connection.execute(_IDENTITIES, {"subject": subject_id})
    return _body(bureau, member, subject_id, accounts, inquiry_list, identities)
