-- Browsers that have logged in to an account before: the login back-off per
-- account applies only to other devices, so that someone guessing a
-- password cannot keep its owner out. Only a hash of the device secret.
CREATE TABLE known_devices (
    token_hash   TEXT PRIMARY KEY NOT NULL,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
CREATE INDEX known_devices_user ON known_devices (user_id);

-- Every API token ends. Tokens made before this have 90 days from now.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
UPDATE api_tokens SET expires_at = (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT + 90::BIGINT * 86400000;
