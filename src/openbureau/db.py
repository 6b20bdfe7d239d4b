"""Database engine and session: SQLite embedded by default, PostgreSQL in production."""

from __future__ import annotations

import io
from datetime import datetime

import orjson
import polars as pl
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from openbureau.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _configure_sqlite(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not the sqlite3 module, open transactions (see _begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A submission writes tens of MB; with the default 1,000-page (4 MB) threshold every load
    # ends in a checkpoint of its own. 64 MB lets a few loads share one (~5% faster ingest);
    # durability is unchanged, since committed pages are in the WAL either way.
    cursor.execute("PRAGMA wal_autocheckpoint=16384")
    cursor.close()


def _begin_immediate(connection) -> None:
    # Take the write lock up front: the audit chain reads its head and then appends, and a
    # deferred transaction could lose that race to another process.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(settings: Settings) -> Engine:
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    # JIT compilation pays off for long analytical queries; the bureau's are short lookups
    # and bulk loads whose cost estimates still cross jit_above_cost, where compiling took
    # about 250 ms of a 1 s candidate search.
    return create_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        connect_args={"options": "-c jit=off"},
    )


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def in_values(
    connection_or_session, column: str, param: str, element_type: str = "text"
) -> str:
    """SQL testing `column` against a list bound as one parameter (see `list_param`).

    One array (PostgreSQL) or JSON text (SQLite) parameter instead of thousands of bound
    values keeps big lookups cheap to compile and to send. `element_type` is the SQL type
    of the list's elements.

    On PostgreSQL the array is a subquery, not `column = ANY(array)`: when the planner keeps
    that as a filter (a scan it did not drive by the array, e.g. before the table has
    statistics), each row is compared with the array's elements one by one. 1,900 account
    numbers against 17,500 rows took a second; a subquery is joined, or hashed once.
    """
    if connection_or_session.get_bind().dialect.name == "postgresql":
        return f"{column} IN (SELECT unnest(CAST(:{param} AS {element_type}[])))"
    return f"{column} IN (SELECT value FROM json_each(:{param}))"


def list_param(connection_or_session, values: list | pl.Series) -> str:
    """A list bound as one parameter: a PostgreSQL array literal, or JSON text for SQLite."""
    if connection_or_session.get_bind().dialect.name == "postgresql":
        return pg_array_literal(values)
    if isinstance(values, pl.Series):
        values = values.to_list()
    return orjson.dumps(list(values)).decode()


def pg_array_literal(values: list | pl.Series) -> str:
    """'{"a","b",NULL}' for text, '{1,2}' for numbers, built by polars in native code.

    Bound as text, PostgreSQL parses it into the array the statement asks for
    (`CAST(:p AS varchar[])`). psycopg would adapt a Python list element by element in
    Python, about 5 us each: seconds for the hundreds of thousands of keys of one load.
    """
    series = values if isinstance(values, pl.Series) else pl.Series(values)
    if series.is_empty() or series.dtype == pl.Null:
        return "{}"
    value = pl.col("value")
    if series.dtype == pl.String:
        # Inside double quotes only a double quote and a backslash need escaping.
        escaped = value.str.replace_all(r'(["\\])', r"\$1")
        element = pl.concat_str(pl.lit('"'), escaped, pl.lit('"'))
    else:
        element = value.cast(pl.String)
    joined = series.rename("value").to_frame().select(
        element.fill_null(pl.lit("NULL")).str.join(",")
    )
    return "{" + joined.item() + "}"


def copy_into(connection, table_name: str, frame: pl.DataFrame) -> None:
    """PostgreSQL: COPY a polars frame into `table_name` (columns named as in the frame).

    Polars formats the whole frame as CSV in native code, so no value passes through Python
    one by one; bytea columns travel as hex (`\\x...`).
    """
    as_csv = frame.with_columns(
        *(
            pl.concat_str(pl.lit("\\x"), pl.col(name).bin.encode("hex")).alias(name)
            for name, dtype in frame.schema.items()
            if dtype == pl.Binary
        ),
        # Formatted here rather than by write_csv's datetime_format, which costs ~2 us a row
        # even for a constant column such as loaded_at.
        pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%S%.f%z"),
    )
    buffer = io.BytesIO()
    # Text is always quoted: COPY reads an unquoted \N as NULL, quoted as the two characters.
    as_csv.write_csv(buffer, include_header=False, null_value="\\N", quote_style="non_numeric")
    columns = ", ".join(frame.columns)
    raw = connection.connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY {table_name} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        ) as copy,
    ):
        copy.write(buffer.getvalue())


# The text form SQLAlchemy stores a DateTime in on SQLite.
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%6f"


def sqlite_rows(frame: pl.DataFrame) -> list[tuple]:
    """A polars frame as parameter tuples, dates and times in the text form SQLAlchemy stores."""
    return frame.with_columns(
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
        pl.col(pl.Datetime).dt.strftime(_SQLITE_DATETIME),
    ).rows()


def sqlite_datetime(value: datetime) -> str:
    """One datetime as sqlite_rows writes it, for a statement sent to the driver directly."""
    return value.strftime(_SQLITE_DATETIME.replace("%6f", "%f"))


def bulk_insert(connection, table_name: str, frame: pl.DataFrame) -> None:
    """Inserts every row of a polars frame: COPY on PostgreSQL, one executemany on SQLite."""
    if connection.dialect.name == "postgresql":
        copy_into(connection, table_name, frame)
        return
    marks = ", ".join("?" for _ in frame.columns)
    connection.connection.driver_connection.executemany(
        f"INSERT INTO {table_name} ({', '.join(frame.columns)}) VALUES ({marks})",
        sqlite_rows(frame),
    )
