"""Exception types raised by the scoring domain.

Every error a caller can cause with bad input has its own type, so the API and CLI layers can
map them to clear messages without parsing strings.
"""

from __future__ import annotations


class ScoringError(Exception):
    """Base class for all scoring-domain errors."""


class InputFrameError(ScoringError, ValueError):
    """A tradeline, inquiry or sample frame lacks required columns or has the wrong shape."""


class NoPerformanceDataError(ScoringError, ValueError):
    """The observation date has no later data, so no outcome (label) can be observed."""


class DefinitionError(ScoringError, ValueError):
    """A label definition string does not follow the grammar (see openbureau.scoring.labels)."""


class EmptyDefinitionError(ScoringError, ValueError):
    """A label definition parsed, but matches no subject at all in the performance window."""


class ModelFileError(ScoringError, ValueError):
    """A model file is missing, corrupted (bad JSON, checksum mismatch) or not a valid model."""


class TrainingError(ScoringError, ValueError):
    """Training cannot proceed (e.g. a single class, or no attribute with any signal)."""
