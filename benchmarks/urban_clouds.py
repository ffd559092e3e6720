"""Cloud masks of the urban-growth product on the real OSCD Level-1C images: how much of the
(clear) images and of the labelled new built-up each detector masks, and its speed.

The 12 OSCD images (6 cities x 2 dates) are essentially cloud-free, so every masked pixel is
a false cloud: the figures bound the cost of each detector in lost coverage, not its skill
(no cloud labels exist in ../shared/data). Run::

    python benchmarks/urban_clouds.py [--json F]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from eo_drr.load.s2_file import read_s2_file
from eo_drr.products import growth_pair
from eo_drr.products.water_s2 import cloud_shadow_mask
from eo_drr.settings import shared_data_dir


def _fmask(bands: dict[str, np.ndarray]) -> np.ndarray:
    common = {
        "B02": "blue",
        "B03": "green",
        "B04": "red",
        "B08": "nir",
        "B11": "swir16",
        "B12": "swir22",
    }
    cloud, shadow = cloud_shadow_mask(
        {c: bands[b] for b, c in common.items()}, cirrus=bands.get("B10")
    )
    return cloud | shadow


DETECTORS = {
    "fmask-style spectral tests": _fmask,
    "s2cloudless at 60 m (the product's)": growth_pair.s2cloudless_mask,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import rasterio

    root = shared_data_dir() / "oscd-urban-change"
    if not root.is_dir():
        raise SystemExit(f"no OSCD data at {root} (set EO_DRR_SHARED_DATA)")
    tot = {
        k: {"masked": 0, "pixels": 0, "masked_change": 0, "change": 0, "seconds": 0.0}
        for k in DETECTORS
    }
    for city in sorted(p.name for p in root.iterdir() if p.is_dir()):
        with rasterio.open(root / city / "change.tif") as f:
            label = f.read(1) == 1
        for when in ("before", "after"):
            img = read_s2_file(
                root / city / f"s2_{when}.tif", option=city, need=growth_pair.S2CLOUDLESS_BANDS
            )
            cells = []
            for name, fn in DETECTORS.items():
                t0 = time.perf_counter()
                m = fn(img.bands)
                dt = time.perf_counter() - t0
                t = tot[name]
                t["masked"] += int(m.sum())
                t["pixels"] += m.size
                t["masked_change"] += int((m & label).sum())
                t["change"] += int(label.sum())
                t["seconds"] += dt
                cells.append(f"{name.split(' ')[0]} {100 * m.mean():5.1f} %")
            print(f"{city:12s} {when:6s} " + "   ".join(cells))
    out = {}
    print(f"\n{'detector':38s} {'masked':>8s} {'of new built-up':>16s} {'s per Mpx':>10s}")
    for name, t in tot.items():
        row = {
            "masked_share": t["masked"] / t["pixels"],
            "masked_change_share": t["masked_change"] / max(t["change"], 1),
            "seconds_per_mpx": t["seconds"] / t["pixels"] * 1e6,
        }
        out[name] = row
        print(
            f"{name:38s} {100 * row['masked_share']:7.2f} % {100 * row['masked_change_share']:14.2f} % "
            f"{row['seconds_per_mpx']:10.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
