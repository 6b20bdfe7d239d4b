"""HTTP endpoints for governance: who am I, jurisdiction profile, audit verification."""

from __future__ import annotations

from fastapi import APIRouter

from openbureau.api.deps import BureauDep, MemberDep, RegulatorDep, SessionDep
from openbureau.governance.audit import verify_chain

router = APIRouter(prefix="/v1", tags=["governance"])


@router.get("/me")
def whoami(member: MemberDep) -> dict:
    """The calling member and its roles."""
    return {"member": member.code, "name": member.name, "roles": sorted(member.roles)}


@router.get("/purposes")
def purposes(bureau: BureauDep, member: MemberDep) -> dict:
    """The permissible purposes of this deployment's jurisdiction."""
    return {
        "jurisdiction": bureau.profile.code,
        "purposes": [
            {
                "code": p.code,
                "hard": p.hard,
                "description": p.description,
                "legal_basis": p.legal_basis,
            }
            for p in bureau.profile.purposes
        ],
    }


@router.get("/audit/verify")
def audit_verify(member: RegulatorDep, session: SessionDep) -> dict:
    """Walk the hash-chained audit log and report whether it is intact."""
    return verify_chain(session).as_dict()
