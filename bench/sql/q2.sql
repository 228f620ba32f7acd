-- Q2, the PostGIS side: counts per hexagon of 174 m edge (ST_HexagonGrid
-- in SWEREF 99 TM, EPSG:3006) over the whole box, for the 3-month window,
-- as a GeoJSON FeatureCollection of the non-empty hexagons with their
-- counts. Run with enable_bitmapscan=off as in the peer figure (the
-- default plan takes a bitmap of the whole window per hexagon) and jit=off
-- (faster here); both are set by bench/bench.py through PGOPTIONS.
WITH grid AS (
  SELECT i, j, geom
  FROM ST_HexagonGrid(174, ST_Transform(ST_MakeEnvelope(15.49, 58.34, 15.75, 58.48, 4326), 3006))
), counts AS (
  SELECT g.i, g.j, ST_Transform(g.geom, 4326) AS geom, count(*) AS n
  FROM grid g
  JOIN incidents p
    ON ST_Intersects(p.geom, ST_Transform(g.geom, 4326))
   AND p.ts >= '2024-01-01T00:00:00Z' AND p.ts < '2024-04-01T00:00:00Z'
  GROUP BY g.i, g.j, g.geom
)
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
         'type', 'Feature', 'geometry', ST_AsGeoJSON(geom, 6)::json,
         'properties', json_build_object('count', n))), '[]'::json))::text
FROM counts;
