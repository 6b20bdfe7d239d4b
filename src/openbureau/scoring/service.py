"""Scoring inside the bureau: train from the stored history, score a subject for a report."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import polars as pl
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from openbureau.context import Bureau
from openbureau.files.credit_file import SUBJECT_FAMILY
from openbureau.files.file_lines import file_lines
from openbureau.reports.tables import inquiries
from openbureau.scoring.attributes import compute_attributes_batch, compute_attributes_online
from openbureau.scoring.errors import ModelFileError, ScoringError
from openbureau.scoring.frames import all_frames, subject_frames
from openbureau.scoring.labels import build_labels
from openbureau.scoring.model import ScoreModel, ScoreResult
from openbureau.scoring.registry import active_model, register
from openbureau.scoring.tables import subject_scores

# Bands shown on reports, by the model's calibrated probability of going bad (upper bound,
# name): a band then means the same risk whatever the model's point scaling.
BANDS = ((0.02, "excellent"), (0.05, "very good"), (0.10, "good"), (0.20, "fair"), (1.01, "poor"))


class TrainingInputError(ScoringError):
    """The training request itself is malformed (dates, definitions)."""


@dataclass(frozen=True)
class TrainedModel:
    version: str
    model_path: Path
    report_path: Path
    subjects: int
    bad_rate: float


def month_end(period: str) -> date:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise TrainingInputError(f"observation {period!r} must be YYYY-MM")
    year, month = int(period[:4]), int(period[5:])
    return date(year, month, calendar.monthrange(year, month)[1])


def with_window(definition: str, months: int) -> str:
    """Adds `within N` to every clause of a bad definition that does not name its window."""
    clauses = re.split(r"\s+or\s+", definition.strip(), flags=re.IGNORECASE)
    return " or ".join(
        c if re.search(r"\bwithin\b", c) else f"{c} within {months}" for c in clauses
    )


def train_from_bureau(
    bureau: Bureau,
    session: Session,
    observation: str,
    actor: str,
    *,
    performance_months: int | None = None,
    bad_definition: str | None = None,
    labels: pl.DataFrame | None = None,
) -> TrainedModel:
    """Builds the sample (attributes at the observation date, outcome from later furnishing or
    given labels), trains a scorecard, writes its JSON and HTML report, and registers it.
    Registering never promotes: the active model changes only with `promote`."""
    from openbureau.scoring.report import validation_report
    from openbureau.scoring.train import TrainingSpec, train_scorecard

    as_of = month_end(observation)
    lines, asks = all_frames(session)
    if labels is None:
        if not bad_definition or not performance_months:
            raise TrainingInputError("give --bad and --performance-months, or labels")
        labels = build_labels(lines, as_of, with_window(bad_definition, performance_months))
    attributes = compute_attributes_batch(lines, asks, as_of)
    sample = attributes.join(labels.select("subject_id", "label"), on="subject_id", how="inner")
    if sample.is_empty():
        raise TrainingInputError("no subject has both a file at the observation date and a label")
    version = f"scorecard-{observation}-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    model = train_scorecard(sample, TrainingSpec(model_version=version))
    folder = bureau.settings.data_dir / "models"
    folder.mkdir(parents=True, exist_ok=True)
    latest = lines["reporting_date"].max()
    recent = compute_attributes_batch(lines, asks, latest) if latest and latest > as_of else None
    report_path = validation_report(
        model,
        sample,
        recent,
        path=folder / f"{version}.html",
        title=f"Scorecard {version}: validation",
    )
    model_path = model.save(folder / f"{version}.json")
    training = {
        "observation": observation,
        "performance_months": performance_months,
        "bad_definition": bad_definition,
        "labels": "given" if bad_definition is None else "from furnishing",
        "subjects": sample.height,
        "bad_rate": float(sample["label"].mean()),
    }
    register(session, model, training, str(report_path), actor)
    return TrainedModel(version, model_path, report_path, sample.height, training["bad_rate"])


def band(probability_of_bad: float) -> str:
    return next(name for ceiling, name in BANDS if probability_of_bad < ceiling)


_FILE_LINES = file_lines(["loaded_at", "reporting_date"], SUBJECT_FAMILY).subquery("lines")
_TRADELINE_STATE = select(
    func.count(), func.max(_FILE_LINES.c.loaded_at), func.max(_FILE_LINES.c.reporting_date)
)
_INQUIRY_STATE = select(func.count(), func.max(inquiries.c.id)).where(
    inquiries.c.subject_id.in_(SUBJECT_FAMILY), inquiries.c.created_at <= bindparam("until")
)
_STORED = select(subject_scores.c.state_key, subject_scores.c.block).where(
    subject_scores.c.subject_id == bindparam("subject"),
    subject_scores.c.model_version == bindparam("version"),
)


def state_key(lines_n: int, last_loaded, asks_n: int, last_ask_id: int | None) -> str:
    """Names every input of a score: the file's tradelines and its inquiries up to the as-of
    date. A changed, added or corrected record, or a new inquiry, gives a new key."""
    return f"{lines_n}|{last_loaded}|{asks_n}|{last_ask_id}"


def until_of(as_of: date) -> datetime:
    return datetime.combine(as_of, datetime.max.time())


@dataclass(frozen=True)
class ScoreInputs:
    """Everything that decides a report's score, for a caller that reads it together with
    its other reads: the active model's version (None: no model is active), the file's state
    (see `state_key`, with its inquiries counted up to the file's latest month end) and the
    batch score stored for that subject and version, if any."""

    model_version: str | None
    lines_n: int
    last_loaded: datetime | None
    last_reported: date | None
    asks_n: int
    last_ask: int | None
    stored_key: str | None
    stored_block: str | None


def score_for_report(bureau: Bureau, session: Session, subject_id: int) -> dict:
    """The active model's score for one subject, as of its file's latest month, with reasons.

    Served, in order, from this process's cache, from the batch scores (`model score-all`),
    or computed online; the first two only under a key naming the model version and the
    state of every input, so a served score is never stale.
    """
    try:
        model: ScoreModel | None = active_model(session, bureau.models)
    except ModelFileError as exc:
        return _unusable(exc)
    if model is None:
        return _no_model()
    conn = session.connection()
    lines_n, last_loaded, last_reported = conn.execute(
        _TRADELINE_STATE, {"subject": subject_id}
    ).one()
    if not lines_n:
        return _no_accounts(model)
    as_of = month_end(last_reported.strftime("%Y-%m"))
    asks_n, last_ask = conn.execute(
        _INQUIRY_STATE, {"subject": subject_id, "until": until_of(as_of)}
    ).one()

    def stored() -> tuple[str | None, str | None]:
        row = conn.execute(_STORED, {"subject": subject_id, "version": model.version}).first()
        return (row.state_key, row.block) if row is not None else (None, None)

    key = state_key(lines_n, last_loaded, asks_n, last_ask)
    return _serve(bureau, session, subject_id, model, key, as_of, stored)


def score_from_inputs(
    bureau: Bureau, session: Session, subject_id: int, inputs: ScoreInputs
) -> dict:
    """`score_for_report` from inputs the caller already read; the same score for the same
    database state. Touches the database only to parse a model version for the first time
    in this process, or to score online when no cached or stored score matches."""
    if inputs.model_version is None:
        return _no_model()
    model = bureau.models.get(inputs.model_version)
    if model is None:
        try:
            model = active_model(session, bureau.models)
        except ModelFileError as exc:
            return _unusable(exc)
        if model is None:
            return _no_model()
    if not inputs.lines_n:
        return _no_accounts(model)
    as_of = month_end(inputs.last_reported.strftime("%Y-%m"))
    key = state_key(inputs.lines_n, inputs.last_loaded, inputs.asks_n, inputs.last_ask)
    return _serve(
        bureau,
        session,
        subject_id,
        model,
        key,
        as_of,
        lambda: (inputs.stored_key, inputs.stored_block),
    )


def _no_model() -> dict:
    return {"available": False, "reason": "no scoring model is active"}


def _unusable(exc: ModelFileError) -> dict:
    # A damaged registry entry must not take reports down: report without a score.
    return {"available": False, "reason": f"the active model is unusable: {exc}"}


def _no_accounts(model: ScoreModel) -> dict:
    return {
        "available": False,
        "reason": "the file holds no accounts",
        "model_version": model.version,
    }


def _serve(
    bureau: Bureau,
    session: Session,
    subject_id: int,
    model: ScoreModel,
    key: str,
    as_of: date,
    stored: Callable[[], tuple[str | None, str | None]],
) -> dict:
    cache_key = (subject_id, model.version, key)
    block = bureau.score_cache.get(cache_key)
    if block is None:
        stored_key, stored_block = stored()
        if stored_block is not None and stored_key == key:
            block = orjson.loads(stored_block)
        else:
            lines, asks = subject_frames(session, subject_id)
            result = model.score_one(compute_attributes_online(lines, asks, as_of))
            block = score_block(result, as_of)
        bureau.score_cache.put(cache_key, block)
    return block


def score_block(result: ScoreResult, as_of: date) -> dict:
    """What a report shows of a score (the same for batch and online scores)."""
    if not result.scored:
        return {
            "available": False,
            "model_version": result.model_version,
            "reason_code": result.no_score_code,
            "reason": result.no_score_reason,
            "reason_zh": result.no_score_reason_zh,
        }
    return {
        "available": True,
        "score": result.score,
        "band": band(result.probability_of_bad),
        "probability_of_bad": round(result.probability_of_bad, 4),
        "as_of": as_of.isoformat(),
        "model_version": result.model_version,
        "reasons": [
            {"code": r.code, "attribute": r.attribute, "text": r.text_en, "text_zh": r.text_zh}
            for r in result.reasons
        ],
    }


def monitor_active(session: Session) -> pl.DataFrame:
    """PSI by month of the active model's score and attributes against its training month."""
    from openbureau.scoring.report import monitor
    from openbureau.scoring.tables import score_models

    model = active_model(session)
    if model is None:
        raise ScoringError("no scoring model is active; promote one first")
    training = orjson.loads(
        session.execute(
            select(score_models.c.training).where(score_models.c.version == model.version)
        ).scalar_one()
    )
    lines, asks = all_frames(session)
    baseline = compute_attributes_batch(lines, asks, month_end(training["observation"]))
    months = sorted({d.strftime("%Y-%m") for d in lines["reporting_date"].unique().to_list()})
    recent = pl.concat(
        [
            compute_attributes_batch(lines, asks, month_end(m)).with_columns(
                pl.lit(m).alias("month")
            )
            for m in months
        ],
        how="diagonal_relaxed",
    )
    return monitor(model, baseline, recent)
