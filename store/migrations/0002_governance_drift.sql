-- 0002_governance_drift: the hash-chained audit log and its head, threshold
-- sign-offs, silences, what the store knows of each suite (its case count
-- and whether it left the config) and the drift detector's state per
-- (suite, target).
--
-- Same rules as 0001: portable types, UTC fixed-width text times, JSON as
-- TEXT. The store stores the audit hashes it is given; it does not compute
-- them (the governance package does).

-- Append-only: rows are only ever inserted, seq 1, 2, 3 ... by the caller's
-- seal. No trigger forbids UPDATE or DELETE (that is not portable, and the
-- chain is what detects them): each row holds the previous row's hash.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    payload   TEXT NOT NULL, -- canonical JSON
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

-- The last entry's seq and hash, moved in the transaction of each append,
-- so that deleting the last entries is detectable too. seq 0: empty log.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Every sign-off is kept; a suite's current one is its newest (highest id).
CREATE TABLE signoffs (
    id        INTEGER PRIMARY KEY,
    suite     TEXT NOT NULL REFERENCES suites (name),
    set_json  TEXT NOT NULL,
    hash      TEXT NOT NULL,
    by_actor  TEXT NOT NULL,
    reason    TEXT NOT NULL,
    at        TEXT NOT NULL,
    prev_hash TEXT NOT NULL -- the replaced sign-off's hash; '' for the first
);

CREATE INDEX signoffs_suite_id ON signoffs (suite, id);

-- A silence mutes pages of suite on target from start_at (included) to
-- until_at (excluded).
CREATE TABLE silences (
    id         INTEGER PRIMARY KEY,
    suite      TEXT NOT NULL,
    target     TEXT NOT NULL,
    by_actor   TEXT NOT NULL,
    reason     TEXT NOT NULL,
    start_at   TEXT NOT NULL,
    until_at   TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE INDEX silences_until ON silences (until_at);

-- removed_at: when the suite left the config (NULL: watched). case_count:
-- its number of cases when last seen (0: not recorded yet).
ALTER TABLE suites ADD COLUMN removed_at TEXT;
ALTER TABLE suites ADD COLUMN case_count INTEGER NOT NULL DEFAULT 0;

-- The drift detector's state (JSON, owned by the drift package) and the
-- last run it has seen, written in the transaction that stores that run's
-- verdict.
CREATE TABLE drift_state (
    suite       TEXT NOT NULL REFERENCES suites (name),
    target      TEXT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    last_run_id BIGINT NOT NULL,
    PRIMARY KEY (suite, target)
);
