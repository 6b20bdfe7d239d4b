"""Answering a member's inquiry: match the consumer, record the inquiry, build the report.

A report goes out only for one clear match, a permissible purpose of this jurisdiction and
a consent reference. Every inquiry is recorded, hit or not, and every report served is
audited.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from openbureau.context import Bureau
from openbureau.files.credit_file import SUBJECT_FAMILY, Account, load_accounts, summarize
from openbureau.governance.audit import append_event
from openbureau.governance.jurisdictions import Purpose
from openbureau.governance.members import Member, Role
from openbureau.identity.decide import HIT, MORE_DATA, InquiryIdentity, match_inquiry
from openbureau.identity.matching import MatchSettings
from openbureau.identity.model_store import active_model
from openbureau.identity.tables import subject_identities
from openbureau.reports.tables import inquiries
from openbureau.scoring.service import score_for_report

_IDENTITIES = select(
    subject_identities.c.national_id_type,
    subject_identities.c.national_id_enc,
    subject_identities.c.name_enc,
    subject_identities.c.dob_enc,
    subject_identities.c.address_enc,
    subject_identities.c.phone_enc,
).where(subject_identities.c.subject_id.in_(SUBJECT_FAMILY))
_RECENT_HARD_INQUIRIES = (
    select(inquiries.c.id, inquiries.c.member_id, inquiries.c.purpose, inquiries.c.created_at)
    .where(
        inquiries.c.subject_id.in_(SUBJECT_FAMILY),
        inquiries.c.hard.is_(True),
        inquiries.c.created_at >= bindparam("since"),
    )
    .order_by(inquiries.c.created_at.desc())
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


class InquiryRefused(Exception):
    """The inquiry cannot be answered at all (role, purpose); nothing was looked up."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


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


def make_inquiry(
    bureau: Bureau,
    session: Session,
    member: Member,
    identity: InquiryIdentity,
    purpose_code: str,
    consent_reference: str,
) -> dict:
    if not member.has(Role.SUBSCRIBER):
        raise InquiryRefused(403, "Not a subscriber", "only subscribers may request reports")
    purpose = resolve_purpose(bureau, purpose_code)
    if not consent_reference.strip():
        raise InquiryRefused(422, "Consent required", "consent_reference must not be blank")
    settings = bureau.settings
    match = match_inquiry(
        session,
        bureau.keys,
        lambda: active_model(session, settings, bureau.identity_models),
        MatchSettings.from_settings(settings),
        settings.identity_inquiry_threshold,
        identity,
    )
    subject_id = match.subject_id
    score = score_for_report(bureau, session, subject_id) if subject_id else None
    now = datetime.now(UTC)
    inquiry_id = (
        session.connection()
        .execute(
            _INSERT_INQUIRY,
            {
                "member_id": member.id,
                "subject_id": subject_id,
                "purpose": purpose.code,
                "consent_ref": consent_reference,
                "hard": purpose.hard,
                "outcome": match.outcome,
                "created_at": now,
                "score": score.get("score") if score else None,
                "score_model_version": score.get("model_version") if score else None,
            },
        )
        .scalar_one()
    )
    report_id = str(uuid.uuid4())
    header = {
        "report_id": report_id,
        "generated_at": now.isoformat(),
        "inquiry": {
            "inquiry_id": inquiry_id,
            "member": member.code,
            "purpose": purpose.code,
            "hard": purpose.hard,
            "consent_reference": consent_reference,
        },
    }
    if match.outcome != HIT:
        append_event(
            session,
            member.actor,
            f"inquiry.{match.outcome}",
            {"inquiry_id": inquiry_id, "purpose": purpose.code, "consent": consent_reference},
        )
        if match.outcome == MORE_DATA:
            return header | {
                "result": MORE_DATA,
                "message": MORE_DATA_MESSAGE,
                "missing_fields": list(match.missing_fields),
            }
        return header | {"result": "no_hit", "message": NO_HIT_MESSAGE}
    report = (
        header
        | {"result": "hit"}
        | build_report_body(bureau, session, member, subject_id, inquiry_id, now)
        | {"score": score}
    )
    append_event(
        session,
        member.actor,
        "report.serve",
        {
            "inquiry_id": inquiry_id,
            "report_id": report_id,
            "purpose": purpose.code,
            "consent": consent_reference,
            "accounts": len(report["accounts"]),
            "score": score.get("score"),
            "model_version": score.get("model_version"),
        },
        subject_id=subject_id,
    )
    return report


def _identity_block(bureau: Bureau, session: Session, subject_id: int) -> dict:
    rows = session.connection().execute(_IDENTITIES, {"subject": subject_id}).all()
    decrypt = bureau.keys.decrypt
    names, births, addresses, phones, national_ids = [], [], [], [], []
    for row in rows:
        for bucket, blob in (
            (names, row.name_enc),
            (births, row.dob_enc),
            (addresses, row.address_enc),
            (phones, row.phone_enc),
        ):
            if blob is not None and (value := decrypt(blob)) not in bucket:
                bucket.append(value)
        masked = {"type": row.national_id_type, "masked": _mask(decrypt(row.national_id_enc))}
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
    recent = (
        session.connection()
        .execute(_RECENT_HARD_INQUIRIES, {"subject": subject_id, "since": since})
        .all()
    )
    inquiry_list = [
        {
            "date": row.created_at.date().isoformat(),
            "purpose": row.purpose,
            "inquirer": "you" if row.member_id == member.id else "another member",
        }
        for row in recent
        if row.id != current_inquiry_id
    ]
    summary = summarize(accounts) | {"hard_inquiries_24m": len(inquiry_list)}
    return {
        "subject": _identity_block(bureau, session, subject_id),
        "accounts": [_account_view(a, member) for a in accounts],
        "inquiries": inquiry_list,
        "summary": summary,
    }
