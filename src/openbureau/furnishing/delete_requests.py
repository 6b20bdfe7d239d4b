"""A file's delete requests, held until the whole file is in: a request wins over records of
its account anywhere in the file (files/deletions.py applies them).

They are kept in memory up to `Settings.file_keys_in_memory`, then in a temporary table
(`spill.SpilledRows`), and handed back in batches of the last request per account, in file
order, so that a file withdrawing millions of accounts holds none of them all at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
from sqlalchemy import text
from sqlalchemy.orm import Session

from openbureau.files.segments import under_kept_numbers
from openbureau.furnishing.spill import SpilledRows

_SCHEMA = {"record_no": pl.Int64, "account_ref": pl.Utf8, "status": pl.Utf8}


class DeleteRequests:
    def __init__(self, session: Session, in_memory: int) -> None:
        self._rows = SpilledRows(
            session, "submission_delete_requests", _SCHEMA, "record_no", in_memory
        )

    @property
    def count(self) -> int:
        """Requests added, repeats included."""
        return self._rows.count

    @property
    def spilled(self) -> bool:
        return self._rows.spilled

    def add(self, requests: pl.DataFrame) -> None:
        """Adds one chunk's requests: record_no, account_ref, status (DA or DF)."""
        self._rows.add(requests)

    def batches(self, member_id: int, size: int) -> Iterator[pl.DataFrame]:
        """(record_no, account_ref, status) of each account's last request, in file order,
        at most `size` at a time. Accounts are named by the number the bureau keeps them
        under, so that requests naming one account by an old and a new number (L1, maybe
        stored by this very file) are one account's requests, in one batch."""
        rows = self._rows
        if rows.frame is not None:
            last = under_kept_numbers(rows.session, member_id, rows.frame).unique(
                "account_ref", keep="last", maintain_order=True
            )
            yield from (last.slice(at, size) for at in range(0, last.height, size))
            return
        session = rows.session
        session.execute(
            text(
                f"UPDATE {rows.table} SET account_ref = (SELECT a.account_ref "
                "FROM account_number_changes a WHERE a.member_id = :member "
                f"AND a.alias_ref = {rows.table}.account_ref) WHERE account_ref IN "
                "(SELECT alias_ref FROM account_number_changes WHERE member_id = :member)"
            ),
            {"member": member_id},
        )
        session.execute(
            text(
                f"DELETE FROM {rows.table} WHERE record_no NOT IN "
                f"(SELECT max(record_no) FROM {rows.table} GROUP BY account_ref)"
            )
        )
        after = -1
        while True:
            batch = session.execute(
                text(
                    f"SELECT record_no, account_ref, status FROM {rows.table} "
                    "WHERE record_no > :after ORDER BY record_no LIMIT :size"
                ),
                {"after": after, "size": size},
            ).all()
            if not batch:
                return
            yield pl.DataFrame(batch, schema=rows.schema, orient="row")
            after = batch[-1][0]

    def close(self) -> None:
        self._rows.close()
