"""Low-level file helpers every layer may use: atomic writes and Cloud-Optimized GeoTIFFs."""

from eo_drr.io.atomic import atomic_path, atomic_write_bytes, atomic_write_text, sha256_file
from eo_drr.io.cog import validate_cog, without_overviews, write_cog

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "sha256_file",
    "validate_cog",
    "without_overviews",
    "write_cog",
]
