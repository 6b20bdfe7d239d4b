"""The submission path for what Metro 2 carries beyond the native fields.

* L1 (account number change): the new number becomes an alias of the account, which keeps
  the number it was first reported under; every later record under the new number (in this
  file or a later one, in any format) continues the same tradeline.
* J1/J2 (associated consumers): each is resolved to a subject exactly as a primary consumer
  is, and recorded with the account and its ECOA code, so the account appears in that
  subject's credit file too.
* K1-K4 are kept per account and period; N1 (employment) is kept encrypted.

Side frames come from metro2.mapping.to_native and are keyed by the file's record_no.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlalchemy.orm import Session

from openbureau.files import segments as store
from openbureau.files.tables import account_consumers, account_employment, account_segments
from openbureau.furnishing.errors import ERROR_SCHEMA
from openbureau.furnishing.validate import Rule, rule_errors
from openbureau.governance.crypto import BureauKeys
from openbureau.identity.blind import identity_keys
from openbureau.identity.decide import FurnishingMatcher
from openbureau.identity.resolve import resolve_records
from openbureau.identity.store import identity_hash, store_identities

_c = pl.col
# A J segment's own number for identity resolution, which needs one record_no per person:
# the base record's number times this, plus the segment's position in the record.
_SEQ_SPAN = 1000


@dataclass
class SegmentState:
    """What one submission learns once about its member and reuses for every chunk."""

    member_id: int
    has_aliases: bool | None = None
    has_segment_rows: bool | None = None
    associated_linked: int = 0
    # Builds the probabilistic matcher for consumers whose national ID is new to the bureau;
    # set by the submission for each chunk.
    new_matcher: Callable[[], FurnishingMatcher] | None = None


def continue_renumbered(
    session: Session,
    state: SegmentState,
    typed: pl.DataFrame,
    side: dict[str, pl.DataFrame],
    submission_id: int,
    now: datetime,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Stores this chunk's L1 changes and puts every record under its account's kept number.

    Returns the records (account_ref rewritten where it is an alias) and the errors of the
    records dropped: an L1 whose new number already names another account of the member.
    """
    errors = pl.DataFrame(schema=ERROR_SCHEMA)
    changes = side.get("account_number_change")
    if changes is not None:
        changes = changes.join(typed.select("record_no"), on="record_no", how="semi")
    if changes is not None and changes.height:
        typed, errors = _store_changes(session, state, typed, changes, submission_id, now)
        state.has_aliases = True
    if state.has_aliases is None:
        state.has_aliases = store.member_has_aliases(session, state.member_id)
    if not state.has_aliases:
        return typed, errors
    return store.under_kept_numbers(session, state.member_id, typed), errors


def _store_changes(
    session: Session,
    state: SegmentState,
    typed: pl.DataFrame,
    changes: pl.DataFrame,
    submission_id: int,
    now: datetime,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    old = changes["old_consumer_account_number"].to_list()
    new = changes["new_consumer_account_number"].drop_nulls().to_list()
    known = store.account_aliases(session, state.member_id, old + new)
    kept = dict(zip(known["alias_ref"].to_list(), known["account_ref"].to_list(), strict=True))
    rows = (
        changes.join(typed.select("record_no", "period"), on="record_no")
        .with_columns(
            # The record's own number may itself be an earlier alias: chains end at the first.
            account_ref=_c("old_consumer_account_number").replace(kept),
            new_ref=pl.when(_c("new_consumer_account_number").fill_null("") != "")
            .then(_c("new_consumer_account_number"))
            .otherwise(None),
        )
        .with_columns(
            # An identification-number change alone keeps the account number: a no-op alias.
            alias_ref=pl.coalesce("new_ref", "account_ref"),
            taken_by=_c("new_ref").replace_strict(kept, default=None),
        )
    )
    in_use = store.accounts_in_use(session, state.member_id, rows["new_ref"].drop_nulls().to_list())
    clash = (_c("new_ref").is_in(list(in_use)) & (_c("new_ref") != _c("account_ref"))) | (
        _c("taken_by").is_not_null() & (_c("taken_by") != _c("account_ref"))
    )
    bad = rows.filter(clash)
    errors = rule_errors(
        bad,
        [
            Rule(
                "account_ref",
                "account_number_in_use",
                clash,
                pl.format(
                    "L1 changes account {} to {}, which already names another of your accounts",
                    "old_consumer_account_number",
                    "new_ref",
                ),
            )
        ],
    )
    good = rows.filter(~clash).unique("alias_ref", keep="last", maintain_order=True)
    store.store_number_changes(
        session,
        good.select(
            "alias_ref",
            "account_ref",
            pl.col("change_indicator").cast(pl.Int64),
            pl.col("old_identification_number").replace("", None),
            pl.col("new_identification_number").replace("", None),
            "period",
        ),
        state.member_id,
        submission_id,
        now,
    )
    return typed.join(bad.select("record_no"), on="record_no", how="anti"), errors


def store_segments(
    session: Session,
    keys: BureauKeys,
    state: SegmentState,
    resolved: pl.DataFrame,
    side: dict[str, pl.DataFrame],
    submission_id: int,
    now: datetime,
    all_new: bool,
) -> None:
    """Loads the J1/J2, K1-K4 and N1 data of the records just loaded into tradelines."""
    frames = [
        side.get(name)
        for name in (
            "associated_consumers",
            "original_creditor",
            "purchased_sold",
            "mortgage",
            "specialized_payment",
            "employment",
        )
    ]
    has_data = any(f is not None and f.height for f in frames)
    if state.has_segment_rows is None:
        state.has_segment_rows = store.member_has_rows(session, state.member_id)
    if state.has_segment_rows and not all_new:
        store.delete_periods(session, state.member_id, resolved.select("account_ref", "period"))
    if not has_data:
        return
    state.has_segment_rows = True
    accounts = resolved.select("record_no", "account_ref", "period", "subject_id", "address")
    args = (state.member_id, submission_id, now)
    assoc = side.get("associated_consumers")
    if assoc is not None and assoc.height:
        rows = _associated(session, keys, state, accounts, assoc, now)
        store.insert_rows(session, account_consumers, rows, *args)
    store.insert_rows(session, account_segments, _account_segments(accounts, side), *args)
    employment = side.get("employment")
    if employment is not None and employment.height:
        store.insert_rows(
            session, account_employment, _employment(accounts, employment, keys), *args
        )


def _associated(
    session: Session,
    keys: BureauKeys,
    state: SegmentState,
    accounts: pl.DataFrame,
    assoc: pl.DataFrame,
    now: datetime,
) -> pl.DataFrame:
    """One row per J1/J2 of a loaded record, its consumer resolved to a subject if possible."""
    people = (
        assoc.join(
            accounts.select("record_no", "account_ref", "period", base_address="address"),
            on="record_no",
        )
        .with_columns(
            # J1: same address as the primary consumer, so it is the base's.
            address=pl.when(_c("segment") == "J1").then("base_address").otherwise("address"),
            seq=_c("seq").cast(pl.Int64),
        )
        .drop("base_address")
        .with_columns(record_no=_c("record_no") * _SEQ_SPAN + _c("seq"))
    )
    people = people.with_columns(identity_hash(people, keys))
    known = store.known_associated_subjects(session, state.member_id, people)
    reused = people.join(known, on=["account_ref", "identity_hash"], how="inner")
    fresh = people.join(known, on=["account_ref", "identity_hash"], how="anti")
    # Resolution needs what a native record must carry: national ID, name and birth date.
    complete = (
        _c("national_id").is_not_null()
        & _c("full_name").is_not_null()
        & _c("date_of_birth").is_not_null()
    )
    resolvable = fresh.filter(complete)
    parts = [
        reused,
        fresh.filter(~complete).with_columns(pl.lit(None, pl.Int64).alias("subject_id")),
    ]
    if resolvable.height:
        keyed = identity_keys(resolvable, keys)
        matcher = state.new_matcher() if state.new_matcher else None
        if matcher is not None:
            keyed = matcher.prepare(keyed)
        decided = resolve_records(session, keyed, now, matcher.decide if matcher else None)
        # A consumer held for identity review stays unlinked (subject_id null): a review
        # outcome re-links tradelines, and this is not the primary consumer's tradeline.
        store_identities(session, decided, state.member_id, keys, now)
        if matcher is not None:
            matcher.remember(decided)
        parts.append(decided.select(*people.columns, pl.col("subject_id").cast(pl.Int64)))
    rows = pl.concat([p.select(*people.columns, "subject_id") for p in parts])
    state.associated_linked += rows["subject_id"].is_not_null().sum()
    return rows.select(
        "account_ref",
        "period",
        "segment",
        pl.col("seq").cast(pl.Int64),
        pl.col("subject_id").cast(pl.Int64),
        "ecoa_code",
        "identity_hash",
    )


def _account_segments(accounts: pl.DataFrame, side: dict[str, pl.DataFrame]) -> pl.DataFrame:
    picks = {
        "original_creditor": [
            _c("original_creditor_name").replace("", None),
            _c("creditor_classification").cast(pl.Int64),
        ],
        "purchased_sold": [
            _c("purchased_indicator").cast(pl.Int64),
            _c("purchased_name").replace("", None),
        ],
        "mortgage": [
            _c("agency_identifier").cast(pl.Int64),
            _c("account_number").replace("", None).alias("agency_account_number"),
            _c("mortgage_identification_number").replace("", None),
        ],
        "specialized_payment": [
            _c("specialized_payment_indicator").cast(pl.Int64),
            "deferred_payment_start_date",
            "balloon_payment_due_date",
            _c("balloon_payment_amount").cast(pl.Int64),
        ],
    }
    present = [(name, side[name]) for name in picks if name in side and side[name].height]
    if not present:
        return pl.DataFrame()
    records = pl.concat([f.select("record_no") for _, f in present]).unique()
    rows = accounts.select("record_no", "account_ref", "period").join(records, on="record_no")
    for name, frame in present:
        rows = rows.join(frame.select("record_no", *picks[name]), on="record_no", how="left")
    columns = [c.name for c in account_segments.columns]
    return rows.select(
        pl.col(c) if c in rows.columns else pl.lit(None, _dtype(c)).alias(c)
        for c in columns
        if c not in ("id", "member_id", "submission_id", "loaded_at")
    )


def _dtype(column: str) -> pl.DataType:
    python = account_segments.c[column].type.python_type
    return {int: pl.Int64(), str: pl.Utf8()}.get(python, pl.Date())


EMPLOYMENT_FIELDS = (
    "employer_name",
    "first_line_employer_address",
    "second_line_employer_address",
    "employer_city",
    "employer_state",
    "zip_code",
    "occupation",
)


def _employment(accounts: pl.DataFrame, employment: pl.DataFrame, keys: BureauKeys) -> pl.DataFrame:
    rows = accounts.join(employment, on="record_no")
    plain = rows.select(
        pl.struct(pl.col(f).replace("", None) for f in EMPLOYMENT_FIELDS).struct.json_encode()
    ).to_series()
    return rows.select(
        "account_ref",
        "period",
        pl.col("subject_id").cast(pl.Int64),
        pl.Series("employment_enc", keys.encrypt_many(plain.to_list()), dtype=pl.Binary),
    )
