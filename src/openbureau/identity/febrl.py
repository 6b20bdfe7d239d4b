"""Reading FEBRL record-linkage benchmark files into openbureau's canonical record columns."""

from __future__ import annotations

from pathlib import Path

import polars as pl


def read_febrl(path: Path) -> pl.DataFrame:
    """A FEBRL CSV with its padded headers and values trimmed, blanks as nulls."""
    df = pl.read_csv(path, infer_schema=False)
    df = df.rename({c: c.strip() for c in df.columns})
    return df.with_columns(
        pl.when(pl.col(c).str.strip_chars() == "")
        .then(None)
        .otherwise(pl.col(c).str.strip_chars())
        .alias(c)
        for c in df.columns
    )


def to_canonical(df: pl.DataFrame, source: str | None = None) -> pl.DataFrame:
    """FEBRL columns as the canonical record columns the resolver takes (no label columns)."""
    out = df.select(
        record_id=pl.col("rec_id"),
        given_name=pl.col("given_name"),
        surname=pl.col("surname"),
        dob=pl.col("date_of_birth"),
        national_id=pl.col("soc_sec_id"),
        id_country=pl.lit("AU"),
        address=pl.concat_str(
            ["street_number", "address_1", "address_2", "suburb", "state"],
            separator=" ",
            ignore_nulls=True,
        ),
        postcode=pl.col("postcode"),
    )
    return out if source is None else out.with_columns(source=pl.lit(source))
