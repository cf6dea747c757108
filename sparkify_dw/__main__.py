"""`python -m sparkify_dw` runs the `sparkify-dw` command."""

from sparkify_dw.cli import main

main()
