"""Re-estimating the identity model from the bureau's own identities with Splink.

The identities are decrypted in memory only, normalised as the online path normalises them,
and handed to `model.fit_model` (EM on DuckDB). The result is stored as a new version.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openbureau.governance.crypto import BureauKeys
from openbureau.identity.matching import ENCRYPTED_IDENTITY, decrypted_identities, normalized
from openbureau.identity.model import IdentityModel, fit_model
from openbureau.identity.tables import subject_identities

# Fewer identities than this cannot show Splink enough agreeing pairs to estimate m.
MIN_IDENTITIES = 200


class TrainingError(ValueError):
    """The bureau's data cannot support a model yet, with the reason."""


def train_from_bureau(
    session: Session, keys: BureauKeys, phone_region: str, sample: int, seed: int = 1
) -> tuple[IdentityModel, int]:
    """A model fitted on up to `sample` stored identities (evenly spread over the table)."""
    total = session.execute(select(func.count()).select_from(subject_identities)).scalar_one()
    if total < MIN_IDENTITIES:
        raise TrainingError(
            f"the bureau holds {total} identities; at least {MIN_IDENTITIES} are needed"
        )
    step = max(1, total // sample)
    ordered = select(*ENCRYPTED_IDENTITY).order_by(subject_identities.c.id)
    rows = session.execute(ordered).all()[::step]
    rows = rows[:sample]
    norm = normalized(decrypted_identities(keys, rows), phone_region)
    version = f"bureau-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    try:
        model = fit_model(norm, version=version, seed=seed, default_region=phone_region)
    except ValueError as exc:
        raise TrainingError(
            f"Splink could not estimate a model from these identities: {exc}"
        ) from None
    return model, norm.height
