-- One table for every kind: the domain (crates/core) validates each kind's
-- attributes and derives the columns below, so both backends store exactly
-- the same thing and every filter is the same SQL.
CREATE TABLE features (
    id          UUID PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('incident', 'report', 'presence', 'measure', 'place', 'area')),
    geometry    TEXT NOT NULL,          -- GeoJSON geometry, WGS84, 6 decimals
    properties  TEXT NOT NULL,          -- validated attributes as JSON
    min_lon     DOUBLE PRECISION NOT NULL,
    min_lat     DOUBLE PRECISION NOT NULL,
    max_lon     DOUBLE PRECISION NOT NULL,
    max_lat     DOUBLE PRECISION NOT NULL,
    cell        BIGINT,                -- the H3 cell when a feature covers exactly one
    t_start     BIGINT,                -- epoch ms; NULL for timeless kinds (areas)
    t_end       BIGINT,                -- epoch ms; NULL while open
    tags        TEXT,                   -- ',theft,' / ',lighting,people,'
    status      TEXT,
    source      TEXT,
    source_id   TEXT,
    client_id   TEXT,
    precision_m BIGINT,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE UNIQUE INDEX features_source_key ON features (kind, source, source_id) WHERE source_id IS NOT NULL;
CREATE UNIQUE INDEX features_client_key ON features (kind, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX features_kind_time ON features (kind, t_start);
CREATE INDEX features_kind_lon ON features (kind, min_lon);

-- Cells of features that cover more than one (lines, polygons).
CREATE TABLE feature_cells (
    feature_id UUID NOT NULL REFERENCES features (id) ON DELETE CASCADE,
    cell       BIGINT NOT NULL,
    PRIMARY KEY (feature_id, cell)
);

-- A measure's status history: append-only, so the follow-up can say when
-- each measure was planned, started, done or closed.
CREATE TABLE status_changes (
    feature_id UUID NOT NULL REFERENCES features (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    status     TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (feature_id, seq)
);
