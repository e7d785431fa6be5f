-- The suite page's charts at any length of history. Past a few hundred runs
-- they draw time buckets, summed in SQL from one index that holds all a
-- bucket needs, so no run's row is read for them: the start time in integer
-- nanoseconds (the bucket number is integer arithmetic on it), and the CUSUM
-- statistic and alarm threshold of the verdict (NULL when the verdict has no
-- threshold). verdict_mark is 1 when the verdict pages, records a provider
-- identity change or says the pair recovered: the page reads only those
-- runs' verdicts. The columns are derived from started_at and
-- verdict_detail; triggers keep them in step with every write, so no writer
-- needs to know them.
ALTER TABLE runs ADD COLUMN started_ns INTEGER;
ALTER TABLE runs ADD COLUMN cusum_s REAL;
ALTER TABLE runs ADD COLUMN cusum_h REAL;
ALTER TABLE runs ADD COLUMN verdict_mark INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER runs_chart_insert AFTER INSERT ON runs BEGIN
	UPDATE runs SET
		started_ns = unixepoch(substr(started_at, 1, 19)) * 1000000000 + CAST(substr(started_at, 21, 9) AS INTEGER),
		cusum_s = CASE WHEN json_valid(verdict_detail) AND json_extract(verdict_detail, '$.h') > 0 THEN json_extract(verdict_detail, '$.s') END,
		cusum_h = CASE WHEN json_valid(verdict_detail) AND json_extract(verdict_detail, '$.h') > 0 THEN json_extract(verdict_detail, '$.h') END,
		verdict_mark = IFNULL(CASE WHEN json_valid(verdict_detail) THEN json_extract(verdict_detail, '$.page') = 1
			OR json_type(verdict_detail, '$.identity') = 'object'
			OR json_extract(verdict_detail, '$.kind') = 'recovered' ELSE 0 END, 0)
	WHERE id = NEW.id;
END;

CREATE TRIGGER runs_chart_update AFTER UPDATE OF started_at, verdict_detail ON runs BEGIN
	UPDATE runs SET
		started_ns = unixepoch(substr(started_at, 1, 19)) * 1000000000 + CAST(substr(started_at, 21, 9) AS INTEGER),
		cusum_s = CASE WHEN json_valid(verdict_detail) AND json_extract(verdict_detail, '$.h') > 0 THEN json_extract(verdict_detail, '$.s') END,
		cusum_h = CASE WHEN json_valid(verdict_detail) AND json_extract(verdict_detail, '$.h') > 0 THEN json_extract(verdict_detail, '$.h') END,
		verdict_mark = IFNULL(CASE WHEN json_valid(verdict_detail) THEN json_extract(verdict_detail, '$.page') = 1
			OR json_type(verdict_detail, '$.identity') = 'object'
			OR json_extract(verdict_detail, '$.kind') = 'recovered' ELSE 0 END, 0)
	WHERE id = NEW.id;
END;

-- The runs written before this migration.
UPDATE runs SET
	started_ns = unixepoch(substr(started_at, 1, 19)) * 1000000000 + CAST(substr(started_at, 21, 9) AS INTEGER),
	cusum_s = CASE WHEN json_valid(verdict_detail) AND json_extract(verdict_detail, '$.h') > 0 THEN json_extract(verdict_detail, '$.s') END,
	cusum_h = CASE WHEN json_valid(verdict_detail) AND json_extract(verdict_detail, '$.h') > 0 THEN json_extract(verdict_detail, '$.h') END,
	verdict_mark = IFNULL(CASE WHEN json_valid(verdict_detail) THEN json_extract(verdict_detail, '$.page') = 1
		OR json_type(verdict_detail, '$.identity') = 'object'
		OR json_extract(verdict_detail, '$.kind') = 'recovered' ELSE 0 END, 0);

-- The versions are in it too (about 200 bytes a run): the page marks where
-- they change, comparing each run with the one before it.
CREATE INDEX runs_pair_chart ON runs (suite, target, started_at, id, status, pass_rate, mean_score, cases, errors,
	started_ns, cusum_s, cusum_h, verdict_mark, suite_version, prompt_version, target_version);
