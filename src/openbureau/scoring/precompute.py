"""Batch scoring: every subject's score under the active model, stored for reports.

A stored score carries the state key of its inputs; a report serves it only while the key
still matches (see service.score_for_report), otherwise it scores online.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import polars as pl
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openbureau.files.file_lines import file_lines
from openbureau.identity.tables import subjects
from openbureau.reports.tables import inquiries
from openbureau.scoring.attributes import compute_attributes_batch
from openbureau.scoring.errors import ScoringError
from openbureau.scoring.frames import all_frames, fold_lines
from openbureau.scoring.model import ScoreModel, ScoreResult
from openbureau.scoring.reasons import Reason
from openbureau.scoring.registry import active_model
from openbureau.scoring.service import month_end, score_block, state_key, until_of
from openbureau.scoring.tables import subject_scores


def _canonical_ids(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(subjects.c.id, subjects.c.merged_into).where(subjects.c.merged_into.is_not(None))
    ).all()
    return {old: new for old, new in rows}


def _fold(frame: pl.DataFrame, merged: dict[int, int]) -> pl.DataFrame:
    if not merged:
        return frame
    return frame.with_columns(pl.col("subject_id").replace(merged))


def _results(model: ScoreModel, scored: pl.DataFrame) -> list[ScoreResult]:
    by_reason = {
        entry["code"]: (attribute, entry["en"], entry["zh"])
        for attribute, entry in model.doc["reason_codes"].items()
    }
    rules = {r["code"]: r for r in model.doc["no_score_rules"]}
    reason_cols = [c for c in scored.columns if c.startswith("reason_")]
    out = []
    for row in scored.iter_rows(named=True):
        if row["score"] is None:
            rule = rules.get(row["no_score_code"], {})
            out.append(
                ScoreResult(
                    False,
                    None,
                    None,
                    [],
                    row["no_score_code"],
                    rule.get("text_en"),
                    rule.get("text_zh"),
                    model.version,
                )
            )
            continue
        reasons = [
            Reason(code, by_reason[code][0], 0.0, by_reason[code][1], by_reason[code][2])
            for code in (row[c] for c in reason_cols)
            if code is not None
        ]
        out.append(
            ScoreResult(
                True,
                int(row["score"]),
                float(row["probability_of_bad"]),
                reasons,
                model_version=model.version,
            )
        )
    return out


def score_all(session: Session) -> int:
    """Scores every subject with the active model and stores the results; returns the count."""
    model = active_model(session)
    if model is None:
        raise ScoringError("no scoring model is active; promote one first")
    canonical = func.coalesce(subjects.c.merged_into, subjects.c.id)
    lines_of = file_lines(["subject_id", "loaded_at", "reporting_date"]).subquery("lines")
    states = pl.DataFrame(
        session.execute(
            select(
                canonical,
                func.count(),
                func.max(lines_of.c.loaded_at),
                func.max(lines_of.c.reporting_date),
            )
            .join(subjects, subjects.c.id == lines_of.c.subject_id)
            .group_by(canonical)
        ).all(),
        schema={
            "subject_id": pl.Int64,
            "lines_n": pl.Int64,
            "last_loaded": pl.Object,
            "last_reported": pl.Date,
        },
        orient="row",
    )
    merged = _canonical_ids(session)
    lines, asks = all_frames(session)
    lines, asks = _fold(lines, merged), _fold(asks, merged)
    if merged:
        lines = fold_lines(lines)
    ask_ids = _fold(
        pl.DataFrame(
            session.execute(
                select(inquiries.c.id, inquiries.c.subject_id, inquiries.c.created_at).where(
                    inquiries.c.subject_id.is_not(None)
                )
            ).all(),
            schema={"id": pl.Int64, "subject_id": pl.Int64, "created_at": pl.Datetime("us")},
            orient="row",
        ).with_columns(pl.col("created_at").dt.replace_time_zone(None)),
        merged,
    )
    states = states.with_columns(pl.col("last_reported").dt.month_end().alias("as_of"))
    now = datetime.now(UTC)
    rows = []
    for (as_of,), group in states.group_by("as_of", maintain_order=True):
        as_of = month_end(as_of.strftime("%Y-%m"))
        ids = group["subject_id"].implode()
        attributes = compute_attributes_batch(
            lines.filter(pl.col("subject_id").is_in(ids)),
            asks.filter(pl.col("subject_id").is_in(ids)),
            as_of,
        )
        scored = model.score_frame(attributes)
        visible = (
            ask_ids.filter(pl.col("subject_id").is_in(ids), pl.col("created_at") <= until_of(as_of))
            .group_by("subject_id")
            .agg(pl.len().alias("asks_n"), pl.col("id").max().alias("last_ask"))
        )
        keyed = group.join(visible, on="subject_id", how="left").with_columns(
            pl.col("asks_n").fill_null(0)
        )
        key_by_subject = {
            r["subject_id"]: state_key(r["lines_n"], r["last_loaded"], r["asks_n"], r["last_ask"])
            for r in keyed.iter_rows(named=True)
        }
        for subject_id, result in zip(scored["subject_id"], _results(model, scored), strict=True):
            rows.append(
                {
                    "subject_id": subject_id,
                    "model_version": model.version,
                    "state_key": key_by_subject[subject_id],
                    "block": orjson.dumps(score_block(result, as_of)).decode(),
                    "computed_at": now,
                }
            )
    session.execute(delete(subject_scores))
    if rows:
        session.execute(subject_scores.insert(), rows)
    return len(rows)
