"""The command's two consoles: results on stdout, messages (errors, warnings, progress) on stderr.

soft_wrap: a line is never cut at the terminal's (or a pipe's 80-column) width, so an error, a
URL or a path stays whole. markup=False: file names, URLs and messages print as they are (a
`[x]` in them is text); the few styled lines pass markup=True and escape what they insert.
"""

from __future__ import annotations

from rich.console import Console

out = Console(soft_wrap=True, highlight=False, markup=False)
err = Console(stderr=True, soft_wrap=True, highlight=False, markup=False)
