-- The persisted dedup index (flows/steps/dedup.py, warehouse/dedup_index.py): what a run
-- needs to match its paragraphs against every kept paragraph already stored, by joins on
-- these tables, without reading the history into memory. Rows exist only for kept
-- (dup_status = 'unique') paragraphs and are written in the same transaction as them.

CREATE TABLE IF NOT EXISTS dedup_keys (
    -- No PRIMARY KEY: pkey is unique because paragraph_id is, and an ART index over every
    -- kept paragraph would cost memory on each load's checkpoint as the warehouse grows.
    pkey         BIGINT NOT NULL,                -- xxh3-64 of paragraph_id (signed)
    paragraph_id VARCHAR NOT NULL,
    norm_version INTEGER NOT NULL,               -- version of the normalisation key
    norm_hash    VARCHAR NOT NULL,               -- xxh3-128 of norm_key: exact copies
    norm_key     VARCHAR NOT NULL,               -- Simplified, NFKC, punctuation/space removed
    n_anchors    INTEGER NOT NULL                -- winnowing anchors of the key
);

-- MinHash LSH: one row per band; a shared (band, bucket) makes a near-duplicate candidate.
CREATE TABLE IF NOT EXISTS dedup_bands (
    band   SMALLINT NOT NULL,
    bucket BIGINT NOT NULL,
    pkey   BIGINT NOT NULL
);

-- Winnowing anchors: most anchors of the shorter key shared makes a containment candidate.
CREATE TABLE IF NOT EXISTS dedup_anchors (
    anchor BIGINT NOT NULL,
    pkey   BIGINT NOT NULL
);
