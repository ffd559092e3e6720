"""Water/flood accuracy on real hand-labelled chips (Sen1Floods11), beside naive baselines
measured in the same run.

    python benchmarks/flood_accuracy.py [--json out.json] [--quick]

Reads the chips from EO_DRR_SHARED_DATA (default ../shared/data). Chips whose SAR is all NaN
or whose label has no valid pixel are skipped (and listed). Chips whose labelled water is
invisible to SAR are decided from the labels alone, before any method runs: the median VV of
labelled water within 1 dB of the median VV of labelled land. The pooled IoU (one confusion
matrix over all valid pixels) is reported with and without them, and per chip.

Metrics (water class): IoU = TP / (TP + FP + FN) (the critical success index), omission =
FN / (TP + FN), commission = FP / (TP + FP).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from eo_drr.indices import sar, threshold
from eo_drr.products.water import s1_water
from eo_drr.products.water_s2 import fuse_water, s2_water
from eo_drr.settings import shared_data_dir

INVISIBLE_DB = 1.0


def chips(root: Path) -> list[tuple[str, Path, Path, Path | None]]:
    out = []
    sample = root / "sen1floods11-sample"
    if (sample / "Spain_7370579_S1Hand.tif").exists():
        out.append(("Spain_7370579", sample / "Spain_7370579_S1Hand.tif", sample / "Spain_7370579_LabelHand.tif", sample / "Spain_7370579_S2Hand.tif"))
    more = root / "sen1floods11-chips"
    for s1 in sorted((more / "S1Hand").glob("*_S1Hand.tif")):
        name = s1.name.removesuffix("_S1Hand.tif")
        s2 = more / "S2Hand" / f"{name}_S2Hand.tif"
        out.append((name, s1, more / "LabelHand" / f"{name}_LabelHand.tif", s2 if s2.exists() else None))
    return out


def confusion(pred: np.ndarray, label: np.ndarray, valid: np.ndarray) -> np.ndarray:
    t, p = (label == 1) & valid, pred & valid
    return np.array([(t & p).sum(), (p & ~t).sum(), (t & ~p).sum()], dtype=np.int64)  # TP FP FN


def scores(c: np.ndarray) -> dict:
    tp, fp, fn = (int(v) for v in c)
    return {
        "iou": tp / (tp + fp + fn) if tp + fp + fn else float("nan"),
        "omission": fn / (tp + fn) if tp + fn else float("nan"),
        "commission": fp / (tp + fp) if tp + fp else float("nan"),
        "tp": tp, "fp": fp, "fn": fn,
    }


#: published speckle filters the ensemble is also run with, to show how much the result
#: depends on that choice (the default is refined Lee 7 x 7)
FILTER_VARIANTS = {
    "lee 5x5": dict(speckle="lee", speckle_window=5),
    "lee 7x7": dict(speckle="lee", speckle_window=7),
    "lee 9x9": dict(speckle="lee", speckle_window=9),
    "boxcar 7x7": dict(speckle="boxcar", speckle_window=7),
}


def methods_s1(vv: np.ndarray, vh: np.ndarray) -> dict[str, np.ndarray]:
    fvv = np.asarray(sar.to_db(sar.lee(sar.to_linear(vv), window=5)))
    variants = {f"sensitivity: s1_water with {k}": s1_water(vv, vh, **kw).water == 1
                for k, kw in FILTER_VARIANTS.items()}
    return {
        "eo-drr s1_water (ensemble)": s1_water(vv, vh).water == 1,
        **variants,
        "baseline: global Otsu on filtered VV": fvv <= threshold.otsu_threshold(fvv),
        "baseline: VV < -17 dB": vv < -17.0,
    }


def main(argv=None) -> int:
    import rasterio

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--quick", action="store_true", help="(same chips; kept for CI symmetry)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    root = shared_data_dir()
    found = chips(root)
    if not found:
        print(f"no Sen1Floods11 chips under {root} (set EO_DRR_SHARED_DATA)")
        return 0
    pooled: dict[str, np.ndarray] = {}
    pooled_visible: dict[str, np.ndarray] = {}
    per_chip, skipped, invisible = {}, [], []
    t0 = time.perf_counter()
    for name, s1p, labp, s2p in found:
        with rasterio.open(s1p) as src:
            vv, vh = src.read().astype(np.float32)[:2]
        with rasterio.open(labp) as src:
            label = src.read(1)
        if not np.isfinite(vv).any():
            skipped.append(f"{name}: SAR is all NaN")
            continue
        valid = (label >= 0) & np.isfinite(vv)
        if not valid.any():
            skipped.append(f"{name}: label has no valid pixel")
            continue
        w, l = valid & (label == 1), valid & (label == 0)
        hidden = bool(w.any() and l.any() and abs(np.median(vv[w]) - np.median(vv[l])) < INVISIBLE_DB)
        if hidden:
            invisible.append(name)
        preds = methods_s1(vv, vh)
        if s2p is not None:
            # Sen1Floods11 S2 chips: L1C TOA reflectance x 10000 (2016-2019, no baseline offset)
            with rasterio.open(s2p) as src:
                s2 = src.read().astype(np.float32) / 10000.0
            s2[:, (s2 == 0).all(axis=0)] = np.nan
            bands = {"blue": s2[1], "green": s2[2], "red": s2[3], "nir": s2[7], "swir16": s2[11], "swir22": s2[12]}
            w2, _ = s2_water(bands)
            preds["eo-drr s2_water (S2 chips only)"] = w2 == 1
            preds["eo-drr fused S1+S2 (S2 chips only)"] = fuse_water(s1_water(vv, vh).water, w2)[0] == 1
            with np.errstate(invalid="ignore", divide="ignore"):
                preds["baseline: NDWI > 0 (S2 chips only)"] = (s2[2] - s2[7]) / (s2[2] + s2[7]) > 0
        per_chip[name] = {}
        for k, pred in preds.items():
            c = confusion(pred, label, valid)
            per_chip[name][k] = scores(c)
            pooled[k] = pooled.get(k, 0) + c
            if not hidden:
                pooled_visible[k] = pooled_visible.get(k, 0) + c
    elapsed = time.perf_counter() - t0
    result = {
        "pooled": {k: scores(v) for k, v in pooled.items()},
        "pooled_without_sar_invisible": {k: scores(v) for k, v in pooled_visible.items()},
        "sar_invisible_chips": invisible,
        "skipped": skipped,
        "per_chip": per_chip,
        "seconds": elapsed,
    }
    print(f"Sen1Floods11 water accuracy ({len(per_chip)} chips, {elapsed:.1f} s); skipped: {'; '.join(skipped) or 'none'}")
    print(f"SAR-invisible water (label medians within {INVISIBLE_DB} dB): {', '.join(invisible) or 'none'}")
    print(f"{'method':42s} {'pooled IoU':>10s} {'w/o invisible':>13s} {'omission':>9s} {'commission':>10s}")
    for k, v in result["pooled"].items():
        vis = result["pooled_without_sar_invisible"].get(k, {}).get("iou", float("nan"))
        print(f"{k:42s} {v['iou']:10.3f} {vis:13.3f} {v['omission']:9.3f} {v['commission']:10.3f}")
    print("\nper chip IoU:")
    for name, d in per_chip.items():
        print(f"  {name:18s} " + "  ".join(f"{k.split(':')[-1].strip()[:22]}={v['iou']:.3f}" for k, v in d.items()))
    result["ombria"] = ombria(root)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=float))
    return 0


#: OMBRIA S1 patches are 8-bit; we read DN 0..255 as -30..0 dB (a linear dB stretch; the
#: dataset does not document its scaling; `eo-drr flood --s1-8bit-range=-30,0` does the same).
OMBRIA_DB_RANGE = (-30.0, 0.0)


def ombria(root: Path) -> dict:
    """Change detection on the OMBRIA Guyana 2021 patches (CEMS-derived flood masks)."""
    import warnings

    import rasterio

    from eo_drr.products.change import s1_flood

    base = root / "ombria-guyana-2021"
    ids = sorted(int(p.stem.split("_")[1]) for p in (base / "MASK").glob("gt_*.png"))
    if not ids:
        return {}
    lo, hi = OMBRIA_DB_RANGE

    def read_db(p):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.open(p) as src:
                dn = src.read(1).astype(np.float32)
        return np.where(dn == 0, np.nan, lo + dn * (hi - lo) / 255.0).astype(np.float32)

    pooled: dict[str, np.ndarray] = {}
    per = {}
    for i in ids:
        pre = read_db(base / "Sentinel1" / "BEFORE" / f"imbefore_{i}.png")
        post = read_db(base / "Sentinel1" / "AFTER" / f"imafter_{i}.png")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.open(base / "MASK" / f"gt_{i}.png") as src:
                gt = (src.read(1) > 127).astype(np.int16)
        r = s1_flood([pre], post)
        alone = s1_flood([pre], post, change_decrease_db=None)
        fpost = np.asarray(sar.to_db(sar.lee(sar.to_linear(post), window=5)))
        fpre = np.asarray(sar.to_db(sar.lee(sar.to_linear(pre), window=5)))
        diff = fpost - fpre
        preds = {
            # the product's observed water after the event: single-date ensemble plus the
            # water that change detection adds (decrease >= 3 dB near the water threshold)
            "eo-drr s1_flood observed water (change-assisted)": r.water.water == 1,
            "eo-drr s1_water on the post image alone": alone.water.water == 1,
            # GFM's flood = water - reference water; the CEMS masks here also cover water
            # already seen in the before image, so this definition cannot match them
            "eo-drr s1_flood (water - reference water)": r.flood == 1,
            "baseline: Otsu on before/after difference": diff <= threshold.otsu_threshold(diff),
            "baseline: Otsu on filtered post image": fpost <= threshold.otsu_threshold(fpost),
        }
        valid = np.isfinite(post) & np.isfinite(pre)
        per[i] = {}
        for k, p in preds.items():
            c = confusion(p, gt, valid)
            pooled[k] = pooled.get(k, 0) + c
            per[i][k] = scores(c)["iou"]
    out = {"pooled": {k: scores(v) for k, v in pooled.items()}, "per_patch_iou": per}
    print(f"\nOMBRIA Guyana 2021 change detection ({len(ids)} patches, 8-bit read as {lo:g}..{hi:g} dB):")
    for k, v in out["pooled"].items():
        print(f"  {k:44s} pooled IoU {v['iou']:.3f}  omission {v['omission']:.3f}  commission {v['commission']:.3f}")
    return out


if __name__ == "__main__":
    sys.exit(main())
