"""How the command prints: tables, engine events (a rich progress display on a terminal, plain
lines otherwise), plans and run summaries."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from eo_drr.i18n import N_
from eo_drr.i18n import gettext as _

if TYPE_CHECKING:
    from eo_drr.engine import Event, JobPlan
    from eo_drr.engine.tables import Rows

#: rich styles of the tile, job and acquisition states
STYLE = {"done": "green", "skip": "cyan", "failed": "red", "rerun": "yellow", "running": "yellow"}
#: the columns whose cells name states (their headers, translated where shown)
STATE_COLUMNS = (N_("status"), N_("tiles"))


def styled(state: str, text: str) -> str:
    """``text`` in the style of ``state``, as rich markup."""
    style = STYLE.get(state, "")
    return f"[{style}]{text}[/{style}]" if style else text


def _state_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    """The states coloured in a cell, in the current language (with their count, ``3 failed``,
    when they have one), and each word's state."""
    from eo_drr.engine.tables import state_forms

    forms = {w: s for w, s in state_forms().items() if s in STYLE}
    words = "|".join(map(re.escape, sorted(forms, key=len, reverse=True)))
    return re.compile(rf"(?<!\w)(?:\d+ )?({words})(?!\w)"), forms


def show(console: Console, rows: Rows) -> None:
    """A table of the engine's, its states in colour."""
    state, forms = _state_pattern()
    headers = {_(c) for c in STATE_COLUMNS}
    paint = [c in headers for c in rows.columns]
    cells = (
        [state.sub(lambda m: styled(forms[m[1]], m[0]), v) if p else v for v, p in zip(r, paint)]
        for r in rows.rows
    )
    console.print(table(rows.title, rows.columns, cells))


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Table:
    """A table of ``rows``; without ``columns``, one without a header."""
    t = Table(title=title, show_header=bool(columns))
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*row)
    return t


#: one line on stderr, as it comes (``warning: ...`` / ``note: ...``)
warn = functools.partial(typer.echo, err=True)


class ConsoleReporter:
    """Renders engine events: a progress bar per step on a terminal (long step names wrap,
    the bar and the time stay), otherwise one whole line per event with the seconds since
    the start (logs, CI, pipes: never wrapped or cut); tiles and the compute target as lines
    either way."""

    def __init__(self, console: Console):
        self.console = console
        self.progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._t0 = time.perf_counter()

    def __enter__(self) -> ConsoleReporter:
        self._t0 = time.perf_counter()
        if self.console.is_terminal:
            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", table_column=Column(ratio=1, overflow="fold")),
                BarColumn(bar_width=20),
                TimeElapsedColumn(),
                console=self.console,
                expand=True,
            )
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()

    def _line(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False, soft_wrap=True)

    def _timed(self, text: str) -> None:
        """A plain line, after the seconds since the start (``  12.3 s  text``)."""
        self._line(f"{time.perf_counter() - self._t0:7.1f} s  {text}")

    def __call__(self, e: Event) -> None:
        if e.kind == "tile":
            from eo_drr.engine.tables import state_word

            text = f"{state_word(e.state):<7} {e.text} {e.detail}".rstrip()
            self.console.print(styled(e.state, text), highlight=False, markup=e.state in STYLE)
        elif e.kind == "compute":
            self._line(_("compute: {target}").format(target=e.text))
            if e.detail:
                self._line(_("dask dashboard: {link}").format(link=e.detail))
        elif self.progress is None:
            if e.kind in ("step", "note"):
                self._timed(f"{e.text} ..." if e.kind == "step" else e.text)
            elif e.kind == "step_done":
                self._timed("  " + _("done in {s:.1f} s").format(s=e.seconds or 0))
        elif e.kind == "step":
            self._tasks[e.text] = self.progress.add_task(e.text, total=None)
        elif e.kind == "tasks" and e.text in self._tasks:
            self.progress.update(self._tasks[e.text], total=e.total, completed=e.done)
        elif e.kind == "step_done" and e.text in self._tasks:
            self.progress.update(self._tasks.pop(e.text), total=1, completed=1)
        elif e.kind == "note":
            self.progress.console.print(e.text, highlight=False, markup=False, soft_wrap=True)


def print_plan(console: Console, plan: JobPlan) -> None:
    """A dry run's plan: its tiles for a tiled job, else the items, grid and outputs."""
    if plan.tiles is None:
        title = _("Plan for job {job!r} (dry run: nothing is written)").format(job=plan.job)
        console.print(table(title, (_("what"), _("value")), plan.rows))
        return
    console.print(
        _("{n} tiles of {size} px on {crs} (output folder {folder}, tiles under {tiles})").format(
            n=len(plan.tiles),
            size=plan.tile_size_px,
            crs=plan.crs,
            folder=plan.folder,
            tiles=plan.folder / "tiles",
        )
    )
    rows = (
        (t.id, f"{t.geobox.shape.x} x {t.geobox.shape.y}", ", ".join(f"{v:.0f}" for v in t.bounds))
        for t in plan.tiles
    )
    title = _("Tiles of job {job!r} (dry run: nothing is written)").format(job=plan.job)
    console.print(table(title, (_("tile"), _("pixels"), _("bounds (m)")), rows))


def print_summary(console: Console, summary: dict, root: Path, *, job: str) -> None:
    """The figures of a finished run (whole or tiled) as one table."""
    from eo_drr.engine.tables import summary_table

    t = summary_table(summary, root, job=job)
    marked = ((f"[yellow]{_('warning')}[/yellow]" if w == "warning" else w, v) for w, v in t.rows)
    console.print(table(t.title, (), marked))
