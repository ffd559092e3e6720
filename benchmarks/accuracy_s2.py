"""Sentinel-2 water accuracy on the Sen1Floods11 chips that have S2, with every setting chosen
by leave-one-event-out (LOEO).

    python benchmarks/accuracy_s2.py [--json out.json]

Reads the chips from EO_DRR_SHARED_DATA (default ../shared/data), with the chip discovery of
``benchmarks/flood_eval.py``. Candidate settings of :func:`eo_drr.products.water_s2.s2_water`:
the voting rule (majority of MNDWI / AWEI_sh / WOfS, all three, any, or one alone), the MNDWI
and AWEI_sh thresholds on a small grid around the published 0, and the spectral cloud/shadow
test on or off. :func:`select` picks the candidate with the highest pooled IoU on the chips it
is given (ties: the candidate nearest the published defaults, then the first). LOEO: each event
(chip name before the first ``_``) is held out in turn and scored with the settings selected on
the other events only. The product's defaults are scored as they are (no selection: their LOEO
is their in-sample score). Baselines (NDWI > 0, MNDWI > 0, AWEI_sh > 0, WOfS) are measured on
the same pixels.

Metric: pooled IoU of the water class (one confusion matrix over all labelled pixels; pixels the
method leaves as no data count as "not water", so masking labelled water is a miss).
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from eo_drr import indices
from eo_drr.products.water_s2 import s2_water


def _flood_accuracy():
    """benchmarks/flood_eval.py (chip discovery, confusion, scores), imported from here."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import flood_eval

    return flood_eval


def chips(root: Path):
    return _flood_accuracy().chip_files(root)


def confusion(pred: np.ndarray, label: np.ndarray, valid: np.ndarray) -> np.ndarray:
    return _flood_accuracy().confusion(pred, label, valid)


def scores(c: np.ndarray) -> dict:
    return _flood_accuracy().scores(c)


#: the product's defaults, read from its signature so that the benchmark follows them
DEFAULT = {
    k: inspect.signature(s2_water).parameters[k].default
    for k in ("rule", "mndwi_threshold", "awei_threshold", "cloud_test")
}
PREVIOUS_DEFAULT = {
    "rule": "majority",
    "mndwi_threshold": 0.0,
    "awei_threshold": 0.0,
    "cloud_test": "auto",
}
MNDWI_GRID = (-0.1, 0.0, 0.1, 0.2)
AWEI_GRID = (-0.05, 0.0, 0.05, 0.1)


def candidates(thresholds: bool = True) -> list[dict]:
    """The candidate settings (each rule only with the thresholds it uses); without
    ``thresholds`` only the published 0."""
    out = []
    for rule, cloud in itertools.product(
        ("majority", "all", "any", "mndwi", "awei", "wofs"), ("auto", "none")
    ):
        mg = MNDWI_GRID if thresholds and rule in ("majority", "all", "any", "mndwi") else (0.0,)
        ag = AWEI_GRID if thresholds and rule in ("majority", "all", "any", "awei") else (0.0,)
        for m, a in itertools.product(mg, ag):
            out.append(
                {"rule": rule, "mndwi_threshold": m, "awei_threshold": a, "cloud_test": cloud}
            )
    return out


def _key(s: dict) -> str:
    return f"{s['rule']} mndwi>{s['mndwi_threshold']:g} awei>{s['awei_threshold']:g} cloud={s['cloud_test']}"


def load(root: Path) -> list[dict]:
    """The S2 chips: name, event, bands (TOA reflectance 0-1, NaN no data), cirrus, label."""
    import rasterio

    out = []
    for name, _s1, labp, s2p in chips(root):
        if s2p is None:
            continue
        with rasterio.open(labp) as src:
            label = src.read(1)
        with rasterio.open(s2p) as src:
            s2 = src.read().astype(np.float32) / 10000.0  # L1C TOA x 10000, nodata 0
        s2[:, (s2 == 0).all(axis=0)] = np.nan
        bands = {
            "blue": s2[1],
            "green": s2[2],
            "red": s2[3],
            "nir": s2[7],
            "swir16": s2[11],
            "swir22": s2[12],
        }
        valid = label >= 0
        if not valid.any():
            continue
        out.append(
            {
                "name": name,
                "event": name.split("_")[0],
                "bands": bands,
                "cirrus": s2[10],
                "label": label,
                "valid": valid,
            }
        )
    return out


def confusion_table(data: list[dict], cands: list[dict]) -> dict[str, dict[str, np.ndarray]]:
    """TP/FP/FN per candidate key and chip name."""
    table: dict[str, dict[str, np.ndarray]] = {}
    for c in data:
        for s in cands:
            w, _ = s2_water(c["bands"], cirrus=c["cirrus"], **s)
            table.setdefault(_key(s), {})[c["name"]] = confusion(w == 1, c["label"], c["valid"])
    return table


def _distance_from_default(s: dict) -> float:
    return (
        abs(s["mndwi_threshold"])
        + abs(s["awei_threshold"])
        + (s["rule"] != "majority")
        + (s["cloud_test"] != "auto")
    )


def select(train: list[str], table: dict, cands: list[dict]) -> dict:
    """The candidate with the highest pooled IoU over the ``train`` chips (ties: nearest the
    published defaults)."""

    def pooled(s):
        return scores(sum(table[_key(s)][n] for n in train))["iou"]

    return max(cands, key=lambda s: (round(pooled(s), 6), -_distance_from_default(s)))


def baselines(data: list[dict]) -> dict:
    out: dict[str, np.ndarray] = {}
    per: dict[str, dict] = {}
    for c in data:
        b = c["bands"]
        with np.errstate(invalid="ignore", divide="ignore"):
            preds = {
                "NDWI > 0": np.asarray(indices.ndwi(b["green"], b["nir"])) > 0,
                "MNDWI > 0": np.asarray(indices.mndwi(b["green"], b["swir16"])) > 0,
                "AWEI_sh > 0": np.asarray(
                    indices.awei_sh(b["blue"], b["green"], b["nir"], b["swir16"], b["swir22"])
                )
                > 0,
                "WOfS": np.asarray(indices.wofs(b)) > 0.5,
            }
        for k, p in preds.items():
            cm = confusion(p, c["label"], c["valid"])
            out[k] = out.get(k, 0) + cm
            per.setdefault(k, {})[c["name"]] = scores(cm)["iou"]
    return {k: scores(v)["iou"] for k, v in out.items()}, per


def evaluate(root: Path) -> dict:
    data = load(Path(root))
    if not data:
        return {}
    cands = candidates()
    table = confusion_table(
        data, [s for s in cands] + [s for s in (DEFAULT, PREVIOUS_DEFAULT) if s not in cands]
    )
    names = [c["name"] for c in data]
    events = sorted({c["event"] for c in data})

    def chip_scores(key, which):
        return {n: scores(table[key][n]) for n in which}

    dk = _key(DEFAULT)
    in_sample = {
        "settings": DEFAULT,
        "pooled_iou": scores(sum(table[dk][n] for n in names))["iou"],
        "per_chip": {n: v["iou"] for n, v in chip_scores(dk, names).items()},
    }
    pk = _key(PREVIOUS_DEFAULT)
    previous = {
        "settings": PREVIOUS_DEFAULT,
        "pooled_iou": scores(sum(table[pk][n] for n in names))["iou"],
        "per_chip": {n: scores(table[pk][n])["iou"] for n in names},
    }
    loeo = _loeo(data, events, table, cands)
    rules_only = _loeo(data, events, table, candidates(thresholds=False))
    final = select(names, table, cands)
    fk = _key(final)
    final_r = select(names, table, candidates(thresholds=False))
    base, base_per = baselines(data)
    return {
        "chips": names,
        "events": events,
        "n_candidates": len(cands),
        "in_sample": in_sample,
        "previous_default": previous,
        "leave_one_event_out": loeo,
        "leave_one_event_out_published_thresholds_only": rules_only,
        "selected_on_all_events": {
            "settings": final,
            "pooled_iou_in_sample": scores(sum(table[fk][n] for n in names))["iou"],
            "per_chip": {n: scores(table[fk][n])["iou"] for n in names},
        },
        "selected_on_all_events_published_thresholds_only": {
            "settings": final_r,
            "pooled_iou_in_sample": scores(sum(table[_key(final_r)][n] for n in names))["iou"],
            "per_chip": {n: scores(table[_key(final_r)][n])["iou"] for n in names},
        },
        "baselines": base,
        "baselines_per_chip": base_per,
    }


def _loeo(data: list[dict], events: list[str], table: dict, cands: list[dict]) -> dict:
    """Each event held out in turn, scored with :func:`select` run on the other events."""
    chosen, per_chip, pooled = {}, {}, 0
    for ev in events:
        test = [c["name"] for c in data if c["event"] == ev]
        train = [c["name"] for c in data if c["event"] != ev]
        if not train:
            continue
        s = select(train, table, cands)
        chosen[ev] = {
            "settings": s,
            "train_chips": train,
            "train_pooled_iou": scores(sum(table[_key(s)][n] for n in train))["iou"],
        }
        for n in test:
            per_chip[n] = scores(table[_key(s)][n])["iou"]
            pooled = pooled + table[_key(s)][n]
    return {
        "pooled_iou": scores(pooled)["iou"] if len(chosen) else float("nan"),
        "per_chip": per_chip,
        "chosen": chosen,
    }


def main(argv=None) -> int:
    from eo_drr.settings import shared_data_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    root = shared_data_dir()
    r = evaluate(root)
    if not r:
        print(f"no Sen1Floods11 S2 chips under {root} (set EO_DRR_SHARED_DATA)")
        return 0
    names = r["chips"]
    print(
        f"Sentinel-2 water on {len(names)} Sen1Floods11 chips ({', '.join(names)}), "
        f"{r['n_candidates']} candidate settings"
    )
    print(f"{'':46s} {'pooled IoU':>10s} " + " ".join(f"{n:>15s}" for n in names))

    def row(label, pooled, per):
        print(
            f"{label:46s} {pooled:10.3f} "
            + " ".join(f"{per.get(n, float('nan')):15.3f}" for n in names)
        )

    row(
        "s2_water defaults (fixed: in-sample)",
        r["in_sample"]["pooled_iou"],
        r["in_sample"]["per_chip"],
    )
    row(
        "previous default (majority, fixed)",
        r["previous_default"]["pooled_iou"],
        r["previous_default"]["per_chip"],
    )
    row(
        "selection procedure, leave-one-event-out",
        r["leave_one_event_out"]["pooled_iou"],
        r["leave_one_event_out"]["per_chip"],
    )
    sa = r["selected_on_all_events"]
    row("selection procedure on all events (in-sample)", sa["pooled_iou_in_sample"], sa["per_chip"])
    ro = r["leave_one_event_out_published_thresholds_only"]
    row("rule selection, thresholds 0 only, LOEO", ro["pooled_iou"], ro["per_chip"])
    sr = r["selected_on_all_events_published_thresholds_only"]
    row("rule selection, thresholds 0 only, all events", sr["pooled_iou_in_sample"], sr["per_chip"])
    for k, v in r["baselines"].items():
        row(f"baseline: {k}", v, r["baselines_per_chip"][k])
    print("\nLOEO choices (held-out event: settings selected on the others):")
    for ev, c in r["leave_one_event_out"]["chosen"].items():
        print(f"  {ev:10s} {_key(c['settings'])}  (train pooled IoU {c['train_pooled_iou']:.3f})")
    for ev, c in ro["chosen"].items():
        print(
            f"  {ev:10s} {_key(c['settings'])}  (thresholds 0 only; train {c['train_pooled_iou']:.3f})"
        )
    print(
        f"selected on all events: {_key(sa['settings'])}; thresholds 0 only: {_key(sr['settings'])}"
    )
    if args.json:
        args.json.write_text(json.dumps(r, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
