"""Shared fixtures: generated bureau data and one trained scorecard per session."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from openbureau.scoring.attributes import compute_attributes_batch
from openbureau.scoring.synth import synthetic_bureau

AS_OF = dt.date(2025, 12, 31)


@pytest.fixture(scope="session")
def bureau():
    tradelines, inquiries, risk = synthetic_bureau(3000, end=AS_OF, n_periods=4, seed=11)
    return tradelines, inquiries, risk


@pytest.fixture(scope="session")
def sample(bureau):
    """Attributes as of AS_OF joined with a label drawn from the latent risk."""
    tradelines, inquiries, risk = bureau
    attrs = compute_attributes_batch(tradelines, inquiries, AS_OF)
    rng = np.random.default_rng(5)
    label = (rng.random(risk.size) < 1 / (1 + np.exp(-(1.6 * risk - 2.3)))).astype(np.int8)
    lab = pl.DataFrame({"subject_id": np.arange(1, risk.size + 1), "label": label})
    return attrs.join(lab, on="subject_id", how="inner")


@pytest.fixture(scope="session")
def model(sample):
    from openbureau.scoring.train import TrainingSpec, train_scorecard

    dev = sample.filter(pl.col("subject_id") % 3 != 0)
    return train_scorecard(dev, TrainingSpec(model_version="test-1.0"))


@pytest.fixture(scope="session")
def holdout(sample):
    return sample.filter(pl.col("subject_id") % 3 == 0)
