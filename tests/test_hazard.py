"""Flood hazard classes (eo_drr.products.hazard): the module's reading of the Swiss depth x
probability matrix cell by cell (the cells are not verified against BWW/BRP/BUWAL 1997: see the
module's notes), the checked depth and return-period breaks, the depth-only classes, no data and
the refused inputs."""

from __future__ import annotations

import numpy as np
import pytest

from eo_drr.errors import InputError
from eo_drr.products import hazard as hz
from eo_drr.products.hazard import flood_hazard

NAN = np.nan


def _one(depth: float, frequency: float | None = None) -> int:
    d = np.array([[depth]])
    f = None if frequency is None else np.array([[frequency]])
    return int(flood_hazard(d, f)[0, 0])


@pytest.mark.parametrize(
    "depth,frequency,expected",
    [
        # strong intensity (>= 2 m): high at any probability above "very low"
        (2.5, 1 / 10, hz.HIGH),
        (2.0, 1 / 50, hz.HIGH),
        (3.0, 1 / 200, hz.HIGH),
        # medium intensity (0.5-2 m): high only with a high probability
        (1.0, 1 / 10, hz.HIGH),
        (1.0, 1 / 50, hz.MEDIUM),
        (0.5, 1 / 200, hz.MEDIUM),
        # weak intensity (< 0.5 m): medium with a high probability, low with a medium or low one
        (0.2, 1 / 10, hz.MEDIUM),
        (0.2, 1 / 50, hz.LOW),
        (0.49, 1 / 200, hz.LOW),
        # very low probability (T > 300 years): residual whatever the depth
        (0.2, 1 / 1000, hz.RESIDUAL),
        (5.0, 0.0, hz.RESIDUAL),
    ],
)
def test_matrix_cells(depth, frequency, expected):
    assert _one(depth, frequency) == expected


@pytest.mark.parametrize(
    "frequency,column",
    [(1 / 30, 3), (1 / 30.01, 2), (1 / 100, 2), (1 / 100.01, 1), (1 / 300, 1), (1 / 300.01, 0)],
)
def test_probability_breaks_follow_the_return_periods(frequency, column):
    """T = 30 years is high, 100 medium, 300 low (the upper return period of each class)."""
    for row, depth in enumerate((0.1, 1.0, 3.0)):
        assert _one(depth, frequency) == hz.MATRIX[row, column]


def test_hazard_never_falls_with_more_intensity_or_probability():
    """Any reading of the Swiss diagram is monotone: more depth or a more probable flood never
    gives a lower class; strong and probable is red, weak and rare (not extreme) is yellow."""
    m = hz.MATRIX.astype(int)
    assert (np.diff(m, axis=0) >= 0).all() and (np.diff(m, axis=1) >= 0).all()
    assert m[2, 3] == hz.HIGH and m[0, 1] == hz.LOW
    assert (m[:, 0] == hz.RESIDUAL).all()


@pytest.mark.parametrize("depth,row", [(0.49, 0), (0.5, 1), (1.99, 1), (2.0, 2), (2.01, 2)])
def test_depth_breaks_follow_the_swiss_intensity_classes(depth, row):
    """Weak below 0.5 m, medium 0.5-2 m, strong from 2 m (a depth exactly on a break goes up)."""
    assert _one(depth, 1 / 10) == hz.MATRIX[row, 3]
    assert _one(depth) == hz.DEPTH_ONLY[row]


def test_depth_only_classes_are_the_intensity():
    d = np.array([[0.0, 0.3, 0.5, 1.9, 2.0, 7.0, NAN]])
    out = flood_hazard(d)
    assert out.dtype == np.uint8
    assert out.tolist() == [[hz.LOW, hz.LOW, hz.MEDIUM, hz.MEDIUM, hz.HIGH, hz.HIGH, hz.NO_FLOOD]]


def test_nodata_and_unknown_probability():
    d = np.array([[1.0, NAN, 1.0]])
    nodata = np.array([[False, True, False]])
    assert flood_hazard(d, nodata=nodata).tolist() == [[hz.MEDIUM, hz.NODATA, hz.MEDIUM]]
    f = np.array([[NAN, 0.5, 1 / 50]])
    # a flooded pixel whose probability is unknown is no data; NaN depth is no flood
    assert flood_hazard(d, f).tolist() == [[hz.NODATA, hz.NO_FLOOD, hz.MEDIUM]]


@pytest.mark.parametrize(
    "depth,frequency,nodata,match",
    [
        (np.array([[-0.1]]), None, None, "negative"),
        (np.array([0.1]), None, None, "2-D"),
        (np.array([[0.1]]), np.array([[1.5]]), None, "annual probability"),
        (np.array([[0.1]]), np.array([[0.1, 0.1]]), None, "shape"),
        (np.array([[0.1]]), None, np.array([[True, False]]), "shape"),
    ],
)
def test_refused_inputs(depth, frequency, nodata, match):
    with pytest.raises(InputError, match=match):
        flood_hazard(depth, frequency, nodata=nodata)


def test_every_class_has_a_name_and_a_colour():
    codes = {hz.NO_FLOOD, hz.RESIDUAL, hz.LOW, hz.MEDIUM, hz.HIGH}
    assert set(hz.CLASS_NAMES) == codes
    assert set(hz.HAZARD_COLORS) == codes | {hz.NODATA}
    assert set(np.unique(hz.MATRIX)) | set(hz.DEPTH_ONLY) <= codes - {hz.NO_FLOOD}
