"""Which output files a job writes: its pipeline's outputs in the job's formats."""

from __future__ import annotations

from collections.abc import Collection, Mapping

#: ``outputs.formats`` name of each file extension; files of other extensions (the report,
#: the SFM table's stem) are always written
FORMAT_OF = {".tif": "cog", ".csv": "csv", ".parquet": "geoparquet"}


def select_outputs(
    outputs: Mapping[str, str], formats: Collection[str], drop: Collection[str] = ()
) -> dict[str, str]:
    """``outputs`` (output key -> file name), in order, without the keys in ``drop`` and the
    files of formats the job does not ask for."""
    return {
        k: v
        for k, v in outputs.items()
        if k not in drop
        and all(not v.endswith(ext) or fmt in formats for ext, fmt in FORMAT_OF.items())
    }
