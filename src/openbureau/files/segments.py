"""Storing what Metro 2's appended segments add to an account, next to its tradelines.

Every table here but account_number_changes is keyed like tradelines, by (member, account,
period), and is written in the same transaction. A period that is loaded again replaces its
rows: the stale ones are deleted first, so a correction that drops a segment drops its row.
When every tradeline key of a chunk was new, no such row can exist and the delete is skipped.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import Table, text
from sqlalchemy.orm import Session

from openbureau.db import bulk_insert, in_values, list_param
from openbureau.files.load import reported_subjects
from openbureau.files.tables import (
    account_consumers,
    account_employment,
    account_number_changes,
    account_segments,
)

PERIOD_TABLES: tuple[Table, ...] = (account_consumers, account_segments, account_employment)
ALIAS_SCHEMA = {"alias_ref": pl.Utf8, "account_ref": pl.Utf8}


def member_has_rows(session: Session, member_id: int) -> bool:
    """Whether this member ever loaded a row into any of the period-keyed segment tables."""
    probes = " UNION ALL ".join(
        f"SELECT 1 FROM (SELECT 1 FROM {t.name} WHERE member_id = :member LIMIT 1) AS p{i}"
        for i, t in enumerate(PERIOD_TABLES)
    )
    return session.execute(text(probes), {"member": member_id}).first() is not None


def delete_periods(session: Session, member_id: int, keys: pl.DataFrame) -> None:
    """Removes every segment row of these (account_ref, period) keys, from every table."""
    for (period,), refs in keys.partition_by("period", as_dict=True).items():
        ref_list = refs["account_ref"].unique().to_list()
        for table in PERIOD_TABLES:
            session.execute(
                text(
                    f"DELETE FROM {table.name} WHERE member_id = :member AND period = :period "
                    f"AND {in_values(session, 'account_ref', 'refs')}"
                ),
                {"member": member_id, "period": period, "refs": list_param(session, ref_list)},
            )


def insert_rows(
    session: Session,
    table: Table,
    rows: pl.DataFrame,
    member_id: int,
    submission_id: int,
    now: datetime,
) -> int:
    if rows.is_empty():
        return 0
    frame = rows.with_columns(
        pl.lit(member_id, pl.Int64).alias("member_id"),
        pl.lit(submission_id, pl.Int64).alias("submission_id"),
        pl.lit(now).alias("loaded_at"),
    )
    bulk_insert(session.connection(), table.name, frame)
    return frame.height


def account_aliases(session: Session, member_id: int, refs: list[str]) -> pl.DataFrame:
    """alias_ref -> account_ref (the number the bureau keeps the account under)."""
    if not refs:
        return pl.DataFrame(schema=ALIAS_SCHEMA)
    rows = session.execute(
        text(
            "SELECT alias_ref, account_ref FROM account_number_changes "
            f"WHERE member_id = :member AND {in_values(session, 'alias_ref', 'refs')}"
        ),
        {"member": member_id, "refs": list_param(session, refs)},
    ).all()
    return pl.DataFrame(rows, schema=ALIAS_SCHEMA, orient="row")


def under_kept_numbers(session: Session, member_id: int, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with each account_ref that is an alias replaced by the number the bureau keeps
    that account under."""
    aliases = account_aliases(session, member_id, frame["account_ref"].unique().to_list())
    if aliases.is_empty():
        return frame
    return (
        frame.join(
            aliases, left_on="account_ref", right_on="alias_ref", how="left", maintain_order="left"
        )
        .with_columns(pl.coalesce("account_ref_right", "account_ref").alias("account_ref"))
        .drop("account_ref_right")
    )


def member_has_aliases(session: Session, member_id: int) -> bool:
    return (
        session.execute(
            text("SELECT 1 FROM account_number_changes WHERE member_id = :member LIMIT 1"),
            {"member": member_id},
        ).first()
        is not None
    )


def accounts_in_use(session: Session, member_id: int, refs: list[str]) -> set[str]:
    """Which of these numbers already name an account of this member in tradelines."""
    if not refs:
        return set()
    rows = session.execute(
        text(
            "SELECT DISTINCT account_ref FROM tradelines "
            f"WHERE member_id = :member AND {in_values(session, 'account_ref', 'refs')}"
        ),
        {"member": member_id, "refs": list_param(session, refs)},
    ).all()
    return {r[0] for r in rows}


def store_number_changes(
    session: Session, changes: pl.DataFrame, member_id: int, submission_id: int, now: datetime
) -> int:
    """Upserts aliases by (member, alias_ref): the same L1 sent again rewrites its own row."""
    if changes.is_empty():
        return 0
    session.execute(
        text(
            "DELETE FROM account_number_changes WHERE member_id = :member AND "
            + in_values(session, "alias_ref", "refs")
        ),
        {"member": member_id, "refs": list_param(session, changes["alias_ref"].to_list())},
    )
    return insert_rows(session, account_number_changes, changes, member_id, submission_id, now)


def known_associated_subjects(
    session: Session, member_id: int, people: pl.DataFrame
) -> pl.DataFrame:
    """(account_ref, identity_hash) pairs of associated consumers reported recently (see
    files.load.LOOKBACK_MONTHS), with their one subject (merges followed), so that an
    unchanged J1/J2 is not resolved again. Unlinked consumers (subject_id null) drop out in
    the join."""
    return reported_subjects(session, "account_consumers", member_id, people)
