-- The second factor of local accounts (RFC 6238). The secret must be read
-- to check a code, so it is kept as it is (base32); it is never logged,
-- exported or shown again after enrolment. `confirmed_at` is NULL while
-- an enrolment waits for its first code. `last_step` is the time step of
-- the last accepted code: no code of that step or an older one is taken
-- again (a replay).
CREATE TABLE second_factors (
    user_id      UUID PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    confirmed_at BIGINT,
    last_step    BIGINT
);

-- Single-use codes for a lost phone: only their SHA-256 (they are random
-- and long enough that a fast hash does not help a guesser).
CREATE TABLE recovery_codes (
    user_id   UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);
