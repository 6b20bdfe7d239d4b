"""Adverse-action reason codes (key factors).

A factor's *points lost* is the attribute's maximum attainable points minus the points the
subject got for it. The key factors are the (up to) four attributes with the largest positive
loss, largest first (ties: attribute order in the model). If an inquiry attribute lost points
but is not among those four, the inquiry attribute with the largest loss is added as a fifth
factor (FCRA 15 U.S.C. 1681g(f)(9)). Codes are stable per attribute (the catalogue in
:mod:`openbureau.scoring.attributes` assigns them) and carried in the model file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_KEY_FACTORS = 4


@dataclass(frozen=True)
class Reason:
    code: str
    attribute: str
    points_lost: float
    text_en: str
    text_zh: str


def select_factors(
    losses: np.ndarray, inquiry_mask: np.ndarray, max_factors: int = MAX_KEY_FACTORS
) -> np.ndarray:
    """Indexes of key factors per row: ``(n, max_factors + 1)``, -1 where there is none.

    ``losses`` is ``(n, k)`` points lost per attribute; ``inquiry_mask`` ``(k,)`` marks
    inquiry attributes. Column ``max_factors`` holds the inquiry fifth factor, if any.
    """
    losses = np.atleast_2d(np.asarray(losses, dtype=float))
    n, k = losses.shape
    out = np.full((n, max_factors + 1), -1, dtype=np.int64)
    if k == 0:
        return out
    order = np.argsort(-losses, axis=1, kind="stable")[:, :max_factors]
    top = np.take_along_axis(losses, order, axis=1)
    m = order.shape[1]
    out[:, :m] = np.where(top > 1e-9, order, -1)
    inq_idx = np.flatnonzero(np.asarray(inquiry_mask, dtype=bool))
    if inq_idx.size:
        inq_losses = losses[:, inq_idx]
        best = inq_idx[np.argmax(inq_losses, axis=1)]
        best_loss = losses[np.arange(n), best]
        already = (out[:, :max_factors, None] == inq_idx[None, None, :]).any(axis=(1, 2))
        out[:, max_factors] = np.where((best_loss > 1e-9) & ~already, best, -1)
    return out
