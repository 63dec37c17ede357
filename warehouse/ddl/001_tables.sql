-- Core tables. Ids are derived from content (doc_id = sha256 of the file's bytes), so a
-- re-run produces the same keys and changes nothing.
--
-- The tables that grow with the archive (documents, articles, paragraphs, and
-- article_keywords in 003_search.sql) have no PRIMARY KEY: DuckDB backs one with an ART
-- index that must fit in memory (DuckDB's documentation) and grows with every key stored
-- (with them, the 1 GB run's load failed at its commit within 256 MB; bench.load_replay).
-- The load checks their keys itself, by joins that spill to disk (warehouse/db.py,
-- `UNIQUE_KEYS`): a run that would store a key twice fails and stores nothing.

CREATE TABLE IF NOT EXISTS runs (
    run_id            VARCHAR PRIMARY KEY,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    status            VARCHAR NOT NULL,          -- completed / failed
    inbox             VARCHAR,
    files_seen        INTEGER NOT NULL,
    files_new         INTEGER NOT NULL,
    files_rejected    INTEGER NOT NULL,
    articles          INTEGER NOT NULL,
    paragraphs        INTEGER NOT NULL,
    duplicates        INTEGER NOT NULL,
    dup_exact         INTEGER NOT NULL DEFAULT 0,
    dup_near          INTEGER NOT NULL DEFAULT 0,
    dup_contained     INTEGER NOT NULL DEFAULT 0,
    quarantined       INTEGER NOT NULL,
    failed_share      DOUBLE,
    failed_share_limit DOUBLE,
    joins             INTEGER NOT NULL DEFAULT 0,  -- broken paragraphs rejoined
    boilerplate_lines INTEGER NOT NULL DEFAULT 0,
    converted_chars   INTEGER NOT NULL DEFAULT 0,  -- Traditional -> Simplified
    lost_chars        INTEGER NOT NULL DEFAULT 0,
    restored_chars    INTEGER NOT NULL DEFAULT 0,  -- lost characters recovered from the page's own readings
    pinyin_removed    INTEGER NOT NULL DEFAULT 0,  -- glued pinyin readings stripped
    seconds           DOUBLE,
    stage_seconds     JSON,
    message           VARCHAR
);

CREATE TABLE IF NOT EXISTS documents (
    doc_id        VARCHAR NOT NULL,              -- sha256 of the file's bytes; unique
    path          VARCHAR NOT NULL,              -- relative to the inbox
    size_bytes    BIGINT NOT NULL,
    mtime_ns      BIGINT,
    encoding      VARCHAR,
    script        VARCHAR,                       -- simplified / traditional / mixed
    source        VARCHAR,
    published_at  TIMESTAMP,
    editor        VARCHAR,
    status        VARCHAR NOT NULL,              -- loaded / rejected
    reject_reason VARCHAR,
    retryable     BOOLEAN NOT NULL DEFAULT false,
    run_id        VARCHAR NOT NULL,
    ingested_at   TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS articles (
    article_id     VARCHAR NOT NULL,              -- unique
    doc_id         VARCHAR NOT NULL,
    seq            INTEGER NOT NULL,
    kind           VARCHAR NOT NULL,             -- news / photo / section
    title          VARCHAR,
    subtitle       VARCHAR,
    kicker         VARCHAR,
    byline         VARCHAR,
    reporters      VARCHAR[],
    correspondents VARCHAR[],
    photographers  VARCHAR[],
    event_date     DATE,
    chars          INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS paragraphs (
    paragraph_id  VARCHAR NOT NULL,              -- unique
    article_id    VARCHAR NOT NULL,
    doc_id        VARCHAR NOT NULL,
    seq           INTEGER NOT NULL,              -- order within the article
    text          VARCHAR NOT NULL,              -- clean Simplified text
    -- the lines as read (blank line = rejoined break). Kept for provenance and seldom read,
    -- so compressed with zstd rather than DuckDB's own choice (dictionary + FSST, which
    -- shrinks Chinese text little and, analysing each segment, took most of the load's
    -- paragraphs insert): half the column's size, 0.6 s less of the 100 MB load. `text`,
    -- which analysts scan, keeps DuckDB's choice: zstd scanned it 1.7x slower. A warehouse
    -- made before keeps its stored column as it was (CREATE TABLE IF NOT EXISTS).
    text_raw      VARCHAR NOT NULL USING COMPRESSION zstd,
    chars         INTEGER NOT NULL,
    joined_from   INTEGER NOT NULL DEFAULT 1,
    quality_flags VARCHAR[],
    norm_version  INTEGER NOT NULL,
    norm_hash     VARCHAR NOT NULL,
    dup_status    VARCHAR NOT NULL,              -- unique / exact / near / contained
    dup_of        VARCHAR,                       -- paragraph_id of the kept copy
    similarity    DOUBLE,
    dup_method    VARCHAR,
    cluster_size  INTEGER NOT NULL DEFAULT 1     -- on kept paragraphs: copies incl. itself
);

CREATE TABLE IF NOT EXISTS tokens (
    paragraph_id VARCHAR NOT NULL,               -- a unique paragraph, or an article's title row
    article_id   VARCHAR NOT NULL,
    pos          INTEGER NOT NULL,
    word         VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS quarantine (
    run_id      VARCHAR NOT NULL,
    table_name  VARCHAR NOT NULL,
    row_key     VARCHAR,
    check_name  VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    row_json    JSON,
    quarantined_at TIMESTAMP NOT NULL
);
