"""HTTP endpoints for the bureau's staff: the identity review queue, merges and splits."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from openbureau.api.deps import BureauDep, OperatorDep, SessionDep
from openbureau.api.problems import Problem
from openbureau.governance.audit import append_event
from openbureau.governance.members import MemberError, get_member
from openbureau.identity.changes import SubjectChangeError, merge_subjects, split_subject
from openbureau.identity.matching import phone_region
from openbureau.identity.review import ReviewError, keep_apart, link
from openbureau.identity.store import open_reviews

router = APIRouter(prefix="/v1/reviews", tags=["identity"])
subjects_router = APIRouter(prefix="/v1/subjects", tags=["identity"])

Reason = Field(min_length=1, max_length=500, description="Why, for the audit trail")


class LinkIn(BaseModel):
    subject_id: int


@router.get("")
def list_reviews(bureau: BureauDep, member: OperatorDep, session: SessionDep) -> list[dict]:
    """Open review items, with the identity as reported; the lookup itself is audited."""
    items = open_reviews(session, bureau.keys)
    append_event(session, member.actor, "review.list", {"items": [i["review_id"] for i in items]})
    session.commit()
    return items


@router.post("/{review_id}/link")
def link_review(
    review_id: int, body: LinkIn, bureau: BureauDep, member: OperatorDep, session: SessionDep
) -> dict:
    """Attach a held record to a subject."""
    try:
        region = phone_region(bureau.settings)
        link(session, bureau.keys, review_id, body.subject_id, member.actor, region)
    except ReviewError as exc:
        raise Problem(
            409 if "already" in str(exc) else 404, "Review not possible", str(exc)
        ) from None
    session.commit()
    return {"review_id": review_id, "status": "linked", "subject_id": body.subject_id}


@router.post("/{review_id}/keep-apart")
def keep_apart_review(
    review_id: int, bureau: BureauDep, member: OperatorDep, session: SessionDep
) -> dict:
    """Give a held record a subject of its own."""
    try:
        region = phone_region(bureau.settings)
        subject_id = keep_apart(session, bureau.keys, review_id, member.actor, region)
    except ReviewError as exc:
        raise Problem(
            409 if "already" in str(exc) else 404, "Review not possible", str(exc)
        ) from None
    session.commit()
    return {"review_id": review_id, "status": "kept_apart", "subject_id": subject_id}


class MergeIn(BaseModel):
    absorb_subject_id: int
    reason: str = Reason


class AccountIn(BaseModel):
    member: str = Field(min_length=1, max_length=64)
    account_ref: str = Field(min_length=1, max_length=64)


class SplitIn(BaseModel):
    accounts: list[AccountIn] = Field(min_length=1, max_length=1000)
    reason: str = Reason


@subjects_router.post("/{subject_id}/merge")
def merge_subject(
    subject_id: int, body: MergeIn, member: OperatorDep, session: SessionDep
) -> dict:
    """Fold another subject into this one; the absorbed id redirects from now on."""
    try:
        result = merge_subjects(
            session, subject_id, body.absorb_subject_id, member.actor, body.reason
        )
    except SubjectChangeError as exc:
        raise Problem(_status(exc), "Merge not possible", str(exc)) from None
    session.commit()
    return result


@subjects_router.post("/{subject_id}/split")
def split_subject_accounts(
    subject_id: int, body: SplitIn, bureau: BureauDep, member: OperatorDep, session: SessionDep
) -> dict:
    """Move accounts that belong to somebody else to a new subject."""
    region = phone_region(bureau.settings)
    try:
        accounts = [(get_member(session, a.member).id, a.account_ref) for a in body.accounts]
        result = split_subject(
            session, bureau.keys, region, subject_id, accounts, member.actor, body.reason
        )
    except MemberError as exc:
        raise Problem(422, "Split not possible", str(exc)) from None
    except SubjectChangeError as exc:
        raise Problem(_status(exc), "Split not possible", str(exc)) from None
    session.commit()
    return result


def _status(exc: SubjectChangeError) -> int:
    return 404 if str(exc).startswith("no subject") else 409
