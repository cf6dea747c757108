"""Every order gives the same warehouse (data contract): the real reference data split into
batches (songs in three parts, logs in three parts), loaded in several orders, some batches
twice, ends with the five star tables the contract gives for everything at once (tests/oracle.py,
an independent computation from the files), on DuckDB and PostgreSQL.

A load takes song data and log data together (the library refuses one without the other), so
"all logs before any song" loads the logs with a one-song catalogue batch that no play names.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.helpers import copy_batch, load_dir
from tests.oracle import actual_tables, expected_tables, read_events


def _thirds(files: list[Path]) -> list[list[Path]]:
    size = -(-len(files) // 3)
    return [files[i : i + size] for i in range(0, len(files), size)]


def _batches(reference: Path, root: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """Song batches S0 (one song no play names), S1-S3 and log batches L1-L3, each a folder."""
    songs = sorted((reference / "song_data").rglob("*.json"))
    logs = sorted((reference / "log_data").rglob("*.json"))
    named = {
        (e.get("song"), e.get("artist"))
        for e in read_events(reference / "log_data")
        if e.get("page") == "NextSong"
    }
    unplayed = next(
        f
        for f in songs
        if (lambda s: (s["title"], s["artist_name"]) not in named)(json.loads(f.read_text()))
    )
    song_batches = {"S0": copy_batch([unplayed], root / "S0")}
    for n, part in enumerate(_thirds(songs), start=1):
        song_batches[f"S{n}"] = copy_batch(part, root / f"S{n}")
    log_batches = {
        f"L{n}": copy_batch(part, root / f"L{n}") for n, part in enumerate(_thirds(logs), 1)
    }
    return song_batches, log_batches


ORDERS = {
    # every log before any song of the plays: each play is matched when its song arrives
    "logs first": ["S0 L1", "S0 L2", "S0 L3", "S3 L3", "S2 L1", "S1 L2"],
    # the catalogue backwards, then the logs backwards, each batch twice
    "backwards twice": ["S3 L3", "S3 L3", "S2 L2", "S1 L1", "S2 L2", "S1 L1"],
    "shuffled twice": "shuffle",
}


@pytest.mark.slow
@pytest.mark.reference
@pytest.mark.parametrize("order", list(ORDERS))
def test_any_split_in_any_order_gives_the_warehouse_of_one_load(
    engine: Engine, reference_dir: Path, tmp_path: Path, order: str
) -> None:
    songs, logs = _batches(reference_dir, tmp_path)
    loads = ORDERS[order]
    if loads == "shuffle":
        pairs = [f"S{n} L{n}" for n in (1, 2, 3)] * 2
        random.Random(7).shuffle(pairs)
        loads = pairs
    for pair in loads:
        song_batch, log_batch = pair.split()
        load_dir(engine, reference_dir, logs[log_batch], song_data=songs[song_batch])
    expected = expected_tables(reference_dir / "song_data", reference_dir / "log_data")
    with engine.connect() as connection:
        held = actual_tables(connection)
    # staging holds the last batch only
    assert replace(held, staging_events=0, staging_songs=0) == replace(
        expected, staging_events=0, staging_songs=0
    )
