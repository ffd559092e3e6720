"""Progress as events: what the engine says while it works, for any face to render.

Kinds: ``step`` (a step starts; ``text`` names it), ``step_done`` (``seconds`` set),
``tasks`` (dask tasks of the current step: ``done`` of ``total``), ``tile`` (``text`` the
tile id, ``state`` done / skip / failed / rerun / retry, ``detail`` its figures), ``compute``
(where the work runs: ``text``; a dashboard address in ``detail``), ``note`` (a plain
message).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from eo_drr.i18n import gettext as _
from eo_drr.jobs.progress import Steps

log = logging.getLogger("eo_drr.engine")


@dataclass(frozen=True)
class Event:
    """One progress event (see the module docstring for the kinds)."""

    kind: str
    text: str
    detail: str = ""
    done: int | None = None
    total: int | None = None
    seconds: float | None = None
    state: str = ""


#: anything that takes events: the CLI's renderer, :func:`log_reporter`, :func:`tqdm_reporter`
Reporter = Callable[[Event], None]


def log_reporter(event: Event) -> None:
    """Plain log lines (logger ``eo_drr.engine``, level INFO); dask task counts are not logged."""
    if event.kind == "tasks":
        return
    if event.kind == "step_done":
        log.info(
            _("{step}: done in {seconds:.1f} s").format(
                step=event.text, seconds=event.seconds or 0.0
            )
        )
    elif event.kind == "tile":
        log.info("%-7s %s %s", event.state, event.text, event.detail)
    else:
        log.info("%s%s", event.text, f" {event.detail}" if event.detail else "")


def tqdm_reporter() -> Reporter:
    """A reporter for notebooks: one tqdm bar per step (``tqdm.auto``: a widget in Jupyter,
    text elsewhere), tiles and notes as printed lines."""
    from tqdm.auto import tqdm

    bars: dict[str, Any] = {}

    def report(event: Event) -> None:
        if event.kind == "step":
            bars[event.text] = tqdm(desc=event.text, total=None, leave=True)
        elif event.kind == "tasks" and bars:
            bar = list(bars.values())[-1]
            bar.total = event.total
            bar.n = event.done or 0
            bar.refresh()
        elif event.kind == "step_done" and event.text in bars:
            bar = bars.pop(event.text)
            if bar.total is None:
                bar.total = bar.n = 1
            bar.close()
        else:
            tqdm.write(f"{event.state} {event.text} {event.detail}".strip())

    return report


class EventSteps(Steps):
    """The pipelines' step reporter, turned into events; dask tasks of a step drive ``tasks``."""

    def __init__(self, report: Reporter):
        super().__init__()
        self.report = report

    @contextlib.contextmanager
    def step(self, description: str, **fields: object) -> Iterator[None]:
        # events name the step in the current language; timings keep the English name
        text = _(description).format(**fields)
        self.report(Event("step", text))
        with super().step(description, **fields):
            yield
        seconds = self.timings.get(description.format(**fields))
        self.report(Event("step_done", text, seconds=seconds))

    def dask_callback(
        self, description: str, **fields: object
    ) -> contextlib.AbstractContextManager:
        from dask.callbacks import Callback

        report, description = self.report, _(description).format(**fields)

        class _Tasks(Callback):
            def _start_state(self, dsk: Any, state: dict[str, Any]) -> None:
                self._n = max(
                    len(state["ready"]) + len(state["waiting"]) + len(state["running"]), 1
                )
                report(Event("tasks", description, done=0, total=self._n))

            def _posttask(
                self, key: Any, result: Any, dsk: Any, state: dict[str, Any], worker_id: Any
            ) -> None:
                report(Event("tasks", description, done=len(state["finished"]), total=self._n))

        return _Tasks()
