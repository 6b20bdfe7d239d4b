"""A furnisher withdraws accounts: Metro 2's delete requests (account status DA or DF).

DA deletes an account reported in error, DF one opened through confirmed fraud. Either way
the bureau keeps nothing of it from that member: every period in tradelines and in the
segment tables goes, with the numbers it was renumbered from, and an identity review still
open for one of its records is withdrawn. A request may name the account by a later number
(an L1 alias); the account kept under its first number is the one deleted
(furnishing.delete_requests puts each request under that number, last request winning).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import text
from sqlalchemy.orm import Session

from openbureau.db import in_values, list_param
from openbureau.files.segments import PERIOD_TABLES

DELETED_SCHEMA = {
    "account_ref": pl.Utf8,
    "status": pl.Utf8,
    "rows": pl.Int64,
    "subject_ids": pl.List(pl.Int64),
}


def delete_accounts(
    session: Session, member_id: int, requests: pl.DataFrame, now: datetime
) -> pl.DataFrame:
    """Applies delete requests (account_ref as kept, status), one per account.

    Returns one row per account the member held (account_ref, status, tradeline rows removed,
    the subjects whose files showed it); a request for an unknown account deletes nothing and
    is left out.
    """
    if requests.is_empty():
        return pl.DataFrame(schema=DELETED_SCHEMA)
    requested = requests.select("account_ref", "status")
    params = {"member": member_id, "refs": list_param(session, requested["account_ref"])}
    where = f"member_id = :member AND {in_values(session, 'account_ref', 'refs')}"
    held = session.execute(
        text(
            "SELECT account_ref, subject_id, count(*) FROM tradelines "
            f"WHERE {where} GROUP BY account_ref, subject_id "
            "UNION ALL SELECT account_ref, subject_id, 0 FROM account_consumers "
            f"WHERE {where} AND subject_id IS NOT NULL GROUP BY account_ref, subject_id"
        ),
        params,
    ).all()
    found = pl.DataFrame(
        held,
        schema={"account_ref": pl.Utf8, "subject_id": pl.Int64, "rows": pl.Int64},
        orient="row",
    )
    for table in ("tradelines", *(t.name for t in PERIOD_TABLES), "account_number_changes"):
        session.execute(text(f"DELETE FROM {table} WHERE {where}"), params)
    session.execute(
        text(
            "UPDATE review_items SET status = 'withdrawn', resolved_at = :now "
            f"WHERE status = 'open' AND {where}"
        ),
        params | {"now": now},
    )
    per_account = found.group_by("account_ref").agg(
        pl.col("rows").sum(), pl.col("subject_id").drop_nulls().unique().sort().alias("subject_ids")
    )
    return requested.join(per_account, on="account_ref", how="inner").cast(DELETED_SCHEMA)
