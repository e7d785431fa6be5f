-- 0005_reserved: a placeholder on branch h-calib only. Version 5 belongs to
-- the judge-columns migration of another branch; this file keeps the
-- versions gapless until that branch is merged. DELETE THIS FILE WHEN
-- MERGING (keep the other branch's 0005).

SELECT 1;
