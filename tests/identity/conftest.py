from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from openbureau.identity.model import fit_model
from openbureau.identity.normalize import normalize_records
from openbureau.identity.synth import generate_population

DATA = Path(__file__).parent / "data"


def read_febrl(path: Path) -> pl.DataFrame:
    df = pl.read_csv(path, infer_schema=False)
    df = df.rename({c: c.strip() for c in df.columns})
    df = df.with_columns(
        [
            pl.when(pl.col(c).str.strip_chars() == "")
            .then(None)
            .otherwise(pl.col(c).str.strip_chars())
            .alias(c)
            for c in df.columns
        ]
    )
    return df.select(
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


@pytest.fixture(scope="session")
def febrl1() -> tuple[pl.DataFrame, set]:
    raw = read_febrl(DATA / "febrl1.csv")
    truth = pl.read_csv(DATA / "febrl1_true_links.csv", infer_schema=False)
    pairs = {tuple(sorted(r)) for r in truth.select("rec_id_1", "rec_id_2").iter_rows()}
    return raw, pairs


@pytest.fixture(scope="session")
def population() -> pl.DataFrame:
    return generate_population(4000, seed=7)


@pytest.fixture(scope="session")
def population_norm(population) -> pl.DataFrame:
    return normalize_records(population)


@pytest.fixture(scope="session")
def model(population_norm):
    return fit_model(population_norm, max_pairs=2e5, version="test-1")
