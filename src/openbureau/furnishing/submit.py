"""The submission path: one file from one furnisher, loaded in one transaction.

parse (chunks) -> validate -> reject duplicates -> blind indexes -> resolve identity ->
store identities and review items -> upsert tradelines -> (after the last chunk) Metro 2
delete requests -> submission report + audit event.
Sending the same file twice returns the first report and writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openbureau.context import Bureau
from openbureau.files.deletions import delete_accounts
from openbureau.files.load import known_account_subjects, load_tradelines
from openbureau.furnishing.delete_requests import DeleteRequests
from openbureau.furnishing.errors import FileRejected
from openbureau.furnishing.file_keys import FileKeys
from openbureau.furnishing.parse import detect_format, iter_chunks_with_segments
from openbureau.furnishing.prefetch import prefetched
from openbureau.furnishing.segments import SegmentState, continue_renumbered, store_segments
from openbureau.furnishing.tables import submissions
from openbureau.furnishing.validate import validate_chunk
from openbureau.governance.audit import append_event
from openbureau.governance.members import Member, Role
from openbureau.identity.blind import identity_keys
from openbureau.identity.decide import FurnishingMatcher
from openbureau.identity.matching import MatchSettings
from openbureau.identity.model_store import active_model
from openbureau.identity.resolve import MATCHED, NEW, REVIEW, resolve_records
from openbureau.identity.store import identity_hash, queue_reviews, store_identities

Progress = Callable[[int], None]


class NotAFurnisher(PermissionError):
    """Only members with the furnisher role may submit data."""


# Delete requests applied, and audited, this many accounts at a time.
DELETE_BATCH = 50_000


@dataclass
class _Tally:
    total: int = 0
    accepted: int = 0
    matched: int = 0
    new_subjects: int = 0
    in_review: int = 0
    written: int = 0
    associated: int = 0
    delete_requests: int = 0
    accounts_deleted: int = 0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def submit_file(
    bureau: Bureau,
    member: Member,
    path: Path,
    *,
    actor: str,
    file_name: str | None = None,
    declared_format: str | None = None,
    expected_sha256: str | None = None,
    progress: Progress | None = None,
    today: date | None = None,
    batch_identity: bool = False,
) -> tuple[dict[str, Any], bool]:
    """Loads one file; returns (submission report, whether it replays an earlier submission).

    `batch_identity` first clusters each chunk's new identities with Splink on DuckDB, for a
    furnisher's first, large load (see docs/identity.md).

    Raises FileRejected when the file as a whole cannot be trusted; nothing is written then.
    """
    if not member.has(Role.FURNISHER):
        raise NotAFurnisher(f"member {member.code!r} does not have the furnisher role")
    fmt = detect_format(path, declared_format)
    name = file_name or path.name
    today = today or date.today()
    # Parsing starts at once: the first chunk is read while the file is hashed and looked
    # up, and is dropped unread if the file turns out to be a replay or corrupt.
    with prefetched(lambda: _validated_chunks(bureau, path, fmt, today)) as chunks:
        sha = file_sha256(path)
        if expected_sha256 and expected_sha256.lower() != sha:
            raise FileRejected(
                "checksum_mismatch",
                "the file's SHA-256 differs from the one declared: "
                "the upload is truncated or corrupt",
            )
        with bureau.sessions() as session, session.begin():
            earlier = session.execute(
                select(submissions.c.report).where(
                    submissions.c.member_id == member.id, submissions.c.file_sha256 == sha
                )
            ).scalar_one_or_none()
            if earlier is not None:
                return orjson.loads(earlier), True
            now = datetime.now(UTC)
            submission_id = session.execute(
                submissions.insert()
                .values(
                    member_id=member.id,
                    file_sha256=sha,
                    file_name=name[:300],
                    file_format=fmt,
                    received_at=now,
                    records_total=0,
                    accepted=0,
                    rejected=0,
                    report="{}",
                )
                .returning(submissions.c.id)
            ).scalar_one()
            tally, errors, errors_total = _load_chunks(
                session,
                bureau,
                member,
                chunks,
                submission_id,
                now,
                progress,
                batch_identity,
                actor,
            )
            report = _submission_report(
                member, name, fmt, sha, submission_id, now, tally, errors, errors_total
            )
            _record_submission(session, member, actor, submission_id, report)
            return report, False


def _submission_report(
    member: Member,
    file_name: str,
    fmt: str,
    sha: str,
    submission_id: int,
    now: datetime,
    tally: _Tally,
    errors: list[dict],
    errors_total: int,
) -> dict[str, Any]:
    return {
        "submission_id": submission_id,
        "member": member.code,
        "file_name": file_name,
        "format": fmt,
        "sha256": sha,
        "received_at": now.isoformat(),
        "records": tally.total,
        "accepted": tally.accepted,
        "rejected": tally.total - tally.accepted,
        "matched_existing_subjects": tally.matched,
        "new_subjects": tally.new_subjects,
        "held_for_identity_review": tally.in_review,
        "rows_written": tally.written,
        "associated_consumers_linked": tally.associated,
        "delete_requests": tally.delete_requests,
        "accounts_deleted": tally.accounts_deleted,
        "errors_total": errors_total,
        "errors_truncated": errors_total > len(errors),
        "errors": errors,
    }


def _record_submission(
    session: Session, member: Member, actor: str, submission_id: int, report: dict[str, Any]
) -> None:
    """The report stored on the submission row, and the load's audit event."""
    session.execute(
        update(submissions)
        .where(submissions.c.id == submission_id)
        .values(
            records_total=report["records"],
            accepted=report["accepted"],
            rejected=report["rejected"],
            report=orjson.dumps(report).decode(),
        )
    )
    append_event(
        session,
        actor,
        "submission.load",
        {
            "submission_id": submission_id,
            "member": member.code,
            "sha256": report["sha256"],
            "accepted": report["accepted"],
            "rejected": report["rejected"],
        },
    )


# (records read, parse errors, side frames, validated records, validation errors)
ValidatedChunk = tuple[int, pl.DataFrame, dict[str, pl.DataFrame], pl.DataFrame, pl.DataFrame]


def _validated_chunks(
    bureau: Bureau, path: Path, fmt: str, today: date
) -> Iterator[ValidatedChunk]:
    for raw, parse_errors, side in iter_chunks_with_segments(path, fmt):
        typed, errors = validate_chunk(raw, bureau.settings.default_currency, today)
        typed = typed.with_columns(pl.col("reporting_date").dt.strftime("%Y-%m").alias("period"))
        if "base_ecoa" in side:
            typed = typed.join(side["base_ecoa"], on="record_no", how="left")
        yield raw.height, parse_errors, side, typed, errors


def _load_chunks(
    session: Session,
    bureau: Bureau,
    member: Member,
    chunks: Iterable[ValidatedChunk],
    submission_id: int,
    now: datetime,
    progress: Progress | None,
    batch_identity: bool,
    actor: str,
) -> tuple[_Tally, list[dict], int]:
    tally = _Tally()
    limit = bureau.settings.max_rejections_reported
    kept_errors: list[dict] = []
    errors_total = 0
    file_keys = FileKeys(session, bureau.settings.file_keys_in_memory)
    deletions = DeleteRequests(session, bureau.settings.file_keys_in_memory)
    state = SegmentState(member.id)

    for raw_height, parse_errors, side, typed, errors in chunks:
        # Before duplicates are looked for: an old and a new number of one account are one.
        typed, number_errors = continue_renumbered(
            session, state, typed, side, submission_id, now
        )
        typed, dup_errors = file_keys.reject_repeats(typed)
        chunk_errors = pl.concat([parse_errors, errors, number_errors, dup_errors]).sort(
            "record_no"
        )
        requests = side.get("deletions")
        if requests is not None:
            # Applied once the whole file is in: a delete request wins over its records.
            deletions.add(requests)
            tally.delete_requests += requests.height
            tally.total += requests.height
        tally.total += raw_height + parse_errors["record_no"].n_unique()
        errors_total += chunk_errors.height
        if len(kept_errors) < limit:
            kept_errors += chunk_errors.head(limit - len(kept_errors)).to_dicts()
        if typed.height:
            _load_valid(
                session,
                bureau,
                member,
                typed,
                submission_id,
                now,
                tally,
                state,
                side,
                batch_identity,
            )
        if progress:
            progress(tally.total)
    if tally.total == 0:
        raise FileRejected("no_records", "the file holds no records")
    if deletions.count:
        _apply_deletions(session, member, actor, deletions, submission_id, now, tally)
    file_keys.close()
    deletions.close()
    tally.associated = state.associated_linked
    return tally, kept_errors, errors_total


def _apply_deletions(
    session: Session,
    member: Member,
    actor: str,
    requests: DeleteRequests,
    submission_id: int,
    now: datetime,
    tally: _Tally,
) -> None:
    tally.accepted += requests.count
    for batch in requests.batches(member.id, DELETE_BATCH):
        deleted = delete_accounts(session, member.id, batch, now)
        tally.accounts_deleted += deleted.height
        if deleted.height:  # one event per batch: a file may withdraw millions of accounts
            append_event(
                session,
                actor,
                "submission.delete_accounts",
                {
                    "submission_id": submission_id,
                    "member": member.code,
                    "accounts": deleted.to_dicts(),
                },
            )


def _load_valid(
    session: Session,
    bureau: Bureau,
    member: Member,
    typed: pl.DataFrame,
    submission_id: int,
    now: datetime,
    tally: _Tally,
    state: SegmentState,
    side: dict[str, pl.DataFrame],
    batch_identity: bool,
) -> None:
    typed = typed.with_columns(identity_hash(typed, bureau.keys))
    known = known_account_subjects(session, member.id, typed)
    reused = typed.join(known, on=["account_ref", "identity_hash"], how="inner").with_columns(
        pl.lit(MATCHED).alias("decision")
    )
    fresh = typed.join(known, on=["account_ref", "identity_hash"], how="anti")
    resolved = reused

    def new_matcher(batch: bool = False) -> FurnishingMatcher:
        return FurnishingMatcher(
            session,
            bureau.keys,
            active_model(session, bureau.settings, bureau.identity_models),
            MatchSettings.from_settings(bureau.settings),
            member.id,
            submission_id,
            now,
            member.actor,
            batch=batch,
        )

    state.new_matcher = new_matcher
    if fresh.height:
        keyed = identity_keys(fresh, bureau.keys)
        matcher = new_matcher(batch_identity)
        keyed = matcher.prepare(keyed)
        decided = resolve_records(session, keyed, now, matcher.decide)
        store_identities(session, decided, member.id, bureau.keys, now)
        matcher.remember(decided)
        queue_reviews(session, decided, member.id, submission_id, bureau.keys, now)
        resolved = pl.concat([reused, decided.select(reused.columns)], how="vertical_relaxed")
    counts = resolved["decision"].value_counts()
    by_decision = dict(zip(counts["decision"].to_list(), counts["count"].to_list(), strict=True))
    tally.accepted += typed.height
    tally.matched += by_decision.get(MATCHED, 0)
    tally.new_subjects += resolved.filter(pl.col("decision") == NEW)["subject_id"].n_unique()
    tally.in_review += by_decision.get(REVIEW, 0)
    written, all_new = load_tradelines(session, resolved, member.id, submission_id, now)
    tally.written += written
    store_segments(session, bureau.keys, state, resolved, side, submission_id, now, all_new)


def submission_report(session: Session, member: Member, submission_id: int) -> dict | None:
    """A furnisher's own submission report; None if it does not exist or is not theirs."""
    report = session.execute(
        select(submissions.c.report).where(
            submissions.c.id == submission_id, submissions.c.member_id == member.id
        )
    ).scalar_one_or_none()
    return None if report is None else orjson.loads(report)


def list_submissions(session: Session, member: Member, limit: int = 100) -> list[dict]:
    rows = session.execute(
        select(
            submissions.c.id,
            submissions.c.file_name,
            submissions.c.file_format,
            submissions.c.received_at,
            submissions.c.records_total,
            submissions.c.accepted,
            submissions.c.rejected,
        )
        .where(submissions.c.member_id == member.id)
        .order_by(submissions.c.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "submission_id": r.id,
            "file_name": r.file_name,
            "format": r.file_format,
            "received_at": r.received_at.isoformat(),
            "records": r.records_total,
            "accepted": r.accepted,
            "rejected": r.rejected,
        }
        for r in rows
    ]
