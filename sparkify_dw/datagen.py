"""Deterministic synthetic Sparkify source data, byte-for-byte in the formats of the real files.

`generate` writes `song_data/A/X/Y/TR….json` (one object a file), daily JSON-lines event logs
under `log_data/YYYY/MM/` and `log_json_path.json`, with the real data's quirks. Events are
produced and written one day at a time, so memory stays bounded at any size.
"""

from __future__ import annotations

import calendar
import json
import logging
import random
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import accumulate, groupby
from operator import itemgetter
from pathlib import Path

MATCH_SHARE = 0.35  # share of NextSong events that play a catalogue song exactly
PRETTY_SHARE = 0.02  # share of song files pretty-printed over several lines
LOGGED_OUT_START = 0.12  # user sessions that begin with logged-out pages and a Login
ANONYMOUS_SESSIONS = 0.03  # sessions that never log in
DAY_MS = 86_400_000
MAX_USER_DAY = 80  # events of one user in one day: keeps every gap >= 1 s within the day
# The sample shipped in sparkify_dw/sample_data (the default data of `sparkify-dw run`); a test
# checks it is exactly what these arguments generate.
SAMPLE_ARGS = {"songs": 150, "events": 2_000, "seed": 2018}

logger = logging.getLogger(__name__)
# `progress(name, done, in all)`, the load's callback type, hears the files and events written.
Progress = Callable[[str, int, int], None]
SONG_FILES, EVENTS = "song files", "events"
_REPORT_EVERY = 500  # song files between two progress calls

LOG_JSON_PATH = """{
    "jsonpaths": [
        "$['artist']",
        "$['auth']",
        "$['firstName']",
        "$['gender']",
        "$['itemInSession']",
        "$['lastName']",
        "$['length']",
        "$['level']",
        "$['location']",
        "$['method']",
        "$['page']",
        "$['registration']",
        "$['sessionId']",
        "$['song']",
        "$['status']",
        "$['ts']",
        "$['userAgent']",
        "$['userId']"
    ]
}"""

PAGES: dict[str, tuple[str, int]] = {
    "NextSong": ("PUT", 200), "Home": ("GET", 200), "Login": ("PUT", 307),
    "Logout": ("PUT", 307), "Downgrade": ("GET", 200), "Settings": ("GET", 200),
    "Help": ("GET", 200), "About": ("GET", 200), "Upgrade": ("GET", 200),
    "Save Settings": ("PUT", 307), "Error": ("GET", 404), "Submit Upgrade": ("PUT", 307),
    "Submit Downgrade": ("PUT", 307),
}  # fmt: skip
# logged-in pages other than Upgrade/Downgrade, weighted like the real logs (per mille)
_BROWSE_PAGES = ("NextSong", "Home", "Settings", "Help", "About", "Error")
_BROWSE_CUM = tuple(accumulate((860, 90, 8, 6, 5, 1)))
_LEVEL_PAGE = {"free": ("Upgrade", 6), "paid": ("Downgrade", 9)}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


ADJ = _words("Velvet|Broken|Electric|Silent|Golden|Crimson|Hollow|Neon|Wild|Lonely|Midnight")
NOUN = _words("Foxes|Echoes|Hearts|Rivers|Machines|Saints|Ghosts|Wolves|Kings|Mädchen|Lights")
T_HEAD = _words("Don't|Love|Dancing|Waiting|Lost|Running|Burning|Cold|I'll Be|Niño|Heaven's")
T_TAIL = _words("Tonight|Away|Home|In The Rain|On Fire|Forever|My Heart|Über Alles|/ Reprise")
T_SUFFIX = ("", "", "", "", " (Album Version)", " (Live)", " (Remix)", " [Explicit]")
PLACES = _words(
    "New York, NY|London, England|Los Angeles, CA|Düsseldorf|Torelló / Barcelona|Memphis, TN"
    "|São Paulo, Brazil|AUSTIN, Texas| Richmond, VA |Tokyo, Japan|Montréal, Québec| NC"
)
FIRST = _words("Walter|Kaylee|Lily|Jacob|Chloe|Tegan|Aleena|Mohammad|Jayden|Kate|Zoë|José|Renée")
LAST = _words("Frye|Summers|Koch|Klein|Cuevas|Levine|Kirby|Bell|Smith|Núñez|Müller|O'Brien")
METROS = _words(
    "San Francisco-Oakland-Hayward, CA|Portland-South Portland, ME|Lansing-East Lansing, MI"
    "|Chicago-Naperville-Elgin, IL-IN-WI|Atlanta-Sandy Springs-Roswell, GA|Red Bluff, CA"
    "|Tampa-St. Petersburg-Clearwater, FL|New York-Newark-Jersey City, NY-NJ-PA|Winston-Salem, NC"
    "|Sacramento--Roseville--Arden-Arcade, CA|Houston-The Woodlands-Sugar Land, TX"
)
AGENTS = _words(
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/36.0.1985.143 Safari/537.36|Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36|Mozilla/5.0 (iPhone; CPU iPhone OS "
    "7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 Mobile/11D257 "
    "Safari/9537.53|Mozilla/5.0 (Windows NT 5.1; rv:31.0) Gecko/20100101 Firefox/31.0"
    "|Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0"
)
# (artist key, artist_name, artist_location, title); one key is one artist_id.
SPECIAL_SONGS: tuple[tuple[str, str | int, str | int, str], ...] = (
    ("112", 112, "", "Peaches & Cream"),
    ("leftover", "Leftover Crack", "New York City, NY, USA", "Operation: M.O.V.E."),
    ("leftover", "Leftöver Crack", "New York City, NY, USA", "Life Causes Cancer"),
    ("beyonce", "Beyoncé", "Houston, TX", "Déjà Vu"),
    ("sigur", "Sigur Rós", "Reykjavík, Iceland", "Hoppípolla"),
    ("motor", "Motörhead", "London, England", "Ace Of Spades"),
    ("cjk", "坂本龍一", "東京", "戦場のメリークリスマス"),
    ("kino", "Kino", "", 'Barking Dogs (From "Piouhgd")'),
    ("megadeth", "Megadeth", "Los Angeles, CA", "Symphony Of Destruction"),
    ("megadeth", "Megadeth", "Los Angeles, California, United States", "Peace Sells"),
    ("2562", 2562, "", "Superflight"),
    ("hilton", "Paris Hilton", 27, "Stars Are Blind"),
)

# MSD-style 18-character ids: L letter, X letter or digit, H hex digit, N 8 or 9, else literal.
# The full S3 song set only has A/X/Y folders, hence track ids TRA….
_ALPHABETS = {"L": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "H": "0123456789ABCDEF", "N": "89",
              "X": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}  # fmt: skip


def _pattern(text: str) -> tuple[tuple[str, int], ...]:
    """Runs of one pattern letter as (alphabet, length); a literal is a one-letter alphabet."""
    return tuple((_ALPHABETS.get(c, c), len(list(run))) for c, run in groupby(text))


TRACK, SONG = _pattern("TRALLLL12NHHHHHHHH"), _pattern("SOLLLLL12AHHHHHHHH")
ARTIST = _pattern("ARXXXXX1187HHHHHHH")

Play = tuple[str, str, str, int, bool]  # artist, song, length (as JSON), length in ms, matched
Step = tuple[int, str, str, str, "Play | None"]  # gap before (ms), page, auth, level, play
Row = tuple[int, "Play | None", str, tuple[str, ...], int, str, str, int]  # _line arguments


@dataclass(frozen=True)
class GenerateReport:
    out: Path
    song_files: int
    songs: int  # song records (equal to song_files)
    log_files: int
    events: int
    next_song_events: int
    # NextSong events whose (song, artist, length) equals a catalogue song's
    # (title, artist_name, duration) exactly
    matched_plays: int


@dataclass(frozen=True)
class _Song:
    track: str
    record: dict[str, object]  # the JSON object, keys in the real order
    title: str
    artist: str  # artist_name as text (a numeric name loads as its text)
    duration: float
    pretty: bool


@dataclass(eq=False)
class _User:
    fields: tuple[str, ...]  # JSON: firstName, gender, lastName, location, registration, agent, id
    level: str


def generate(out: Path, *, songs: int = 200, events: int = 2_000, seed: int = 42,
             year: int = 2018, month: int = 11,
             progress: Progress | None = None) -> GenerateReport:  # fmt: skip
    """Write song_data/, log_data/ and log_json_path.json under `out`; deterministic per seed.

    `progress` hears of the song files (SONG_FILES) and events (EVENTS) written so far."""
    if songs < 1:
        raise ValueError(f"songs must be at least 1, got {songs}")
    if events < 0:
        raise ValueError(f"events must not be negative, got {events}")
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    if not 1971 <= year <= 9999:  # registrations lie up to 200 days before the month
        raise ValueError(f"year must be 1971..9999, got {year}")
    out = Path(out)
    rng = random.Random(seed)
    report = progress or _no_progress
    catalogue = _catalogue(rng, songs)
    logger.info("writing %d song files under %s", songs, out / "song_data")
    _write_songs(out / "song_data", catalogue, report)
    (out / "log_json_path.json").write_bytes(LOG_JSON_PATH.encode("ascii"))
    log = _EventLog(rng, catalogue, events, year, month)
    logger.info("writing %d events under %s", events, out / "log_data")
    log_files = log.write(out / "log_data" / f"{year:04d}" / f"{month:02d}", report)
    return GenerateReport(out, songs, songs, log_files, events, log.next_songs, log.matched)


def _enc(value: object) -> str:
    """JSON text as the real files write it: ASCII escapes and `/` escaped as `\\/`."""
    return json.dumps(value).replace("/", "\\/")


def _mojibake(text: str) -> str:
    """UTF-8 read as Latin-1 twice: how every non-ASCII artist/song appears in the real logs."""
    for _ in range(2):
        text = text.encode("utf-8").decode("latin-1")
    return text


def _unique(rng: random.Random, taken: set[str], pattern: tuple[tuple[str, int], ...]) -> str:
    while True:
        value = "".join("".join(rng.choices(alphabet, k=n)) for alphabet, n in pattern)
        if value not in taken:
            taken.add(value)
            return value


def _name(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return f"{rng.choice(('The ', '', ''))}{rng.choice(ADJ)} {rng.choice(NOUN)}"


def _title(rng: random.Random) -> str:
    return f"{rng.choice(T_HEAD)} {rng.choice(T_TAIL)}{rng.choice(T_SUFFIX)}"


def _duration(rng: random.Random) -> float:
    return round(min(1500.0, max(10.0, rng.lognormvariate(5.4, 0.4))), 5)


def _artist(rng: random.Random, ids: set[str], name: object, place: object) -> dict[str, object]:
    located = rng.random() < 0.35
    return {
        "artist_id": _unique(rng, ids, ARTIST),
        "artist_latitude": round(rng.uniform(-40.0, 60.0), 5) if located else None,
        "artist_location": place,
        "artist_longitude": round(rng.uniform(-125.0, 140.0), 5) if located else None,
        "artist_name": name,
    }


def _catalogue(rng: random.Random, n: int) -> list[_Song]:
    """The special songs first, then random ones; a quarter reuse an earlier artist."""
    ids: set[str] = set()
    specials: dict[str, dict[str, object]] = {}
    artists: list[dict[str, object]] = []
    songs: list[_Song] = []
    for i in range(n):
        if i < len(SPECIAL_SONGS):
            key, name, place, title = SPECIAL_SONGS[i]
            base = specials.setdefault(key, _artist(rng, ids, name, place))
            artist = {**base, "artist_location": place, "artist_name": name}
        else:
            title = _title(rng)
            if artists and rng.random() < 0.25:
                artist = rng.choice(artists)
            else:
                place = rng.choice(PLACES) if rng.random() < 0.55 else ""
                artist = _artist(rng, ids, _name(rng), place)
                artists.append(artist)
        duration = _duration(rng)
        record = {**artist, "duration": duration, "num_songs": 1,
                  "song_id": _unique(rng, ids, SONG), "title": title,
                  "year": 0 if rng.random() < 0.3 else rng.randint(1955, 2010)}  # fmt: skip
        track, pretty = _unique(rng, ids, TRACK), rng.random() < PRETTY_SHARE
        songs.append(_Song(track, record, title, str(artist["artist_name"]), duration, pretty))
    if n >= 5 and not any(s.pretty for s in songs):
        i = rng.randrange(n)
        songs[i] = replace(songs[i], pretty=True)
    return songs


def _no_progress(name: str, done: int, total: int) -> None:
    pass


def _write_songs(root: Path, catalogue: list[_Song], progress: Progress) -> None:
    progress(SONG_FILES, 0, len(catalogue))
    for done, song in enumerate(catalogue, 1):
        folder = root.joinpath(*song.track[2:5])  # TRABC… lives in A/B/C
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(song.record, indent=4 if song.pretty else None,
                          separators=None if song.pretty else (",", ":"))  # fmt: skip
        (folder / f"{song.track}.json").write_bytes(text.replace("/", "\\/").encode("ascii"))
        if done % _REPORT_EVERY == 0 or done == len(catalogue):
            progress(SONG_FILES, done, len(catalogue))


def _play(artist: str, title: str, length: float, matched: bool) -> Play:
    return _enc(artist), _enc(title), _enc(length), int(length * 1000), matched


_ANONYMOUS = ("null", "null", "null", "null", "null", "null", '""')


class _EventLog:
    """Sessions of users, generated and written one day at a time; counts what it writes."""

    def __init__(self, rng: random.Random, catalogue: list[_Song], events: int, year: int,
                 month: int) -> None:  # fmt: skip
        self.rng, self.events, self.year, self.month = rng, events, year, month
        self.next_songs = self.matched = self.session_id = 0
        self.upgraded: _User | None = None
        self.downgraded = self.same_ts = False
        self.month_ms = calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
        self.catalogue = [_play(s.artist, s.title, s.duration, True) for s in catalogue]
        rng.shuffle(self.catalogue)  # popularity order
        keys = {(s.title, s.artist, s.duration) for s in catalogue}
        self.outside = self._outside(catalogue, keys, max(20, min(events // 3, 50_000)))
        self.forced = self._forced(catalogue, keys)
        self.users = self._users(max(3 if events >= 50 else 1, events // 80))
        # the first four users carry the user quirks, so they are sure to appear
        weights = (min(20.0, rng.paretovariate(1.2)) for _ in self.users[4:])
        self.weights = list(accumulate([4.0] * len(self.users[:4]) + list(weights)))

    def _outside(self, catalogue: list[_Song], keys: set[tuple[str, str, float]],
                 n: int) -> list[Play]:  # fmt: skip
        """Songs not in the catalogue, some by catalogue artists; non-ASCII text as mojibake."""
        plays: list[Play] = []
        pairs = {(title, artist) for title, artist, _ in keys}  # near misses stay rare
        while len(plays) < n:
            by_known = self.rng.random() < 0.25
            artist = self.rng.choice(catalogue).artist if by_known else _name(self.rng)
            title, length = _title(self.rng), _duration(self.rng)
            if (title, artist) not in pairs:
                plays.append(_play(_mojibake(artist), _mojibake(title), length, False))
        return plays

    def _forced(self, catalogue: list[_Song], keys: set[tuple[str, str, float]]) -> list[Play]:
        """The first plays of the log (popped from the end): quirks a loader's tests look for."""
        last = catalogue[-1]
        misses = [
            (last.title + " (Reprise)", last.artist, last.duration),  # a catalogue length
            (last.title, last.artist, round(last.duration + 0.5, 5)),  # title+artist only
            (_mojibake("Jóga"), _mojibake("Björk"), 305.6322),
        ]
        forced = [
            _play(a, t, length, False) for t, a, length in misses if (t, a, length) not in keys
        ]
        for song in catalogue[3:4] + catalogue[:1]:  # Beyoncé; the artist named 112
            forced.append(_play(song.artist, song.title, song.duration, True))
        return forced

    def _users(self, n: int) -> list[_User]:
        rng, users = self.rng, []
        for i in range(n):
            agent = rng.choice(AGENTS)
            if "," in agent:  # the real logs quote exactly the agents that contain a comma
                agent = f'"{agent}"'
            first = "Zoë" if i == 3 else rng.choice(FIRST)
            place = "" if i == 2 or rng.random() < 0.03 else rng.choice(METROS)
            registration = float(self.month_ms - rng.randrange(DAY_MS, 200 * DAY_MS))
            fields = (first, rng.choice("MF"), rng.choice(LAST), place, registration, agent)
            level = ("free", "paid")[i] if i < 2 else rng.choice(("free", "paid", "paid"))
            users.append(_User((*map(_enc, fields), f'"{i + 1}"'), level))
        return users

    def write(self, folder: Path, progress: Progress) -> int:
        """Write one file per day that has events; return how many."""
        folder.mkdir(parents=True, exist_ok=True)
        days = calendar.monthrange(self.year, self.month)[1]
        cum = list(accumulate(self.rng.uniform(0.7, 1.3) for _ in range(days)))
        bounds = [0, *(round(self.events * c / cum[-1]) for c in cum)]
        files = 0
        progress(EVENTS, 0, self.events)
        for day in range(1, days + 1):
            rows = self._day(day, bounds[day] - bounds[day - 1])
            if rows:
                rows.sort(key=itemgetter(0))  # stable: equal ts keep their order
                name = f"{self.year:04d}-{self.month:02d}-{day:02d}-events.json"
                with (folder / name).open("w", encoding="ascii", newline="") as file:
                    for i in range(0, len(rows), 4096):  # no newline after the last line
                        chunk = "\n".join(_line(*row) for row in rows[i : i + 4096])
                        file.write(f"\n{chunk}" if i else chunk)
                files += 1
                logger.debug("wrote %d events to %s", len(rows), folder / name)
            progress(EVENTS, bounds[day], self.events)
        return files

    def _day(self, day: int, quota: int) -> list[Row]:
        """Share the day's events out as sessions, at most MAX_USER_DAY events a user."""
        rng, n_users = self.rng, len(self.users)
        plan: dict[int, list[int]] = {}  # user index (negative: anonymous) -> session sizes
        load = [0] * n_users
        while quota > 0:
            size = min(quota, 1 + min(60, int(rng.expovariate(1 / 7.6))))
            if rng.random() < ANONYMOUS_SESSIONS:
                user, size = -1 - len(plan), min(size, rng.randint(1, 3))
            else:
                user = bisect(self.weights, rng.random() * self.weights[-1])
                for step in range(n_users):  # the first user with room, else the emptiest
                    probe = (user + step) % n_users
                    if load[probe] + size <= MAX_USER_DAY:
                        user = probe
                        break
                    if load[probe] < load[user]:
                        user = probe
                size = min(size, MAX_USER_DAY - load[user])
                load[user] += size
            plan.setdefault(user, []).append(size)
            quota -= size
        start = self.month_ms + (day - 1) * DAY_MS
        rows: list[Row] = []
        for key, sizes in plan.items():
            rows.extend(self._timeline(self.users[key] if key >= 0 else None, sizes, start))
        return rows

    def _timeline(self, user: _User | None, sizes: list[int], day_start: int) -> list[Row]:
        """One user's sessions of a day, one after the other, placed inside the day."""
        rng = self.rng
        gaps: list[int] = []
        steps: list[tuple[str, str, str, Play | None, int, int]] = []
        for k, size in enumerate(sizes):
            self.session_id += 1
            for item, (gap, page, auth, level, play) in enumerate(self._session(user, size)):
                gaps.append(gap if item else (rng.randrange(60_000, 3_600_000) if k else 0))
                steps.append((page, auth, level, play, self.session_id, item))
        span, budget = sum(gaps), DAY_MS - 1000
        if span > budget:  # squeeze every non-zero gap towards 1 s, keeping their order
            moving = sum(1 for g in gaps if g)
            scale = (budget - 1000 * moving, span - 1000 * moving)
            gaps = [g and 1000 + (g - 1000) * scale[0] // scale[1] for g in gaps]
            span = sum(gaps)
        ts = day_start + rng.randrange(budget - span + 1)
        rows: list[Row] = []
        for gap, (page, auth, level, play, session, item) in zip(gaps, steps, strict=True):
            ts += gap
            stamp = ts + 1 if ts % 1000 == 0 else ts  # keep the milliseconds non-zero
            fields = user.fields if user and auth == "Logged In" else _ANONYMOUS
            rows.append((stamp, play, auth, fields, item, level, page, session))
        return rows

    def _session(self, user: _User | None, size: int) -> list[Step]:
        """Pages of one session; a Submit Upgrade/Downgrade changes the level after it."""
        rng = self.rng
        level = user.level if user else rng.choice(("free", "paid"))
        pages: list[tuple[str, str, str]] = []
        if user is None or (size >= 3 and rng.random() < LOGGED_OUT_START):
            pages.append(("Home", "Logged Out", level))
            for _ in range(size - 1 if user is None else min(size - 3, rng.randint(0, 1))):
                pages.append((rng.choice(("Home", "About", "Help")), "Logged Out", level))
            if user is not None:
                pages.append(("Login", "Logged Out", level))
        while user is not None and len(pages) < size:
            left = size - len(pages)
            if left == 1 and len(pages) > 1 and rng.random() < 0.1:
                pages.append(("Logout", "Logged In", level))
                break
            change, weight = _LEVEL_PAGE[level]
            if level == "free":
                forced = self.upgraded is None
            else:  # someone other than the user who upgraded
                forced = not self.downgraded and self.upgraded not in (None, user)
            forced = forced and left >= 3
            if forced or rng.random() * 1000 < weight:
                pages.append((change, "Logged In", level))
                if left >= 2 and (forced or rng.random() < (0.3 if level == "free" else 0.03)):
                    pages.append((f"Submit {change}", "Logged In", level))
                    self.upgraded = self.upgraded or (user if level == "free" else None)
                    self.downgraded |= level == "paid"
                    level = user.level = "paid" if level == "free" else "free"
                continue
            page = rng.choices(_BROWSE_PAGES, cum_weights=_BROWSE_CUM)[0]
            pages.append((page, "Logged In", level))
            if page == "Settings" and left >= 2 and rng.random() < 0.2:
                pages.append(("Save Settings", "Logged In", level))
        return self._timed(pages)

    def _timed(self, pages: list[tuple[str, str, str]]) -> list[Step]:
        """Gaps: a song plays to its end; the first Home then NextSong share a millisecond."""
        rng, out = self.rng, []
        previous, previous_ms = "", 0
        for page, auth, level in pages:
            play = self._next_play() if page == "NextSong" else None
            home_then_song = previous == "Home" and page == "NextSong"
            if previous == "NextSong":
                gap = previous_ms + rng.randrange(1000, 3000)
            elif home_then_song and not (self.same_ts and rng.random() < 0.98):
                gap, self.same_ts = 0, True
            else:
                gap = rng.randrange(1000, 90_000)
            out.append((gap, page, auth, level, play))
            previous, previous_ms = page, play[3] if play else 0
        return out

    def _next_play(self) -> Play:
        self.next_songs += 1
        if self.forced:
            play = self.forced.pop()
        else:
            plays = self.catalogue if self.rng.random() < MATCH_SHARE else self.outside
            play = plays[int(len(plays) * self.rng.random() ** 2)]  # a few songs are popular
        self.matched += play[4]
        return play


def _line(ts: int, play: Play | None, auth: str, fields: tuple[str, ...], item: int, level: str,
          page: str, session: int) -> str:  # fmt: skip
    """One event as the real logs write it: keys in the JSONPaths order, no spaces."""
    artist, song, length = play[:3] if play else ("null", "null", "null")
    first, gender, last, location, registration, agent, user_id = fields
    method, status = PAGES[page]
    return (
        f'{{"artist":{artist},"auth":"{auth}","firstName":{first},"gender":{gender},'
        f'"itemInSession":{item},"lastName":{last},"length":{length},"level":"{level}",'
        f'"location":{location},"method":"{method}","page":"{page}","registration":{registration},'
        f'"sessionId":{session},"song":{song},"status":{status},"ts":{ts},'
        f'"userAgent":{agent},"userId":{user_id}}}'
    )
