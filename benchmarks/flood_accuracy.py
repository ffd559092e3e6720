"""Water/flood accuracy on real hand-labelled floods, in sample and leave-one-event-out (LOEO),
with stress cases, the likelihood calibration table and baselines measured in the same run.

    python benchmarks/flood_accuracy.py [--json out.json] [--quick]

Reads the data from EO_DRR_SHARED_DATA (default ../shared/data): the Sen1Floods11 chips (S1
and S2), the OMBRIA Guyana 2021 patches. Every setting of the S1 water rule is chosen by the
selection function of ``benchmarks/flood_eval.py``: LOEO runs it once per held-out event on
the other events (their chips and the synthetic demo scene; ``--train-on-stress`` adds their
stress variants, an ablation that LOEO rejected) and scores the held-out event with what it
chose. "Selected on all" is what the product's
defaults (``eo_drr.products.water_settings.DEFAULTS``) must equal. ``--quick`` searches a small grid
(CI, about 2 minutes); the full grid takes about 8-10 minutes on 2 cores. The previous
ensemble's figures quoted in the README were measured with this harness on ce080b8.

Metrics (water class): IoU = TP / (TP + FP + FN), omission = FN / (TP + FN), commission =
FP / (TP + FP); pooled = one confusion matrix over all valid pixels of the chips.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import flood_eval as E  # noqa: E402

from eo_drr.indices import threshold  # noqa: E402
from eo_drr.products import water as W  # noqa: E402
from eo_drr.products import water_settings as WS  # noqa: E402
from eo_drr.products.change import s1_flood  # noqa: E402
from eo_drr.settings import shared_data_dir  # noqa: E402


def _pooled(chips, pred_fn) -> dict:
    total = sum(E.confusion(pred_fn(c), c.label, c.valid) for c in chips)
    return E.scores(total)


def baselines(chips) -> dict[str, dict]:
    """Naive rules on the same chips: global Otsu on filtered VV (Lee 7 x 7) and VH, fixed cuts."""
    lee = WS.water_params(speckle="lee", speckle_window=7)

    def otsu(band):
        def f(c):
            x = W.speckle_db(getattr(c, band), units="db", params=lee)
            return x <= threshold.otsu_threshold(x)

        return f

    return {
        "global Otsu on filtered VV": _pooled(chips, otsu("vv")),
        "global Otsu on filtered VH": _pooled(chips, otsu("vh")),
        "VV < -17 dB": _pooled(chips, lambda c: c.vv < -17.0),
        f"VH < {WS.PRIOR_VH_DB} dB (the published prior alone)": _pooled(
            chips, lambda c: c.vh < WS.PRIOR_VH_DB
        ),
    }


OMBRIA_FOLDS = 5


def ombria(root: Path, pool_vv: list, grid: dict) -> dict:
    """OMBRIA observed water after the event (classes 1 or 2 of ``eo-drr flood``: the post
    water of :func:`s1_flood`, change detection included) against the CEMS masks.

    * strict (the LOEO figure, ``pooled_iou``): the event held out whole, VV settings selected
      on the Sen1Floods11 pool only;
    * folds: the patches in ``OMBRIA_FOLDS`` interleaved folds, each scored with VV settings
      selected on the Sen1Floods11 pool plus the other folds (neighbouring patches of one
      scene: optimistic);
    * ``selected_on_all``: on the pool plus every patch (what the VV defaults must equal).
    """
    patches = E.ombria_chips(root)
    if not patches:
        return {}

    def product(p):
        return lambda c: s1_flood([c.pre_vv], c.vv, params=p).water.water == 1

    strict = E.select(pool_vv, grid, vv_only=True)
    folds, chosen = np.zeros(3, np.int64), []
    for k in range(OMBRIA_FOLDS):
        test = [c for i, c in enumerate(patches) if i % OMBRIA_FOLDS == k]
        train = [c for i, c in enumerate(patches) if i % OMBRIA_FOLDS != k]
        p = E.select(pool_vv + train, grid, vv_only=True)
        chosen.append(E.describe(p))
        folds += sum(E.confusion(product(p)(c), c.label, c.valid) for c in test)
    fpost = {
        id(c): W.speckle_db(
            c.vv, units="db", params=WS.water_params(speckle="lee", speckle_window=7)
        )
        for c in patches
    }
    out = {
        "strict (event held out whole)": _pooled(patches, product(strict)),
        "strict, post image alone (eo-drr water)": _pooled(
            patches, lambda c: E.predict(c, strict)[0]
        ),
        f"{OMBRIA_FOLDS}-fold (other folds + Sen1Floods11 select)": E.scores(folds),
        "baseline: Otsu on filtered post image": _pooled(
            patches, lambda c: fpost[id(c)] <= threshold.otsu_threshold(fpost[id(c)])
        ),
        "chosen_strict": E.describe(strict),
        "chosen_per_fold": chosen,
        "selected_on_all": E.describe(E.select(pool_vv + patches, grid, vv_only=True)),
    }
    out["pooled_iou"] = out["strict (event held out whole)"]["iou"]
    return out


def _short(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "likelihood_table"}


def _row(name: str, s: dict) -> str:
    return f"  {name:58s} IoU {s['iou']:.3f}  omission {s['omission']:.3f}  commission {s['commission']:.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--quick", action="store_true", help="small selection grid (CI)")
    ap.add_argument(
        "--train-on-stress",
        action="store_true",
        help="ablation: the selection also trains on the stress variants of the training events",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    root = shared_data_dir()
    chips, skipped = E.s1_chips(root)
    if not chips:
        print(f"no Sen1Floods11 chips under {root} (set EO_DRR_SHARED_DATA)")
        return 0
    grid = E.QUICK_GRID if args.quick else E.GRID
    grid_vv = E.QUICK_GRID if args.quick else E.GRID_VV
    t0 = time.perf_counter()
    pool = (E.augmented(chips) if args.train_on_stress else chips) + [E.demo_chip()]
    pool_vv = E.vv_only_chips(pool)
    final = E.select(pool, grid)
    final_vv = None  # VV-only settings: selected with the OMBRIA patches too (see ombria())
    cases = E.stress_cases(chips)
    loeo = E.leave_one_event_out(
        chips, grid, pool=pool, stress={k: v for k, v in cases.items() if k != "VV only"}
    )
    loeo_vv = E.leave_one_event_out(
        E.vv_only_chips(chips),
        grid_vv,
        pool=pool_vv,
        vv_only=True,
        stress={"VV only": cases["VV only"]},
    )
    in_sample = {
        c.name: E.scores(E.confusion(E.predict(c, final)[0], c.label, c.valid)) for c in chips
    }
    om = ombria(root, pool_vv, grid_vv)
    final_vv = (
        WS.water_params(WS.DEFAULTS["vv"], **om["selected_on_all"])
        if om
        else E.select(pool_vv, grid_vv, vv_only=True)
    )
    stress = {
        "in sample (selected on all)": {
            case: _pooled(cs, lambda c: E.predict(c, final_vv if c.vh is None else final)[0])
            for case, cs in cases.items()
        },
        "LOEO": {**loeo["stress"], **loeo_vv["stress"]},
    }
    result = {
        "selected_on_all": {"dual_pol": E.describe(final), "vv_only": E.describe(final_vv)},
        "product_defaults": {
            "dual_pol": E.describe(WS.DEFAULTS["vh"]),
            "vv_only": E.describe(WS.DEFAULTS["vv"]),
        },
        "in_sample": {
            "pooled": E.scores(
                sum(np.array([v["tp"], v["fp"], v["fn"]]) for v in in_sample.values())
            ),
            "per_chip": in_sample,
        },
        "leave_one_event_out": {
            "s1": {"pooled_iou": loeo["pooled"]["iou"], **loeo},
            "s1_vv_only": {"pooled_iou": loeo_vv["pooled"]["iou"], **loeo_vv},
        },
        "baselines": baselines(chips),
        "alternatives_loeo": {k: E.loeo_alternative(chips, c) for k, c in E.alternatives().items()},
        "stress": stress,
        "skipped": skipped,
        "quick": args.quick,
    }
    result["leave_one_event_out"]["ombria"] = om
    try:
        import accuracy_s2

        s2 = accuracy_s2.evaluate(root)
        result["leave_one_event_out"]["s2"] = s2["leave_one_event_out"]
        result["s2"] = s2
    except Exception as exc:  # noqa: BLE001 - the S2 table is optional; say why it is missing
        result["leave_one_event_out"]["s2"] = {"pooled_iou": float("nan"), "error": str(exc)}
    result["seconds"] = time.perf_counter() - t0
    _print(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=float))
    return 0


def _print(r: dict) -> None:
    lo = r["leave_one_event_out"]
    print(
        f"S1 water accuracy, Sen1Floods11 ({len(r['in_sample']['per_chip'])} chips, {r['seconds']:.0f} s); "
        f"skipped: {'; '.join(r['skipped']) or 'none'}"
    )
    for key, what in (("dual_pol", "dual-pol"), ("vv_only", "VV only")):
        sel, dflt = r["selected_on_all"][key], r["product_defaults"][key]
        same = (
            "equal"
            if sel == dflt
            else "(quick grid: not comparable)"
            if r["quick"]
            else "DIFFER: update eo_drr.products.water_settings.DEFAULTS"
        )
        print(f"selected on all events ({what}): {_short(sel)}; product defaults {same}")
        print(f"  likelihood table: {sel['likelihood_table']}")
    print(_row("in sample (selected on all), pooled", r["in_sample"]["pooled"]))
    print(_row("LOEO, pooled", lo["s1"]["pooled"]))
    print(_row("LOEO, VV only (chips whose water VV can see), pooled", lo["s1_vv_only"]["pooled"]))
    for k, v in r["baselines"].items():
        print(_row(f"baseline: {k}", v))
    for k, v in r["alternatives_loeo"].items():
        print(_row(f"dropped by LOEO: {k}", v["pooled"]))
    print("LOEO per held-out event (IoU; what the others chose):")
    for e, s in lo["s1"]["per_event"].items():
        vv = lo["s1_vv_only"]["per_event"].get(e, {}).get("iou", float("nan"))
        print(f"  {e:12s} {s['iou']:.3f}  VV only {vv:.3f}  {_short(lo['s1']['chosen'][e])}")
    print(
        "stress cases (LOEO: each crop scored with its event's held-out settings; in sample beside):"
    )
    for k, v in r["stress"]["LOEO"].items():
        ins = r["stress"]["in sample (selected on all)"][k]["iou"]
        print(_row(k, v) + f"  (in sample {ins:.3f})")
    print(
        "likelihood calibration (LOEO, held-out pixels): decile, mean likelihood, observed water %"
    )
    for row in lo["s1"]["calibration"]:
        print(
            f"  {row['decile']:>7s}  {row['mean_likelihood']:5.1f}  {row['observed_water']:5.1f}  ({row['pixels']:,} px)"
        )
    om = lo.get("ombria") or {}
    if om:
        print("OMBRIA Guyana 2021, observed water (eo-drr flood classes 1+2) vs the CEMS masks:")
        for k, v in om.items():
            if isinstance(v, dict) and "iou" in v:
                print(_row(k, v))
        print(f"  chosen when held out whole: {_short(om['chosen_strict'])}")
    s2 = lo.get("s2", {})
    print(
        f"S2 water, LOEO pooled IoU {s2.get('pooled_iou', float('nan')):.3f} (benchmarks/accuracy_s2.py)"
    )


if __name__ == "__main__":
    sys.exit(main())
