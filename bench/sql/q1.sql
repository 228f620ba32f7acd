-- Q1, the PostGIS side: every incident in the 2 x 2 km box and the
-- 3-month window as a GeoJSON FeatureCollection (id, ts, category;
-- 6 decimals), built in SQL. ST_Intersects, not && alone: the GiST boxes
-- are single precision, so && alone also lets through points a metre
-- outside the box. Run with TimeZone=UTC.
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
         'type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 6)::json,
         'properties', json_build_object('ts', ts, 'category', category))), '[]'::json))::text
FROM incidents
WHERE ST_Intersects(geom, ST_MakeEnvelope(15.600, 58.400, 15.635, 58.418, 4326))
  AND ts >= '2024-01-01T00:00:00Z' AND ts < '2024-04-01T00:00:00Z';
