"""Honest evaluation of the Sentinel-1 water rule: labelled chips, stress cases, and the
selection function run inside leave-one-event-out (LOEO).

Used by ``benchmarks/flood_accuracy.py`` (the tables) and by the tests (the quick setting).

* :func:`s1_chips` / :func:`ombria_chips` read the shared labelled data; the event of a
  Sen1Floods11 chip is its name prefix (``Spain_7370579`` -> ``Spain``): chips of one event
  leave together. OMBRIA is one event (Guyana 2021).
* :func:`stress_cases` builds the failure cases seen on unseen floods from the shared chips:
  crops with >= 60 % and <= 2 % labelled water, contrast compressed to a 2 dB VV gap (VH gap
  scaled alike), VV only.
* :func:`select` is the one selection function: it picks the :class:`WaterParams` from a grid
  that maximises pooled IoU on the chips it is given, and calibrates the likelihood scale
  on them (histogram binning). :func:`leave_one_event_out` runs it once per held-out event.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eo_drr.products import water as W
from eo_drr.products import water_settings as WS

#: OMBRIA S1 patches are 8-bit; DN 0..255 read as -30..0 dB (a linear dB stretch; the dataset
#: does not document its scaling; ``eo-drr flood --s1-8bit-range=-30,0`` does the same).
OMBRIA_DB_RANGE = (-30.0, 0.0)


@dataclass(eq=False)
class Chip:
    """One labelled scene: backscatter in dB (NaN no data), label 1 water / 0 / -1 no data."""

    name: str
    event: str
    vv: np.ndarray
    vh: np.ndarray | None
    label: np.ndarray
    pre_vv: np.ndarray | None = None
    #: the group the selection criterion averages over: the event, or event/stress case
    group: str = ""

    def __post_init__(self) -> None:
        self.group = self.group or self.event

    @property
    def valid(self) -> np.ndarray:
        return np.isfinite(self.vv) & (self.label >= 0)


def _read(path: Path) -> np.ndarray:
    import rasterio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # OMBRIA PNGs are not georeferenced
        with rasterio.open(path) as src:
            return src.read()


def chip_files(root: Path) -> list[tuple[str, Path, Path, Path | None]]:
    """(name, S1, label, S2 or None) of every Sen1Floods11 chip under ``root``."""
    found = []
    sample = root / "sen1floods11-sample"
    if (sample / "Spain_7370579_S1Hand.tif").exists():
        found.append(
            (
                "Spain_7370579",
                sample / "Spain_7370579_S1Hand.tif",
                sample / "Spain_7370579_LabelHand.tif",
                sample / "Spain_7370579_S2Hand.tif",
            )
        )
    more = root / "sen1floods11-chips"
    for s1 in sorted((more / "S1Hand").glob("*_S1Hand.tif")):
        name = s1.name.removesuffix("_S1Hand.tif")
        s2 = more / "S2Hand" / f"{name}_S2Hand.tif"
        found.append(
            (name, s1, more / "LabelHand" / f"{name}_LabelHand.tif", s2 if s2.exists() else None)
        )
    return found


def s1_chips(root: Path) -> tuple[list[Chip], list[str]]:
    """Sen1Floods11 chips with SAR and at least one valid label pixel, and the skipped ones."""
    chips, skipped = [], []
    for name, s1p, labp, _ in chip_files(root):
        vv, vh = _read(s1p).astype(np.float32)[:2]
        label = _read(labp)[0].astype(np.int16)
        if not np.isfinite(vv).any():
            skipped.append(f"{name}: SAR is all NaN")
        elif not ((label >= 0) & np.isfinite(vv)).any():
            skipped.append(f"{name}: label has no valid pixel")
        else:
            chips.append(Chip(name, name.split("_")[0], vv, vh, label))
    return chips, skipped


def ombria_chips(root: Path) -> list[Chip]:
    """OMBRIA Guyana 2021 patches: post image (``vv``), pre image (``pre_vv``), CEMS mask."""
    base = root / "ombria-guyana-2021"
    ids = sorted(int(p.stem.split("_")[1]) for p in (base / "MASK").glob("gt_*.png"))
    lo, hi = OMBRIA_DB_RANGE

    def db(p: Path) -> np.ndarray:
        dn = _read(p)[0].astype(np.float32)
        return np.where(dn == 0, np.nan, lo + dn * (hi - lo) / 255.0).astype(np.float32)

    out = []
    for i in ids:
        gt = (_read(base / "MASK" / f"gt_{i}.png")[0] > 127).astype(np.int16)
        out.append(
            Chip(
                f"ombria_{i}",
                "Guyana",
                db(base / "Sentinel1" / "AFTER" / f"imafter_{i}.png"),
                None,
                gt,
                db(base / "Sentinel1" / "BEFORE" / f"imbefore_{i}.png"),
            )
        )
    return out


def demo_chip(size: int = 256, seed: int = 7) -> Chip:
    """The synthetic demo scene's post-event Sentinel-1 acquisition with its known water
    (permanent water + observable flood). Not a real event: the selection trains on it as one
    more group (landscapes the real chips lack: dark bare soil, riverbeds, marsh next to
    water), it is never a held-out event and never in a real-event score."""
    import rasterio

    from eo_drr.catalog import SearchQuery, StaticCatalog
    from eo_drr.demo import ensure_demo_scene

    cat = StaticCatalog(ensure_demo_scene(seed=seed, size=size).catalog_path)
    post = list(cat.search(SearchQuery(collections=("sentinel-1-rtc",), relative_orbit=165)))[-1]
    truth_item = cat.search(SearchQuery(collections=("demo-truth",)))[0]

    def band(item, key):
        with rasterio.open(item.assets[key].get_absolute_href()) as src:
            return src.read(1)

    with np.errstate(divide="ignore", invalid="ignore"):
        vv, vh = (10 * np.log10(band(post, k)).astype(np.float32) for k in ("vv", "vh"))
    truth = (band(truth_item, "flood_observable") == 1) | (band(truth_item, "permanent_water") == 1)
    return Chip("demo", "synthetic-demo", vv, vh, truth.astype(np.int16))


# ------------------------------------------------------------------------------------------
# stress cases


def _crop(c: Chip, want, size: int = 192, step: int = 32) -> Chip | None:
    """The ``size`` crop of ``c`` whose water share satisfies ``want`` and is most extreme."""
    best, best_key = None, None
    H, W_ = c.label.shape
    for y, x in itertools.product(range(0, H - size + 1, step), range(0, W_ - size + 1, step)):
        lab = c.label[y : y + size, x : x + size]
        v = c.valid[y : y + size, x : x + size]
        if v.mean() < 0.9:
            continue
        share = float((lab[v] == 1).mean())
        if want(share) and (best_key is None or abs(share - 0.5) > best_key):
            best, best_key = (y, x, share), abs(share - 0.5)
    if best is None:
        return None
    y, x, _ = best
    s = np.s_[y : y + size, x : x + size]
    return Chip(
        c.name,
        c.event,
        c.vv[s].copy(),
        None if c.vh is None else c.vh[s].copy(),
        c.label[s].copy(),
        group=f"{c.event}/crop",
    )


def compress_contrast(c: Chip, gap_db: float = 2.0) -> Chip | None:
    """Labelled water shifted toward the land median so that the VV gap is ``gap_db``; the VH
    gap is scaled by the same factor (wind- or rain-roughened, shallow water among crops)."""
    w, land = c.valid & (c.label == 1), c.valid & (c.label == 0)
    if w.sum() < 100 or land.sum() < 100:
        return None
    gap_vv = float(np.median(c.vv[land]) - np.median(c.vv[w]))
    if gap_vv <= gap_db:
        return None
    vv = c.vv.copy()
    vv[w] += gap_vv - gap_db
    vh = None
    if c.vh is not None:
        gap_vh = float(np.nanmedian(c.vh[land]) - np.nanmedian(c.vh[w]))
        vh = c.vh.copy()
        vh[w] += gap_vh * (1 - gap_db / gap_vv)
    return Chip(c.name, c.event, vv, vh, c.label, group=f"{c.event}/low-contrast")


#: labelled water whose median backscatter lies within this of the land's (dB) is invisible
#: in that channel: such a chip tells a rule on that channel nothing
INVISIBLE_DB = 1.0


def visible_in(chip: Chip, band: str) -> bool:
    """Whether the chip's labelled water is visible in ``band`` (median water below the median
    land by at least :data:`INVISIBLE_DB`); chips without water or land count as visible."""
    x = getattr(chip, band)
    w, land = chip.valid & (chip.label == 1), chip.valid & (chip.label == 0)
    if x is None or not w.any() or not land.any():
        return x is not None
    return float(np.nanmedian(x[land]) - np.nanmedian(x[w])) >= INVISIBLE_DB


def vv_only_chips(chips: list[Chip]) -> list[Chip]:
    """The chips without VH, leaving out those whose water is invisible in VV (Sri-Lanka's
    wind-roughened flood: VV of water = VV of land; a VV rule can only map all or nothing)."""
    return [dataclasses.replace(c, vh=None) for c in chips if visible_in(c, "vv")]


def augmented(chips: list[Chip]) -> list[Chip]:
    """``chips`` plus their stress variants (same event, own group), for the ablation in which
    the selection also trains on them (``flood_accuracy.py --train-on-stress``): it raised the
    low-contrast stress score but lowered LOEO on the real events, so the product does not use
    it. A held-out event leaves with all its variants."""
    extra = [c for case, cs in stress_cases(chips).items() if case != "VV only" for c in cs]
    return chips + extra


def stress_cases(chips: list[Chip]) -> dict[str, list[Chip]]:
    """The four stress cases, each a list of chips derived from the shared ones."""

    def keep(xs):
        return [x for x in xs if x is not None]

    return {
        "water-dominated (crops >= 60 % water)": keep(_crop(c, lambda s: s >= 0.6) for c in chips),
        "scarce water (crops 0-2 % water)": keep(_crop(c, lambda s: 0 < s <= 0.02) for c in chips),
        "low contrast (VV gap 2 dB)": keep(compress_contrast(c) for c in chips),
        "VV only": vv_only_chips(chips),
    }


# ------------------------------------------------------------------------------------------
# scores


def confusion(pred: np.ndarray, label: np.ndarray, valid: np.ndarray) -> np.ndarray:
    t, p = (label == 1) & valid, pred & valid
    return np.array([(t & p).sum(), (p & ~t).sum(), (t & ~p).sum()], dtype=np.int64)  # TP FP FN


def scores(c: np.ndarray) -> dict:
    tp, fp, fn = (int(v) for v in c)
    return {
        "iou": tp / (tp + fp + fn) if tp + fp + fn else float("nan"),
        "omission": fn / (tp + fn) if tp + fn else float("nan"),
        "commission": fp / (tp + fp) if tp + fp else float("nan"),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def iou(c: np.ndarray) -> float:
    return float(c[0]) / max(int(c.sum()), 1)


# ------------------------------------------------------------------------------------------
# the product on a chip, with the expensive steps cached per chip


@functools.lru_cache(maxsize=4096)
def _filtered(chip: Chip, band: str, speckle: str, window: int) -> np.ndarray:
    p = WS.water_params(speckle=speckle, speckle_window=window)
    return W.speckle_db(getattr(chip, band), units="db", params=p)


def _deciding(chip: Chip, p: WS.WaterParams) -> tuple[np.ndarray, str]:
    """The filtered deciding channel, as :func:`eo_drr.products.water.s1_water` takes it."""
    if p.polarisation == "vh" and chip.vh is not None:
        fvh = _filtered(chip, "vh", p.speckle, p.speckle_window)
        return np.where(np.isfinite(chip.vv), fvh, np.nan).astype(np.float32), "vh"
    return _filtered(chip, "vv", p.speckle, p.speckle_window), "vv"


@functools.lru_cache(maxsize=16384)
def _hsba(chip: Chip, speckle: str, window: int, pol: str, method: str, min_tile: int):
    p = WS.water_params(speckle=speckle, speckle_window=window, polarisation=pol)
    f, band = _deciding(chip, p)
    return W.hsba_threshold(f, min_tile=min_tile, method=method, max_split_db=W.MAX_SPLIT_DB[band])


def _scene(chip: Chip, p: WS.WaterParams) -> tuple[np.ndarray, W.SceneThreshold]:
    """The deciding filtered image and its threshold (as :func:`W.scene_threshold`)."""
    f, band = _deciding(chip, p)
    t_scene, n, share = _hsba(
        chip, p.speckle, p.speckle_window, p.polarisation, p.threshold_method, p.min_tile
    )
    prior = p.prior_db(band)
    t = (
        prior
        if t_scene is None
        else float(np.clip(t_scene, prior - p.adapt_db, prior + p.adapt_db))
    )
    return f, W.SceneThreshold(band, t, t_scene, prior, n, share)


def predict(chip: Chip, p: WS.WaterParams) -> tuple[np.ndarray, np.ndarray]:
    """(water bool, likelihood 0-100) of the product's rule on ``chip`` (same functions as
    :func:`eo_drr.products.water.s1_water`, with the filtered images cached)."""
    f, t = _scene(chip, p)
    water, lik, _ = W.classify(f, t, p)
    if p.min_mapping_unit_px > 1:
        water = W.remove_small_objects(water, p.min_mapping_unit_px)
    return water, lik


# ------------------------------------------------------------------------------------------
# selection and LOEO

#: the grid the selection function searches. The VH prior is published and VH decides when
#: present (physics, see eo_drr.products.water): neither is searched; the "VV only" LOEO of
#: flood_accuracy.py measures VV deciding instead.
GRID = {
    "speckle": [("refined_lee", 7), ("lee", 7), ("lee", 9), ("kuan", 7), ("boxcar", 7)],
    "prior_vv_db": [-17.0, -15.0, -13.0, -11.0],
    "adapt_db": [0.0, 1.0, 2.0, 3.0, 5.0],
    "grow_db": [0.0, 1.0, 2.0, 3.0],
}
#: the VV-only grid (the VV prior matters there; boxcar and refined Lee never won)
GRID_VV = {
    **GRID,
    "speckle": [("lee", 7), ("lee", 9), ("kuan", 7)],
    "adapt_db": [0.0, 2.0, 5.0, 8.0],
    "threshold_method": ["ki", "otsu"],
}
QUICK_GRID = {
    "speckle": [("lee", 9)],
    "prior_vv_db": [-15.0, -13.0],
    "adapt_db": [0.0, 2.0],
    "grow_db": [1.0, 2.0],
}


def published_vh_prior(exclude: str | None = None) -> float:
    """The VH prior (dB): the median of the per-event VH Otsu thresholds published with
    Sen1Floods11 (``Sen1Floods11_Metadata.geojson``, field ``VH_thresh``), without the event
    ``exclude`` (the held-out one). Without the file: the product's constant."""
    import json

    from eo_drr.settings import shared_data_dir

    path = shared_data_dir() / "sen1floods11-sample" / "Sen1Floods11_Metadata.geojson"
    if not path.exists():
        return WS.PRIOR_VH_DB
    feats = json.loads(path.read_text())["features"]
    values = [f["properties"]["VH_thresh"] for f in feats if f["properties"]["location"] != exclude]
    return round(float(np.median(values)), 3)


def candidates(
    grid: dict, *, vv_only: bool = False, prior_vh_db: float = WS.PRIOR_VH_DB
) -> list[WS.WaterParams]:
    """Every setting of ``grid``: VH deciding (the VV prior then does not matter and keeps the
    product's), or VV alone with ``vv_only``; ``prior_vh_db`` as given."""
    pol = "vv" if vv_only else "vh"
    priors = grid["prior_vv_db"] if vv_only else [WS.DEFAULTS["vh"].prior_vv_db]
    methods = grid.get("threshold_method", ["ki"])
    return [
        WS.water_params(
            speckle=sp,
            speckle_window=win,
            polarisation=pol,
            prior_vv_db=pvv,
            adapt_db=ad,
            grow_db=gr,
            threshold_method=tm,
            prior_vh_db=prior_vh_db,
        )
        for (sp, win), pvv, ad, gr, tm in itertools.product(
            grid["speckle"], priors, grid["adapt_db"], grid["grow_db"], methods
        )
    ]


def _calibrate(chips: list[Chip], p: WS.WaterParams) -> tuple[float, ...]:
    """The likelihood table of ``p`` learnt on ``chips`` (histogram binning of the distance to
    the threshold, :func:`eo_drr.products.water_settings.likelihood_table_from`)."""
    d, y = [], []
    for c in chips:
        f, t = _scene(c, p)
        v = c.valid & np.isfinite(f)
        d.append(f[v] - t.threshold_db)
        y.append(c.label[v] == 1)
    return WS.likelihood_table_from(np.concatenate(d), np.concatenate(y))


def criterion(chips: list[Chip], p: WS.WaterParams) -> float:
    """What the selection maximises: the mean over groups (events, and the events' stress
    variants) of the group's IoU, and the pooled IoU, averaged. The per-event mean keeps one large event from deciding alone (a rule that
    collapses on one kind of flood is not chosen because another kind dominates the pixels);
    events without labelled water count through the pooled term (their false alarms)."""
    per: dict[str, np.ndarray] = {}
    for c in chips:
        per[c.group] = per.get(c.group, 0) + confusion(predict(c, p)[0], c.label, c.valid)
    with_water = [iou(v) for v in per.values() if v[0] + v[2] > 0]
    return 0.5 * (float(np.mean(with_water)) if with_water else 0.0) + 0.5 * iou(sum(per.values()))


def select(
    chips: list[Chip], grid: dict = GRID, *, vv_only: bool = False, prior_vh_db: float | None = None
) -> WS.WaterParams:
    """The selection function: the candidate with the best :func:`criterion` on ``chips``
    (ties: the first, i.e. the simpler), then its likelihood table learnt on them.
    ``prior_vh_db``: default :func:`published_vh_prior` of all events."""
    prior = published_vh_prior() if prior_vh_db is None else prior_vh_db
    best, best_score = None, -1.0
    for p in candidates(grid, vv_only=vv_only, prior_vh_db=prior):
        score = criterion(chips, p)
        if score > best_score + 1e-9:
            best, best_score = p, score
    assert best is not None
    return dataclasses.replace(best, likelihood_table=_calibrate(chips, best))


def leave_one_event_out(
    chips: list[Chip],
    grid: dict = GRID,
    *,
    pool: list[Chip] | None = None,
    vv_only: bool = False,
    score_on=None,
    stress: dict | None = None,
) -> dict:
    """Per held-out event: the parameters :func:`select` picks on ``pool`` (default
    ``chips``; e.g. chips plus :func:`demo_chip`) without any chip of that event, with the
    published VH prior computed without that event too, and the held-out confusion of
    ``chips`` of the event; pooled over events. ``score_on(event)`` gives other chips to score
    instead (e.g. OMBRIA patches). ``vv_only``: the chips are VV-only already and only VV
    candidates are searched. ``stress``: ``{case: chips}`` (:func:`stress_cases`), each chip
    scored with its own event's held-out parameters (``"stress"`` in the result)."""
    pool = chips if pool is None else pool
    events = sorted({c.event for c in chips})
    per, pooled, chosen, lik_rows = {}, np.zeros(3, np.int64), {}, []
    stressed = {case: np.zeros(3, np.int64) for case in (stress or {})}
    for e in events:
        p = select(
            [c for c in pool if c.event != e],
            grid,
            vv_only=vv_only,
            prior_vh_db=published_vh_prior(e),
        )
        for case, cs in (stress or {}).items():
            for c in cs:
                if c.event == e:
                    q = p if c.vh is not None or vv_only else WS.DEFAULTS["vv"]
                    stressed[case] += confusion(predict(c, q)[0], c.label, c.valid)
        test = score_on(e) if score_on else [c for c in chips if c.event == e]
        total = np.zeros(3, np.int64)
        for c in test:
            pred, lik = predict(c, p)
            total += confusion(pred, c.label, c.valid)
            v = c.valid & (lik != 255)
            lik_rows.append((lik[v], c.label[v] == 1))
        per[e] = scores(total)
        chosen[e] = describe(p)
        pooled += total
    return {
        "pooled": scores(pooled),
        "per_event": per,
        "chosen": chosen,
        "calibration": calibration_table(lik_rows),
        "stress": {k: scores(v) for k, v in stressed.items()},
    }


def describe(p: WS.WaterParams) -> dict:
    keys = (
        "speckle",
        "speckle_window",
        "polarisation",
        "prior_vh_db",
        "prior_vv_db",
        "adapt_db",
        "grow_db",
        "threshold_method",
        "likelihood_table",
    )
    return {k: getattr(p, k) for k in keys}


def calibration_table(rows: list[tuple[np.ndarray, np.ndarray]]) -> list[dict]:
    """Observed water share per likelihood decile (0-10, ..., 90-100 %)."""
    if not rows:
        return []
    lik = np.concatenate([r[0] for r in rows]).astype(np.float64)
    y = np.concatenate([r[1] for r in rows])
    out = []
    for k in range(10):
        m = (lik >= 10 * k) & ((lik < 10 * (k + 1)) if k < 9 else (lik <= 100))
        if m.any():
            out.append(
                {
                    "decile": f"{10 * k}-{10 * (k + 1)}",
                    "pixels": int(m.sum()),
                    "mean_likelihood": float(lik[m].mean()),
                    "observed_water": float(y[m].mean() * 100),
                }
            )
    return out


# ------------------------------------------------------------------------------------------
# methods from the literature measured beside the product (each with its own selection, LOEO)


def _gmm2(chip: Chip) -> np.ndarray:
    """Two-component Gaussian mixture on filtered (VV, VH) dB fitted by EM (Dempster et al.
    1977), started from the VH Otsu split; water = the darker component's posterior > 0.5.
    No setting is chosen on data."""
    from eo_drr.indices import threshold

    fvv = _filtered(chip, "vv", "lee", 9)
    fvh = _filtered(chip, "vh", "lee", 9)
    ok = np.isfinite(fvv) & np.isfinite(fvh)
    x = np.stack([fvv[ok], fvh[ok]], axis=1).astype(np.float64)
    if len(x) < 100:
        return np.zeros(chip.vv.shape, bool)
    resp = (x[:, 1] <= threshold.otsu_threshold(x[:, 1])).astype(np.float64)
    for _ in range(30):
        r = np.stack([resp, 1 - resp], axis=1).clip(1e-6, 1)
        w = r.sum(axis=0) / len(x)
        mu = (r.T @ x) / r.sum(axis=0)[:, None]
        logp = []
        for k in range(2):
            d = x - mu[k]
            cov = (r[:, k, None] * d).T @ d / r[:, k].sum() + 1e-3 * np.eye(2)
            inv = np.linalg.inv(cov)
            logp.append(
                np.log(w[k])
                - 0.5 * np.log(np.linalg.det(cov))
                - 0.5 * np.einsum("ij,jk,ik->i", d, inv, d)
            )
        lp = np.stack(logp, axis=1)
        lp -= lp.max(axis=1, keepdims=True)
        resp = np.exp(lp[:, 0]) / np.exp(lp).sum(axis=1)
    water_k = 0 if mu[0, 1] < mu[1, 1] else 1
    post = resp if water_k == 0 else 1 - resp
    out = np.zeros(chip.vv.shape, bool)
    out[ok] = post > 0.5
    return out


def _linear(chip: Chip, a: float, t: float) -> np.ndarray:
    """a * VV + (1 - a) * VH < t on filtered dB (a 2-D linear threshold; a = 0: VH alone)."""
    with np.errstate(invalid="ignore"):
        return a * _filtered(chip, "vv", "lee", 9) + (1 - a) * _filtered(chip, "vh", "lee", 9) < t


def _ratio(chip: Chip, t: float) -> np.ndarray:
    """Cross-polarisation ratio VH - VV (dB) < t: water depolarises less than vegetation."""
    with np.errstate(invalid="ignore"):
        return _filtered(chip, "vh", "lee", 9) - _filtered(chip, "vv", "lee", 9) < t


def alternatives() -> dict[str, list]:
    """Candidate lists (each candidate a function chip -> water mask) of the literature methods
    measured beside the product; a one-element list has nothing to select."""
    return {
        "two-component Gaussian mixture on VV+VH (EM)": [_gmm2],
        "linear VV+VH threshold (weight and cut selected)": [
            functools.partial(_linear, a=a, t=t)
            for a in (0.0, 0.2, 0.4, 0.6)
            for t in np.arange(-24.0, -13.9, 0.5)
        ],
        "VH/VV ratio threshold (cut selected)": [
            functools.partial(_ratio, t=t) for t in np.arange(-14.0, -3.9, 0.5)
        ],
    }


def loeo_alternative(chips: list[Chip], cands: list) -> dict:
    """LOEO of one alternative method: the candidate with the best :func:`criterion`-style
    score on the other events, scored on the held-out one."""
    conf = {id(f): {c.name: confusion(f(c), c.label, c.valid) for c in chips} for f in cands}

    def score(f, train):
        per: dict[str, np.ndarray] = {}
        for c in train:
            per[c.event] = per.get(c.event, 0) + conf[id(f)][c.name]
        with_water = [iou(v) for v in per.values() if v[0] + v[2] > 0]
        return 0.5 * (float(np.mean(with_water)) if with_water else 0.0) + 0.5 * iou(
            sum(per.values())
        )

    pooled, per_event = np.zeros(3, np.int64), {}
    for e in sorted({c.event for c in chips}):
        train = [c for c in chips if c.event != e]
        best = max(cands, key=lambda f: score(f, train))
        total = sum(conf[id(best)][c.name] for c in chips if c.event == e)
        per_event[e] = scores(total)
        pooled += total
    return {"pooled": scores(pooled), "per_event": per_event}
