"""OWSLib and GDAL against a running Trygg: every collection, anonymously
and with a token. Fails (exit 1) on any mismatch.

    python3 tests/clients/owslib_gdal.py BASE_URL TOKEN OUT_DIR

- OWSLib (`owslib.ogcapi.features.Features`, which asks for `{root}/`)
  lists the collections and pages through every one; the features it gets
  must number what the server's `numberMatched` says.
- GDAL's `ogr2ogr` copies every collection into a GeoPackage (HTTP Basic:
  any username, the token as the password); each table must hold every
  feature, with the geometry type the collection declares.
- A SWEREF 99 TM answer (`crs=EPSG:3006`, northing then easting) must
  equal GDAL's own projection of the CRS84 answer, axes swapped.
"""

import json
import os
import sqlite3
import subprocess
import sys
import urllib.request

from owslib.ogcapi.features import Features

base, token, out = sys.argv[1], sys.argv[2], sys.argv[3]
ogc = base.rstrip("/") + "/ogc"
failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print("FAIL", what, flush=True)


def get_json(url, auth=True):
    req = urllib.request.Request(url)
    if auth:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        return json.load(r), dict(r.headers)


def matched(cid, auth=True):
    return get_json(f"{ogc}/collections/{cid}/items?limit=0", auth)[0]["numberMatched"]


def owslib_run(label, headers):
    api = Features(ogc, headers=headers)
    ids = [c["id"] for c in api.collections()["collections"]]
    print(f"OWSLib {label}: {len(ids)} collections", flush=True)
    for cid in ids:
        meta = api.collection(cid)
        check(meta.get("geometryType") is not None, f"OWSLib {label} {cid}: declares a geometry type")
        got, offset_params = 0, {"limit": 1000}
        page = api.collection_items(cid, **offset_params)
        while True:
            got += len(page["features"])
            nxt = [l["href"] for l in page.get("links", []) if l.get("rel") == "next"]
            if not nxt:
                break
            req = urllib.request.Request(nxt[0], headers=headers)
            with urllib.request.urlopen(req) as r:
                page = json.load(r)
        want = page.get("numberMatched")
        check(got == want, f"OWSLib {label} {cid}: {got} features read, numberMatched {want}")
        print(f"  {cid}: {got} features", flush=True)
    return ids


anonymous = owslib_run("anonymously", {})
check(len(anonymous) > 0 and all(c.startswith("public-") for c in anonymous), "anonymous callers see only the public collections")
with_token = owslib_run("with a token", {"Authorization": "Bearer " + token})
check(len(with_token) > len(anonymous), "a token sees more collections")

GPKG_TYPES = {"Point": "POINT", "LineString": "LINESTRING", "Polygon": "POLYGON", "MultiPolygon": "MULTIPOLYGON"}
env = dict(os.environ, GDAL_HTTP_AUTH="BASIC", GDAL_HTTP_USERPWD="qgis:" + token)
print(f"GDAL ogr2ogr: {len(with_token)} collections", flush=True)
for cid in with_token:
    meta, _ = get_json(f"{ogc}/collections/{cid}")
    gpkg = os.path.join(out, f"gdal-{cid}.gpkg")
    if os.path.exists(gpkg):
        os.remove(gpkg)
    r = subprocess.run(["ogr2ogr", "-f", "GPKG", gpkg, "OAPIF:" + ogc, cid], env=env, capture_output=True, text=True)
    check(r.returncode == 0, f"ogr2ogr {cid}: {r.stderr.strip()[:300]}")
    if r.returncode != 0:
        continue
    db = sqlite3.connect(gpkg)
    tables = [t for (t,) in db.execute("SELECT table_name FROM gpkg_contents")]
    want = matched(cid)
    if not tables:
        check(want == 0, f"ogr2ogr {cid}: no table, {want} features on the server")
        print(f"  {cid}: empty, no table", flush=True)
        continue
    n = db.execute(f'SELECT count(*) FROM "{tables[0]}"').fetchone()[0]
    gtype = db.execute("SELECT geometry_type_name FROM gpkg_geometry_columns").fetchone()
    check(n == want, f"ogr2ogr {cid}: {n} rows in the GeoPackage, numberMatched {want}")
    if n > 0:
        declared = GPKG_TYPES[meta["geometryType"]]
        check(gtype is not None and gtype[0] in (declared, "MULTI" + declared), f"ogr2ogr {cid}: table type {gtype}, declared {declared}")
    print(f"  {cid}: {n} rows, {gtype[0] if gtype else None}", flush=True)

# Part 2: SWEREF 99 TM is northing, easting; compare with GDAL's projection.
sweref, headers = get_json(f"{ogc}/collections/incidents/items?limit=20&crs=http://www.opengis.net/def/crs/EPSG/0/3006")
check(headers.get("Content-Crs", headers.get("content-crs")) == "<http://www.opengis.net/def/crs/EPSG/0/3006>", "Content-Crs names EPSG:3006")
wgs, _ = get_json(f"{ogc}/collections/incidents/items?limit=20")
src = os.path.join(out, "crs84.geojson")
with open(src, "w") as fh:
    json.dump({"type": "FeatureCollection", "features": wgs["features"]}, fh)
dst = os.path.join(out, "gdal-3006.geojson")
if os.path.exists(dst):
    os.remove(dst)
subprocess.run(["ogr2ogr", "-f", "GeoJSON", "-s_srs", "EPSG:4326", "-t_srs", "EPSG:3006", "-lco", "RFC7946=NO", "-lco", "COORDINATE_PRECISION=3", dst, src], check=True)
with open(dst) as fh:
    gdal = {f["properties"].get("id", f.get("id")): f["geometry"]["coordinates"] for f in json.load(fh)["features"]}
by_id = {f["id"]: f["geometry"]["coordinates"] for f in sweref["features"]}
worst = 0.0
for f in wgs["features"]:
    e, n = gdal.get(f["id"], [None, None])[:2] if f["id"] in gdal else (None, None)
    if e is None:
        continue
    north, east = by_id[f["id"]]
    worst = max(worst, abs(north - n), abs(east - e))
check(len(gdal) > 0 and worst < 0.05, f"EPSG:3006 answers equal GDAL's projection (northing, easting): worst {worst:.3f} m over {len(gdal)} points")
print(f"CRS: EPSG:3006 vs GDAL over {len(gdal)} points, worst difference {worst:.4f} m", flush=True)

print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
