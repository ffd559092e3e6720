"""Progress reporting for long steps, without tying the library to a terminal.

Pipelines call ``with steps.step("Loading Sentinel-1"):``; the CLI passes a rich progress
bar, tests and library users the silent default. Dask computations inside a step report
their task progress through :meth:`Steps.dask_callback`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

log = logging.getLogger(__name__)


class Steps:
    """Silent step reporter (logs each step at INFO with its duration)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, description: str, **fields: object) -> Iterator[None]:
        """A step named ``description``, a format string of ``fields`` (``"Epoch {e}"``,
        ``e=1``): translated whole before the fields go in; the log and ``timings`` name it
        in English."""
        name = description.format(**fields)
        t0 = time.perf_counter()
        log.info("%s ...", name)
        try:
            with self.dask_callback(description, **fields):
                yield
        finally:
            self.timings[name] = time.perf_counter() - t0

    def dask_callback(
        self, description: str, **fields: object
    ) -> contextlib.AbstractContextManager:
        """A context that observes dask computations of a step (default: none)."""
        return contextlib.nullcontext()
