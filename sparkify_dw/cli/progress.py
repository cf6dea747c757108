"""Progress of a long command, from the library's `progress(name, done, total)` callbacks.

On a terminal: rich's bars on stderr, one per name, gone when the command ends. Elsewhere (a
pipe, Airflow's log, `--log-format json`): a log line per name when it starts, at most every
LOG_EVERY seconds while it moves, and when it is done (dlt's `progress="log"`). Nothing with
--quiet. A name is a COPY's table (bytes read) or a phase counted in steps (`merge`, `checks`,
`generate`'s files and events).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from sparkify_dw.cli import logs
from sparkify_dw.cli.consoles import err

Callback = Callable[[str, int, int], None]

LOG_EVERY = 10.0  # seconds between two log lines of the same name
logger = logging.getLogger(f"{logs.LOGGER}.progress")


@contextmanager
def reporting(in_bytes: Callable[[str], bool] = lambda name: False) -> Iterator[Callback]:
    """The callback to hand the library while the block runs; `in_bytes(name)` tells the names
    whose counts are bytes."""
    if logs.quiet():
        yield _nothing
    elif err.is_terminal and not logs.as_json():
        with _bars(in_bytes) as advance:
            yield advance
    else:
        yield _LogLines(in_bytes)


def _nothing(name: str, done: int, total: int) -> None:
    pass


class _Amount(ProgressColumn):
    """Bytes (`12.3/45.6 MB`) or steps (`3/35`), as the task counts."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes, self.steps = DownloadColumn(), MofNCompleteColumn()

    def render(self, task: Task) -> Text:
        return (self.bytes if task.fields.get("bytes") else self.steps).render(task)


@contextmanager
def _bars(in_bytes: Callable[[str], bool]) -> Iterator[Callback]:
    progress = Progress(
        TextColumn("{task.description:>15}"),
        BarColumn(),
        _Amount(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def advance(name: str, done: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=total, bytes=in_bytes(name))
        progress.update(tasks[name], completed=done, total=total)

    with progress:
        yield advance


class _LogLines:
    """Progress as INFO records of `sparkify_dw.cli.progress`, each with its numbers as extra
    fields (`step`, `done`, `total`) for a JSON log."""

    def __init__(self, in_bytes: Callable[[str], bool]) -> None:
        self.in_bytes = in_bytes
        self.logged: dict[str, tuple[float, int]] = {}  # when each name last logged, and its count

    def __call__(self, name: str, done: int, total: int) -> None:
        now = time.monotonic()
        when, count = self.logged.get(name, (None, None))
        if count == done:  # nothing new (a COPY reports each file it reads)
            return
        complete = total > 0 and done >= total
        if when is None or complete or now - when >= LOG_EVERY:
            self.logged[name] = (now, done)
            logger.info(
                "%s: %s",
                name,
                self._amount(name, done, total),
                extra={"step": name, "done": done, "total": total},
            )

    def _amount(self, name: str, done: int, total: int) -> str:
        share = f" ({100 * done // total}%)" if total > 0 else ""
        if self.in_bytes(name):
            return f"{decimal(done)} of {decimal(total)}{share}"
        return f"{done:,} of {total:,}{share}"
