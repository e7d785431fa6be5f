-- 0005_judge: who graded each sample. Model-graded assertions are scored by
-- a judge target, and a judge's answers can drift like any model's; keeping
-- the judge's identity and spend on the sample lets a later regrade compare
-- verdicts by judge and lets a reader see which judge a verdict came from.
-- Samples of older runs, and samples graded without a judge, read back as
-- '' and 0.
--
-- Same rules as 0001: portable statements only, one column per ALTER.

ALTER TABLE samples ADD COLUMN judge_model TEXT NOT NULL DEFAULT '';
ALTER TABLE samples ADD COLUMN judge_fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE samples ADD COLUMN judge_prompt_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE samples ADD COLUMN judge_completion_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE samples ADD COLUMN judge_cost_usd DOUBLE PRECISION;
