"""The bureau's runtime context: settings plus the things built from them, passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from openbureau.db import make_engine, make_session_factory
from openbureau.governance.crypto import BureauKeys, load_keys
from openbureau.governance.jurisdictions import JurisdictionProfile, profile_for
from openbureau.scoring.cache import ScoreCache
from openbureau.settings import Settings


@dataclass(frozen=True)
class Bureau:
    """Everything a request or command needs; built once per process from Settings."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keys: BureauKeys
    profile: JurisdictionProfile
    score_cache: ScoreCache = field(default_factory=ScoreCache)
    # Scoring models by version, parsed once per process (versions are immutable).
    models: dict = field(default_factory=dict)
    # Identity (Fellegi-Sunter) models by version and thresholds, parsed once per process.
    identity_models: dict = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Bureau:
        engine = make_engine(settings)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            keys=load_keys(settings),
            profile=profile_for(settings.jurisdiction),
        )

    def dispose(self) -> None:
        self.engine.dispose()
