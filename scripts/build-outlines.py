#!/usr/bin/env python3
"""Builds Trygg's municipality outlines from SCB's RegSO 2025 areas.

    pip install shapely          # 2.x
    python3 scripts/build-outlines.py ../shared/fixtures/sweden_regso_2025.geojson.gz

Writes, next to the other fixtures:

- fixtures/sweden_municipalities.outlines: every municipality's outline, the
  dissolve of its RegSO areas by `kommunkod`, in the compact format that
  `trygg_core::service_area::outlines` reads (described there and below).
- fixtures/regso_2025_interior_points.csv: one point inside every RegSO area
  (shapely's representative point of the original polygon) with its
  municipality code, for the test that every area lies in its municipality.

The dissolve keeps each part's exterior ring only: a legal municipality
boundary has no holes, while the dissolve of independently simplified
(5 m) areas leaves tens of thousands of sliver holes between neighbours
(the largest about 0.4 km^2, in Uppsala's centre). Names come from
fixtures/sweden_kommuner_scb.geojson (code and name).

Format (all integers little-endian varints, signed ones zigzag-encoded):

    b"TRYGGOUTLINES1\\n"
    count
    count x { code: 4 ASCII bytes, name length, name (UTF-8), blob length }
    count x blob

    blob  = polygons, then per polygon: rings, then per ring: points,
            then points x (lon, lat) in millionths of a degree, the first
            absolute, each next one the difference to the one before.

Rings are stored open (the first point is not repeated). Coordinates are
WGS84 rounded to 1e-6 degree (0.1 m), as in the source file.
"""

import csv
import gzip
import json
import os
import sys

import shapely
from shapely.geometry import Polygon, shape
from shapely.geometry.polygon import orient
from shapely.ops import unary_union

MAGIC = b"TRYGGOUTLINES1\n"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")


def polygons(g):
    if g.geom_type == "Polygon":
        return [g]
    if g.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [p for part in g.geoms for p in polygons(part)]
    return []


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return varint((n << 1) if n >= 0 else ((-n << 1) - 1))


def encode(parts):
    out = bytearray(varint(len(parts)))
    for p in parts:
        out += varint(1)
        ring = list(p.exterior.coords)[:-1]
        out += varint(len(ring))
        px = py = 0
        for x, y in ring:
            qx, qy = round(x * 1e6), round(y * 1e6)
            out += zigzag(qx - px) + zigzag(qy - py)
            px, py = qx, qy
    return bytes(out)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    regso = json.load(gzip.open(sys.argv[1]))
    with open(os.path.join(FIXTURES, "sweden_kommuner_scb.geojson"), encoding="utf-8") as f:
        names = {x["properties"]["code"]: x["properties"]["name"] for x in json.load(f)["features"]}

    by_code = {}
    points = []
    for f in regso["features"]:
        p = f["properties"]
        g = shapely.make_valid(shape(f["geometry"]))
        by_code.setdefault(p["kommunkod"], []).extend(polygons(g))
        rp = shape(f["geometry"]).representative_point()
        points.append((p["regsokod"], p["kommunkod"], round(rp.x, 6), round(rp.y, 6)))

    missing = sorted(set(by_code) ^ set(names))
    if missing:
        sys.exit(f"codes in only one of the two files: {missing}")

    index = bytearray()
    blobs = bytearray()
    vertices = 0
    for code in sorted(by_code):
        # Filling the holes can swallow a part that lay inside one, so the
        # filled parts are dissolved once more.
        filled = [Polygon(p.exterior) for p in polygons(unary_union(by_code[code]))]
        parts = [orient(Polygon(p.exterior)) for p in polygons(unary_union(filled))]
        parts.sort(key=lambda p: -p.area)
        vertices += sum(len(p.exterior.coords) - 1 for p in parts)
        blob = encode(parts)
        name = names[code].encode("utf-8")
        index += code.encode("ascii") + varint(len(name)) + name + varint(len(blob))
        blobs += blob
    data = MAGIC + varint(len(by_code)) + bytes(index) + bytes(blobs)
    with open(os.path.join(FIXTURES, "sweden_municipalities.outlines"), "wb") as f:
        f.write(data)

    with open(os.path.join(FIXTURES, "regso_2025_interior_points.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["regsokod", "kommunkod", "lon", "lat"])
        w.writerows(sorted(points))

    print(f"{len(by_code)} municipalities, {vertices} vertices, {len(data)} bytes; {len(points)} RegSO points")


if __name__ == "__main__":
    main()
