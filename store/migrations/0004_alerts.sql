-- 0004_alerts: incidents (one open per suite, target and kind) and the
-- delivery outbox. Deliveries are written in the transaction that records
-- the run's verdict, and a worker sends them; a delivery is marked sent
-- only after its sink accepted it.

CREATE TABLE incidents (
    id             TEXT PRIMARY KEY,
    suite          TEXT NOT NULL,
    target         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    opened_at      TEXT NOT NULL,
    resolved_at    TEXT,          -- NULL while open
    thread_channel TEXT NOT NULL DEFAULT '',
    thread_ts      TEXT NOT NULL DEFAULT '',
    data           TEXT NOT NULL  -- the alerts package's incident, JSON
);
CREATE INDEX incidents_open ON incidents (suite, target, kind, resolved_at);

CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY, -- the idempotency key
    sink        TEXT NOT NULL,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    action      TEXT NOT NULL,
    payload     TEXT NOT NULL,    -- JSON
    created_at  TEXT NOT NULL,
    status      TEXT NOT NULL,    -- pending | sent | failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     TEXT NOT NULL,
    last_error  TEXT NOT NULL DEFAULT '',
    sent_at     TEXT,
    receipt     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deliveries_status ON deliveries (status, created_at);
