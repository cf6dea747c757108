"""Placeholder: filled in by the work on issue 7."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `sparkify-dw` app."""
