-- The service area this database serves (one row): recorded at first
-- start, changed only by `trygg service-area set`, which re-checks every
-- stored record first. Every command reads it from here.
CREATE TABLE service_area (
    id          INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    definition  TEXT NOT NULL,      -- municipalities:0580,0583 | county:05 | boundary
    name        TEXT NOT NULL,
    timezone    TEXT NOT NULL,      -- IANA name, e.g. Europe/Stockholm
    boundary    TEXT,               -- GeoJSON geometry (WGS84) of a boundary file
    set_at      INTEGER NOT NULL,
    set_by      TEXT NOT NULL
);
