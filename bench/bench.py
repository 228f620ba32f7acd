#!/usr/bin/env python3
"""Trygg against PostGIS on the peers' benchmark (shared/bench/README.md),
in one run on this machine. Called by bench/run.sh, which installs wrk and
PostGIS and builds the release binary first; see README "Benchmarks".

    python3 bench/bench.py [N] [--sizes 100000,1000000,10000000]

Exit status: 0 when every step ran and every cross-check held (targets may
still be missed: the table says so), 1 when a step failed or overran its
time limit, 2 when a cross-check failed or a load run saw errors.
"""
import argparse
import datetime
import json
import math
import os
import shutil
import sys
import time
import tempfile
import urllib.parse
from pathlib import Path


sys.dont_write_bytecode = True  # no __pycache__ in bench/
from common import (BENCH, ROOT, TRYGG, Cleanup, Postgres, StepFailed, Trygg, host_facts, http, log, median,
                    timed, wrk)

Q1_BBOX = "15.600,58.400,15.635,58.418"
BOX = "15.49,58.34,15.75,58.48"
WINDOW = "2024-01-01T00:00:00Z/2024-04-01T00:00:00Z"
Q1_PATH = f"/api/v1/layers/incidents/points?bbox={Q1_BBOX}&datetime={WINDOW}"
Q2_PATH = f"/api/v1/layers/incidents/hexagons?resolution=9&bbox={BOX}&datetime={WINDOW}"
PUBLIC_PATH = "/api/v1/public/layers/incidents/hexagons?period=2024-12"
# The analyses of the targets: 12 months at level 9 (the last year
# of the data) and emerging hot spots at level 10 over 36 months.
YEAR = "2024-01-01T00:00:00Z/2025-01-01T00:00:00Z"
ANALYSES = [
    ("picture, 12 months, level 9", f"/api/v1/analysis/picture?resolution=9&datetime={YEAR}", 1000),
    ("hot spots (Gi*), 12 months, level 9", f"/api/v1/analysis/hotspots?resolution=9&datetime={YEAR}", 1000),
    ("emerging hot spots, 36 months, level 9", "/api/v1/analysis/emerging?resolution=9&months=36&end=2024-12",
     1000),
    ("emerging hot spots, 36 months, level 10", "/api/v1/analysis/emerging?resolution=10&months=36&end=2024-12",
     2000),
    ("yearly report, 2024", "/api/v1/analysis/yearly?year=2024", 1000),
]
PG_Q1_OPTS = "-c timezone=UTC"
PG_Q2_OPTS = "-c timezone=UTC -c enable_bitmapscan=off -c jit=off"
# The peers on this machine at 1M (shared/bench/README.md); not run here.
PEER = {
    "pg_q1_ms": 21, "pg_q1_qps": 52, "numpy_q1_ms": 14, "pygeoapi_100": 46, "pygeoapi_1000": 28,
    "pg_q2_ms": 1080, "numpy_q2_ms": 96, "pg_q3_s": 3.6, "martin_uncached": 115, "martin_cached": 18600,
}


def tile_of(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def scaled(n, per_million, floor):
    return int(floor + per_million * n / 1_000_000)


class Bench:
    def __init__(self, args):
        self.args = args
        self.cleanup = Cleanup()
        self.problems = []   # cross-checks that failed, load runs with errors
        self.notes = []

    def problem(self, msg):
        log("PROBLEM: " + msg)
        self.problems.append(msg)

    # --- one size ---------------------------------------------------------

    def postgis(self, n, csv, r):
        pg = self.pg
        log(f"PostGIS: COPY + GiST + btree(ts) + ANALYZE of {n:,} rows")
        (self.work / "incidents.csv").unlink(missing_ok=True)
        (self.work / "incidents.csv").symlink_to(csv)
        r["pg_q3_s"], _ = timed("PostGIS load (Q3)", ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
                                                      str(BENCH / "sql" / "load.sql")],
                                scaled(n, 300, 120), env=pg.env, cwd=self.work)
        rows = int(pg.psql("count rows", "SELECT count(*) FROM incidents", 300))
        if rows != n:
            self.problem(f"PostGIS holds {rows:,} rows, not {n:,}")
        r["window"] = int(pg.psql("count window", "SELECT count(*) FROM incidents WHERE ts >= '2024-01-01T00:00:00Z' "
                                  "AND ts < '2024-04-01T00:00:00Z'", 300))
        fc = json.loads(pg.psql_file("PostGIS Q1 (answer)", BENCH / "sql" / "q1.sql", 300, PG_Q1_OPTS))
        r["pg_q1_features"] = len(fc["features"])
        r["pg_q1_set"] = sorted((round(f["geometry"]["coordinates"][0], 6), round(f["geometry"]["coordinates"][1], 6),
                                 f["properties"]["ts"].replace("+00:00", "Z"), f["properties"]["category"])
                                for f in fc["features"])
        fc = json.loads(pg.psql_file("PostGIS Q2 (answer)", BENCH / "sql" / "q2.sql", scaled(n, 120, 120), PG_Q2_OPTS))
        r["pg_q2_cells"] = len(fc["features"])
        r["pg_q2_sum"] = sum(f["properties"]["count"] for f in fc["features"])
        log(f"PostGIS: Q1 {r['pg_q1_features']:,} features; Q2 {r['pg_q2_cells']:,} hexagons, sum "
            f"{r['pg_q2_sum']:,}; {r['window']:,} incidents in the window")
        if r["pg_q2_sum"] != r["window"]:
            self.problem(f"{n:,}: PostGIS Q2 counts sum to {r['pg_q2_sum']:,}, the window holds {r['window']:,}")
        ls = self.args.latency_seconds
        log(f"PostGIS: Q1 median ({ls} s, one client)")
        _, lat = pg.pgbench("PostGIS Q1 median", BENCH / "sql" / "q1.sql", clients=1, seconds=ls,
                            options=PG_Q1_OPTS, log_dir=self.work)
        r["pg_q1_ms"], r["pg_q1_runs"] = median(lat), len(lat)
        if r["full"]:
            log(f"PostGIS: Q1 with 2 clients ({self.args.seconds} s)")
            r["pg_q1_qps"], _ = pg.pgbench("PostGIS Q1 2 clients", BENCH / "sql" / "q1.sql", clients=2,
                                           seconds=self.args.seconds, options=PG_Q1_OPTS)
        runs = 5 if n <= 1_000_000 else 3
        log(f"PostGIS: Q2 median of {runs} runs")
        _, lat = pg.pgbench("PostGIS Q2 median", BENCH / "sql" / "q2.sql", clients=1, transactions=runs,
                            options=PG_Q2_OPTS, log_dir=self.work)
        r["pg_q2_ms"], r["pg_q2_runs"] = median(lat), len(lat)
        pg.psql("drop table", "DROP TABLE incidents", 300)

    def trygg(self, n, csv, r):
        db = self.work / f"trygg-{n}.db"
        t = Trygg(db, self.cleanup, self.work / f"trygg-{n}.log")
        log(f"Trygg: import of {n:,} rows")
        r["trygg_q3_s"], out = timed("trygg import (Q3)", [str(TRYGG), "import", "--database-url", f"sqlite:{db}",
                                                           "--kind", "incidents", "--format", "csv", str(csv)],
                                     scaled(n, 900, 120), env=dict(os.environ, TRYGG_LOG="warn"))
        if f"{n} inserted" not in out.stdout:
            self.problem(f"trygg import said: {out.stdout.strip()[-300:]}")
        # The figure is 1M incidents plus 200k presence logs: the
        # presence is imported too, so start-up and memory carry both.
        presence = max(1_000, n // 5)
        pcsv = self.work / f"presence-{n}.csv"
        timed("generate presence", [sys.executable, str(BENCH / "generate.py"), str(presence), "--presence",
                                    "-o", str(pcsv)], scaled(n, 60, 60))
        r["presence"] = presence
        r["trygg_presence_import_s"], out = timed(
            "trygg import presence", [str(TRYGG), "import", "--database-url", f"sqlite:{db}", "--kind", "presence",
                                      "--format", "csv", str(pcsv)], scaled(n, 300, 120),
            env=dict(os.environ, TRYGG_LOG="warn"))
        if f"{presence} inserted" not in out.stdout:
            self.problem(f"trygg import of presence said: {out.stdout.strip()[-300:]}")
        if not self.args.keep:
            pcsv.unlink()
        if r["full"]:
            # The districts, so the public layer does its per-district suppression.
            t.cli("import districts", ["import", "--kind", "areas", "--format", "geojson",
                                       str(ROOT / "fixtures" / "linkoping_regso_2025.geojson")], 300)
        token = t.token("bench-planner", "planner", "read")
        auth = f"Authorization: Bearer {token}"
        hdr = {"Authorization": f"Bearer {token}"}
        log("Trygg: start-up until /readyz answers 200")
        r["startup_s"] = t.serve(timeout=scaled(n, 120, 120))
        r["rss_loaded"], r["hwm_loaded"] = t.memory()
        base = t.base
        log(f"Trygg: up in {r['startup_s']:.2f} s, VmRSS {r['rss_loaded']:.0f} MB")

        # Cross-checks against PostGIS.
        st, _, body = http(base + Q1_PATH, hdr, timeout=60)
        r["q1_status"] = st
        if st == 200:
            fc = json.loads(body)
            r["trygg_q1_features"] = len(fc["features"])
            mine = sorted((round(f["geometry"]["coordinates"][0], 6), round(f["geometry"]["coordinates"][1], 6),
                           f["properties"].get("time"), f["properties"].get("category")) for f in fc["features"])
            if len(mine) != r["pg_q1_features"]:
                self.problem(f"{n:,}: Q1 has {len(mine):,} features in Trygg, {r['pg_q1_features']:,} in PostGIS")
            elif mine != r["pg_q1_set"]:
                diff = set(mine) ^ set(r["pg_q1_set"])
                self.problem(f"{n:,}: Q1 features differ between Trygg and PostGIS (position, time, category), "
                             f"e.g. {sorted(diff)[:3]}")
        elif st == 404:
            log("Trygg: the Q1 endpoint answers 404: reported as missing")
        else:
            self.problem(f"{n:,}: the Q1 endpoint answered {st}: {body[:300]!r}")
        del r["pg_q1_set"]
        st, _, body = http(base + Q2_PATH, hdr, timeout=60)
        if st != 200:
            raise StepFailed(f"the hexagon layer answered {st}: {body[:300]!r}")
        fc = json.loads(body)
        r["trygg_q2_cells"] = len(fc["features"])
        r["trygg_q2_sum"] = sum(f["properties"]["count"] for f in fc["features"])
        if r["trygg_q2_sum"] != r["window"]:
            self.problem(f"{n:,}: Trygg Q2 counts sum to {r['trygg_q2_sum']:,}, the window holds {r['window']:,}")

        ls, s = self.args.latency_seconds, self.args.seconds
        if r["q1_status"] == 200:
            log("Trygg: Q1 median (one connection) and throughput (wrk -t2 -c2)")
            r["q1_lat"] = self.load("Q1 one connection", base + Q1_PATH, [auth], 1, 1, ls)
            if r["full"]:
                r["q1_tp"] = self.load("Q1 two connections", base + Q1_PATH, [auth], 2, 2, s)
        log("Trygg: Q2 median (one connection)" + (" and throughput" if r["full"] else ""))
        r["q2_lat"] = self.load("Q2 one connection", base + Q2_PATH, [auth], 1, 1, ls)
        if r["full"]:
            r["q2_tp"] = self.load("Q2 two connections", base + Q2_PATH, [auth], 2, 2, s)
            self.ogc(base, hdr, auth, r)
            self.public(base, r)
            self.tile(base, hdr, auth, r)
        self.analyses(base, hdr, r)
        r["rss_end"], r["hwm_end"] = t.memory()
        code = t.stop()
        if code != 0:
            self.problem(f"trygg serve exited with {code} on SIGTERM")
        db_files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        r["trygg_db_mb"] = sum(p.stat().st_size for p in db_files if p.exists()) / 1e6
        if not self.args.keep:
            for p in db_files:
                p.unlink(missing_ok=True)

    def load(self, name, url, headers, threads, conns, seconds, script="get.lua", args=()):
        # wrk's time limit per request is the server's own (30 s): a slow answer
        # counts in the latency, not as an error.
        res = wrk(name, url, script=script, threads=threads, conns=conns, seconds=seconds, headers=headers, args=args,
                  timeout_s="30s")
        if res["errors"]:
            self.problem(f"{name}: {res['errors']} errors (non-2xx/3xx {res['err_status']}, timeouts "
                         f"{res['err_timeout']}, socket {res['err_connect'] + res['err_read'] + res['err_write']})")
        log(f"  {name}: {res['rps']:.1f} req/s, p50 {res['p50_ms']:.2f} ms, p99 {res['p99_ms']:.2f} ms")
        return res

    def analyses(self, base, hdr, r):
        """Each analysis once cold (the first answer after start-up, which
        computes) and once again (an answer cache, where there is one)."""
        r["analyses"] = {}
        for name, path, _ in ANALYSES:
            times = []
            for _ in range(2):
                t0 = time.perf_counter()
                st, _, body = http(base + path, hdr, timeout=300)
                times.append((time.perf_counter() - t0) * 1000)
                if st != 200:
                    self.problem(f"analysis {name} answered {st}: {body[:200]!r}")
                    break
            else:
                r["analyses"][name] = times
                log(f"Trygg: analysis {name}: {times[0]:,.0f} ms, again {times[1]:,.0f} ms")

    def ogc(self, base, hdr, auth, r):
        st, _, body = http(base + "/ogc/collections", hdr)
        ids = [c["id"] for c in json.loads(body)["collections"]] if st == 200 else []
        cid = "incidents" if "incidents" in ids else None
        r["ogc_collection"] = cid
        if not cid:
            self.problem(f"no `incidents` collection in /ogc/collections ({st}: {ids})")
            return
        for limit in (100, 1000):
            path = f"/ogc/collections/{cid}/items?bbox={Q1_BBOX}&datetime={WINDOW}&limit={limit}"
            st, _, body = http(base + path, hdr, timeout=60)
            got = len(json.loads(body)["features"]) if st == 200 else None
            want = min(limit, r.get("pg_q1_features", limit))
            if got != want:
                self.problem(f"OGC items limit={limit}: {st}, {got} features, expected {want}")
            log(f"Trygg: OGC items limit={limit}")
            r[f"ogc_{limit}"] = self.load(f"OGC items limit={limit}", base + path, [auth], 2, 2, self.args.seconds)

    def public(self, base, r):
        url = base + PUBLIC_PATH
        st, h, body = http(url, {"X-Forwarded-For": "192.0.2.1"})
        if st != 200:
            self.problem(f"public layer answered {st}: {body[:200]!r}")
            return
        etag = h.get("etag")
        r["public_cells"] = len(json.loads(body)["features"])
        r["public_bytes"] = len(body)
        st304, _, _ = http(url, {"X-Forwarded-For": "192.0.2.2", "If-None-Match": etag})
        if st304 != 304:
            self.problem(f"public layer with If-None-Match answered {st304}, not 304")
        _, hg, bodyg = http(url, {"X-Forwarded-For": "192.0.2.3", "Accept-Encoding": "gzip"})
        r["public_gzip"] = hg.get("content-encoding", "none")
        r["public_gzip_bytes"] = len(bodyg)
        log(f"Trygg: public layer ({r['public_cells']} hexagons, {len(body):,} B; gzip asked: "
            f"content-encoding {r['public_gzip']})")
        path = urllib.parse.urlsplit(url)
        p = path.path + "?" + path.query
        base_url = f"{path.scheme}://{path.netloc}"
        s = self.args.seconds
        r["public_plain"] = self.load("public layer", base_url, [], 2, 2, s, "public.lua", [p])
        r["public_inm"] = self.load("public layer, If-None-Match", base_url, [], 2, 2, s, "public.lua",
                                    [p, f"If-None-Match: {etag}"])
        r["public_gz"] = self.load("public layer, gzip", base_url, [], 2, 2, s, "public.lua",
                                   [p, "Accept-Encoding: gzip"])

    def tile(self, base, hdr, auth, r):
        x, y = tile_of(15.62, 58.41, 14)
        path = f"/tiles/incidents/14/{x}/{y}.mvt"
        r["tile_path"] = path
        st, h, body = http(base + path, hdr)
        r["tile_status"] = st
        if st != 200:
            log(f"Trygg: {path} answers {st}" + (": reported as missing" if st == 404 else ""))
            return
        r["tile_bytes"] = len(body)
        log(f"Trygg: z14 tile ({len(body):,} B, {h.get('content-type')})")
        r["tile"] = self.load("z14 tile", base + path, [auth], 2, 2, self.args.seconds)

    # --- the whole run ----------------------------------------------------

    def run(self):
        a = self.args
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.facts = host_facts()
        if a.workdir:
            self.work = Path(a.workdir)
            self.work.mkdir(parents=True, exist_ok=True)
        else:
            self.work = Path(tempfile.mkdtemp(prefix="trygg-bench-"))
        if not a.keep:
            self.cleanup.add("work folder", lambda: shutil.rmtree(self.work, ignore_errors=True))
        log(f"work folder {self.work}")
        self.pg = Postgres(self.work, self.cleanup)
        log(f"PostgreSQL 15 + PostGIS on 127.0.0.1:{self.pg.port}")
        self.pg.start()
        self.pg_version = self.pg.psql("versions", "SELECT split_part(version(), ' ', 2) || ' + PostGIS ' || "
                                       "postgis_lib_version()", 30).strip()
        ref = 1_000_000 if 1_000_000 in a.sizes else a.sizes[-1]
        self.results = {}
        for n in a.sizes:
            r = {"n": n, "full": n == ref}
            self.results[n] = r
            csv = self.work / f"incidents-{n}.csv"
            log(f"=== {n:,} incidents: generating (bench/generate.py, seeded)")
            r["gen_s"], _ = timed("generate", [sys.executable, str(BENCH / "generate.py"), str(n), "-o", str(csv)],
                                  scaled(n, 120, 60))
            self.postgis(n, csv, r)
            self.trygg(n, csv, r)
            if not a.keep:
                csv.unlink()
        self.ref = ref

    # --- the report -------------------------------------------------------

    def report(self):
        r = self.results[self.ref]
        f = self.facts
        lines = []
        out = lines.append
        out(f"Trygg benchmark, {self.started:%Y-%m-%d %H:%M} UTC, host {f['host']}: {f['cores']} cores ({f['cpu']}), "
            f"{f['mem']}, commit {f['commit']}, load average {f['load']} at the start")
        out(f"Trygg release build, SQLite; {self.pg_version} (default settings, fsync on) on the same machine, "
            f"same data, same run. Load generator wrk -t2 -c2 on the same 2 cores (as the peers were measured).")
        out(f"Data: bench/generate.py {r['n']:,} (seeded; the recipe of shared/bench/README.md). "
            f"Q1 window holds {r['window']:,} incidents; Q1 {r['pg_q1_features']:,} features "
            f"(recipe: about 2,900 at 1M); Q2 {r.get('trygg_q2_cells', 0):,} H3 res-9 cells in Trygg, "
            f"{r['pg_q2_cells']:,} ST_HexagonGrid(174 m) cells in PostGIS (recipe: about 3,000).")
        out(f"Trygg also holds {r['presence']:,} presence logs (bench/generate.py --presence, imported in "
            f"{r['trygg_presence_import_s']:,.1f} s), as the performance targets ask; start-up and memory carry both.")
        out("Medians: 'one connection' = wrk -t1 -c1 (Trygg) / pgbench -c1 (PostGIS), back to back, "
            f"{self.args.latency_seconds} s; Q2 PostGIS median of {r['pg_q2_runs']} runs. Peer figures are "
            "the peers' on this machine at 1M (shared/bench/README.md): pygeoapi, Martin and the numpy peers are "
            "NOT run here.")
        out("")
        rows = []

        def row(q, trygg, other, ratio, target, ok):
            rows.append((q, trygg, other, ratio, target, "" if ok is None else ("met" if ok else "MISSED")))

        def ms(x):
            return f"{x:,.1f} ms" if x >= 10 else f"{x:,.2f} ms"

        def rps(x):
            return f"{x:,.0f} req/s" if x >= 10 else f"{x:,.1f} req/s"

        q2 = r["q2_lat"]["p50_ms"]
        row("Q2 hexagons, whole box, 3 months, median", ms(q2), f"PostGIS {ms(r['pg_q2_ms'])}",
            f"{r['pg_q2_ms'] / q2:,.0f}x", ">= 100x PostGIS", r["pg_q2_ms"] / q2 >= 100)
        row("Q2 hexagons, vs in-memory numpy peer", ms(q2), f"peer {PEER['numpy_q2_ms']} ms (not run)",
            f"{PEER['numpy_q2_ms'] / q2:,.1f}x", "", None)
        if "q2_tp" in r:
            row("Q2 hexagons, 2 connections", rps(r["q2_tp"]["rps"]), "", "", "", None)
        if "q1_lat" in r:
            q1 = r["q1_lat"]["p50_ms"]
            row(f"Q1 points, 2x2 km, 3 months ({r['trygg_q1_features']:,} f.), median", ms(q1),
                f"PostGIS {ms(r['pg_q1_ms'])}", f"{r['pg_q1_ms'] / q1:,.1f}x", ">= 10x PostGIS",
                r["pg_q1_ms"] / q1 >= 10)
            row("Q1 points, vs in-memory numpy peer", ms(q1), f"peer {PEER['numpy_q1_ms']} ms (not run)",
                f"{PEER['numpy_q1_ms'] / q1:,.1f}x", "", None)
            if "q1_tp" in r:
                tp = r["q1_tp"]["rps"]
                row("Q1 points, 2 connections", rps(tp), f"PostGIS {r['pg_q1_qps']:,.0f} q/s (pgbench -c2)",
                    f"{tp / r['pg_q1_qps']:,.1f}x", ">= 1,000 req/s", tp >= 1000)
                row("Q1 points, 2 connections, vs pygeoapi", rps(tp), f"pygeoapi {PEER['pygeoapi_100']} req/s "
                    "(not run)", f"{tp / PEER['pygeoapi_100']:,.1f}x", "> 20x pygeoapi", tp / PEER["pygeoapi_100"] > 20)
        else:
            row("Q1 points (/api/v1/layers/incidents/points)", f"missing ({r['q1_status']})", "", "",
                ">= 10x PostGIS; >= 1,000 req/s", False)
        for limit in (100, 1000):
            if f"ogc_{limit}" in r:
                x = r[f"ogc_{limit}"]["rps"]
                peer = PEER[f"pygeoapi_{limit}"]
                row(f"OGC items, Q1 box and window, limit={limit}", rps(x), f"pygeoapi {peer} req/s (not run)",
                    f"{x / peer:,.1f}x", "", None)
        row(f"Q3 import {r['n']:,} CSV rows, indexed", f"{r['trygg_q3_s']:,.1f} s",
            f"PostGIS {r['pg_q3_s']:,.1f} s (COPY+GiST+btree+ANALYZE)", f"{r['trygg_q3_s'] / r['pg_q3_s']:,.2f}x time",
            "no slower than PostGIS", r["trygg_q3_s"] <= r["pg_q3_s"])
        row(f"resident memory serving {r['n']:,} (VmRSS / VmHWM)", f"{r['rss_end']:,.0f} / {r['hwm_end']:,.0f} MB",
            f"after load {r['rss_loaded']:,.0f} / {r['hwm_loaded']:,.0f} MB", "", "<= 300 MB (peak)",
            r["hwm_end"] <= 300)
        row("start-up until /readyz answers 200", f"{r['startup_s']:,.2f} s", "", "", "<= 5 s", r["startup_s"] <= 5)
        for name, _, limit in ANALYSES:
            if name in r.get("analyses", {}):
                first, again = r["analyses"][name]
                row(f"analysis: {name}, first / again", f"{first:,.0f} / {again:,.0f} ms", "", "",
                    f"<= {limit / 1000:g} s", first <= limit)
        if "public_plain" in r:
            pub = [("public layer, cached (200)", r["public_plain"]),
                   ("public layer, If-None-Match (304)", r["public_inm"]),
                   (f"public layer, Accept-Encoding: gzip (got: {r['public_gzip']})", r["public_gz"])]
            for name, x in pub:
                row(name, rps(x["rps"]), "", "", ">= 5,000 req/s", x["rps"] >= 5000)
        if r.get("tile_status") == 200:
            x = r["tile"]["rps"]
            row(f"z14 tile, centre ({r['tile_bytes']:,} B)", rps(x), f"Martin {PEER['martin_uncached']} req/s "
                "uncached (not run)", f"{x / PEER['martin_uncached']:,.1f}x", "", None)
        elif "tile_status" in r:
            row("z14 tile, centre (/tiles/incidents/14/…)",
                "missing (404)" if r["tile_status"] == 404 else f"answered {r['tile_status']}",
                f"Martin {PEER['martin_uncached']} req/s uncached (not run)", "", "", None)
        heads = ("question", "Trygg", "PostGIS (same run) or peer", "ratio", "target", "")
        widths = [max(len(str(x[i])) for x in rows + [heads]) for i in range(6)]
        fmt = "  ".join(f"{{:{'<' if i in (0, 2, 4) else '>'}{w}}}" for i, w in enumerate(widths))
        out(fmt.format(*heads).rstrip())
        out("  ".join("-" * w for w in widths))
        for x in rows:
            out(fmt.format(*x).rstrip())
        if len(self.results) > 1:
            out("")
            out("Scaling (Q1/Q2 medians on one connection; ratios are PostGIS time / Trygg time):")
            sh = ("incidents", "Q1 feat.", "Q1 Trygg", "Q1 PostGIS", "ratio", "Q2 Trygg", "Q2 PostGIS", "ratio",
                  "import Trygg", "PostGIS", "start-up", "VmHWM")
            srows = []
            for n, x in self.results.items():
                q1t = x.get("q1_lat", {}).get("p50_ms")
                srows.append((f"{n:,}", f"{x['pg_q1_features']:,}", ms(q1t) if q1t else "missing", ms(x["pg_q1_ms"]),
                              f"{x['pg_q1_ms'] / q1t:,.1f}x" if q1t else "", ms(x["q2_lat"]["p50_ms"]),
                              ms(x["pg_q2_ms"]), f"{x['pg_q2_ms'] / x['q2_lat']['p50_ms']:,.0f}x",
                              f"{x['trygg_q3_s']:,.1f} s", f"{x['pg_q3_s']:,.1f} s", f"{x['startup_s']:,.1f} s",
                              f"{x['hwm_end']:,.0f} MB"))
            w = [max(len(str(y[i])) for y in srows + [sh]) for i in range(len(sh))]
            out("  ".join(f"{h:>{w[i]}}" for i, h in enumerate(sh)))
            for y in srows:
                out("  ".join(f"{v:>{w[i]}}" for i, v in enumerate(y)))
        out("")
        out("Cross-checks: " + ("Q1 features identical in Trygg and PostGIS (position, time, category); Q2 counts "
                                "sum to the incidents in the window on both sides; no load run saw an error."
                                if not self.problems else "FAILED:"))
        for p in self.problems:
            out("  - " + p)
        missed = [x[0] for x in rows if x[5] == "MISSED"]
        out(f"Targets: {sum(1 for x in rows if x[5] == 'met')} met, {len(missed)} missed"
            + (": " + "; ".join(missed) if missed else "."))
        return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description="Trygg against PostGIS on the peers' benchmark")
    p.add_argument("n", nargs="?", type=int, default=1_000_000, help="incidents (default 1000000)")
    p.add_argument("--sizes", help="comma-separated sizes for the scaling curve, e.g. 100000,1000000,10000000")
    p.add_argument("--seconds", type=int, default=10, help="duration of each throughput run (default 10)")
    p.add_argument("--latency-seconds", type=int, default=5, help="duration of each median run (default 5)")
    p.add_argument("--workdir", default=None, help="the work folder (default: a new temporary one), emptied at the end unless --keep")
    p.add_argument("--results", default=str(BENCH / "results"), help="folder for the results file")
    p.add_argument("--keep", action="store_true", help="keep the work folder (CSV, databases, logs)")
    a = p.parse_args()
    a.sizes = [int(s.replace("_", "")) for s in a.sizes.split(",")] if a.sizes else [a.n]
    if not TRYGG.exists():
        sys.exit(f"{TRYGG} is missing: run bench/run.sh (it builds it) or cargo build --release -p trygg-cli")
    b = Bench(a)
    code = 0
    try:
        b.run()
        text = b.report()
        print(text)
        Path(a.results).mkdir(parents=True, exist_ok=True)
        name = f"{b.started:%Y-%m-%d}-{b.facts['host']}"
        if len(a.sizes) > 1:
            name += "-scaling"
        path = Path(a.results) / f"{name}.txt"
        i = 2
        while path.exists():
            path = Path(a.results) / f"{name}-{i}.txt"
            i += 1
        path.write_text(text + "\n")
        print(f"\nWritten to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        code = 2 if b.problems else 0
    except StepFailed as e:
        print(f"\nbench: {e}", file=sys.stderr)
        code = 1
    finally:
        b.cleanup.run()
    sys.exit(code)


if __name__ == "__main__":
    main()
