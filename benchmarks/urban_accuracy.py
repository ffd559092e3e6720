"""Urban growth on real cities it has never seen: leave-one-city-out (LOCO) accuracy of the
LightGBM change model (``eo_drr.products.urban_change``) on the OSCD cities of the shared
data folder, beside simple baselines measured in the same run.

    python benchmarks/urban_accuracy.py [--quick] [--json out.json]
    python benchmarks/urban_accuracy.py --train-final      # retrain the shipped model

Data: ``<shared data>/oscd-urban-change/<city>/`` (see its PROVENANCE.md): Sentinel-2 L1C
pairs (DN / 10000, 0 = no data), Sentinel-1 VV dB per relative orbit (averaged over the
orbits a city has), OSCD change labels (1 = urban change; CC BY-NC-SA 4.0).

LOCO: for each held-out city, :func:`train_model` sees only the five other cities; the
decision thresholds (with and without Sentinel-1) and the minimum mapping unit are chosen by
pooled F1 on out-of-fold predictions of those five (an inner leave-one-city-out,
:func:`select_settings`), then the held-out city is scored once. Metrics are of the change
class, pooled over all pixels (one confusion matrix), and per city.

Baselines (same run, no training): change vector analysis on B02/B03/B04/B08 reflectance
with an Otsu threshold per city; the built-up rule NDVI < 0.3 and NDBI > 0 after but not
before; Sentinel-1 VV increase (after - before, dB) above an Otsu threshold per city; and,
as a ceiling for one-threshold methods, the best CVA threshold per city chosen *with the
labels*.

``--train-final`` runs the full LOCO, then trains on all six cities, picks the thresholds and
the minimum mapping unit on the six cities' LOCO predictions, and writes
``src/eo_drr/products/models/urban_growth_lgbm.{txt,json}`` and the scores in
``URBAN_GROWTH_MODEL.md``.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from eo_drr.products import growth_pair  # noqa: E402
from eo_drr.products import urban_change as uc  # noqa: E402
from eo_drr.settings import shared_data_dir  # noqa: E402

CITIES = ("abudhabi", "aguasclaras", "beihai", "bercy", "bordeaux", "nantes")
FULL = dict(trees=150, leaves=15, lr=0.05, min_data_in_leaf=200, neg_frac=0.10, s1_drop=0.3)
QUICK = dict(trees=40, leaves=15, lr=0.12, min_data_in_leaf=100, neg_frac=0.03, s1_drop=0.3)
THRESHOLDS = np.round(np.arange(0.10, 0.951, 0.025), 3)
MMUS = (0, 4, 8, 16)
SMOOTH_PX = 3
MODEL_DIR = ROOT / "src" / "eo_drr" / "products" / "models"


def data_dir() -> Path:
    return shared_data_dir() / "oscd-urban-change"


# ---------------------------------------------------------------------------------- data
def _read_all(path: Path) -> dict[str, np.ndarray]:
    """Every band of a file, reflectance 0-1 by ESA name (for the cloud mask)."""
    import rasterio

    with rasterio.open(path) as ds:
        dn, names = ds.read(), ds.descriptions
    refl = dn.astype(np.float32) / 10000.0
    refl[dn == 0] = np.nan
    return {n: refl[i] for i, n in enumerate(names) if n}


def _read_vv(folder: Path, when: str) -> np.ndarray | None:
    import rasterio

    files = sorted(glob.glob(str(folder / f"s1_vv_db_*_{when}.tif")))
    if not files:
        return None
    stack = []
    for f in files:
        with rasterio.open(f) as ds:
            stack.append(ds.read(1).astype(np.float32))
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(stack, axis=0).astype(np.float32)


def load_city(city: str, root: Path | None = None) -> dict:
    """One city: S2 reflectance dicts, VV dB (orbit mean) or None, labels, and features."""
    import rasterio

    folder = (root or data_dir()) / city
    all_b, all_a = _read_all(folder / "s2_before.tif"), _read_all(folder / "s2_after.tif")
    before, after = ({n: v for n, v in d.items() if n in uc.BANDS} for d in (all_b, all_a))
    vb, va = _read_vv(folder, "before"), _read_vv(folder, "after")
    with rasterio.open(folder / "change.tif") as ds:
        label = ds.read(1)
    feats, names = uc.change_features(before, after, vb, va)
    # the cloud masks the product applies (s2cloudless on these Level-1C files): what users get
    cloud = growth_pair.cloud_mask(all_b, "L1C") | growth_pair.cloud_mask(all_a, "L1C")
    return dict(
        city=city,
        cloud=cloud,
        before=before,
        after=after,
        vv_before=vb,
        vv_after=va,
        label=label,
        features=feats,
        names=names,
    )


def load_all(cities=CITIES, root: Path | None = None) -> dict[str, dict]:
    return {c: load_city(c, root) for c in cities}


# ------------------------------------------------------------------------------ training
def _sample(city: dict, neg_frac: float) -> tuple[np.ndarray, np.ndarray]:
    """All change pixels and a fixed share of no-change pixels (seeded by the city name)."""
    f, y = city["features"], city["label"].ravel()
    x = f.reshape(f.shape[0], -1).T
    ok = np.isfinite(x[:, 0])
    rng = np.random.default_rng(zlib.crc32(city["city"].encode()))
    pos = np.flatnonzero(ok & (y == 1))
    neg = np.flatnonzero(ok & (y == 0))
    neg = np.sort(rng.choice(neg, max(1, int(len(neg) * neg_frac)), replace=False))
    idx = np.concatenate([pos, neg])
    return np.ascontiguousarray(x[idx]), y[idx].astype(np.float32)


def train_model(data: dict[str, dict], cities, cfg: dict):
    """LightGBM on the sampled pixels of ``cities`` only. A share ``s1_drop`` of the rows
    has its Sentinel-1 features removed so that the model also works without Sentinel-1."""
    import lightgbm as lgb

    parts = [_sample(data[c], cfg["neg_frac"]) for c in cities]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    names = data[cities[0]]["names"]
    vv = [i for i, n in enumerate(names) if n.startswith("vv_")]
    drop = np.random.default_rng(1).random(len(x)) < cfg["s1_drop"]
    x[np.ix_(drop, vv)] = np.nan
    params = dict(
        objective="binary",
        num_leaves=cfg["leaves"],
        learning_rate=cfg["lr"],
        min_data_in_leaf=cfg["min_data_in_leaf"],
        feature_fraction=0.7,
        bagging_fraction=0.7,
        bagging_freq=1,
        lambda_l2=1.0,
        verbose=-1,
        num_threads=1,
        seed=0,
        deterministic=True,
    )
    return lgb.train(params, lgb.Dataset(x, y, feature_name=list(names)), cfg["trees"])


def predict(booster, city: dict, with_s1: bool = True) -> np.ndarray:
    f = city["features"]
    if not with_s1:
        f = f.copy()
        for i, n in enumerate(city["names"]):
            if n.startswith("vv_"):
                f[i] = np.nan
    return uc.growth_probability(f, {"booster": booster, "smooth_px": SMOOTH_PX})


# ------------------------------------------------------------------------------- scoring
def counts(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(tp, fp, fn) of the change class; pred 255 (no data) counts as not change."""
    p, t = pred == 1, y == 1
    return np.array([np.sum(p & t), np.sum(p & ~t), np.sum(~p & t)], np.int64)


def scores(c) -> dict:
    tp, fp, fn = (int(v) for v in c)
    return dict(
        f1=2 * tp / max(2 * tp + fp + fn, 1),
        iou=tp / max(tp + fp + fn, 1),
        precision=tp / max(tp + fp, 1),
        recall=tp / max(tp + fn, 1),
        tp=tp,
        fp=fp,
        fn=fn,
    )


def grid_counts(prob: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Confusion counts for every (threshold, mmu) of the grid: (len(THRESHOLDS), len(MMUS), 3)."""
    out = np.zeros((len(THRESHOLDS), len(MMUS), 3), np.int64)
    for i, t in enumerate(THRESHOLDS):
        for j, m in enumerate(MMUS):
            out[i, j] = counts(uc.growth_map(prob, float(t), m), y)
    return out


def _f1(c):
    return 2 * c[..., 0] / np.maximum(2 * c[..., 0] + c[..., 1] + c[..., 2], 1)


def pick(grid: np.ndarray) -> tuple[float, int, float]:
    """(threshold, mmu, pooled F1) maximising pooled F1 of summed grid counts."""
    f = _f1(grid)
    i, j = np.unravel_index(int(np.argmax(f)), f.shape)
    return float(THRESHOLDS[i]), int(MMUS[j]), float(f[i, j])


def select_settings(data, cities, cfg, trainer=train_model) -> dict:
    """Thresholds (with / without S1) and MMU from an inner LOCO over ``cities`` only."""
    g = {True: 0, False: 0}
    for h in cities:
        inner = [c for c in cities if c != h]
        booster = trainer({c: data[c] for c in inner}, inner, cfg)
        for s1 in (True, False):
            g[s1] = g[s1] + grid_counts(predict(booster, data[h], s1), data[h]["label"])
    t1, m1, f1 = pick(g[True])
    t0, m0, f0 = pick(g[False])
    return dict(
        threshold=t1,
        min_mapping_unit_px=m1,
        threshold_no_s1=t0,
        min_mapping_unit_px_no_s1=m0,
        inner_f1=f1,
        inner_f1_no_s1=f0,
    )


def loco(data, cfg, trainer=train_model, log=print) -> dict:
    """Outer leave-one-city-out; returns per-city and pooled scores with and without S1."""
    cities = list(data)
    res = {"with_s1": {}, "without_s1": {}, "settings": {}}
    tot = {True: np.zeros(3, np.int64), False: np.zeros(3, np.int64)}
    delivered = {True: np.zeros(3, np.int64), False: np.zeros(3, np.int64)}
    probs = {}
    for h in cities:
        t = time.perf_counter()
        train = [c for c in cities if c != h]
        seen = {c: data[c] for c in train}  # the held-out city is not even passed on
        sel = select_settings(seen, train, cfg, trainer)
        booster = trainer(seen, train, cfg)
        res["settings"][h] = sel
        for s1 in (True, False):
            prob = predict(booster, data[h], s1)
            probs[(h, s1)] = prob
            thr = sel["threshold"] if s1 else sel["threshold_no_s1"]
            mmu = sel["min_mapping_unit_px"] if s1 else sel["min_mapping_unit_px_no_s1"]
            g = uc.growth_map(prob, thr, mmu)
            c = counts(g, data[h]["label"])
            tot[s1] += c
            # as the command delivers it: cloud-masked pixels are no data (a missed change)
            cloud = data[h].get("cloud")
            delivered[s1] += counts(
                g if cloud is None else np.where(cloud, 255, g), data[h]["label"]
            )
            res["with_s1" if s1 else "without_s1"][h] = scores(c)
        log(
            f"  {h:12s} F1 {res['with_s1'][h]['f1']:.3f} (no S1 {res['without_s1'][h]['f1']:.3f}) "
            f"thr {sel['threshold']}/{sel['threshold_no_s1']} mmu {sel['min_mapping_unit_px']}"
            f" [{time.perf_counter() - t:.0f} s]"
        )
    res["with_s1"]["pooled"] = scores(tot[True])
    res["without_s1"]["pooled"] = scores(tot[False])
    res["pooled_f1"] = res["with_s1"]["pooled"]["f1"]
    res["pooled_f1_no_s1"] = res["without_s1"]["pooled"]["f1"]
    res["pooled_f1_as_delivered"] = scores(delivered[True])["f1"]
    res["pooled_f1_no_s1_as_delivered"] = scores(delivered[False])["f1"]
    log(
        f"  pooled F1 {res['pooled_f1']:.3f} (no S1 {res['pooled_f1_no_s1']:.3f}); as delivered, "
        f"cloud masks applied: {res['pooled_f1_as_delivered']:.3f} (no S1 {res['pooled_f1_no_s1_as_delivered']:.3f})"
    )
    res["_probs"] = probs
    return res


# ----------------------------------------------------------------------------- baselines
def otsu(v: np.ndarray, bins: int = 256) -> float:
    """Otsu's (1979) threshold of the finite values of v."""
    v = v[np.isfinite(v)]
    lo, hi = np.percentile(v, [0.1, 99.9])
    h, e = np.histogram(np.clip(v, lo, hi), bins, (lo, hi))
    c = (e[:-1] + e[1:]) / 2
    w0 = np.cumsum(h)
    w1 = w0[-1] - w0
    m0 = np.cumsum(h * c) / np.maximum(w0, 1)
    m1 = (np.sum(h * c) - np.cumsum(h * c)) / np.maximum(w1, 1)
    return float(c[int(np.argmax(w0 * w1 * (m0 - m1) ** 2))])


def baselines(data) -> dict:
    out = {
        k: {}
        for k in (
            "cva_otsu",
            "ndvi_ndbi_rule",
            "vv_increase_otsu",
            "cva_best_threshold_with_labels",
        )
    }
    tot = {k: np.zeros(3, np.int64) for k in out}
    for c, d in data.items():
        y = d["label"]
        cva = np.sqrt(
            sum((d["after"][b] - d["before"][b]) ** 2 for b in ("B02", "B03", "B04", "B08"))
        )
        res = {"cva_otsu": counts((cva > otsu(cva)).astype(np.uint8), y)}
        ib, ia = uc._indices(d["before"]), uc._indices(d["after"])
        bu_b = (ib["ndvi"] < 0.3) & (ib["ndbi"] > 0)
        bu_a = (ia["ndvi"] < 0.3) & (ia["ndbi"] > 0)
        res["ndvi_ndbi_rule"] = counts((bu_a & ~bu_b).astype(np.uint8), y)
        if d["vv_before"] is not None:
            dv = d["vv_after"] - d["vv_before"]
            res["vv_increase_otsu"] = counts((dv > max(otsu(dv), 0.0)).astype(np.uint8), y)
        qs = np.nanpercentile(cva, np.arange(50, 99.95, 0.25))
        cands = [counts((cva > q).astype(np.uint8), y) for q in qs]
        res["cva_best_threshold_with_labels"] = max(cands, key=lambda k: _f1(k))
        for k, v in res.items():
            out[k][c] = scores(v)
            tot[k] += v
    for k in out:
        out[k]["pooled"] = scores(tot[k])
    return out


# ---------------------------------------------------------------------------- final model
def train_final(data, cfg, loco_res) -> dict:
    """Train on all cities; thresholds and MMU from the cities' LOCO (out-of-city) predictions."""
    g = {True: 0, False: 0}
    for (h, s1), prob in loco_res["_probs"].items():
        g[s1] = g[s1] + grid_counts(prob, data[h]["label"])
    t1, m1, _ = pick(g[True])
    t0, m0, _ = pick(g[False])
    booster = train_model(data, list(data), cfg)
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    model_path = MODEL_DIR / "urban_growth_lgbm.txt"
    booster.save_model(str(model_path))
    loco_scores = {
        k: {c: {m: round(v, 4) for m, v in s.items()} for c, s in loco_res[k].items()}
        for k in ("with_s1", "without_s1")
    }
    meta = dict(
        format_version=uc.MODEL_FORMAT_VERSION,
        feature_names=booster.feature_name(),
        threshold=t1,
        min_mapping_unit_px=m1,
        threshold_no_s1=t0,
        min_mapping_unit_px_no_s1=m0,
        smooth_px=SMOOTH_PX,
        training_cities=list(data),
        training=cfg,
        lightgbm_version=__import__("lightgbm").__version__,
        labels_licence="CC BY-NC-SA 4.0 (OSCD change maps); the model carries it",
        loco=loco_scores,
    )
    (MODEL_DIR / "urban_growth_lgbm.json").write_text(json.dumps(meta, indent=1) + "\n")
    _update_card(loco_res, meta)
    return meta


def _table(loco_res, base=None) -> str:
    rows = [
        "| city | F1 | IoU | precision | recall | F1 without S1 | IoU without S1 | precision without S1 | recall without S1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in list(CITIES) + ["pooled"]:
        if c not in loco_res["with_s1"]:
            continue
        a, b = loco_res["with_s1"][c], loco_res["without_s1"][c]
        rows.append(
            f"| {c} | "
            + " | ".join(
                f"{s[m]:.3f}" for s in (a, b) for m in ("f1", "iou", "precision", "recall")
            )
            + " |"
        )
    if base:
        rows += [
            "",
            "| baseline (same run, pooled) | F1 | IoU | precision | recall |",
            "|---|---|---|---|---|",
        ]
        for k, v in base.items():
            p = v["pooled"]
            rows.append(
                f"| {k} | {p['f1']:.3f} | {p['iou']:.3f} | {p['precision']:.3f} | {p['recall']:.3f} |"
            )
    return "\n".join(rows)


def _update_card(loco_res, meta) -> None:
    card = MODEL_DIR / "URBAN_GROWTH_MODEL.md"
    if not card.is_file():
        return
    text = card.read_text()
    a, b = "<!-- LOCO:BEGIN -->", "<!-- LOCO:END -->"
    if a in text and b in text:
        block = (
            f"{a}\n{_table(loco_res, loco_res.get('_baselines'))}\n\nShipped settings (chosen on the six cities' "
            f"LOCO predictions): threshold {meta['threshold']} with Sentinel-1, "
            f"{meta['threshold_no_s1']} without; minimum mapping unit {meta['min_mapping_unit_px']} px "
            f"with Sentinel-1, {meta['min_mapping_unit_px_no_s1']} px without.\n{b}"
        )
        text = text[: text.index(a)] + block + text[text.index(b) + len(b) :]
        card.write_text(text)


# ---------------------------------------------------------------------------------- main
def run(quick: bool = False, final: bool = False, log=print) -> dict:
    root = data_dir()
    if not all((root / c / "change.tif").is_file() for c in CITIES):
        return {"skipped": f"OSCD cities not found under {root} (set EO_DRR_SHARED_DATA)"}
    t0 = time.perf_counter()
    data = load_all(CITIES, root)
    log(
        f"loaded {len(data)} cities, {data[CITIES[0]]['features'].shape[0]} features [{time.perf_counter() - t0:.0f} s]"
    )
    cfg = QUICK if quick else FULL
    base = baselines(data)
    res = loco(data, cfg, log=log)
    res["_baselines"] = base
    out = {
        "leave_one_city_out": {k: v for k, v in res.items() if not k.startswith("_")},
        "baselines": base,
        "config": dict(
            cfg,
            quick=quick,
            smooth_px=SMOOTH_PX,
            thresholds=[float(THRESHOLDS[0]), float(THRESHOLDS[-1])],
            mmus=list(MMUS),
        ),
        "feature_names": data[CITIES[0]]["names"],
    }
    if final:
        out["final_model"] = {k: v for k, v in train_final(data, cfg, res).items() if k != "loco"}
    out["seconds"] = round(time.perf_counter() - t0, 1)
    log(_table(res, base))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer trees, fewer sampled pixels (CI)")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument(
        "--train-final", action="store_true", help="retrain and write the shipped model"
    )
    a = ap.parse_args(argv)
    if a.train_final and a.quick:
        ap.error("--train-final trains the shipped model with the full settings; drop --quick")
    out = run(quick=a.quick, final=a.train_final)
    if "skipped" in out:
        print("skipped:", out["skipped"])
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
