"""Seeded random streams and smooth random fields (the building blocks of natural shapes).

Every component of the scene draws from its own stream, ``rng_for(seed, "s2", "2024-11-07")``,
so the bytes of one layer do not depend on the order in which the others were generated.
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy import ndimage


def rng_for(seed: int, *names: str | int) -> np.random.Generator:
    """A ``numpy`` generator for one named component, stable across runs and platforms."""
    keys = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(str(n).encode()) for n in names]
    return np.random.default_rng(np.random.SeedSequence(keys))


def smooth_field(
    rng: np.random.Generator,
    shape: tuple[int, int],
    scale_px: float,
    *,
    anisotropy: float = 1.0,
) -> np.ndarray:
    """Gaussian-filtered white noise, normalised to mean 0 and standard deviation 1.

    ``scale_px`` is the correlation length in pixels. The noise is drawn on a grid coarser by
    ``scale_px / 4``, filtered there and zoomed up bilinearly, so the cost does not grow with
    the scale. ``anisotropy`` > 1 stretches the features along x. Returns ``float32``.
    """
    step = max(1.0, scale_px / 4.0)
    coarse = (int(np.ceil(shape[0] / step)) + 4, int(np.ceil(shape[1] / step)) + 4)
    noise = rng.standard_normal(coarse)
    sigma = (scale_px / step, scale_px * anisotropy / step)
    field = ndimage.gaussian_filter(noise, sigma=sigma, mode="wrap")
    off = int(np.ceil(step))
    target = (shape[0] + 2 * off, shape[1] + 2 * off)
    up = ndimage.zoom(field, (target[0] / coarse[0], target[1] / coarse[1]), order=1)
    up = up[off : off + shape[0], off : off + shape[1]]
    up = up - up.mean()
    sd = up.std()
    return (up / (sd if sd > 0 else 1.0)).astype(np.float32)


def block_reduce(arr: np.ndarray, factor: int, how: str = "mean", pad: str = "edge") -> np.ndarray:
    """Aggregate ``factor x factor`` blocks (mean or sum); pads the far edges first.

    ``pad="edge"`` repeats the last row/column (for means of continuous fields such as the
    DEM); ``pad="zero"`` pads with zeros (for sums of counts such as population).
    """
    h, w = arr.shape
    ph, pw = (-h) % factor, (-w) % factor
    if ph or pw:
        arr = np.pad(arr, ((0, ph), (0, pw)), mode="edge" if pad == "edge" else "constant")
    hh, ww = arr.shape
    blocks = arr.reshape(hh // factor, factor, ww // factor, factor)
    if how == "sum":
        return blocks.sum(axis=(1, 3), dtype=np.float64)
    return blocks.mean(axis=(1, 3), dtype=np.float64)


def shift(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Shift a 2-D array by whole pixels, filling the uncovered border with zeros/False."""
    out = np.zeros_like(mask)
    h, w = mask.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = mask[ys, xs]
    return out
