"""Logging for a face of eo-drr (the command line, a scheduler, a notebook): the level, with the
chatter of the libraries underneath folded in, and one known false warning silenced."""

from __future__ import annotations

import logging
import sys


def configure_logging(*, debug: bool = False, verbose: bool = False) -> None:
    """Log to stderr: warnings only; each step with ``verbose``; everything, the libraries'
    retries and load failures included, with ``debug`` (otherwise they are folded into the one
    error line the command prints)."""
    level = logging.DEBUG if debug else (logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for noisy in ("rasterio", "urllib3", "numba", "fiona", "pyogrio", "distributed"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    # odc-stac's "Failed to load" is folded into the one error line (``--debug`` shows it)
    logging.getLogger("odc.loader").propagate = level < logging.INFO
    # urllib3's retries are folded into the one error line (``--debug`` shows them)
    logging.getLogger("urllib3.connectionpool").setLevel(
        level if level < logging.INFO else logging.ERROR
    )


def quiet_known_noise() -> None:
    """odc-stac reprojects through rasterio in-memory datasets, whose constructor warns
    "Dataset has no geotransform" although the warp is fully georeferenced. Only that warning,
    attributed to ``rasterio.warp``, is silenced; the same warning on opening a user's file
    (``rasterio.open``) still shows."""
    import warnings

    from rasterio.errors import NotGeoreferencedWarning

    warnings.filterwarnings("ignore", category=NotGeoreferencedWarning, module=r"rasterio\.warp")
