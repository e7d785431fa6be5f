-- Agent suites (tools and scripted conversations): a sample keeps every
-- turn it went through (the user's message, the model's final text, each
-- tool call with its arguments and result) as JSON, read whole with the
-- sample and never queried inside; '' for samples of other suites and of
-- older runs. An assertion result names the turn it checked (0: a one-turn
-- case), so reports can name the failing turn.
ALTER TABLE samples ADD COLUMN turns TEXT NOT NULL DEFAULT '';
ALTER TABLE assertion_results ADD COLUMN turn INTEGER NOT NULL DEFAULT 0;
