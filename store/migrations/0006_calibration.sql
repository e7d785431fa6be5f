-- 0006_calibration: judge calibrations. A suite's calibration set is graded
-- again whenever the identity of its judge changes (returned model, system
-- fingerprint, judge target version) or the set is edited (set_hash); each
-- grading is one row. A row and the alert it raises are written in one
-- transaction.

CREATE TABLE judge_calibrations (
    id                INTEGER PRIMARY KEY,
    suite             TEXT NOT NULL,
    judge_target      TEXT NOT NULL,
    judge_version     TEXT NOT NULL,
    judge_model       TEXT NOT NULL DEFAULT '', -- the judge identity the row is keyed on
    judge_fingerprint TEXT NOT NULL DEFAULT '',
    set_hash          TEXT NOT NULL,
    cal_trigger       TEXT NOT NULL,            -- run (after a daemon run) | manual (evald calibrate)
    run_id            BIGINT,                   -- the run that triggered it; NULL for manual
    at                TEXT NOT NULL,
    items             INTEGER NOT NULL,
    agreements        INTEGER NOT NULL,
    disagreements     INTEGER NOT NULL,
    missing           INTEGER NOT NULL,
    rate              DOUBLE PRECISION,         -- disagreements / graded items; NULL when none was graded
    max_disagreement  DOUBLE PRECISION NOT NULL,
    status            TEXT NOT NULL,            -- ok | failed | inconclusive
    detail            TEXT NOT NULL             -- JSON: item verdicts, identities seen, tokens, cost
);
CREATE INDEX judge_calibrations_last ON judge_calibrations (suite, judge_target, cal_trigger, id);
