"""HTTP endpoints for the bureau's staff: the identity review queue."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from openbureau.api.deps import BureauDep, OperatorDep, SessionDep
from openbureau.api.problems import Problem
from openbureau.governance.audit import append_event
from openbureau.identity.review import ReviewError, keep_apart, link
from openbureau.identity.store import open_reviews

router = APIRouter(prefix="/v1/reviews", tags=["identity"])


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
        link(session, bureau.keys, review_id, body.subject_id, member.actor)
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
        subject_id = keep_apart(session, bureau.keys, review_id, member.actor)
    except ReviewError as exc:
        raise Problem(
            409 if "already" in str(exc) else 404, "Review not possible", str(exc)
        ) from None
    session.commit()
    return {"review_id": review_id, "status": "kept_apart", "subject_id": subject_id}
