"""How the command talks on stderr: `--quiet`, `-v/--verbose` and `--log-format`, through logging.

The library logs through `logging.getLogger(__name__)` (steps, COPYs, merges, checks at INFO);
the command shows those records with -v (INFO) or -vv (DEBUG), and only warnings otherwise.
Its own lines (`Loading into …`, progress when stderr is not a terminal) are records of
`sparkify_dw.cli`, shown unless --quiet. Other libraries' loggers are left at their level:
SQLAlchemy's INFO, say, would print every statement with its parameters.

`--log-format json` makes every line on stderr one JSON object (time, level, logger, message
and the record's extra fields), for a log shipper; the results on stdout are unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rich.logging import RichHandler
from rich.markup import escape

from sparkify_dw.cli.consoles import err

LOGGER = "sparkify_dw.cli"  # the command's own lines: shown by default, hidden by --quiet
logger = logging.getLogger(LOGGER)


class LogFormat(StrEnum):
    text = "text"
    json = "json"


@dataclass
class _State:
    quiet: bool = False
    json: bool = False
    handler: logging.Handler | None = None
    levels: tuple[tuple[str, int], ...] = ()  # the loggers' levels before `setup`


_STATE = _State()

# The attributes every LogRecord has: anything else came in `extra=` and goes into the JSON.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in a message are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _Shown(logging.Filter):
    """The records the chosen verbosity shows: at or above the threshold, and the command's own
    lines unless --quiet. A filter, not the loggers' levels, decides: a program that embeds
    `main()` with every logger at DEBUG (the secrets tests) keeps its own records."""

    def __init__(self, threshold: int, quiet: bool) -> None:
        super().__init__()
        self.threshold, self.quiet = threshold, quiet

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= self.threshold:
            return True
        own = record.name == LOGGER or record.name.startswith(LOGGER + ".")
        return own and not self.quiet and record.levelno >= logging.INFO


def threshold(quiet: bool, verbose: int) -> int:
    if quiet or verbose <= 0:
        return logging.WARNING  # --quiet hides the informational lines, never a warning
    return logging.INFO if verbose == 1 else logging.DEBUG


def setup(*, quiet: bool = False, verbose: int = 0, log_format: LogFormat = LogFormat.text) -> None:
    """Send log records to stderr as the global options ask (again: the previous setup is
    undone first)."""
    reset()
    level = threshold(quiet, verbose)
    _STATE.quiet, _STATE.json = quiet, log_format is LogFormat.json
    handler: logging.Handler
    if _STATE.json:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    elif err.is_terminal:
        # Printed above the progress bars, which stay at the bottom.
        handler = RichHandler(console=err, show_path=False, markup=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_Shown(level, quiet))
    root = logging.getLogger()
    root.addHandler(handler)
    _STATE.handler = handler
    wanted = {"sparkify_dw": level, LOGGER: logging.INFO}
    _STATE.levels = tuple((name, logging.getLogger(name).level) for name in wanted)
    for name, at in wanted.items():
        named = logging.getLogger(name)
        if named.getEffectiveLevel() > at:  # never less than an embedding program asked for
            named.setLevel(at)


def reset() -> None:
    """Undo `setup`: the handler removed, the levels as they were, plain text lines."""
    if _STATE.handler is not None:
        logging.getLogger().removeHandler(_STATE.handler)
    for name, level in _STATE.levels:
        logging.getLogger(name).setLevel(level)
    _STATE.quiet = _STATE.json = False
    _STATE.handler, _STATE.levels = None, ()


def quiet() -> bool:
    return _STATE.quiet


def as_json() -> bool:
    return _STATE.json


def say(message: str) -> None:
    """An informational line on stderr (`Loading into …`): none with --quiet."""
    if not _STATE.quiet:
        line(message, logging.INFO)


def line(message: str, level: int) -> None:
    """`message` as it is on stderr, or as a record at `level` in a JSON log."""
    if _STATE.json:
        logger.log(level, "%s", message)
    else:
        err.print(message, highlight=False, markup=False)


def notice(message: str) -> None:
    """Something the user should know while a command runs (a lock waited for, a retry)."""
    if _STATE.json:
        logger.warning("%s", message)
    else:
        err.print(message, style="yellow", highlight=False, markup=False)


def warn(message: str) -> None:
    """A `warning: …` line."""
    if _STATE.json:
        logger.warning("%s", message)
    else:
        err.print(f"[yellow]warning:[/] {escape(message)}", highlight=False, markup=True)


def error(message: str) -> None:
    """The one `error: …` line of a failed command."""
    if _STATE.json:
        logger.error("%s", message)
    else:
        # The message is text, not markup: `[CLUSTER]` or `sparkify-dw[redshift]` stay as typed.
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)
