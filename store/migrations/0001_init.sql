-- 0001_init: suites and the versions runs were made from, runs, their
-- samples and each sample's assertion results.
--
-- Portable on purpose (a PostgreSQL port is planned): standard types
-- (TEXT, INTEGER, BIGINT, DOUBLE PRECISION, BOOLEAN), no SQLite-only syntax
-- except INTEGER PRIMARY KEY ids. Times are UTC RFC 3339 text with a fixed
-- nine-digit fraction ("2006-01-02T15:04:05.000000000Z"), so they sort as
-- text. Non-finite floats are stored as NULL.

CREATE TABLE suites (
    name       TEXT NOT NULL PRIMARY KEY,
    first_seen TEXT NOT NULL
);

CREATE TABLE suite_versions (
    suite          TEXT NOT NULL REFERENCES suites (name),
    version        TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    canonical      TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (suite, version)
);

CREATE TABLE target_versions (
    target     TEXT NOT NULL,
    version    TEXT NOT NULL,
    canonical  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (target, version)
);

CREATE TABLE runs (
    id                INTEGER PRIMARY KEY,
    suite             TEXT NOT NULL REFERENCES suites (name),
    target            TEXT NOT NULL,
    run_trigger       TEXT NOT NULL,
    status            TEXT NOT NULL,
    started_at        TEXT NOT NULL,
    finished_at       TEXT,
    suite_version     TEXT NOT NULL,
    prompt_version    TEXT NOT NULL,
    target_version    TEXT NOT NULL,
    thresholds        TEXT NOT NULL,
    cases             INTEGER NOT NULL,
    samples           INTEGER NOT NULL,
    errors            INTEGER NOT NULL,
    pass_rate         DOUBLE PRECISION,
    mean_score        DOUBLE PRECISION,
    prompt_tokens     BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    cost_usd          DOUBLE PRECISION,
    duration_ms       BIGINT NOT NULL,
    verdict           TEXT NOT NULL,
    verdict_detail    TEXT NOT NULL,
    detail            TEXT NOT NULL,
    error_text        TEXT NOT NULL
);

CREATE INDEX runs_suite_target_id ON runs (suite, target, id);
CREATE INDEX runs_status ON runs (status);

-- A sample is keyed by its run and its position in the run (seq, assigned
-- by the store), so a batch needs no generated ids and repeated
-- (case, repeat) pairs are kept, not merged.
CREATE TABLE samples (
    run_id            BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq               INTEGER NOT NULL,
    case_id           TEXT NOT NULL,
    case_index        INTEGER NOT NULL,
    repeat_index      INTEGER NOT NULL,
    output            TEXT NOT NULL,
    finish_reason     TEXT NOT NULL,
    latency_ms        DOUBLE PRECISION,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    model             TEXT NOT NULL,
    fingerprint       TEXT NOT NULL,
    error_class       TEXT NOT NULL,
    error_text        TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    pass              BOOLEAN NOT NULL,
    score             DOUBLE PRECISION,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE assertion_results (
    run_id         BIGINT NOT NULL,
    seq            INTEGER NOT NULL,
    result_index   INTEGER NOT NULL,
    assertion_type TEXT NOT NULL,
    pass           BOOLEAN NOT NULL,
    score          DOUBLE PRECISION,
    weight         DOUBLE PRECISION,
    reason         TEXT NOT NULL,
    PRIMARY KEY (run_id, seq, result_index),
    FOREIGN KEY (run_id, seq) REFERENCES samples (run_id, seq) ON DELETE CASCADE
);

-- One row that Check rewrites to prove the database takes writes.
CREATE TABLE health_probe (
    id         INTEGER PRIMARY KEY,
    checked_at TEXT NOT NULL
);
INSERT INTO health_probe (id, checked_at) VALUES (1, '');
