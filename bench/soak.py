#!/usr/bin/env python3
"""The reliability soak: a mixed workload against the release binary on
loopback with the demo data, for SECONDS (default 600). Called by
bench/soak.sh (which installs wrk and builds first); see README
"Benchmarks".

Three wrk processes at once:
  public   anonymous public API reads (every public layer, the last three
           closed months, districts, measures), as many clients behind a
           proxy (X-Forwarded-For; the server runs with --trust-forwarded)
  planner  a planner's token: hexagon layers, points, lists (SQL)
  presence a field user's token: presence logs POSTed, each with a client
           id never used before
The server's RSS is sampled every 10 s. At the end: per workload req/s,
p50/p99 latency, non-2xx and socket errors; RSS first/last/max; the
presence requests left without an answer when wrk stopped are retried (as
a phone does: same client id), and the store must then hold exactly one
presence log per acknowledged write. Exit status 0 only when there was no
error of any kind; 1 when a step failed or timed out; 2 otherwise.
"""
import argparse
import csv
import datetime
import io
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path


sys.dont_write_bytecode = True  # no __pycache__ in bench/
from common import (BENCH, ROOT, TRYGG, Cleanup, StepFailed, Trygg, host_facts, http, log, parse_wrk,
                    wrk_popen)


def closed_months(now, k):
    y, m = now.year, now.month
    out = []
    for _ in range(k):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append(f"{y:04d}-{m:02d}")
    return out


def count_presence(t, prefix):
    out = t.cli("export presence", ["export", "--kind", "presence", "--format", "csv"], 600).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    return len(rows), sum(1 for r in rows if (r.get("client_id") or "").startswith(prefix + "-"))


def main():
    p = argparse.ArgumentParser(description="Trygg reliability soak")
    p.add_argument("seconds", nargs="?", type=int, default=600)
    p.add_argument("--workdir", default=None)
    p.add_argument("--results", default=str(BENCH / "results"))
    p.add_argument("--keep", action="store_true")
    a = p.parse_args()
    if not TRYGG.exists():
        sys.exit(f"{TRYGG} is missing: run bench/soak.sh (it builds it) or cargo build --release -p trygg-cli")
    cleanup = Cleanup()
    problems = []
    code = 0
    try:
        work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="trygg-soak-"))
        work.mkdir(parents=True, exist_ok=True)
        if not a.keep:
            cleanup.add("work folder", lambda: shutil.rmtree(work, ignore_errors=True))
        text = soak(a, work, cleanup, problems)
        print(text)
        Path(a.results).mkdir(parents=True, exist_ok=True)
        started = datetime.datetime.now(datetime.timezone.utc)
        name = f"{started:%Y-%m-%d}-{host_facts()['host']}-soak-{a.seconds}s"
        path = Path(a.results) / f"{name}.txt"
        i = 2
        while path.exists():
            path = Path(a.results) / f"{name}-{i}.txt"
            i += 1
        path.write_text(text + "\n")
        print(f"\nWritten to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        code = 2 if problems else 0
    except StepFailed as e:
        print(f"\nsoak: {e}", file=sys.stderr)
        code = 1
    finally:
        cleanup.run()
    sys.exit(code)


def soak(a, work, cleanup, problems):
    def problem(msg):
        log("PROBLEM: " + msg)
        problems.append(msg)

    facts = host_facts()
    started = datetime.datetime.now(datetime.timezone.utc)
    t = Trygg(work / "soak.db", cleanup, work / "serve.log")
    log("Trygg: serve --demo on a new SQLite file")
    startup = t.serve(["--demo", "--log-format", "json"], timeout=600)
    log(f"Trygg: up in {startup:.1f} s")
    planner = t.token("soak-planner", "planner", "read")
    field = t.token("soak-field", "field", "read,write")
    base = t.base
    prefix = f"soak{int(time.time())}"
    t0 = int(time.time())

    # One presence POST by hand first: the body format and the token work.
    first = (f'{{"type":"Feature","geometry":{{"type":"Point","coordinates":[15.6214,58.4108]}},'
             f'"properties":{{"unit_type":"night_walkers","started_at":"{iso(t0 - 7200)}",'
             f'"ended_at":"{iso(t0 - 6300)}","client_id":"{prefix}-0-0"}}}}')
    before_all, _ = count_presence(t, prefix)
    st, _, body = http(base + "/api/v1/presence", {"Authorization": f"Bearer {field}",
                                                   "Content-Type": "application/geo+json"}, "POST", first.encode())
    if st != 201:
        raise StepFailed(f"the first presence POST answered {st}: {body[:300]!r}")
    acked_by_hand = 1

    # The planner's mix; a path that is not there (404) is left out and said.
    now = datetime.datetime.now(datetime.timezone.utc)
    d90 = (now - datetime.timedelta(days=90)).strftime("%Y-%m-%d")
    d365 = (now - datetime.timedelta(days=365)).strftime("%Y-%m-%d")
    d2 = (now - datetime.timedelta(days=2)).strftime("%Y-%m-%d")
    planner_paths = [
        "/api/v1/layers/incidents/hexagons?resolution=9",
        f"/api/v1/layers/incidents/hexagons?resolution=8&datetime={d365}/..",
        f"/api/v1/layers/incidents/hexagons?resolution=10&bbox=15.58,58.39,15.66,58.43&datetime={d90}/..",
        f"/api/v1/layers/presence/hexagons?resolution=9&datetime={d90}/..",
        "/api/v1/layers/reports/hexagons?resolution=9",
        "/api/v1/layers/incidents/points?bbox=15.600,58.400,15.635,58.418",
        f"/api/v1/layers/incidents/points?bbox=15.58,58.39,15.66,58.43&datetime={d90}/..",
        "/api/v1/incidents?bbox=15.60,58.40,15.64,58.42&limit=100",
        f"/api/v1/presence?datetime={d2}/..&limit=100",
        "/api/v1/measures?limit=100",
        "/api/v1/reports?limit=100",
    ]
    public_paths = [f"/api/v1/public/layers/{k}/hexagons?period={m}"
                    for k in ("incidents", "reports", "presence", "measures") for m in closed_months(now, 3)]
    public_paths += ["/api/v1/public/areas", f"/api/v1/public/measures?period={closed_months(now, 1)[0]}"]
    left_out = []
    for path in list(planner_paths):
        st, _, body = http(base + path, {"Authorization": f"Bearer {planner}"}, timeout=60)
        if st == 404:
            left_out.append(path)
            planner_paths.remove(path)
        elif st != 200:
            raise StepFailed(f"planner path {path} answered {st}: {body[:300]!r}")
    for path in public_paths:
        st, _, body = http(base + path, {"X-Forwarded-For": "192.0.2.9"}, timeout=60)
        if st != 200:
            raise StepFailed(f"public path {path} answered {st}: {body[:300]!r}")

    # The three workloads at once.
    s = a.seconds
    log(f"soak: {s} s of public reads, planner queries and presence writes at once")
    outs = {name: open(work / f"wrk-{name}.out", "w+") for name in ("public", "planner", "presence")}
    env = dict(os.environ, SOAK_PREFIX=prefix, SOAK_T0=str(t0))
    procs = {
        "public": wrk_popen(base, script="public.lua", threads=1, conns=2, seconds=s, args=[",".join(public_paths)],
                            out=outs["public"]),
        "planner": wrk_popen(base, script="mix.lua", threads=1, conns=2, seconds=s,
                             headers=[f"Authorization: Bearer {planner}"], args=["|".join(planner_paths)],
                             out=outs["planner"]),
        "presence": wrk_popen(base + "/api/v1/presence", script="presence.lua", threads=1, conns=2, seconds=s,
                              headers=[f"Authorization: Bearer {field}"], env=env, out=outs["presence"]),
    }
    for name, proc in procs.items():
        cleanup.add(f"wrk {name}", lambda proc=proc: proc.poll() is None and proc.kill())
    samples = []
    t_start = time.monotonic()
    next_sample = t_start
    while any(proc.poll() is None for proc in procs.values()):
        if time.monotonic() >= next_sample:
            if t.proc.poll() is not None:
                raise StepFailed(f"trygg serve died during the soak (exit {t.proc.returncode}); see the log")
            rss, _ = t.memory()
            samples.append((round(time.monotonic() - t_start), rss))
            next_sample += 10
        time.sleep(0.2)
        if time.monotonic() - t_start > s + 120:
            raise StepFailed(f"TIMEOUT: the wrk processes did not end within {s + 120} s")
    rss, hwm = t.memory()
    samples.append((round(time.monotonic() - t_start), rss))
    results = {}
    for name, f in outs.items():
        f.seek(0)
        res = parse_wrk(f"soak {name}", f.read())
        if procs[name].returncode != 0:
            problem(f"wrk {name} exited with {procs[name].returncode}")
        results[name] = res

    # Retry what had no 2xx answer, as the phone would; then count.
    pres = results["presence"]
    pending = [line[len("PENDING "):] for line in pres["lines"] if line.startswith("PENDING ")]
    refused = [line for line in pres["lines"] if line.startswith("REFUSED ")]
    retried_2xx, retried_status = 0, {}
    for b in pending:
        st, _, _ = http(base + "/api/v1/presence", {"Authorization": f"Bearer {field}",
                                                    "Content-Type": "application/geo+json"}, "POST", b.encode())
        retried_status[st] = retried_status.get(st, 0) + 1
        if 200 <= st < 300:
            retried_2xx += 1
    acked = pres["acked"] + retried_2xx + acked_by_hand
    log("Trygg: SIGTERM")
    exit_code = t.stop()
    if exit_code != 0:
        problem(f"trygg serve exited with {exit_code} on SIGTERM")
    after_all, mine = count_presence(t, prefix)
    grew = after_all - before_all
    if grew != acked or mine != acked:
        problem(f"the store grew by {grew:,} presence logs ({mine:,} with this run's client ids); "
                f"{acked:,} writes were acknowledged with a 2xx")
    logtext = (work / "serve.log").read_text(errors="replace")
    panics = len(re.findall(r"panicked", logtext))
    errors_logged = logtext.count('"level":"ERROR"')
    if panics:
        problem(f"{panics} panics in the server log")

    for name, res in results.items():
        if res["errors"]:
            problem(f"{name}: {res['err_status']} non-2xx/3xx answers, {res['err_timeout']} timeouts, "
                    f"{res['err_connect'] + res['err_read'] + res['err_write']} socket errors")
    if refused:
        problem("presence refusals, first ones: " + " | ".join(refused[:3]))

    # The report.
    lines = []
    out = lines.append
    out(f"Trygg soak, {started:%Y-%m-%d %H:%M} UTC, {s} s, host {facts['host']}: {facts['cores']} cores "
        f"({facts['cpu']}), {facts['mem']}, commit {facts['commit']}, load average {facts['load']} at the start")
    out("Release build, SQLite (WAL, synchronous=FULL), the demo data (serve --demo), loopback; three wrk "
        "processes at once (-t1 -c2 each) on the same 2 cores as the server; wrk timeout 5 s.")
    if left_out:
        out("Left out of the planner mix (404, not there yet): " + ", ".join(left_out))
    out("")
    heads = ("workload", "requests", "req/s", "p50", "p99", "max", "non-2xx", "socket err", "timeouts")
    rows = []
    for name, desc in (("public", f"public reads ({len(public_paths)} paths)"),
                       ("planner", f"planner queries ({len(planner_paths)} paths)"),
                       ("presence", "presence writes (POST)")):
        r = results[name]
        rows.append((desc, f"{r['requests']:,}", f"{r['rps']:,.1f}", f"{r['p50_ms']:.2f} ms", f"{r['p99_ms']:.1f} ms",
                     f"{r['max_ms']:.0f} ms", f"{r['err_status']}", f"{r['err_connect'] + r['err_read'] + r['err_write']}",
                     f"{r['err_timeout']}"))
    w = [max(len(x[i]) for x in rows + [heads]) for i in range(len(heads))]
    out("  ".join(f"{h:<{w[i]}}" if i == 0 else f"{h:>{w[i]}}" for i, h in enumerate(heads)))
    for x in rows:
        out("  ".join(f"{v:<{w[i]}}" if i == 0 else f"{v:>{w[i]}}" for i, v in enumerate(x)))
    out("")
    vals = [v for _, v in samples]
    out(f"Server RSS (VmRSS every 10 s): first {vals[0]:.0f} MB, last {vals[-1]:.0f} MB, max {max(vals):.0f} MB; "
        f"VmHWM {hwm:.0f} MB; start-up with the demo {startup:.1f} s")
    out("  " + " ".join(f"{v:.0f}" for v in vals))
    out(f"Presence: {pres['acked']:,} writes answered 2xx under load, {len(pending)} without an answer when wrk "
        f"stopped (retried with the same client id: {retried_status or 'none'}), 1 by hand first: {acked:,} "
        f"acknowledged; the store grew from {before_all:,} to {after_all:,} (+{grew:,}) -> "
        + ("exactly one log per acknowledged write" if grew == acked and mine == acked else "MISMATCH"))
    out(f"Server: exit {exit_code} on SIGTERM; log: {panics} panics, {errors_logged} ERROR lines")
    out("")
    out("Result: " + ("no errors." if not problems else "ERRORS:"))
    for p in problems:
        out("  - " + p)
    return "\n".join(lines)


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    main()
