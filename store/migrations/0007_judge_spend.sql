-- 0007_judge_spend: what the judge spends outside a run. A suite's
-- budget_usd_per_day caps what the suite costs in a UTC day, and its judge
-- is paid for calibrations and regrades too, not only for grading runs.
-- Calibrations kept their cost only inside their detail JSON, and regrades
-- were not recorded at all; both now have a cost_usd column the daily
-- spend sums, by suite and by the row's own time.
--
-- Same rules as 0001 (portable types, UTC fixed-width text times, one
-- column per ALTER), with one exception: the backfill below reads the
-- detail JSON with SQLite's JSON functions, which a port writes with its
-- own (PostgreSQL: detail::jsonb ->> 'cost_usd').

-- NULL: unknown (a calibration stored before this migration whose detail
-- holds no numeric cost).
ALTER TABLE judge_calibrations ADD COLUMN cost_usd DOUBLE PRECISION;

-- The cost the daemon wrote into each calibration's detail. A detail that
-- is not valid JSON, or holds no number there, is left NULL rather than
-- failing the migration (json_extract raises on malformed JSON, so the
-- CASE guards it).
UPDATE judge_calibrations SET cost_usd = json_extract(detail, '$.cost_usd')
WHERE CASE WHEN json_valid(detail) THEN json_type(detail, '$.cost_usd') IN ('integer', 'real') ELSE 0 END;

-- A suite's calibration spend since a time (the daily budget).
CREATE INDEX judge_calibrations_suite_at_cost ON judge_calibrations (suite, at, cost_usd);

-- One row per `evald regrade`: the run graded again, the judge that did
-- it, what came of it and what the judge's calls cost. A regrade leaves
-- the run, its samples and the drift state as they were; this row is its
-- only trace, kept so that its spend counts.
CREATE TABLE judge_regrades (
    id                INTEGER PRIMARY KEY,
    suite             TEXT NOT NULL,
    target            TEXT NOT NULL,    -- the regraded run's target
    run_id            BIGINT NOT NULL,  -- the regraded run
    judge_target      TEXT NOT NULL,
    judge_version     TEXT NOT NULL,
    at                TEXT NOT NULL,    -- when it ended
    status            TEXT NOT NULL,    -- agree | disagree | errored | interrupted | no_comparison
    graded            INTEGER NOT NULL,
    compared          INTEGER NOT NULL,
    pass_to_fail      INTEGER NOT NULL,
    fail_to_pass      INTEGER NOT NULL,
    prompt_tokens     BIGINT NOT NULL,  -- the judge's
    completion_tokens BIGINT NOT NULL,
    cost_usd          DOUBLE PRECISION
);
CREATE INDEX judge_regrades_suite_at_cost ON judge_regrades (suite, at, cost_usd);
