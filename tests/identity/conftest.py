from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from openbureau.identity.febrl import read_febrl, to_canonical
from openbureau.identity.model import fit_model
from openbureau.identity.normalize import normalize_records
from openbureau.identity.synth import generate_population

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def febrl1() -> tuple[pl.DataFrame, set]:
    raw = to_canonical(read_febrl(DATA / "febrl1.csv"))
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
