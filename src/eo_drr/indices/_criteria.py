"""Threshold criteria on histograms (rows of counts over shared bin centres; the helpers of
:mod:`eo_drr.indices.threshold`): Otsu's (1979) between-class variance, Kittler &
Illingworth's (1986) minimum-error criterion, and the bimodality test of the split-based
threshold (Ashman's D of two Gaussians fitted by EM, Ashman et al. 1994). Bin centres and
widths are in the units of the input (dB for SAR in dB).
"""

from __future__ import annotations

import numpy as np


def class_moments(c: np.ndarray, centres: np.ndarray):
    """Cumulative weight, first and second moments of the lower (<= bin k) and upper classes."""
    w1 = np.cumsum(c, axis=-1)
    s1 = np.cumsum(c * centres, axis=-1)
    q1 = np.cumsum(c * centres * centres, axis=-1)
    total_w = w1[..., -1:]
    return w1, s1, q1, total_w - w1, s1[..., -1:] - s1, q1[..., -1:] - q1


def otsu_index(c: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the last lower-class bin maximising the between-class variance (Otsu 1979)."""
    w1 = np.cumsum(c, axis=-1)
    w2 = np.cumsum(c[..., ::-1], axis=-1)[..., ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        m1 = np.cumsum(c * centres, axis=-1) / w1
        m2 = (np.cumsum((c * centres)[..., ::-1], axis=-1) / w2[..., ::-1])[..., ::-1]
        between = w1[..., :-1] * w2[..., 1:] * (m1[..., :-1] - m2[..., 1:]) ** 2
    between = np.where(np.isnan(between), -np.inf, between)
    return np.argmax(between, axis=-1)


def ki_index(c: np.ndarray, centres: np.ndarray, width: float) -> np.ndarray:
    """Index minimising Kittler & Illingworth's (1986) criterion

        J(t) = 1 + 2 [P1 ln s1 + P2 ln s2] - 2 [P1 ln P1 + P2 ln P2]

    (P: class prior, s: class standard deviation from the histogram). Each class variance gets
    width**2 / 12 added (the variance of a value spread uniformly over its bin), so that a
    class made of a single bin has a finite criterion instead of ln 0.
    """
    w1, s1, q1, w2, s2, q2 = class_moments(c, centres)
    total = w1[..., -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = w1 / total
        p2 = w2 / total
        m1 = s1 / w1
        m2 = s2 / w2
        v1 = np.maximum(q1 / w1 - m1 * m1, 0.0) + width * width / 12.0
        v2 = np.maximum(q2 / w2 - m2 * m2, 0.0) + width * width / 12.0
        j = 1.0 + (p1 * np.log(v1) + p2 * np.log(v2)) - 2.0 * (p1 * np.log(p1) + p2 * np.log(p2))
    valid = (w1 > 0) & (w2 > 0)
    j = np.where(valid & np.isfinite(j), j, np.inf)[..., :-1]
    return np.argmin(j, axis=-1)


#: EM iterations of the two-Gaussian fit of a tile histogram (separated classes converge in
#: ~10-20; from a unimodal tile's split, D falls below 2 by ~10 and is ~1.35 after 20)
EM_ITERATIONS = 20


def bimodality(c: np.ndarray, centres: np.ndarray, idx: np.ndarray, width: float):
    """Ashman's D and the smaller class weight of two Gaussians fitted to each histogram.

    The fit is EM on the histogram (rows of ``c``), started from the two classes that the
    tile's own threshold (bin ``idx``) makes. The class moments of a threshold split are not
    used directly: splitting a single Gaussian at its mean already gives D ~ 2.7. Runs in
    float32 (D is compared with 2, not needed to 1e-7) over blocks of tiles.
    """
    d = np.empty(c.shape[0])
    frac = np.empty(c.shape[0])
    for s0 in range(0, c.shape[0], _EM_BLOCK):
        s1 = min(c.shape[0], s0 + _EM_BLOCK)
        d[s0:s1], frac[s0:s1] = _bimodality_block(c[s0:s1], centres, idx[s0:s1], width)
    return d, frac


_EM_BLOCK = 1024


def _bimodality_block(c: np.ndarray, centres: np.ndarray, idx: np.ndarray, width: float):
    n = c.sum(axis=1, keepdims=True)
    w1, s1, q1, w2, s2, q2 = class_moments(c, centres)
    rows = np.arange(c.shape[0])
    floor = np.float32(width * width / 12.0)
    f32 = np.float32
    x = centres[None, :].astype(f32)
    cf = c.astype(f32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        n1, n2 = w1[rows, idx][:, None], w2[rows, idx][:, None]
        m1, m2 = s1[rows, idx][:, None] / n1, s2[rows, idx][:, None] / n2
        v1 = np.maximum(q1[rows, idx][:, None] / n1 - m1 * m1, 0.0) + floor
        v2 = np.maximum(q2[rows, idx][:, None] / n2 - m2 * m2, 0.0) + floor
        p1 = n1 / n
        m1, m2, v1, v2, p1, nf = (a.astype(f32) for a in (m1, m2, v1, v2, p1, n))
        for _ in range(EM_ITERATIONS):
            g1 = p1 * np.exp(f32(-0.5) * (x - m1) ** 2 / v1) / np.sqrt(v1)
            g2 = (f32(1.0) - p1) * np.exp(f32(-0.5) * (x - m2) ** 2 / v2) / np.sqrt(v2)
            r1 = g1 / np.maximum(g1 + g2, f32(1e-30))
            a = cf * r1
            b = cf - a
            sa = a.sum(axis=1, keepdims=True)
            sb = b.sum(axis=1, keepdims=True)
            p1 = sa / nf
            m1 = (a * x).sum(axis=1, keepdims=True) / sa
            m2 = (b * x).sum(axis=1, keepdims=True) / sb
            v1 = (a * (x - m1) ** 2).sum(axis=1, keepdims=True) / sa + floor
            v2 = (b * (x - m2) ** 2).sum(axis=1, keepdims=True) / sb + floor
        d = np.sqrt(2.0) * np.abs(m1 - m2) / np.sqrt(v1 + v2)
        frac = np.minimum(p1, 1.0 - p1)
    d = np.where(np.isfinite(d), d, 0.0)[:, 0]
    frac = np.where(np.isfinite(frac), frac, 0.0)[:, 0]
    return d, frac
