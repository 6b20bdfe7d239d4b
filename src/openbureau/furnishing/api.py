"""HTTP endpoints for furnishers: submit a file, read their own submission reports."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from openbureau.api.deps import BureauDep, FurnisherDep, SessionDep
from openbureau.api.problems import Problem
from openbureau.furnishing.errors import FileRejected
from openbureau.furnishing.submit import list_submissions, submission_report, submit_file

router = APIRouter(prefix="/v1/submissions", tags=["furnishing"])


@router.post(
    "", status_code=201, responses={200: {"description": "Replay of an earlier submission"}}
)
def create_submission(
    bureau: BureauDep,
    member: FurnisherDep,
    file: Annotated[UploadFile, File(description="JSON Lines, CSV, Parquet or Metro 2 file")],
    format: Annotated[Literal["jsonl", "csv", "parquet", "metro2"] | None, Form()] = None,
    sha256: Annotated[
        str | None, Form(description="SHA-256 of the file, to detect truncation")
    ] = None,
) -> JSONResponse:
    """Load one furnishing file; returns its submission report."""
    limit = bureau.settings.max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="openbureau-upload-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as out:
            copied = _copy_limited(file, out, limit)
        if copied > limit:
            raise Problem(413, "Upload too large", f"the file exceeds {limit} bytes")
        try:
            report, replay = submit_file(
                bureau,
                member,
                path,
                actor=member.actor,
                file_name=file.filename or "upload",
                declared_format=format or _format_from_name(file.filename),
                expected_sha256=sha256,
            )
        except FileRejected as exc:
            raise Problem(
                422, "File rejected", exc.message, kind="file-rejected", rule=exc.rule
            ) from None
    return JSONResponse(report | {"replay": replay}, status_code=200 if replay else 201)


def _format_from_name(name: str | None) -> str | None:
    if not name or "." not in name:
        return None
    suffix = name.rsplit(".", 1)[1].lower()
    known = {"jsonl": "jsonl", "ndjson": "jsonl", "csv": "csv", "parquet": "parquet"}
    return (known | {"m2": "metro2", "metro2": "metro2"}).get(suffix)


def _copy_limited(upload: UploadFile, out, limit: int) -> int:
    copied = 0
    while block := upload.file.read(1 << 20):
        copied += len(block)
        if copied > limit:
            return copied
        out.write(block)
    return copied


@router.get("")
def get_submissions(member: FurnisherDep, session: SessionDep) -> list[dict]:
    """This furnisher's own submissions, newest first."""
    return list_submissions(session, member)


@router.get("/{submission_id}")
def get_submission(submission_id: int, member: FurnisherDep, session: SessionDep) -> dict:
    """One of this furnisher's own submission reports."""
    report = submission_report(session, member, submission_id)
    if report is None:
        raise Problem(404, "Not found", f"no submission {submission_id} of yours")
    return report
