BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE staging_events (
    artist VARCHAR(512), 
    auth VARCHAR(32), 
    first_name VARCHAR(256), 
    gender VARCHAR(16), 
    item_in_session INTEGER, 
    last_name VARCHAR(256), 
    length DOUBLE PRECISION, 
    level VARCHAR(16), 
    location VARCHAR(512), 
    method VARCHAR(16), 
    page VARCHAR(64), 
    registration DOUBLE PRECISION, 
    session_id INTEGER, 
    song VARCHAR(512), 
    status INTEGER, 
    ts BIGINT NOT NULL, 
    user_agent VARCHAR(512), 
    user_id VARCHAR(32)
) DISTSTYLE EVEN;

CREATE TABLE staging_songs (
    num_songs INTEGER, 
    artist_id VARCHAR(32), 
    artist_latitude DOUBLE PRECISION, 
    artist_longitude DOUBLE PRECISION, 
    artist_location VARCHAR(512), 
    artist_name VARCHAR(512), 
    song_id VARCHAR(32), 
    title VARCHAR(512), 
    duration DOUBLE PRECISION, 
    year INTEGER
) DISTSTYLE EVEN;

CREATE TABLE songplays (
    songplay_id BIGINT IDENTITY(0,1) ENCODE az64 NOT NULL, 
    start_time TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    user_id INTEGER ENCODE az64 NOT NULL, 
    level VARCHAR(16) ENCODE zstd, 
    song_id VARCHAR(32) ENCODE zstd, 
    artist_id VARCHAR(32) ENCODE zstd, 
    session_id INTEGER ENCODE az64 NOT NULL, 
    location VARCHAR(512) ENCODE zstd, 
    user_agent VARCHAR(512) ENCODE zstd, 
    CONSTRAINT pk_songplays PRIMARY KEY (songplay_id), 
    CONSTRAINT uq_songplays_play UNIQUE (user_id, session_id, start_time)
) DISTSTYLE KEY DISTKEY (start_time) SORTKEY (start_time);

CREATE TABLE users (
    user_id INTEGER NOT NULL, 
    first_name VARCHAR(256) ENCODE zstd, 
    last_name VARCHAR(256) ENCODE zstd, 
    gender VARCHAR(16) ENCODE zstd, 
    level VARCHAR(16) ENCODE zstd, 
    source_ts BIGINT ENCODE az64 NOT NULL, 
    CONSTRAINT pk_users PRIMARY KEY (user_id)
) DISTSTYLE ALL SORTKEY (user_id);

CREATE TABLE songs (
    song_id VARCHAR(32) NOT NULL, 
    title VARCHAR(512) ENCODE zstd, 
    artist_id VARCHAR(32) ENCODE zstd, 
    year SMALLINT ENCODE az64, 
    duration DOUBLE PRECISION ENCODE raw, 
    CONSTRAINT pk_songs PRIMARY KEY (song_id)
) DISTSTYLE ALL SORTKEY (song_id);

CREATE TABLE artists (
    artist_id VARCHAR(32) NOT NULL, 
    name VARCHAR(512) ENCODE zstd, 
    location VARCHAR(512) ENCODE zstd, 
    latitude DOUBLE PRECISION ENCODE raw, 
    longitude DOUBLE PRECISION ENCODE raw, 
    CONSTRAINT pk_artists PRIMARY KEY (artist_id)
) DISTSTYLE ALL SORTKEY (artist_id);

CREATE TABLE time (
    start_time TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    hour SMALLINT ENCODE az64 NOT NULL, 
    day SMALLINT ENCODE az64 NOT NULL, 
    week SMALLINT ENCODE az64 NOT NULL, 
    month SMALLINT ENCODE az64 NOT NULL, 
    year SMALLINT ENCODE az64 NOT NULL, 
    weekday SMALLINT ENCODE az64 NOT NULL, 
    CONSTRAINT pk_time PRIMARY KEY (start_time)
) DISTSTYLE KEY DISTKEY (start_time) SORTKEY (start_time);

INSERT INTO alembic_version (version_num) VALUES ('0001');

-- Running upgrade 0001 -> 0002

CREATE TABLE load_errors (
    id BIGINT IDENTITY(1,1) NOT NULL, 
    load_id VARCHAR(36) NOT NULL, 
    starttime TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    table_name VARCHAR(128) NOT NULL, 
    filename VARCHAR(1024) NOT NULL, 
    line_number BIGINT NOT NULL, 
    colname VARCHAR(127), 
    type VARCHAR(64), 
    raw_line VARCHAR(1024), 
    raw_field_value VARCHAR(1024), 
    err_code INTEGER NOT NULL, 
    err_reason VARCHAR(512) NOT NULL, 
    CONSTRAINT pk_load_errors PRIMARY KEY (id)
) DISTSTYLE EVEN SORTKEY (starttime);

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';

-- Running upgrade 0002 -> 0003

DROP TABLE staging_events;

DROP TABLE staging_songs;

CREATE TABLE staging_events (
    artist VARCHAR(512), 
    auth VARCHAR(32), 
    first_name VARCHAR(256), 
    gender VARCHAR(16), 
    item_in_session INTEGER, 
    last_name VARCHAR(256), 
    length DOUBLE PRECISION, 
    level VARCHAR(16), 
    location VARCHAR(512), 
    method VARCHAR(16), 
    page VARCHAR(64), 
    registration DOUBLE PRECISION, 
    session_id INTEGER NOT NULL, 
    song VARCHAR(512), 
    status INTEGER, 
    ts BIGINT NOT NULL, 
    user_agent VARCHAR(512), 
    user_id INTEGER
) DISTSTYLE EVEN;

CREATE TABLE staging_songs (
    num_songs INTEGER, 
    artist_id VARCHAR(32), 
    artist_latitude DOUBLE PRECISION, 
    artist_longitude DOUBLE PRECISION, 
    artist_location VARCHAR(512), 
    artist_name VARCHAR(512), 
    song_id VARCHAR(32), 
    title VARCHAR(512), 
    duration DOUBLE PRECISION, 
    year SMALLINT
) DISTSTYLE EVEN;

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002';

-- Running upgrade 0003 -> 0004

ALTER TABLE users ADD COLUMN source_session_id INTEGER ENCODE az64;

ALTER TABLE users ADD COLUMN source_item_in_session INTEGER ENCODE az64;

UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003';

-- Running upgrade 0004 -> 0005

CREATE TABLE song_catalogue (
    song_id VARCHAR(32) NOT NULL, 
    title VARCHAR(512) ENCODE zstd, 
    artist_id VARCHAR(32) ENCODE zstd, 
    artist_name VARCHAR(512) ENCODE zstd, 
    artist_location VARCHAR(512) ENCODE zstd, 
    artist_latitude DOUBLE PRECISION ENCODE raw, 
    artist_longitude DOUBLE PRECISION ENCODE raw, 
    year SMALLINT ENCODE az64, 
    duration DOUBLE PRECISION ENCODE raw, 
    CONSTRAINT pk_song_catalogue PRIMARY KEY (song_id)
) DISTSTYLE ALL SORTKEY (song_id);

CREATE TABLE play_keys (
    user_id INTEGER NOT NULL, 
    session_id INTEGER NOT NULL, 
    start_time TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    song VARCHAR(512) ENCODE zstd, 
    artist VARCHAR(512) ENCODE zstd, 
    length DOUBLE PRECISION ENCODE raw, 
    CONSTRAINT pk_play_keys PRIMARY KEY (user_id, session_id, start_time)
) DISTSTYLE KEY DISTKEY (start_time) SORTKEY (start_time);

INSERT INTO song_catalogue (song_id, title, artist_id, artist_name, artist_location, artist_latitude, artist_longitude, year, duration) SELECT songs.song_id, songs.title, songs.artist_id, artists.name, artists.location, artists.latitude, artists.longitude, songs.year, songs.duration 
FROM songs LEFT OUTER JOIN artists ON artists.artist_id = songs.artist_id;

INSERT INTO play_keys (user_id, session_id, start_time, song, artist, length) SELECT songplays.user_id, songplays.session_id, songplays.start_time, rtrim(song_catalogue.title, ' ') AS song, rtrim(song_catalogue.artist_name, ' ') AS artist, song_catalogue.duration 
FROM songplays JOIN song_catalogue ON song_catalogue.song_id = songplays.song_id;

UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0004';

-- Running upgrade 0005 -> 0006

CREATE TABLE loaded_files (
    table_name VARCHAR(128) NOT NULL, 
    location VARCHAR(4096) NOT NULL, 
    size BIGINT ENCODE az64 NOT NULL, 
    version VARCHAR(256) ENCODE zstd NOT NULL, 
    last_modified TIMESTAMP WITHOUT TIME ZONE ENCODE az64, 
    load_id VARCHAR(36) ENCODE zstd NOT NULL, 
    row_count BIGINT ENCODE az64, 
    reject_count INTEGER ENCODE az64, 
    loaded_at TIMESTAMP WITHOUT TIME ZONE ENCODE az64 NOT NULL, 
    CONSTRAINT pk_loaded_files PRIMARY KEY (table_name, location)
) DISTSTYLE EVEN SORTKEY (table_name);

CREATE TABLE loads (
    load_id VARCHAR(36) NOT NULL, 
    started_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    finished_at TIMESTAMP WITHOUT TIME ZONE ENCODE az64, 
    status VARCHAR(16) ENCODE zstd NOT NULL, 
    database_user VARCHAR(128) ENCODE zstd, 
    song_data VARCHAR(4096) ENCODE zstd, 
    log_data VARCHAR(4096) ENCODE zstd, 
    full_refresh BOOLEAN NOT NULL, 
    table_counts VARCHAR(4096) ENCODE zstd, 
    rows_staged BIGINT ENCODE az64, 
    rejects INTEGER ENCODE az64, 
    files_new INTEGER ENCODE az64, 
    files_changed INTEGER ENCODE az64, 
    files_skipped INTEGER ENCODE az64, 
    error VARCHAR(1024) ENCODE zstd, 
    CONSTRAINT pk_loads PRIMARY KEY (load_id)
) DISTSTYLE EVEN SORTKEY (started_at);

UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0005';

-- Running upgrade 0006 -> 0007

UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006';

COMMIT;

