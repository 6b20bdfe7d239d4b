"""HTTP endpoint for subscribers: request a credit report with a purpose and consent."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StringConstraints, model_validator

from openbureau.api.deps import BearerKey, member_for_key
from openbureau.api.problems import Problem
from openbureau.api.responses import FastJSON
from openbureau.context import Bureau
from openbureau.furnishing.schema import NationalIdType
from openbureau.governance.members import Role
from openbureau.identity.decide import InquiryIdentity
from openbureau.reports.inquiry import InquiryRefused, make_inquiry

router = APIRouter(prefix="/v1/inquiries", tags=["reports"])

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32)]


class IdentityIn(BaseModel):
    full_name: Text
    national_id_type: NationalIdType | None = None
    national_id: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=32)]
        | None
    ) = None
    date_of_birth: date | None = None
    address: Text | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _id_with_its_type(self) -> IdentityIn:
        if (self.national_id is None) != (self.national_id_type is None):
            raise ValueError("national_id and national_id_type go together: give both or neither")
        return self


class InquiryIn(BaseModel):
    identity: IdentityIn
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="A permissible purpose of this deployment's jurisdiction"
    )
    consent_reference: Text = Field(
        description="Reference of the consumer's consent or the member's certification"
    )


# Reports one worker builds at once; the others wait on the event loop, holding nothing.
# Below the pool's 10 connections, so that no report opens (and the pool then closes) a
# connection of its own: under wrk that churn cost the database more CPU than the reports.
# A few keep a worker's core busy while others wait on the database; more only add threads
# waiting for the GIL (8 gave more reports/s than 2 under wrk, for the same CPU per report).
REPORTS_AT_ONCE = 8


def report_slots(bureau: Bureau) -> CapacityLimiter:
    pool_size = getattr(bureau.engine.pool, "size", lambda: REPORTS_AT_ONCE)()
    return CapacityLimiter(max(1, min(REPORTS_AT_ONCE, pool_size)))


@router.post("", response_model=dict, response_class=FastJSON)
async def create_inquiry(body: InquiryIn, key: BearerKey, request: Request) -> FastJSON:
    """Request a consumer's credit report; every request is recorded and audited."""
    # The key lookup, the report and the commit run in one thread-pool hop, on a connection
    # taken and given back within it: a hop costs more CPU than most of a report, and a
    # connection held between two hops would wait on the pool's threads.
    state = request.app.state
    return await to_thread.run_sync(_answer, state.bureau, key, body, limiter=state.report_slots)


def _answer(bureau: Bureau, key: str, body: InquiryIn) -> FastJSON:
    given = body.identity
    identity = InquiryIdentity(
        full_name=given.full_name,
        national_id_type=given.national_id_type.value if given.national_id_type else None,
        national_id=given.national_id,
        date_of_birth=given.date_of_birth,
        address=given.address,
        phone=given.phone,
    )
    with bureau.sessions() as session:
        member = member_for_key(session, key, Role.SUBSCRIBER)
        try:
            report = make_inquiry(
                bureau,
                session,
                member,
                identity,
                body.purpose,
                body.consent_reference,
                commit=True,
            )
        except InquiryRefused as exc:
            raise Problem(exc.status, exc.title, exc.detail) from None
    return FastJSON(report)
