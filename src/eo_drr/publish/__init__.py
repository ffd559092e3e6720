"""Publish layer: the files a run leaves behind (COGs, tables), always written atomically."""

from eo_drr.io.cog import validate_cog, write_cog
from eo_drr.publish.staging import OutputFolder
from eo_drr.publish.tables import write_csv, write_geoparquet

__all__ = ["OutputFolder", "validate_cog", "write_cog", "write_csv", "write_geoparquet"]
