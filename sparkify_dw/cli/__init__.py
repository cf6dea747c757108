"""The `sparkify-dw` command: one module per command group, one pair of consoles.

Each module parses its arguments, builds Settings, calls the library and prints; the library is
imported inside each command, so `--help` and `--version` stay quick. `main` is the console
script's entry point: a SparkifyError is one line on stderr and exit code 1.
"""

from __future__ import annotations

from sparkify_dw.cli.app import app, main

__all__ = ["app", "main"]
