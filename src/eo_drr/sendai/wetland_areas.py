"""Wetland extent per polygon: hectares of the polygon, of the wetland extent inside it and,
with a reference period, of the reference extent and of the extent gained and lost."""

from __future__ import annotations

import numpy as np
import pandas as pd


def extent_areas(
    labels: np.ndarray,
    ids: pd.Series,
    expected_px: np.ndarray,
    px_ha: float,
    extent: np.ndarray,
    extent_pre: np.ndarray | None = None,
    change: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per polygon (index ``id``; ``labels``: int32, 0 none, k the k-th of ``ids``):
    ``area_ha`` (``expected_px`` pixels of ``px_ha`` ha), ``extent_ha`` (``extent`` == 1) and,
    with ``extent_pre`` and ``change``, ``extent_reference_ha``, ``gained_ha`` (change 2) and
    ``lost_ha`` (change 3)."""
    idx = labels.ravel()
    n = len(ids)

    def ha(mask: np.ndarray) -> np.ndarray:
        return np.bincount(idx, weights=mask.ravel(), minlength=n + 1)[1:] * px_ha

    ext = pd.DataFrame(index=pd.Index(ids, name="id"))
    ext["area_ha"] = expected_px * px_ha
    ext["extent_ha"] = ha(extent == 1)
    if change is not None and extent_pre is not None:
        ext["extent_reference_ha"] = ha(extent_pre == 1)
        ext["gained_ha"] = ha(change == 2)
        ext["lost_ha"] = ha(change == 3)
    return ext
