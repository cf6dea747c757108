from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sparkify_dw.datagen import GenerateReport, generate

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference-data" / "sparkify"
SONG_KEYS = ["artist_id", "artist_latitude", "artist_location", "artist_longitude",
             "artist_name", "duration", "num_songs", "song_id", "title", "year"]  # fmt: skip
EVENT_KEYS = ["artist", "auth", "firstName", "gender", "itemInSession", "lastName", "length",
              "level", "location", "method", "page", "registration", "sessionId", "song",
              "status", "ts", "userAgent", "userId"]  # fmt: skip
LOGGED_OUT_NULLS = {"artist", "firstName", "gender", "lastName", "length", "location",
                    "registration", "song", "userAgent"}  # fmt: skip


def real_style(obj: dict[str, Any], *, pretty: bool = False) -> bytes:
    """How the real files are written: ASCII escapes, `/` as `\\/`, no spaces (one line)."""
    text = json.dumps(obj, indent=4) if pretty else json.dumps(obj, separators=(",", ":"))
    return text.replace("/", "\\/").encode("ascii")


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.json"))}


def song_files(root: Path) -> list[Path]:
    return sorted((root / "song_data").rglob("*.json"))


def log_files(root: Path) -> list[Path]:
    return sorted((root / "log_data").rglob("*.json"))


def read_events(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for f in log_files(root) for line in f.read_bytes().split(b"\n")]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateReport]:
    out = tmp_path_factory.mktemp("gen")
    return out, generate(out, songs=200, events=2_000, seed=7)


@pytest.fixture(scope="module")
def songs(generated: tuple[Path, GenerateReport]) -> list[dict[str, Any]]:
    return [json.loads(f.read_bytes()) for f in song_files(generated[0])]


@pytest.fixture(scope="module")
def events(generated: tuple[Path, GenerateReport]) -> list[dict[str, Any]]:
    return read_events(generated[0])


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    for name, seed in [("a", 3), ("b", 3), ("c", 4)]:
        generate(tmp_path / name, songs=40, events=500, seed=seed)
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert tree(tmp_path / "a") != tree(tmp_path / "c")


def test_the_report_counts_what_is_on_disk(generated: tuple[Path, GenerateReport],
                                           events: list[dict[str, Any]],
                                           songs: list[dict[str, Any]]) -> None:  # fmt: skip
    out, report = generated
    plays = [e for e in events if e["page"] == "NextSong"]
    catalogue = {(s["title"], str(s["artist_name"]), s["duration"]) for s in songs}
    assert report == GenerateReport(
        out=out, song_files=len(song_files(out)), songs=len(songs), log_files=len(log_files(out)),
        events=len(events), next_song_events=len(plays),
        matched_plays=sum((e["song"], e["artist"], e["length"]) in catalogue for e in plays),
    )  # fmt: skip
    assert (report.songs, report.events) == (200, 2_000)
    assert 0.25 < report.matched_plays / report.next_song_events < 0.45


def test_song_files_hold_one_object_with_the_real_keys_in_the_real_layout(
    generated: tuple[Path, GenerateReport],
) -> None:
    ids: set[str] = set()
    for path in song_files(generated[0]):
        raw = path.read_bytes()
        song = json.loads(raw)
        assert list(song) == SONG_KEYS
        assert raw == real_style(song, pretty=b"\n" in raw)
        assert not raw.endswith(b"\n")
        track = path.stem
        assert len(track) == 18
        assert track.startswith("TR")
        assert track.isalnum()
        assert path.parent.relative_to(generated[0] / "song_data").parts == tuple(track[2:5])
        assert len(song["song_id"]) == len(song["artist_id"]) == 18
        assert song["num_songs"] == 1
        assert isinstance(song["duration"], float)
        ids.add(song["song_id"])
    assert len(ids) == generated[1].songs


def test_log_lines_are_written_like_the_real_ones(generated: tuple[Path, GenerateReport]) -> None:
    for path in log_files(generated[0]):
        raw = path.read_bytes()
        assert path.name.startswith("2018-11-")
        assert path.name.endswith("-events.json")
        assert not raw.endswith(b"\n")
        stamps = []
        for line in raw.split(b"\n"):
            event = json.loads(line)
            assert list(event) == EVENT_KEYS
            assert line == real_style(event)
            when = datetime.fromtimestamp(event["ts"] / 1000, UTC)
            assert (when.year, when.month, when.day) == (2018, 11, int(path.name[8:10]))
            assert event["ts"] % 1000 != 0
            assert isinstance(event["userId"], str)
            assert isinstance(event["sessionId"], int)
            stamps.append(event["ts"])
        assert stamps == sorted(stamps)


@pytest.mark.reference
def test_the_real_files_are_written_in_the_same_style() -> None:
    if not (REFERENCE / "log_data").is_dir():
        pytest.skip(f"reference data not found at {REFERENCE}")
    for path in [*sorted((REFERENCE / "song_data").rglob("*.json"))[:300],
                 REFERENCE / "song_data/A/A/A/TRAAAAK128F9318786.json"]:  # fmt: skip
        raw = path.read_bytes()
        assert raw == real_style(json.loads(raw), pretty=b"\n" in raw), path
    for path in sorted((REFERENCE / "log_data").rglob("*.json"))[:3]:
        for line in path.read_bytes().split(b"\n"):
            assert line == real_style(json.loads(line))


@pytest.mark.reference
def test_the_jsonpaths_file_is_byte_identical_to_the_real_one(
    generated: tuple[Path, GenerateReport],
) -> None:
    real = REFERENCE / "log_json_path.json"
    if not real.is_file():
        pytest.skip(f"reference data not found at {real}")
    assert (generated[0] / "log_json_path.json").read_bytes() == real.read_bytes()


def test_the_catalogue_has_the_real_quirks(generated: tuple[Path, GenerateReport],
                                           songs: list[dict[str, Any]]) -> None:  # fmt: skip
    raws = [f.read_bytes() for f in song_files(generated[0])]
    pretty = [r for r in raws if b"\n" in r]
    assert pretty
    assert all(r.startswith(b'{\n    "artist_id": ') for r in pretty)
    assert {112, 2562} <= {s["artist_name"] for s in songs}
    assert any(b"\\u00e9" in r for r in raws)  # Beyoncé, escaped like the real files
    assert any(b"\\/" in r for r in raws)
    assert any(s["artist_location"] == "" for s in songs)
    assert any(s["year"] == 0 for s in songs)
    assert any(s["year"] > 0 for s in songs)
    assert any(s["artist_latitude"] is None for s in songs)
    assert any(isinstance(s["artist_latitude"], float) for s in songs)
    names = defaultdict(set)
    for s in songs:
        names[s["artist_id"]].add(s["artist_name"])
    assert {"Leftover Crack", "Leftöver Crack"} in names.values()
    assert max(Counter(s["artist_id"] for s in songs).values()) > 1
    assert any('"' in s["title"] for s in songs)
    assert any("'" in s["title"] for s in songs)


def test_the_log_has_the_real_quirks(events: list[dict[str, Any]],
                                     songs: list[dict[str, Any]]) -> None:  # fmt: skip
    logged_out = [e for e in events if e["auth"] == "Logged Out"]
    assert logged_out
    assert all(e["userId"] == "" and e["level"] in ("free", "paid") for e in logged_out)
    assert all({k for k, v in e.items() if v is None} == LOGGED_OUT_NULLS for e in logged_out)
    logged_in = [e for e in events if e["auth"] == "Logged In"]
    assert all(e["userId"] and isinstance(e["registration"], float) for e in logged_in)
    assert any(e["userAgent"].startswith('"Mozilla/5.0') for e in logged_in)
    assert any(e["location"] == "" for e in logged_in)
    assert any(ord(c) > 127 for e in logged_in for c in e["firstName"] + e["lastName"])
    for e in events:
        assert (e["artist"] is None) == (e["song"] is None) == (e["page"] != "NextSong")
    pages = Counter(e["page"] for e in events)
    assert 0.75 < pages["NextSong"] / len(events) < 0.92
    assert {"Home", "Login", "Logout", "Submit Upgrade", "Submit Downgrade"} <= set(pages)
    levels = defaultdict(list)
    for e in sorted(logged_in, key=lambda e: e["ts"]):
        levels[e["userId"]].append(e["level"])
    upgraded = [v for v in levels.values() if "free" in v and v[-1] == "paid"]
    assert upgraded
    assert any(v[0] == "paid" and "free" in v for v in levels.values())
    same_ms = Counter((e["userId"], e["ts"]) for e in logged_in)
    assert max(same_ms.values()) == 2


def test_plays_match_the_catalogue_only_on_title_artist_and_length(
    events: list[dict[str, Any]], songs: list[dict[str, Any]]
) -> None:
    catalogue = {(s["title"], str(s["artist_name"]), s["duration"]) for s in songs}
    plays = [(e["song"], e["artist"], e["length"]) for e in events if e["page"] == "NextSong"]
    matched = [p for p in plays if p in catalogue]
    assert matched
    assert len(matched) < len(plays)
    assert any(artist == "112" for _, artist, _ in matched)
    durations = {length for _, _, length in catalogue}
    assert any(p not in catalogue and p[2] in durations for p in plays)
    title_artist = {(t, a) for t, a, _ in catalogue}
    assert any(p not in catalogue and p[:2] in title_artist for p in plays)
    assert any("\u00c3" in p[1] for p in plays)  # mojibake, as the real logs write non-ASCII
    play_keys = Counter((e["userId"], e["sessionId"], e["ts"]) for e in events
                        if e["page"] == "NextSong")  # fmt: skip
    assert max(play_keys.values()) == 1


def test_zero_events_and_a_short_month(tmp_path: Path) -> None:
    report = generate(tmp_path / "none", songs=1, events=0)
    assert (report.log_files, report.events, report.songs) == (0, 0, 1)
    assert log_files(tmp_path / "none") == []
    report = generate(tmp_path / "feb", songs=5, events=300, year=2016, month=2)
    days = {int(p.name[8:10]) for p in log_files(tmp_path / "feb")}
    assert report.log_files == len(days)
    assert max(days) <= 29
    assert len(read_events(tmp_path / "feb")) == 300
    assert sum(b"\n" in p.read_bytes() for p in song_files(tmp_path / "feb")) >= 1


def test_other_files_in_the_output_are_left_alone(tmp_path: Path) -> None:
    keep = [tmp_path / "notes.txt", tmp_path / "song_data" / "README", tmp_path / "log_data/x.json"]
    for path in keep:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("mine")
    generate(tmp_path, songs=10, events=100)
    generate(tmp_path, songs=10, events=100)
    assert all(path.read_text() == "mine" for path in keep)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"songs": 0}, "songs"), ({"events": -1}, "events"), ({"month": 13}, "month"),
     ({"month": 0}, "month"), ({"year": 1969}, "year")],
)  # fmt: skip
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


def test_the_bundled_sample_is_what_generate_writes(tmp_path: Path) -> None:
    from sparkify_dw.config import SAMPLE_DIR
    from sparkify_dw.datagen import SAMPLE_ARGS

    generate(tmp_path, **SAMPLE_ARGS)

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    assert files(SAMPLE_DIR) == files(tmp_path), (
        "sparkify_dw/sample_data is stale: regenerate it with "
        "sparkify-dw generate --out sparkify_dw/sample_data and datagen.SAMPLE_ARGS"
    )
