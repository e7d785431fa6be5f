-- A run's role (what it measured) becomes a column, written when the run is
-- created. Until now it was read from the detail JSON: a candidate set
-- "candidate" or gate_role "candidate"; production's side of a side-by-side
-- comparison set gate_role "side_by_side_baseline" (any other gate role
-- marked a gate's run too).
ALTER TABLE runs ADD COLUMN role TEXT NOT NULL DEFAULT 'production'
	CHECK (role IN ('production', 'candidate', 'reference'));

UPDATE runs SET role = CASE
		WHEN coalesce(json_extract(detail, '$.candidate'), 0) <> 0
			OR coalesce(json_extract(detail, '$.gate_role'), '') = 'candidate' THEN 'candidate'
		ELSE 'reference'
	END
	WHERE json_valid(detail) AND (coalesce(json_extract(detail, '$.candidate'), 0) <> 0
		OR coalesce(json_extract(detail, '$.gate_role'), '') <> '');

-- The pair's indexes lead with the role, so the trend, the sparkline and the
-- newest and previous production runs read production's runs alone.
DROP INDEX runs_pair_started;
CREATE INDEX runs_pair_started ON runs (suite, target, role, started_at, status, pass_rate, cases, errors);
CREATE INDEX runs_pair_role_id ON runs (suite, target, role, id);
