-- Published follow-ups: the frozen numbers of a period. Never updated:
-- later changes show as corrections against these.
CREATE TABLE followups (
    period       TEXT PRIMARY KEY NOT NULL,   -- 2026-10, 2026-Q3, 2026-T2, 2026
    published_at INTEGER NOT NULL,
    published_by TEXT NOT NULL,
    figures      TEXT NOT NULL                -- the FollowUp as JSON
);
