"""The demo scene's truth: what each product should find, written as COGs beside the scene."""

from __future__ import annotations

import datetime as dt

import numpy as np

from eo_drr.demo import catalog as cat
from eo_drr.demo.landscape import Landscape
from eo_drr.io.cog import CogStyle

UTC = dt.timezone.utc
TRUTH_LAYERS = (
    "flood",
    "flood_observable",
    "permanent_water",
    "builtup_t1",
    "builtup_t2",
    "new_builtup",
    "wetland",
    "landcover",
)
#: Truth of flood water depth (float32 m, 0 off the flood): a file listed in ``scene.truth``,
#: not an asset of the truth item (whose assets are the uint8 masks above).
DEPTH_TRUTH = "flood_depth"


def flood_depth_truth(land: Landscape) -> np.ndarray:
    """True water depth (m, float32): the flood is a water level ``flood_level_m`` above the
    drainage (:mod:`eo_drr.demo.landscape`), so on a flooded pixel the water surface is
    ``profile + level`` over the ground ``profile + HAND`` and the depth is ``level - HAND``
    (0 where the smoothed flood edge reaches above the level); 0 off the flood."""
    depth = np.maximum(np.float32(land.flood_level_m) - land.hand_m, np.float32(0.0))
    return np.where(land.flood, depth, np.float32(0.0)).astype(np.float32)


def write_truth(root, land: Landscape, site, transform, shape, writer):
    """The truth item: the uint8 masks of :data:`TRUTH_LAYERS` (1/0, 255 no data) and the
    float32 flood depth (m); returns ``(STAC item, {layer: path})``."""
    item_id = f"demo-truth-{site.name}-{site.event:%Y%m%d}"
    folder = root / "demo-truth" / item_id
    crs = f"EPSG:{site.epsg}"
    layers = {
        "flood": land.flood,
        "flood_observable": land.flood_observable,
        "permanent_water": land.permanent_water,
        "builtup_t1": land.builtup_t1,
        "builtup_t2": land.builtup_t2,
        "new_builtup": land.builtup_t2 & ~land.builtup_t1,
        "wetland": land.wetland,
        "landcover": land.worldcover(2),
    }
    titles = {
        "flood": "Flooded at the peak (1), everything flooded incl. forest and built-up",
        "flood_observable": "Flooded and open-water-like in post-event SAR (1)",
        "permanent_water": "Permanent water: river and lake (1)",
        "builtup_t1": "Built-up, epoch 1 (1)",
        "builtup_t2": "Built-up, epoch 2 = at the event (1)",
        "new_builtup": "New built-up: built-up at epoch 2, not at epoch 1 (1)",
        "wetland": "Herbaceous wetland (1)",
        "landcover": "Land cover at the event (ESA WorldCover codes)",
    }
    band = {"nodata": 255, "data_type": "uint8", "spatial_resolution": 10}
    files, assets = {}, {}
    for name in TRUTH_LAYERS:
        arr = layers[name].astype(np.uint8)
        files[name] = writer.submit(
            arr,
            folder / f"{name}.tif",
            crs=crs,
            transform=transform,
            nodata=255,
            style=CogStyle(
                band_descriptions=[name],
                colormap=cat.WORLDCOVER_COLORS if name == "landcover" else None,
            ),
        )
        assets[name] = (files[name], titles[name], band)
    files[DEPTH_TRUTH] = writer.submit(
        flood_depth_truth(land),
        folder / f"{DEPTH_TRUTH}.tif",
        crs=crs,
        transform=transform,
        style=CogStyle(
            band_descriptions=[DEPTH_TRUTH],
            overview_resampling="average",
            tags={"units": "m", "definition": "flood level - HAND on flooded pixels, else 0"},
        ),
    )
    when = dt.datetime.combine(site.event, dt.time(12, 0), tzinfo=UTC)
    item = cat.raster_item(
        item_id,
        when,
        cat.ItemGrid(site.epsg, transform, shape),
        assets=assets,
        properties={"demo:flood_level_m": land.flood_level_m},
    )
    return item, files
