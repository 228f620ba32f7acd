-- What was shown once and must never change: a closed month's public
-- hexagon layer (frozen when first served after the month ended, or at
-- publishing), a period's respondent-group split (kept as first shown).
-- Written once: the first writer wins, on every instance; later changes
-- of the records show as corrections beside it.
CREATE TABLE frozen (
    name      TEXT PRIMARY KEY NOT NULL,   -- layer|incident|2026-10|r8|k5, groups|2026
    frozen_at BIGINT NOT NULL,
    content   TEXT NOT NULL               -- JSON
);
