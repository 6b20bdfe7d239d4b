"""Rows a load gathers across a file's chunks: in memory up to a bound, then in a temporary
table, so that what a load keeps stays bounded whatever the size of the file.

The table lives in the load's transaction and connection: a rolled-back load never made it,
and `close` drops it once the file is in (a pooled connection would keep it otherwise).
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import text
from sqlalchemy.orm import Session

from openbureau.db import bulk_insert

_INSERT_ROWS = 100_000
# The spilled columns' types, as both databases name them.
_SQL_TYPES = {pl.Int64: "BIGINT", pl.Utf8: "TEXT"}


class SpilledRows:
    """Rows with a fixed schema; `frame` while in memory, `table` once moved."""

    def __init__(
        self,
        session: Session,
        table: str,
        schema: dict[str, pl.DataType],
        key: str,
        in_memory: int,
    ) -> None:
        """`schema`: name -> polars type (Int64 or Utf8); `key`: the table's primary key."""
        self.session = session
        self.table = table
        self.schema = schema
        self._key = key
        self._in_memory = in_memory
        self.frame: pl.DataFrame | None = pl.DataFrame(schema=self.schema)
        self.count = 0

    @property
    def spilled(self) -> bool:
        return self.frame is None

    def add(self, rows: pl.DataFrame) -> None:
        rows = rows.select(*self.schema)
        self.count += rows.height
        if self.frame is not None and self.frame.height + rows.height <= self._in_memory:
            self.frame = pl.concat([self.frame, rows])
            return
        if self.frame is not None:
            columns = ", ".join(
                f"{name} {_SQL_TYPES[dtype]} NOT NULL" for name, dtype in self.schema.items()
            )
            self.session.execute(
                text(f"CREATE TEMP TABLE {self.table} ({columns}, PRIMARY KEY ({self._key}))")
            )
            rows = pl.concat([self.frame, rows])
            self.frame = None
        # In slices: on SQLite each insert builds its rows as Python tuples first.
        for at in range(0, rows.height, _INSERT_ROWS):
            bulk_insert(self.session.connection(), self.table, rows.slice(at, _INSERT_ROWS))

    def close(self) -> None:
        if self.spilled:
            self.session.execute(text(f"DROP TABLE IF EXISTS {self.table}"))
