"""Every option from an environment variable, and `--help` that says so, in one walk of the tree.

`main()` builds the click command from the typer app and hands it to `prepare`, rather than each
command declaring `envvar=` and `show_envvar=`: a new option gets its variable without a word.
The variable is SPARKIFY_ and the option's long name (`--song-data`: SPARKIFY_SONG_DATA), shared
by every command whose option means the same; a few names mean different things in different
commands and get the command's name too (SPARKIFY_GENERATE_OUT, SPARKIFY_REPORT_OUT).

The walk also mends two things typer 0.29's rich help does to ours:
- help text is rich markup there (`Text.from_markup`), and a `[default: sample]` written in a
  help string is a markup tag to rich, silently dropped: the help is escaped, so it is text;
- a flag that takes no value is shown with its type, `<bool>` (typer's `display_type_rich` has
  no case for flags): a flag gets an empty metavar, which typer prints in place of the type.
"""

from __future__ import annotations

from collections.abc import Iterator

import typer.core
from rich.markup import escape

try:  # typer >= 0.20 carries its own click (typer._click); older ones run on click itself
    from typer import _click  # type: ignore[attr-defined,unused-ignore]
except ImportError:  # pragma: no cover - the minimum versions' typer
    import click as _click  # type: ignore[no-redef,unused-ignore]

PREFIX = "SPARKIFY_"

# Names kept from before this walk existed (Settings and dwh.cfg read SPARKIFY_DB_URL too).
NAMED = {"--db": "SPARKIFY_DB_URL"}
# Options whose meaning differs between commands: SPARKIFY_<COMMAND>_<OPTION>.
PER_COMMAND = frozenset({"--out", "--format"})
# Never from the environment: consent typed each time (a variable left set would delete a
# cluster, turn every `verify` into rewriting its expectations so that it always passes, or write
# the password to disk), and the options that replace the command's work (--list, --help…).
TYPED_ONLY = frozenset({"--yes", "--write", "--save-password", "--list", "--help", "--version"})


def prepare(command: _click.Command, *, rich_markup: bool) -> None:
    """Give every option of `command` and its subcommands an environment variable shown in its
    help; with `rich_markup` (typer renders help as rich markup), escape the help texts."""
    for path, each in _commands(command, ()):
        if rich_markup and each.help:
            each.help = escape(each.help)
        for param in [*each.params, _help_option(each)]:
            if not isinstance(param, typer.core.TyperOption):
                continue
            if rich_markup and param.help:
                param.help = escape(param.help)
            if (param.is_flag or param.count) and param.metavar is None:
                param.metavar = ""  # no `<bool>`: the flag takes no value
            variable = envvar(path, param)
            if variable and param.envvar is None:
                param.envvar, param.show_envvar = variable, True


def envvar(path: tuple[str, ...], option: _click.Parameter) -> str | None:
    """The variable of `option` in the command at `path` (("cluster", "create"), say)."""
    long = next((o for o in option.opts if o.startswith("--")), None)
    if long is None or long in TYPED_ONLY:
        return None
    if long in NAMED:
        return NAMED[long]
    words = [*path, long[2:]] if long in PER_COMMAND else [long[2:]]
    return PREFIX + "_".join(words).replace("-", "_").upper()


def _commands(
    command: _click.Command, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], _click.Command]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def _help_option(command: _click.Command) -> _click.Parameter | None:
    # Made on first use from a context, and kept: made now, it is prepared like the others.
    return command.get_help_option(_click.Context(command))
