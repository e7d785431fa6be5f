-- 0005_judge: who graded each sample, and what grading cost. Model-graded
-- assertions are scored by a judge target, and a judge's answers can drift
-- like any model's; keeping the judge's identity and spend on the sample
-- lets a later regrade compare verdicts by judge and lets a reader see which
-- judge a verdict came from. Samples of older runs, and samples graded
-- without a judge, read back as '' and 0.
--
-- A run's judge spend is kept next to its own cost_usd (which stays the
-- cost of the model under test), so the daily budget counts both from the
-- runs alone.
--
-- Same rules as 0001: portable statements only, one column per ALTER.

ALTER TABLE samples ADD COLUMN judge_model TEXT NOT NULL DEFAULT '';
ALTER TABLE samples ADD COLUMN judge_fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE samples ADD COLUMN judge_prompt_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE samples ADD COLUMN judge_completion_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE samples ADD COLUMN judge_cost_usd DOUBLE PRECISION;

ALTER TABLE runs ADD COLUMN judge_cost_usd DOUBLE PRECISION;

-- The daily-spend index of 0003, now covering the judge's cost too.
DROP INDEX runs_suite_started_cost;
CREATE INDEX runs_suite_started_cost ON runs (suite, started_at, cost_usd, judge_cost_usd);
