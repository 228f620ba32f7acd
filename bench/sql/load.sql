-- Q3, the PostGIS side: the CSV (id,lon,lat,ts,category) into a table
-- (id, geom 4326 point, ts timestamptz, category), then a GiST index, a
-- btree on ts, and ANALYZE. Run from the folder holding incidents.csv;
-- timed as a whole by bench/bench.py. awk turns lon,lat into EWKT on the
-- client side, in parallel with the server's COPY.
DROP TABLE IF EXISTS incidents;
CREATE TABLE incidents (
  id bigint NOT NULL,
  geom geometry(Point, 4326) NOT NULL,
  ts timestamptz NOT NULL,
  category text NOT NULL
);
\copy incidents FROM PROGRAM 'awk -F, ''NR > 1 { print $1 "\tSRID=4326;POINT(" $2 " " $3 ")\t" $4 "\t" $5 }'' incidents.csv'
CREATE INDEX incidents_geom ON incidents USING gist (geom);
CREATE INDEX incidents_ts ON incidents (ts);
ANALYZE incidents;
