-- Partners of the promise, their users, sessions, API tokens, and the audit
-- log of every write.
CREATE TABLE organisations (
    id         BLOB PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id              BLOB PRIMARY KEY NOT NULL,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,          -- Argon2id, PHC string
    role            TEXT NOT NULL CHECK (role IN ('admin', 'planner', 'field')),
    can_publish     INTEGER NOT NULL DEFAULT 0,
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);

-- Only a hash of the session token is stored: a copy of the database does
-- not let anyone log in.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,             -- ',read,write,import,'
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,
    user_id         BLOB,
    username        TEXT,
    organisation_id BLOB,
    action          TEXT NOT NULL,
    kind            TEXT,
    feature_id      BLOB,
    before_json     TEXT,
    after_json      TEXT
);
CREATE INDEX audit_log_feature ON audit_log (feature_id);

ALTER TABLE features ADD COLUMN organisation_id BLOB REFERENCES organisations (id);
ALTER TABLE features ADD COLUMN created_by BLOB;
CREATE INDEX features_kind_org ON features (kind, organisation_id);
