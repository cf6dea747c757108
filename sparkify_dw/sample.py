"""The data the package ships: the generated sample and the expected query results for it.

A module of its own with no imports beyond the standard library, so the command line can name
these paths (defaults, help texts) without importing the library.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

SAMPLE_DIR = _PACKAGE / "sample_data"  # song_data/, log_data/, log_json_path.json
SONG_DATA = SAMPLE_DIR / "song_data"
LOG_DATA = SAMPLE_DIR / "log_data"
LOG_JSONPATH = SAMPLE_DIR / "log_json_path.json"
EXPECTATIONS_DIR = _PACKAGE / "expectations"
SAMPLE_EXPECTATIONS = EXPECTATIONS_DIR / "sample.json"  # `sparkify-dw verify`'s default
