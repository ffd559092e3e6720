"""Spectral indices for Sentinel-2 (and any sensor with the same bands).

One public function per index, named after it. Each takes the bands as separate arrays
(numpy, dask, cupy or ``xarray.DataArray``) or, in place of the first band, an
``xarray.Dataset`` (or a mapping of name -> array) holding them under any of the names in
:data:`BAND_NAMES`; it returns the same kind of array, float32, with NaN for nodata.

Reflectance and scale
---------------------
Bands are turned into surface reflectance as ``value * scale + offset`` before the formula.
- float inputs: ``scale=1, offset=0`` by default (reflectance 0-1 already);
- integer inputs (raw Sentinel-2 L2A DN): ``scale=1e-4, offset=0`` by default. Products of
  processing baseline 04.00 and later (from 2022-01-25) carry ``BOA_ADD_OFFSET = -1000``:
  pass ``offset=-0.1`` for them unless the loader already harmonised the values.
Normalised differences (NDWI, MNDWI, NDVI, NDBI, NDTI, BUI, BSI) do not depend on ``scale`` but do
depend on ``offset``; AWEI and the tasseled cap are linear in reflectance, so their values
are in reflectance units (0-1 scale) and change with both.

Nodata: NaN in float bands; in integer bands the value 0, or ``nodata=`` when given (compared
with the raw values). A pixel is nodata when any band is; a zero denominator also gives NaN.

Band names (:data:`BAND_NAMES`): common names of the STAC ``eo`` extension first, then the
Sentinel-2 asset names: blue = B02, green = B03, red = B04, nir = B08 (10 m; B8A is
``nir08``), swir16 = B11 (also ``swir1``), swir22 = B12 (also ``swir2``); plus coastal = B01,
rededge1-3 = B05-B07, nir09 = B09, cirrus = B10 for the 13-band tasseled cap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from eo_drr.errors import InputError
from eo_drr.indices._common import array_kind_checked, check_same_shape, unwrap, wrap
from eo_drr.kernels import spectral_cpu
from eo_drr.kernels._dispatch import (
    dispatch,
    gpu_empty,
    gpu_launch_config_1d,
    guard_parallel,
)

__all__ = [
    "BAND_NAMES",
    "ndwi",
    "mndwi",
    "ndvi",
    "ndbi",
    "ndti",
    "bui",
    "bsi",
    "awei_nsh",
    "awei_sh",
    "tasseled_cap",
    "tc_brightness",
    "tc_greenness",
    "tc_wetness",
    "wofs",
    "compute",
    "INDICES",
    "TC_COEFFICIENTS",
]

_F32 = np.float32

#: canonical band -> names looked up in a Dataset / mapping, in order
BAND_NAMES: dict[str, tuple[str, ...]] = {
    "coastal": ("coastal", "B01", "b01", "B1"),
    "blue": ("blue", "B02", "b02", "B2"),
    "green": ("green", "B03", "b03", "B3"),
    "red": ("red", "B04", "b04", "B4"),
    "rededge1": ("rededge1", "rededge", "B05", "b05", "B5"),
    "rededge2": ("rededge2", "B06", "b06", "B6"),
    "rededge3": ("rededge3", "B07", "b07", "B7"),
    "nir": ("nir", "B08", "b08", "B8"),
    "nir08": ("nir08", "B8A", "b8a", "B8a"),
    "nir09": ("nir09", "B09", "b09", "B9"),
    "cirrus": ("cirrus", "B10", "b10"),
    "swir16": ("swir16", "swir1", "B11", "b11"),
    "swir22": ("swir22", "swir2", "B12", "b12"),
}

# Tasseled cap coefficients (rows: brightness, greenness, wetness), for reflectance.
#
# nedkov2017: Nedkov, R. (2017) Orthogonal transformation of segmented images from the
# satellite Sentinel-2. C. R. Acad. Bulg. Sci. 70(5):687-692, for the 13 bands in the order of
# _TC_BANDS["nedkov2017"]. NOT verified against the paper (not accessible here): transcribed
# from secondary sources that agree with each other (GRASS i.tasscap's Sentinel-2 table and
# ESA WorldCereal's feat_tas_cap.py; a widely shared Earth Engine script has 0.949 for B09
# brightness where those have 0.0949).
#
# crist1985: Crist, E. P. (1985) A TM tasseled cap equivalent transformation for reflectance
# factor data. Remote Sens. Environ. 17:301-306, Landsat TM bands 1, 2, 3, 4, 5, 7 applied to
# the equivalent Sentinel-2 bands (for comparison only: Crist derived them for TM). NOT
# verified against the paper: values as commonly reproduced; check before relying on them.
TC_COEFFICIENTS: dict[str, np.ndarray] = {
    "nedkov2017": np.array(
        [
            [
                0.0356,
                0.0822,
                0.1360,
                0.2611,
                0.2964,
                0.3338,
                0.3877,
                0.3895,
                0.0949,
                0.0009,
                0.3882,
                0.1366,
                0.4750,
            ],
            [
                -0.0635,
                -0.1128,
                -0.1680,
                -0.3480,
                -0.3303,
                0.0852,
                0.3302,
                0.3165,
                0.0467,
                -0.0009,
                -0.4578,
                -0.4064,
                0.3625,
            ],
            [
                0.0649,
                0.1363,
                0.2802,
                0.3072,
                0.5288,
                0.1379,
                -0.0001,
                -0.0807,
                -0.0302,
                0.0003,
                -0.4064,
                -0.5602,
                -0.1389,
            ],
        ]
    ),
    "crist1985": np.array(
        [
            [0.2043, 0.4158, 0.5524, 0.5741, 0.3124, 0.2303],
            [-0.1603, -0.2819, -0.4934, 0.7940, -0.0002, -0.1446],
            [0.0315, 0.2021, 0.3102, 0.1594, -0.6806, -0.6109],
        ]
    ),
}
_TC_BANDS = {
    "nedkov2017": (
        "coastal",
        "blue",
        "green",
        "red",
        "rededge1",
        "rededge2",
        "rededge3",
        "nir",
        "nir09",
        "cirrus",
        "swir16",
        "swir22",
        "nir08",
    ),
    "crist1985": ("blue", "green", "red", "nir", "swir16", "swir22"),
}
#: bands that may be absent (L2A products have no B10; its coefficients are <= 0.0009)
_TC_OPTIONAL = {"cirrus"}
_TC_COMPONENTS = {"brightness": 0, "greenness": 1, "wetness": 2}

# AWEI (Feyisa et al. 2014, Remote Sens. Environ. 140:23-35, eqs. 1-2), reflectance:
#   AWEI_nsh = 4 (green - swir1) - (0.25 nir + 2.75 swir2)
#   AWEI_sh  = blue + 2.5 green - 1.5 (nir + swir1) - 0.25 swir2
# (a widely copied implementation writes 0.25 * nir * 2.75 * swir2: the paper adds.)
_AWEI_NSH = (("green", "nir", "swir16", "swir22"), (4.0, -0.25, -4.0, -2.75))
_AWEI_SH = (("blue", "green", "nir", "swir16", "swir22"), (1.0, 2.5, -1.5, -1.5, -0.25))


# --------------------------------------------------------------------------------------------
# band gathering


def _lookup(source: Any, band: str):
    for name in BAND_NAMES[band]:
        if isinstance(source, xr.Dataset):
            if name in source.data_vars:
                return source[name]
        elif name in source:
            return source[name]
    return None


def _gather(name: str, given: dict[str, Any], optional: frozenset[str] = frozenset()):
    """Band arrays in the order of ``given`` (a Dataset/mapping may stand in the first slot)."""
    names = list(given)
    first = given[names[0]]
    if isinstance(first, (xr.Dataset, Mapping)) and not isinstance(first, xr.DataArray):
        extra = [n for n in names[1:] if given[n] is not None]
        if extra:
            raise InputError(
                f"{name}: pass either a Dataset/mapping of bands or separate arrays, not both "
                f"({', '.join(extra)} given too)"
            )
        out = {}
        for band in names:
            arr = _lookup(first, band)
            if arr is None and band not in optional:
                have = list(first.data_vars) if isinstance(first, xr.Dataset) else list(first)
                raise InputError(
                    f"{band}: band missing for {name} (looked for {', '.join(BAND_NAMES[band])};"
                    f" the input has {', '.join(map(str, have)) or 'nothing'})"
                )
            if arr is not None:
                out[band] = arr
        return out
    missing = [n for n in names if given[n] is None and n not in optional]
    if missing:
        raise InputError(f"{', '.join(missing)}: band missing for {name}")
    return {n: v for n, v in given.items() if v is not None}


@dataclasses.dataclass(frozen=True)
class _Prepared:
    arrays: tuple
    template: xr.DataArray | None
    kind: str
    scale: float
    offset: float
    nodata: Any
    use_nodata: bool


def _prepare(name: str, bands: dict[str, Any], scale, offset, nodata) -> _Prepared:
    raw = []
    template = None
    for band, value in bands.items():
        data, tmpl = unwrap(value, band)
        if template is None and tmpl is not None:
            template = tmpl
        raw.append((band, data))
    kinds = {band: array_kind_checked(data, band) for band, data in raw}
    if len(set(kinds.values())) > 1:
        desc = ", ".join(f"{b}={k}" for b, k in kinds.items())
        raise InputError(f"{name}: all bands must be the same array type ({desc})")
    b0, d0 = raw[0]
    for band, data in raw[1:]:
        check_same_shape(d0, data, b0, band)
    dtypes = {np.dtype(d.dtype) for _, d in raw}
    is_int = {dt.kind in "iu" for dt in dtypes}
    if len(is_int) > 1 and scale is None:
        raise InputError(
            f"scale: {name} got integer and float bands together; pass scale= (and offset=)"
        )
    integer = is_int == {True}
    scale = (1e-4 if integer else 1.0) if scale is None else float(scale)
    offset = 0.0 if offset is None else float(offset)
    if not np.isfinite(scale) or scale == 0.0:
        raise InputError(f"scale: expected a finite non-zero number, got {scale}")
    if not np.isfinite(offset):
        raise InputError(f"offset: expected a finite number, got {offset}")
    if nodata is not None:
        try:
            nd = float(nodata)
        except (TypeError, ValueError):
            raise InputError(f"nodata: expected a number, got {nodata!r}") from None
        use = not np.isnan(nd)
        nd = nd if use else 0.0
    else:
        nd, use = (0.0, True) if integer else (0.0, False)
    common = np.result_type(*dtypes)
    arrays = tuple(d if d.dtype == common else d.astype(common) for _, d in raw)
    # compare nodata in the bands' own dtype (keeps the kernels' loops in one width)
    if use and common.kind in "iu":
        info = np.iinfo(common)
        if nd != int(nd) or not (info.min <= nd <= info.max):
            use, nd = False, 0  # no raw value can equal it
    nd = common.type(nd)
    return _Prepared(arrays, template, kinds[b0], scale, offset, nd, use)


# --------------------------------------------------------------------------------------------
# backends


def _np_apply(*arrays, kernel_name: str, extra: tuple, params: tuple):
    kernel = getattr(spectral_cpu, kernel_name)
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    scale, offset, nodata, use_nodata = params
    params = (scale, offset, spectral_cpu.nodata_key(nodata, use_nodata, flat[0].dtype))
    out = np.empty(np.shape(arrays[0]), dtype=_F32)
    if kernel_name == "linear_combination":
        kernel(tuple(flat), np.asarray(extra, dtype=_F32), *params, out.reshape(-1))
    else:
        kernel(*flat, *params, out.reshape(-1))
    return out


def _gpu_apply(arrays, kernel_name: str, extra: tuple, params: tuple):
    from numba import cuda

    from eo_drr.kernels import spectral_cuda

    a0 = arrays[0]
    out = gpu_empty(a0, a0.shape, _F32)
    flat = [a.ravel() for a in arrays]
    blocks, threads = gpu_launch_config_1d(a0.size)
    kernel = getattr(spectral_cuda, kernel_name)
    if kernel_name == "linear_combination":
        stack = gpu_empty(a0, (len(flat), a0.size), a0.dtype)
        for i, f in enumerate(flat):
            spectral_cuda.copy_into_row[blocks, threads](f, stack, i)
        coefs = cuda.to_device(np.asarray(extra, dtype=np.float64))
        kernel[blocks, threads](stack, coefs, *params, out.ravel())
    else:
        kernel[blocks, threads](*flat, *params, out.ravel())
    return out


def _apply(
    name: str, kernel_name: str, bands: dict[str, Any], scale, offset, nodata, extra: tuple = ()
):
    p = _prepare(name, bands, scale, offset, nodata)
    params = (p.scale, p.offset, p.nodata, p.use_nodata)
    arrays = p.arrays

    def dask_func():
        import dask.array as da

        # bands may come chunked differently: follow the first band's chunks
        aligned = [arrays[0]] + [a.rechunk(arrays[0].chunks) for a in arrays[1:]]
        return da.map_blocks(
            guard_parallel(_np_apply),
            *aligned,
            kernel_name=kernel_name,
            extra=extra,
            params=params,
            dtype=_F32,
            meta=np.empty((0,) * arrays[0].ndim, dtype=_F32),
        )

    result = dispatch(
        arrays[0],
        numpy_func=lambda: _np_apply(*arrays, kernel_name=kernel_name, extra=extra, params=params),
        dask_func=dask_func,
        gpu_func=lambda: _gpu_apply(arrays, kernel_name, extra, params),
    )
    return wrap(result, p.template, name)


# --------------------------------------------------------------------------------------------
# public indices

_KW_DOC = """
    scale, offset: reflectance = value * scale + offset (see the module docstring for the
        defaults). nodata: raw value marking nodata (default 0 for integer bands).
    Returns float32 of the input's array kind; NaN where any band is nodata."""


def ndwi(
    green: Any,
    nir: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """NDWI (McFeeters 1996, Int. J. Remote Sens. 17(7):1425-1432): (green - nir) / (green + nir).

    Unitless, in [-1, 1]; open water is typically > 0.
    """
    return _apply(
        "ndwi",
        "normalized_difference",
        _gather("ndwi", {"green": green, "nir": nir}),
        scale,
        offset,
        nodata,
    )


def mndwi(
    green: Any,
    swir16: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """MNDWI (Xu 2006, Int. J. Remote Sens. 27(14):3025-3033): (green - swir1) / (green + swir1).

    swir1 = Sentinel-2 B11 (1.6 um; 20 m: resample to the green grid first). Unitless, [-1, 1].
    """
    return _apply(
        "mndwi",
        "normalized_difference",
        _gather("mndwi", {"green": green, "swir16": swir16}),
        scale,
        offset,
        nodata,
    )


def ndvi(
    nir: Any,
    red: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """NDVI (Rouse et al. 1974, NASA SP-351, 309-317): (nir - red) / (nir + red). [-1, 1]."""
    return _apply(
        "ndvi",
        "normalized_difference",
        _gather("ndvi", {"nir": nir, "red": red}),
        scale,
        offset,
        nodata,
    )


def ndbi(
    swir16: Any,
    nir: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """NDBI (Zha et al. 2003, Int. J. Remote Sens. 24(3):583-594): (swir1 - nir) / (swir1 + nir).

    Unitless, [-1, 1]; built-up and bare surfaces are typically > 0.
    """
    return _apply(
        "ndbi",
        "normalized_difference",
        _gather("ndbi", {"swir16": swir16, "nir": nir}),
        scale,
        offset,
        nodata,
    )


def ndti(
    swir16: Any,
    swir22: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """NDTI, normalised difference tillage index (van Deventer et al. 1997, Photogramm. Eng.
    Remote Sens. 63:87-93): (swir1 - swir2) / (swir1 + swir2).

    swir1 = Sentinel-2 B11 (1.6 um), swir2 = B12 (2.2 um; both 20 m). Unitless, [-1, 1]; the
    cellulose/lignin absorption near 2.1 um makes crop residue and senescent (dry) vegetation
    higher (about 0.1 and above) than bare soil.
    """
    return _apply(
        "ndti",
        "normalized_difference",
        _gather("ndti", {"swir16": swir16, "swir22": swir22}),
        scale,
        offset,
        nodata,
    )


def bui(
    swir16: Any,
    nir: Any = None,
    red: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """BUI (He et al. 2010, Remote Sens. Lett. 1(4):213-221): NDBI - NDVI. Unitless, [-2, 2]."""
    return _apply(
        "bui",
        "bui",
        _gather("bui", {"swir16": swir16, "nir": nir, "red": red}),
        scale,
        offset,
        nodata,
    )


def bsi(
    blue: Any,
    red: Any = None,
    nir: Any = None,
    swir16: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """BSI (Rikimaru et al. 2002, Tropical Ecology 43(1):39-47):
    ((swir1 + red) - (nir + blue)) / ((swir1 + red) + (nir + blue)). Unitless, [-1, 1]."""
    return _apply(
        "bsi",
        "bsi",
        _gather("bsi", {"blue": blue, "red": red, "nir": nir, "swir16": swir16}),
        scale,
        offset,
        nodata,
    )


def awei_nsh(
    green: Any,
    nir: Any = None,
    swir16: Any = None,
    swir22: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """AWEI_nsh (Feyisa et al. 2014, Remote Sens. Environ. 140:23-35, eq. 1), no-shadow form:
    ``4 (green - swir1) - (0.25 nir + 2.75 swir2)``, reflectance units (0-1 scale); water > 0.
    """
    names, coefs = _AWEI_NSH
    given = dict(zip(names, (green, nir, swir16, swir22)))
    return _apply(
        "awei_nsh",
        "linear_combination",
        _gather("awei_nsh", given),
        scale,
        offset,
        nodata,
        extra=coefs,
    )


def awei_sh(
    blue: Any,
    green: Any = None,
    nir: Any = None,
    swir16: Any = None,
    swir22: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """AWEI_sh (Feyisa et al. 2014, eq. 2), for scenes with shadows:
    ``blue + 2.5 green - 1.5 (nir + swir1) - 0.25 swir2``, reflectance units; water > 0.
    """
    names, coefs = _AWEI_SH
    given = dict(zip(names, (blue, green, nir, swir16, swir22)))
    return _apply(
        "awei_sh",
        "linear_combination",
        _gather("awei_sh", given),
        scale,
        offset,
        nodata,
        extra=coefs,
    )


def tasseled_cap(
    bands: Any,
    component: str = "brightness",
    coefficients: str = "nedkov2017",
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """Tasseled cap component of Sentinel-2 reflectance (reflectance units, 0-1 scale).

    ``bands``: a Dataset or mapping with the bands named as in :data:`BAND_NAMES`.
    ``coefficients``: "nedkov2017" (all 13 bands; B10 may be absent, as in L2A products) or
    "crist1985" (TM coefficients on B02, B03, B04, B08, B11, B12, for comparison). See
    :data:`TC_COEFFICIENTS` for the sources, and the caveat that they were not checked against
    the papers. Bands at 20/60 m must be resampled to one grid first.
    """
    if component not in _TC_COMPONENTS:
        raise InputError(
            f"component: expected one of {', '.join(_TC_COMPONENTS)}, got {component!r}"
        )
    if coefficients not in TC_COEFFICIENTS:
        raise InputError(
            f"coefficients: expected one of {', '.join(TC_COEFFICIENTS)}, got {coefficients!r}"
        )
    if not isinstance(bands, (xr.Dataset, Mapping)) or isinstance(bands, xr.DataArray):
        raise InputError("bands: expected an xarray.Dataset or a mapping of band name -> array")
    order = _TC_BANDS[coefficients]
    given: dict[str, Any] = {b: None for b in order}
    given[order[0]] = bands
    # the first slot carries the Dataset; gather from it
    got = _gather(f"tasseled_cap({coefficients})", {**given}, optional=frozenset(_TC_OPTIONAL))
    row = TC_COEFFICIENTS[coefficients][_TC_COMPONENTS[component]]
    coefs = tuple(float(row[order.index(b)]) for b in got)
    return _apply(f"tc_{component}", "linear_combination", got, scale, offset, nodata, extra=coefs)


def tc_brightness(bands: Any, coefficients: str = "nedkov2017", **kwargs: Any) -> Any:
    """Tasseled cap brightness (see :func:`tasseled_cap`)."""
    return tasseled_cap(bands, "brightness", coefficients, **kwargs)


def tc_greenness(bands: Any, coefficients: str = "nedkov2017", **kwargs: Any) -> Any:
    """Tasseled cap greenness (see :func:`tasseled_cap`)."""
    return tasseled_cap(bands, "greenness", coefficients, **kwargs)


def tc_wetness(bands: Any, coefficients: str = "nedkov2017", **kwargs: Any) -> Any:
    """Tasseled cap wetness (see :func:`tasseled_cap`)."""
    return tasseled_cap(bands, "wetness", coefficients, **kwargs)


def wofs(
    blue: Any,
    green: Any = None,
    red: Any = None,
    nir: Any = None,
    swir16: Any = None,
    swir22: Any = None,
    *,
    scale: float | None = None,
    offset: float | None = None,
    nodata: float | None = None,
) -> Any:
    """WOfS water classification (Mueller et al. 2016, Remote Sens. Environ. 174:341-352).

    The published decision tree (``eo_drr.kernels._scalar.wofs_of``, thresholds as named
    constants ``WOFS_*`` in reflectance x 10 000), derived for Landsat TM/ETM+ bands 1-5, 7 and
    applied here to the equivalent Sentinel-2 bands B02, B03, B04, B08, B11, B12 (no
    cross-calibration). Returns 1.0 water, 0.0 not water, NaN nodata. The terrain, shadow and
    cloud masks of the full WOfS product are not applied.
    """
    given = {
        "blue": blue,
        "green": green,
        "red": red,
        "nir": nir,
        "swir16": swir16,
        "swir22": swir22,
    }
    return _apply("wofs", "wofs", _gather("wofs", given), scale, offset, nodata)


#: public name -> function, for :func:`compute`
INDICES: dict[str, Callable[..., Any]] = {
    "ndwi": ndwi,
    "mndwi": mndwi,
    "ndvi": ndvi,
    "ndbi": ndbi,
    "ndti": ndti,
    "bui": bui,
    "bsi": bsi,
    "awei_nsh": awei_nsh,
    "awei_sh": awei_sh,
    "tc_brightness": tc_brightness,
    "tc_greenness": tc_greenness,
    "tc_wetness": tc_wetness,
    "wofs": wofs,
}


def compute(name: str, *args: Any, **kwargs: Any) -> Any:
    """Compute the index called ``name`` (case-insensitive), e.g. ``compute("ndwi", ds)``.

    Raises InputError listing the known names when ``name`` is unknown.
    """
    key = str(name).lower()
    if key not in INDICES:
        raise InputError(f"name: unknown index {name!r}; known: {', '.join(sorted(INDICES))}")
    return INDICES[key](*args, **kwargs)
