"""A load's progress shown without writing a callback: in a notebook, or on a terminal.

`load`, `load_with` and `run` take `progress=`: a callback `(step, bytes done, bytes in all)`,
or `True` (shown: an HTML display that updates in place in Jupyter, a rich bar on stderr
elsewhere), `False` (nothing), or None, the default: shown in Jupyter only. The command line
passes a callback of its own (its rich bars), so its output is as before.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import escape
from typing import Any, Protocol

from sparkify_dw.display import in_notebook

# Called with (step name, bytes done, bytes in all) while a COPY reads its files.
ProgressCallback = Callable[[str, int, int], None]
# What `progress=` takes: a callback, or whether to show one made here (None: in Jupyter only).
ProgressArg = ProgressCallback | bool | None

UPDATE_SECONDS = 0.25  # a notebook's display is redrawn at most this often (each is a message)


class ProgressDisplay(Protocol):
    def __call__(self, name: str, done: int, total: int) -> None: ...

    def close(self) -> None: ...


@contextmanager
def progress_for(progress: ProgressArg) -> Iterator[ProgressCallback | None]:
    """The callback a load reports to, for `progress=` as given; a display made here is
    closed (drawn complete, or left where the load stopped) when the block ends."""
    if callable(progress):
        yield progress
        return
    notebook = in_notebook()
    if progress is False or (progress is None and not notebook):
        yield None
        return
    display: ProgressDisplay = NotebookProgress() if notebook else TerminalProgress()
    try:
        yield display
    finally:
        display.close()


class NotebookProgress:
    """A table of the COPYs, one `<progress>` bar each, redrawn in place (IPython's
    `display_id`): plain HTML, so no widget library is needed and an executed notebook keeps
    the last state as its output."""

    def __init__(self) -> None:
        # Any: IPython is there in a kernel, but no dependency of the library (nor typed).
        ipython: Any = importlib.import_module("IPython.display")
        self._html: Callable[[str], Any] = ipython.HTML
        self._steps: dict[str, tuple[int, int]] = {}
        self._drawn = 0.0
        self._handle: Any = ipython.display(self._html(self._render()), display_id=True)

    def __call__(self, name: str, done: int, total: int) -> None:
        self._steps[name] = (done, total)
        now = time.monotonic()
        if done >= total or now - self._drawn >= UPDATE_SECONDS:
            self._draw(now)

    def close(self) -> None:
        self._draw(time.monotonic())

    def _draw(self, now: float) -> None:
        self._drawn = now
        if self._handle is not None:
            self._handle.update(self._html(self._render()))

    def _render(self) -> str:
        if not self._steps:
            return "<p><small>Loading: checking the sources…</small></p>"
        rows = []
        for name, (done, total) in self._steps.items():
            share = done / total if total else 1.0
            rows.append(
                f"<tr><td>{escape(name)}</td>"
                f'<td><progress value="{done}" max="{max(total, 1)}"></progress></td>'
                f'<td style="text-align:right">{share:.0%}</td>'
                f'<td style="text-align:right">{_amount(name, done, total)}</td></tr>'
            )
        return f'<table class="sparkify-dw-progress">{"".join(rows)}</table>'


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def _amount(name: str, done: int, total: int) -> str:
    """A COPY's bytes (its name is a staging table's), else steps (the merges' statements)."""
    if name.startswith("staging_"):
        return f"{_mb(done)} / {_mb(total)}"
    return f"{done:,} / {total:,}"


class TerminalProgress:
    """rich's bars on stderr, as the command shows them, for `progress=True` outside Jupyter."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description:>15}"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}
        self._progress.start()

    def __call__(self, name: str, done: int, total: int) -> None:
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(name, total=total)
        self._progress.update(self._tasks[name], completed=done)

    def close(self) -> None:
        self._progress.stop()
