"""The exceptions users can catch.

One base class, :class:`EODRRError`, and a few precise subclasses. The CLI turns any of them
into one plain line (``error: ...``) and a non-zero exit code; anything else is a bug and keeps
its traceback. Messages always name the file and the field (or the argument) at fault.
"""

from __future__ import annotations


class EODRRError(Exception):
    """Base class of every error eo-drr raises on purpose."""

    exit_code = 1


class ConfigError(EODRRError, ValueError):
    """A job file is malformed, has an unknown key, a wrong type or an impossible value."""

    exit_code = 2


class InputError(EODRRError, ValueError):
    """An input is missing or unusable: no file, a missing band, a wrong CRS, no items found,
    an AOI that does not intersect the data, an unknown index name, a bad argument."""


class CorruptInputError(InputError):
    """An input exists but cannot be decoded (a truncated or corrupt GeoTIFF, say)."""


class NoDataError(InputError):
    """An input holds no valid pixel where one is needed (an all-nodata scene)."""


class OutputError(EODRRError, OSError):
    """An output cannot be written (a folder that is not writable, a full disk)."""


class DownloadError(EODRRError):
    """A download failed after its retries, or its checksum or size did not verify."""


class CredentialsError(EODRRError):
    """Credentials are missing or were refused. Messages never include the secret itself."""


__all__ = [
    "EODRRError",
    "ConfigError",
    "InputError",
    "CorruptInputError",
    "NoDataError",
    "OutputError",
    "DownloadError",
    "CredentialsError",
]
