"""Scoring domain: bureau attributes, scorecard training, scoring, reason codes, reports.

Public API (heavy dependencies - optbinning, scikit-learn, matplotlib - load lazily)::

    compute_attributes_batch(tradelines, inquiries, as_of) -> pl.DataFrame
    compute_attributes_online(tradelines, inquiries, as_of) -> dict
    build_labels(tradelines, observation_date, definition) -> pl.DataFrame
    train_scorecard(sample, spec=TrainingSpec()) -> ScoreModel
    ScoreModel.load(path) / .save(path) / .score(frame | dict)
    psi(expected, actual, bins=10) -> float
    monitor(model, baseline, recent, month_col="month") -> pl.DataFrame
    validation_report(model, development, recent, path) -> Path
"""

from openbureau.scoring.attributes import (
    ATTRIBUTE_BY_CODE,
    ATTRIBUTE_CODES,
    ATTRIBUTES,
    compute_attributes_batch,
    compute_attributes_online,
)
from openbureau.scoring.errors import (
    DefinitionError,
    EmptyDefinitionError,
    InputFrameError,
    ModelFileError,
    NoPerformanceDataError,
    ScoringError,
    TrainingError,
)
from openbureau.scoring.labels import build_labels, parse_definition
from openbureau.scoring.model import ScoreModel, ScoreResult, save_model
from openbureau.scoring.reasons import Reason

__all__ = [
    "ATTRIBUTES",
    "ATTRIBUTE_BY_CODE",
    "ATTRIBUTE_CODES",
    "DefinitionError",
    "EmptyDefinitionError",
    "InputFrameError",
    "ModelFileError",
    "NoPerformanceDataError",
    "Reason",
    "ScoreModel",
    "ScoreResult",
    "ScoringError",
    "TrainingError",
    "build_labels",
    "compute_attributes_batch",
    "compute_attributes_online",
    "monitor",
    "parse_definition",
    "psi",
    "save_model",
    "train_scorecard",
    "validation_report",
]


def __getattr__(name: str):
    """Lazy access to the training and reporting entry points (slow imports)."""
    if name in ("train_scorecard", "TrainingSpec", "Scaling", "ThinFileRule"):
        from openbureau.scoring import train

        return getattr(train, name)
    if name in ("psi", "monitor", "validation_report", "discrimination"):
        from openbureau.scoring import report

        return getattr(report, name)
    raise AttributeError(name)
