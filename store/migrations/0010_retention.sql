-- Retention (storage.retain_samples): a run whose samples and assertion
-- results were deleted keeps its row, verdict and aggregates, and says when
-- they went (NULL: its samples are all there).
ALTER TABLE runs ADD COLUMN samples_pruned_at TEXT;

-- The retention sweep walks the runs that still have their samples, oldest
-- first.
CREATE INDEX runs_unpruned ON runs (started_at) WHERE samples_pruned_at IS NULL;

-- Passing assertion results with no reason (nine in ten of them) are kept
-- with their sample, in one compact text, instead of a row each in
-- assertion_results: "index type score weight turn" per result, results
-- separated by newlines. '' when there are none (and for older samples,
-- whose results all stay rows).
ALTER TABLE samples ADD COLUMN passed TEXT NOT NULL DEFAULT '';
