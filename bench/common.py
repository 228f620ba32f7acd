"""Helpers shared by bench/bench.py and bench/soak.py: bounded steps,
wrk runs, a throwaway PostgreSQL, the Trygg server, memory readings.

Standard library only. Every external command runs under a time limit; a
step that overruns raises StepFailed with a clear message, and whatever was
started is stopped by Cleanup (also on SIGTERM/SIGINT).
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

# The benchmarks are Linköping's: every command names it (a database records
# its service area at first use and refuses another).
os.environ.setdefault("TRYGG_SERVICE_AREA", "0580")

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
TRYGG = ROOT / "target" / "release" / "trygg"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


class StepFailed(Exception):
    """A step failed or overran its time limit; the message says which."""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(step, cmd, timeout, *, env=None, check=True, input=None, cwd=None):
    """Runs cmd (a list) with a time limit; returns CompletedProcess with text output."""
    try:
        r = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, input=input, cwd=cwd
        )
    except subprocess.TimeoutExpired:
        raise StepFailed(f"TIMEOUT: step '{step}' did not finish within {timeout} s (command: {' '.join(map(str, cmd))[:200]})")
    if check and r.returncode != 0:
        tail = (r.stderr or r.stdout or "").strip().splitlines()[-15:]
        raise StepFailed(f"step '{step}' failed with exit code {r.returncode}:\n  " + "\n  ".join(tail))
    return r


def timed(step, cmd, timeout, **kw):
    """run(), returning (seconds, CompletedProcess)."""
    t = time.perf_counter()
    r = run(step, cmd, timeout, **kw)
    return time.perf_counter() - t, r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cleanup:
    """Stops what was started, newest first, once; also on SIGTERM/SIGINT."""

    def __init__(self):
        self.actions = []
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._signal)

    def _signal(self, signum, _frame):
        log(f"signal {signum}: cleaning up")
        self.run()
        sys.exit(128 + signum)

    def add(self, name, fn):
        self.actions.append((name, fn))

    def run(self):
        while self.actions:
            name, fn = self.actions.pop()
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                log(f"cleanup of {name} failed: {e}")


# --- HTTP -------------------------------------------------------------------

def http(url, headers=None, method="GET", body=None, timeout=30):
    """(status, headers dict lower-case, body bytes); never raises on HTTP status."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def memory(pid):
    """VmRSS and VmHWM of a process, in MB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0]) / 1024
    return out.get("VmRSS", 0.0), out.get("VmHWM", 0.0)


# --- wrk --------------------------------------------------------------------

def wrk(step, url, *, script="get.lua", threads=2, conns=2, seconds=10, headers=(), args=(),
        env=None, timeout_s="5s"):
    """Runs wrk with one of bench/lua; returns the WRKJSON dict plus 'lines'
    (any other lines the script printed, e.g. PENDING)."""
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", f"--timeout={timeout_s}",
           "-s", str(LUA / script)]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    if args:
        cmd += ["--", *args]
    r = run(step, cmd, seconds + 60, env=env)
    return parse_wrk(step, r.stdout)


def parse_wrk(step, stdout):
    result, lines = None, []
    for line in stdout.splitlines():
        if line.startswith("WRKJSON "):
            result = json.loads(line[8:])
        elif line.startswith(("PENDING ", "REFUSED ")):
            lines.append(line)
    if result is None:
        raise StepFailed(f"step '{step}': wrk printed no result:\n{stdout[-1500:]}")
    result["lines"] = lines
    result["errors"] = sum(result[k] for k in ("err_connect", "err_read", "err_write", "err_timeout", "err_status"))
    return result


def wrk_popen(url, *, script, threads, conns, seconds, headers=(), args=(), env=None, out=None, timeout_s="5s"):
    """Starts wrk in the background (for the soak's concurrent workloads)."""
    cmd = ["timeout", "-k", "10", str(seconds + 60), "wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s",
           f"--timeout={timeout_s}", "-s", str(LUA / script)]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    if args:
        cmd += ["--", *args]
    return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, text=True)


# --- PostgreSQL + PostGIS ---------------------------------------------------

class Postgres:
    """A throwaway cluster on 127.0.0.1 and a free port, as `postgres` when
    root (initdb refuses root), --auth=trust because it is loopback-only and
    deleted at the end. Default settings otherwise (fsync on: Trygg's SQLite
    writes with synchronous=FULL, so neither side skips durability)."""

    def __init__(self, workdir, cleanup):
        self.dir = Path(workdir) / "pg"
        self.port = free_port()
        self.root = os.geteuid() == 0
        self.cleanup = cleanup
        self.env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(self.port), PGUSER="postgres",
                        PGDATABASE="postgres", PGCONNECT_TIMEOUT="10")

    def _as_owner(self, cmd):
        return (["runuser", "-u", "postgres", "--"] + cmd) if self.root else cmd

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.root:
            for d in (self.dir.parent, self.dir):
                os.chmod(d, 0o755)
            subprocess.run(["chown", "postgres", str(self.dir)], check=True)
        run("initdb", self._as_owner([str(PG_BIN / "initdb"), "-D", str(self.dir / "data"), "--auth=trust",
                                      "-U", "postgres", "--encoding=UTF8", "--locale=C.UTF-8"]), 120)
        self.cleanup.add("postgres", self.stop)
        run("pg_ctl start", self._as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-l",
                                            str(self.dir / "data" / "server.log"), "-w", "-t", "60", "-o",
                                            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir / 'data'}",
                                            "start"]), 90)
        self.psql("create postgis", "CREATE EXTENSION postgis", 60)

    def stop(self):
        if (self.dir / "data" / "postmaster.pid").exists():
            subprocess.run(self._as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast",
                                           "-w", "-t", "60", "stop"]), capture_output=True, timeout=90)
        subprocess.run(["rm", "-rf", str(self.dir)], timeout=120)

    def psql(self, step, sql, timeout, options=""):
        env = dict(self.env, PGOPTIONS=options) if options else self.env
        return run(step, ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], timeout, env=env).stdout

    def psql_file(self, step, path, timeout, options="", cwd=None):
        env = dict(self.env, PGOPTIONS=options) if options else self.env
        return run(step, ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-f", str(path)], timeout,
                   env=env, cwd=cwd).stdout

    def pgbench(self, step, script, *, clients, seconds=None, transactions=None, options="", log_dir=None):
        """Returns (tps, [latency ms of every transaction if log_dir])."""
        env = dict(self.env, PGOPTIONS=options) if options else self.env
        cmd = ["pgbench", "-n", "-f", str(script), f"-c{clients}", f"-j{clients}"]
        cmd += [f"-T{seconds}"] if seconds else [f"-t{transactions}"]
        limit = (seconds or 0) + 600
        if log_dir:
            for old in Path(log_dir).glob("pgbench_log.*"):
                old.unlink()
            cmd += ["-l", f"--log-prefix={Path(log_dir) / 'pgbench_log'}"]
        r = run(step, cmd, limit, env=env)
        tps = None
        for line in r.stdout.splitlines():
            if line.startswith("tps ="):
                tps = float(line.split()[2])
        lat = []
        if log_dir:
            for f in Path(log_dir).glob("pgbench_log.*"):
                lat += [int(l.split()[2]) / 1000 for l in f.read_text().splitlines() if l.strip()]
        if tps is None:
            raise StepFailed(f"step '{step}': pgbench printed no tps:\n{r.stdout[-800:]}")
        return tps, lat


# --- Trygg ------------------------------------------------------------------

class Trygg:
    """The release binary on one SQLite file."""

    def __init__(self, db, cleanup, log_path):
        self.db = Path(db)
        self.url_db = f"sqlite:{self.db}"
        self.cleanup = cleanup
        self.log_path = log_path
        self.proc = None
        self.port = None

    def cli(self, step, args, timeout, env_extra=None, input=None):
        env = dict(os.environ, TRYGG_DATABASE_URL=self.url_db, TRYGG_LOG="warn")
        env.update(env_extra or {})
        return run(step, [str(TRYGG), *args], timeout, env=env, input=input)

    def token(self, username, role, scopes):
        """A user of the role (created) and an API token with the scopes."""
        self.cli(f"user add {username}", ["user", "add", "--username", username, "--role", role,
                                          "--organisation", "Benchmark"], 60,
                 env_extra={"TRYGG_PASSWORD": "bench-" + os.urandom(12).hex()})
        out = self.cli(f"token create {username}", ["token", "create", "--username", username, "--name",
                                                    "bench", "--scopes", scopes], 60).stdout
        tok = [w for w in out.split() if w.startswith("trygg_")]
        if not tok:
            raise StepFailed(f"no token in the output of `trygg token create`: {out!r}")
        return tok[-1]

    def serve(self, extra=(), timeout=600):
        """Starts `trygg serve`; returns seconds until /readyz answered 200."""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        logf = open(self.log_path, "a")
        t = time.perf_counter()
        self.proc = subprocess.Popen([str(TRYGG), "serve", "--database-url", self.url_db, "--listen",
                                      f"127.0.0.1:{self.port}", "--trust-forwarded", *extra],
                                     stdout=logf, stderr=subprocess.STDOUT)
        Path(f"{self.db}.serve.pid").write_text(str(self.proc.pid))
        self.cleanup.add("trygg serve", self.kill)
        while True:
            if self.proc.poll() is not None:
                raise StepFailed(f"trygg serve exited with {self.proc.returncode} while starting; see {self.log_path}")
            try:
                if http(self.base + "/readyz", timeout=2)[0] == 200:
                    return time.perf_counter() - t
            except OSError:
                pass
            if time.perf_counter() - t > timeout:
                raise StepFailed(f"TIMEOUT: step 'trygg serve start-up' did not answer /readyz within {timeout} s")
            time.sleep(0.02)

    def memory(self):
        return memory(self.proc.pid)

    def stop(self, timeout=60):
        """SIGTERM, as systemd does; returns the exit code."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise StepFailed(f"TIMEOUT: trygg serve did not stop within {timeout} s of SIGTERM (killed)")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def host_facts():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GB"
    except OSError:
        pass
    commit = subprocess.run(["git", "--no-optional-locks", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip() or "?"
    try:
        load = open("/proc/loadavg").read().split()[0]
    except OSError:
        load = "?"
    return {"host": socket.gethostname(), "cores": os.cpu_count(), "cpu": cpu, "mem": mem, "commit": commit,
            "load": load}
