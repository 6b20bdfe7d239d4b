"""Decisions the exact stage leaves open: furnished records with a national ID new to the
bureau, and inquiries whose national ID is unknown or absent.

A furnished record ends as match, review or new subject; an inquiry ends as hit, no hit or
"more identity data needed", naming the fields that would help. Every probabilistic decision
on furnished data is written to `identity_decisions` with the fields that agreed and their
weights, and summarised in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import orjson
import polars as pl
from sqlalchemy.orm import Session

from openbureau.furnishing.validate import normalize_national_id_text
from openbureau.governance.audit import append_event
from openbureau.governance.crypto import BureauKeys
from openbureau.identity.blind import name_key
from openbureau.identity.blocking import blocking_keys
from openbureau.identity.matching import (
    IDENTITY_SCHEMA,
    Candidate,
    MatchSettings,
    candidate_subjects,
    candidates_for_one,
    explanation,
    hashed_blocking_keys,
    identities_of_subjects,
    normalized,
    rank_candidates,
    raw_identity,
    store_blocking_keys,
)
from openbureau.identity.model import IdentityModel
from openbureau.identity.normalize import normalize_record
from openbureau.identity.resolve import (
    GROUP,
    MATCHED,
    MATCHER_SCHEMA,
    NEW,
    REVIEW,
    exact_candidates,
)
from openbureau.identity.tables import identity_decisions

# More candidates than this for one record means its keys are not telling people apart.
MAX_CANDIDATES = 20
REASON_TWO_SUBJECTS = "two subjects match this identity"
REASON_BELOW_THRESHOLD = "probable match below the match threshold"

HIT, NO_HIT, MORE_DATA = "hit", "no_hit", "more_data_needed"
# Fields an inquiry may add to settle an uncertain match, most telling first.
HELPFUL_FIELDS = ("national_id", "date_of_birth", "address", "phone")


def _furnishing_decision(ranked: list[Candidate]) -> tuple[str, str | None]:
    best = ranked[0]
    runner_up = ranked[1] if len(ranked) > 1 else None
    if best.score.decision == "match":
        if runner_up is not None and runner_up.score.decision != "new":
            return REVIEW, REASON_TWO_SUBJECTS
        return MATCHED, None
    if best.score.decision == "review":
        return REVIEW, best.score.reason or REASON_BELOW_THRESHOLD
    return NEW, best.score.reason


@dataclass
class FurnishingMatcher:
    """Matches one submission's records with new national IDs to subjects already on file."""

    session: Session
    keys: BureauKeys
    model: IdentityModel
    settings: MatchSettings
    member_id: int
    submission_id: int | None
    now: datetime
    actor: str
    # Cluster each chunk with Splink on DuckDB first (a furnisher's first, large load).
    batch: bool = False
    _norm: pl.DataFrame = field(init=False, repr=False)
    _record_keys: pl.DataFrame = field(init=False, repr=False)
    _refs: pl.DataFrame = field(init=False, repr=False)

    def prepare(self, records: pl.DataFrame) -> pl.DataFrame:
        """Normalises the records whose identity is new to this account, once per chunk.

        In batch mode the records come back with the identity_group column: their batch
        cluster, settled as one person by `resolve.resolve_records`.
        """
        identities = records.select(
            *(pl.col(name).cast(dtype) for name, dtype in IDENTITY_SCHEMA.items())
        )
        self._norm = normalized(identities, self.settings.phone_region)
        self._record_keys = hashed_blocking_keys(self._norm, self.keys)
        self._refs = records.select("record_no", "account_ref", "period")
        if not self.batch or records.height < 2:
            return records
        from openbureau.identity.batch import resolve as resolve_batch

        clustered = resolve_batch(
            self._norm,
            self.model,
            normalized=True,
            max_block_size=self.settings.max_block_size,
            default_region=self.settings.phone_region,
        ).clusters
        groups = clustered.select(
            pl.col("record_id").cast(pl.Int64).alias("record_no"),
            pl.col("cluster_id").cast(pl.Utf8).alias(GROUP),
        )
        return records.join(groups, on="record_no", how="left")

    def decide(self, firsts: pl.DataFrame) -> pl.DataFrame:
        """record_no, decision, subject_id, reason for records that match or need review.

        Records absent from the answer start new subjects.
        """
        wanted = self._record_keys.filter(pl.col("record_id").is_in(firsts["record_no"].implode()))
        candidates = candidate_subjects(self.session, wanted, self.settings)
        if candidates.is_empty():
            return pl.DataFrame(schema=MATCHER_SCHEMA)
        per_record = candidates.group_by("record_id").agg(
            pl.col("subject_id").sort_by("shared", descending=True).head(MAX_CANDIDATES)
        )
        profiles = identities_of_subjects(
            self.session,
            self.keys,
            candidates["subject_id"].unique().to_list(),
            self.settings.phone_region,
        )
        records = {
            row["record_id"]: row
            for row in self._norm.filter(
                pl.col("record_id").is_in(per_record["record_id"].implode())
            ).iter_rows(named=True)
        }
        # Account and period only for the records scored, not the whole chunk.
        refs = {
            row[0]: (row[1], row[2])
            for row in self._refs.filter(
                pl.col("record_no").is_in(per_record["record_id"].implode())
            ).iter_rows()
        }
        decided, log = [], []
        for record_no, subject_ids in per_record.sort("record_id").iter_rows():
            record = records[record_no]
            ranked = rank_candidates(self.model, record, profiles, subject_ids)
            if not ranked:
                continue
            decision, reason = _furnishing_decision(ranked)
            best = ranked[0]
            account_ref, period = refs[record_no]
            log.append(
                {
                    "created_at": self.now,
                    "submission_id": self.submission_id,
                    "member_id": self.member_id,
                    "account_ref": account_ref,
                    "period": period,
                    "decision": decision,
                    "subject_id": best.subject_id if decision == MATCHED else None,
                    "candidate_subject_id": best.subject_id,
                    "match_probability": best.score.probability,
                    "model_version": self.model.version,
                    "explanation": orjson.dumps(
                        explanation(self.model, record, best) | {"reason": reason}
                    ).decode(),
                }
            )
            if decision != NEW:
                subject = best.subject_id if decision == MATCHED else None
                decided.append((record_no, decision, subject, reason, best.subject_id))
        self._audit(log)
        return pl.DataFrame(decided, schema=MATCHER_SCHEMA, orient="row")

    def _audit(self, log: list[dict]) -> None:
        if not log:
            return
        self.session.execute(identity_decisions.insert(), log)
        counts: dict[str, int] = {}
        for row in log:
            counts[row["decision"]] = counts.get(row["decision"], 0) + 1
        append_event(
            self.session,
            self.actor,
            "identity.decide",
            {
                "submission_id": self.submission_id,
                "model_version": self.model.version,
                "decisions": counts,
            },
        )

    def remember(self, resolved: pl.DataFrame) -> None:
        """Stores the blocking keys of every record now linked to a subject."""
        linked = resolved.filter(pl.col("subject_id").is_not_null()).select(
            pl.col("record_no").alias("record_id"),
            pl.col("subject_id").cast(pl.Int64),
            (pl.col("decision") == NEW).alias("created"),
        )
        rows = self._record_keys.join(linked, on="record_id")
        created = pl.col("created")
        store_blocking_keys(self.session, rows.filter(created), new_subjects=True)
        store_blocking_keys(self.session, rows.filter(~created))


@dataclass(frozen=True)
class InquiryMatch:
    subject_id: int | None
    outcome: str
    missing_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class InquiryIdentity:
    full_name: str
    national_id_type: str | None = None
    national_id: str | None = None
    date_of_birth: date | None = None
    address: str | None = None
    phone: str | None = None

    def supplied(self) -> set[str]:
        present = {
            "national_id": self.national_id,
            "date_of_birth": self.date_of_birth,
            "address": self.address,
            "phone": self.phone,
        }
        return {name for name, value in present.items() if value}


def _more_data(identity: InquiryIdentity) -> InquiryMatch:
    missing = tuple(f for f in HELPFUL_FIELDS if f not in identity.supplied())
    return InquiryMatch(None, MORE_DATA, missing) if missing else InquiryMatch(None, NO_HIT)


@dataclass(frozen=True)
class InquiryIndexes:
    """An inquiry's identity as the blind indexes the exact stage compares."""

    name: str
    dob: str | None
    national_id: str | None

    @classmethod
    def of(cls, keys: BureauKeys, identity: InquiryIdentity) -> InquiryIndexes:
        return cls(
            name=keys.blind_index("name", name_key(identity.full_name)),
            dob=(
                keys.blind_index("dob", identity.date_of_birth.isoformat())
                if identity.date_of_birth
                else None
            ),
            national_id=(
                keys.blind_index(
                    "national_id",
                    f"{identity.national_id_type}:"
                    f"{normalize_national_id_text(identity.national_id)}",
                )
                if identity.national_id and identity.national_id_type
                else None
            ),
        )


def decide_on_national_id(
    on_file: list[tuple[int, str, str]], name_bidx: str, dob_bidx: str | None
) -> InquiryMatch | None:
    """The answer the national ID settles, from the identities reported with it
    (`exact_candidates`); None when it is new to the bureau and the other fields must
    decide."""
    if not on_file:
        return None
    agreeing = {
        subject
        for subject, name, dob in on_file
        if name == name_bidx or (dob_bidx is not None and dob == dob_bidx)
    }
    if len(agreeing) == 1:
        return InquiryMatch(agreeing.pop(), HIT)
    if dob_bidx is None:
        return InquiryMatch(None, MORE_DATA, ("date_of_birth",))
    return InquiryMatch(None, NO_HIT)


def match_inquiry(
    session: Session,
    keys: BureauKeys,
    load_model: Callable[[], IdentityModel],
    settings: MatchSettings,
    identity: InquiryIdentity,
) -> InquiryMatch:
    """The one subject an inquiry clearly points to; otherwise no hit or a request for more.

    `load_model` gives the model with the inquiry's thresholds (`model_store.inquiry_model`);
    it is called only when the national ID alone cannot settle the inquiry.
    """
    blind = InquiryIndexes.of(keys, identity)
    if blind.national_id is not None:
        settled = decide_on_national_id(
            exact_candidates(session, blind.national_id), blind.name, blind.dob
        )
        if settled is not None:
            return settled
    return _probabilistic_inquiry(
        session, keys, load_model(), settings, identity
    )


def _probabilistic_inquiry(
    session: Session,
    keys: BureauKeys,
    model: IdentityModel,
    settings: MatchSettings,
    identity: InquiryIdentity,
) -> InquiryMatch:
    record = normalize_record(
        raw_identity(
            identity.full_name,
            identity.national_id_type,
            identity.national_id,
            identity.date_of_birth.isoformat() if identity.date_of_birth else None,
            identity.address,
            identity.phone,
        ),
        default_region=settings.phone_region,
    )
    key_hashes = keys.blocking_index_many(blocking_keys(record))
    if len(key_hashes) < settings.min_shared_keys:
        # Too little to search on. With a national ID the bureau does not know, the answer
        # is plainly no hit; without one, more fields would make a search possible.
        return InquiryMatch(None, NO_HIT) if identity.national_id else _more_data(identity)
    candidates = candidates_for_one(session, key_hashes, settings)
    if not candidates:
        return InquiryMatch(None, NO_HIT)
    subject_ids = [subject for subject, _ in candidates[:MAX_CANDIDATES]]
    profiles = identities_of_subjects(session, keys, subject_ids, settings.phone_region)
    ranked = rank_candidates(model, record, profiles, subject_ids)
    if not ranked:
        return InquiryMatch(None, NO_HIT)
    best = ranked[0]
    contested = len(ranked) > 1 and ranked[1].score.decision != "new"
    if best.score.decision == "match" and not contested:
        return InquiryMatch(best.subject_id, HIT)
    if best.score.decision != "new" or contested:
        return _more_data(identity)
    return InquiryMatch(None, NO_HIT)
