"""Versioned models in the database: register, promote (keeping the previous), find active."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openbureau.governance.audit import append_event
from openbureau.scoring.errors import ScoringError
from openbureau.scoring.model import ScoreModel
from openbureau.scoring.tables import score_models


class UnknownModel(ScoringError):
    """No model with that version is registered."""


def register(
    session: Session, model: ScoreModel, training: dict, report_path: str | None, actor: str
) -> None:
    session.execute(
        score_models.insert().values(
            version=model.version,
            created_at=datetime.now(UTC),
            document=orjson.dumps(model.doc).decode(),
            training=orjson.dumps(training, default=str).decode(),
            report_path=report_path,
            active=False,
        )
    )
    append_event(session, actor, "model.register", {"version": model.version} | training)


def promote(session: Session, version: str, actor: str) -> str | None:
    """Makes `version` active; returns the version it replaced (kept for rollback)."""
    exists = session.execute(
        select(score_models.c.version).where(score_models.c.version == version)
    ).scalar_one_or_none()
    if exists is None:
        raise UnknownModel(f"no model version {version!r}; see `openbureau model list`")
    previous = active_version(session)
    session.execute(update(score_models).values(active=False))
    session.execute(
        update(score_models)
        .where(score_models.c.version == version)
        .values(active=True, promoted_at=datetime.now(UTC))
    )
    append_event(session, actor, "model.promote", {"version": version, "previous": previous})
    return previous


_ACTIVE = select(score_models.c.version).where(score_models.c.active.is_(True))


def active_version(session: Session) -> str | None:
    return session.connection().execute(_ACTIVE).scalar_one_or_none()


def active_model(
    session: Session, loaded: dict[str, ScoreModel] | None = None
) -> ScoreModel | None:
    """The active model. With `loaded` (version -> model, e.g. the Bureau's), a version's
    document is read and checked once: a registered version's document never changes."""
    version = active_version(session)
    if version is None:
        return None
    if loaded is not None and version in loaded:
        return loaded[version]
    document = (
        session.connection()
        .execute(select(score_models.c.document).where(score_models.c.version == version))
        .scalar_one()
    )
    model = ScoreModel.from_dict(orjson.loads(document), source=f"registry:{version}")
    if loaded is not None:
        loaded[version] = model
    return model


def list_models(session: Session) -> list[dict]:
    rows = session.execute(
        select(
            score_models.c.version,
            score_models.c.created_at,
            score_models.c.active,
            score_models.c.promoted_at,
            score_models.c.report_path,
            score_models.c.training,
        ).order_by(score_models.c.created_at)
    ).all()
    return [
        {
            "version": r.version,
            "created_at": r.created_at.isoformat(),
            "active": r.active,
            "promoted_at": r.promoted_at.isoformat() if r.promoted_at else None,
            "report": r.report_path,
            "training": orjson.loads(r.training),
        }
        for r in rows
    ]
