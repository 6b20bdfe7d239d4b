"""Versioned identity models in the database: register, activate, and load the active one.

A bureau starts with the model shipped in the package (fitted with Splink on a generated
multi-furnisher population, see docs/identity.md); `openbureau identity train` re-estimates
m/u from the bureau's own identities and stores the result as a new version. Versions are
immutable, so a parsed model is cached by version for the life of the process.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from importlib import resources

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openbureau.identity.model import IdentityModel, Thresholds
from openbureau.identity.tables import identity_models
from openbureau.settings import Settings

DEFAULT_MODEL_RESOURCE = "data/default-model.json"


class ModelStoreError(ValueError):
    """A model operation that cannot be done, with the reason."""


@functools.cache
def default_model() -> IdentityModel:
    """The shipped model; immutable, so read and parsed once per process."""
    text = resources.files("openbureau.identity").joinpath(DEFAULT_MODEL_RESOURCE).read_text()
    return IdentityModel.load(text)


def furnishing_thresholds(settings: Settings) -> Thresholds:
    return Thresholds(
        match=settings.identity_match_threshold, review=settings.identity_review_threshold
    )


def active_model(session: Session, settings: Settings, cache: dict) -> IdentityModel:
    """The active stored model (else the shipped default) with furnishing's thresholds."""
    return _active(session, furnishing_thresholds(settings), cache)


def inquiry_model(session: Session, settings: Settings, cache: dict) -> IdentityModel:
    """The active model with the stricter match threshold an inquiry needs to be served."""
    review = settings.identity_review_threshold
    match = max(settings.identity_inquiry_threshold, review)
    return _active(session, Thresholds(match=match, review=review), cache)


def _active(session: Session, thresholds: Thresholds, cache: dict) -> IdentityModel:
    row = session.execute(
        select(identity_models.c.version, identity_models.c.model_json).where(
            identity_models.c.active.is_(True)
        )
    ).first()
    cache_key = (row.version if row else None, thresholds)
    model = cache.get(cache_key)
    if model is None:
        loaded = IdentityModel.load(row.model_json) if row else default_model()
        model = cache[cache_key] = loaded.with_thresholds(thresholds)
    return model


def register_model(
    session: Session, model: IdentityModel, trained_on: int | None, activate: bool
) -> str:
    version = model.version
    exists = session.execute(
        select(identity_models.c.id).where(identity_models.c.version == version)
    ).first()
    if exists:
        raise ModelStoreError(f"identity model version {version!r} already exists")
    session.execute(
        identity_models.insert().values(
            version=version,
            created_at=datetime.now(UTC),
            model_json=model.to_json(indent=None),
            active=False,
            trained_on=trained_on,
        )
    )
    if activate:
        activate_model(session, version)
    return version


def activate_model(session: Session, version: str) -> None:
    """Makes a stored version active; the shipped default's version goes back to it."""
    if version == default_model().version:
        session.execute(update(identity_models).values(active=False))
        return
    found = session.execute(
        select(identity_models.c.id).where(identity_models.c.version == version)
    ).first()
    if found is None:
        raise ModelStoreError(f"no identity model version {version!r}")
    session.execute(update(identity_models).values(active=identity_models.c.version == version))


def list_models(session: Session) -> list[dict]:
    rows = session.execute(
        select(
            identity_models.c.version,
            identity_models.c.created_at,
            identity_models.c.active,
            identity_models.c.trained_on,
        ).order_by(identity_models.c.id)
    ).all()
    stored = [
        {
            "version": r.version,
            "created_at": r.created_at.isoformat(),
            "active": bool(r.active),
            "trained_on_identities": r.trained_on,
        }
        for r in rows
    ]
    default = {
        "version": default_model().version,
        "created_at": None,
        "active": not any(m["active"] for m in stored),
        "trained_on_identities": None,
        "shipped": True,
    }
    return [default, *stored]
