"""The command's two consoles: results on stdout, messages (errors, warnings, progress) on stderr.

soft_wrap: a line is never cut at the terminal's width, so an error, a URL or a path stays whole.
markup=False: file names, URLs and messages print as they are (a `[x]` in them is text); the few
styled lines pass markup=True and escape what they insert.

A console whose stream is not a terminal (a pipe, a file, Airflow's log) has no width at all:
rich would otherwise lay tables out in 80 columns (its fallback, or whatever width another
stream's terminal has), folding and cutting cells such as a reject's file name.
"""

from __future__ import annotations

from rich.console import Console, ConsoleDimensions

# Wide enough for any table the commands print; rich never pads a table to the console's width.
UNBOUNDED = 100_000


class _Console(Console):
    """A Console as wide as its lines when its stream is not a terminal.

    Checked at each use, not once: the stream may change (tests capture it, a command redirects).
    A COLUMNS variable (which rich reads when the console is made) sizes a terminal only: a
    pipe stays unbounded whatever the shell exported. Only a width set in code holds.
    """

    _explicit = False

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        if not self._explicit and not self.is_terminal:
            return ConsoleDimensions(UNBOUNDED, size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._explicit = True
        self._width, self._height = new_size


out = _Console(soft_wrap=True, highlight=False, markup=False)
err = _Console(stderr=True, soft_wrap=True, highlight=False, markup=False)
