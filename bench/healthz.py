#!/usr/bin/env python3
"""/healthz under heavy analyses: the release binary on loopback with the
demo data; /healthz measured alone, then while four clients keep asking
for emerging hot spots at street level (resolution 10, each question new,
so none is answered from the kept ones). Called by bench/healthz.sh (which
installs wrk and builds first); see README "Benchmarks".

Prints /healthz p50/p99/max alone and under load, how many analyses were
answered (200) or turned away (503, the bounded queue), and writes the
table to bench/results/. Every loop is bounded in time; exit 0 when every
/healthz answered and no analysis failed otherwise, 1 when a step failed.
"""
import argparse
import datetime
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in bench/
from common import BENCH, ROOT, TRYGG, Cleanup, StepFailed, Trygg, host_facts, http, log, wrk


def main():
    p = argparse.ArgumentParser(description="/healthz under four heavy analyses")
    p.add_argument("seconds", nargs="?", type=int, default=60)
    p.add_argument("--workdir", default=None)
    p.add_argument("--results", default=str(BENCH / "results"))
    a = p.parse_args()
    if not TRYGG.exists():
        sys.exit(f"{TRYGG} is missing: run bench/healthz.sh (it builds it)")
    cleanup = Cleanup()
    code = 0
    try:
        work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="trygg-healthz-"))
        work.mkdir(parents=True, exist_ok=True)
        cleanup.add("work folder", lambda: shutil.rmtree(work, ignore_errors=True))
        text, failed = measure(a, work, cleanup)
        print(text)
        Path(a.results).mkdir(parents=True, exist_ok=True)
        started = datetime.datetime.now(datetime.timezone.utc)
        path = Path(a.results) / f"{started:%Y-%m-%d}-{host_facts()['host']}-healthz-{a.seconds}s.txt"
        path.write_text(text + "\n")
        print(f"\nWritten to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        code = 1 if failed else 0
    except StepFailed as e:
        print(f"\nhealthz: {e}", file=sys.stderr)
        code = 1
    finally:
        cleanup.run()
    sys.exit(code)


def measure(a, work, cleanup):
    facts = host_facts()
    t = Trygg(work / "healthz.db", cleanup, work / "serve.log")
    log("Trygg: serve --demo on a new SQLite file")
    t.serve(["--demo"], timeout=600)
    planner = t.token("bench-planner", "planner", "read")
    alone = wrk("healthz alone", t.base + "/healthz", threads=1, conns=1, seconds=10)

    stop = time.monotonic() + a.seconds + 5
    counts = {"ok": 0, "busy": 0, "other": 0}
    durations = []
    lock = threading.Lock()

    def analyses(worker):
        n = 0
        while time.monotonic() < stop:
            n += 1
            # A new question each time: another month count and weight.
            months = 3 + (n + worker) % 10
            path = f"/api/v1/analysis/emerging?resolution=10&months={months}&weights=theft={worker}.{n}"
            t0 = time.monotonic()
            try:
                st, _, _ = http(t.base + path, {"Authorization": f"Bearer {planner}"}, timeout=300)
            except OSError:
                st = 0
            with lock:
                key = "ok" if st == 200 else "busy" if st == 503 else "other"
                counts[key] += 1
                if st == 200:
                    durations.append(time.monotonic() - t0)
            if st == 503:
                time.sleep(1)  # as a client told Retry-After would

    workers = [threading.Thread(target=analyses, args=(w,), daemon=True) for w in range(4)]
    for w in workers:
        w.start()
    time.sleep(3)  # the analyses under way before the measurement starts
    loaded = wrk("healthz under load", t.base + "/healthz", threads=1, conns=1, seconds=a.seconds)
    for w in workers:
        w.join(timeout=400)
    t.stop()

    lines = []
    out = lines.append
    out(f"/healthz under four heavy analyses, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"host {facts['host']}: {facts['cores']} cores ({facts['cpu']}), {facts['mem']}, commit {facts['commit']}")
    out("Release build, SQLite, the demo data; wrk -t1 -c1 on /healthz; four clients asking for emerging hot spots "
        "at resolution 10 (3-12 months, each question new) on the same cores.")
    out("")
    for name, r in (("alone", alone), (f"under load, {a.seconds} s", loaded)):
        out(f"/healthz {name}: {r['requests']:,} requests, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
            f"max {r['max_ms']:.0f} ms, errors {r['errors']}")
    mean = sum(durations) / len(durations) if durations else 0.0
    out(f"Analyses: {counts['ok']} answered (mean {mean:.1f} s each), {counts['busy']} turned away busy (503), "
        f"{counts['other']} other answers")
    failed = loaded["errors"] > 0 or alone["errors"] > 0 or counts["other"] > 0
    return "\n".join(lines), failed


if __name__ == "__main__":
    main()
