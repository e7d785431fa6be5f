-- 0003_dashboard: indexes for the dashboard's reads over a year of history
-- (50 suites x 24 runs a day). Runs already carry their aggregates
-- (pass_rate, mean_score, cases, errors, cost_usd), so no new table is
-- needed: these indexes let the overview read them without touching the
-- runs' rows, whose detail and verdict JSON make them large.
--
-- Same rules as 0001: portable statements only.

-- A pair's runs by start time, covering what the overview's sparkline reads
-- (the status, the pass rate and the cases it is over; the id is the
-- rowid): the 30-day trend of a pair is a range scan of this index alone.
CREATE INDEX runs_pair_started ON runs (suite, target, started_at, status, pass_rate, cases, errors);

-- A suite's spend since a time, on every target (today's cost against the
-- daily budget, on the overview and in the scheduler's budget check).
CREATE INDEX runs_suite_started_cost ON runs (suite, started_at, cost_usd);

-- The audit entries of one kind (accepts, silences) for the suite page's
-- markers.
CREATE INDEX audit_log_action ON audit_log (action, seq);
