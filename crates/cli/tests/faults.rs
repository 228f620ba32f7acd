#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::duration_suboptimal_units,
    reason = "test support code: a panic is the failure report"
)]
//! Database faults, end to end, with the real `trygg` binary on loopback:
//! PostgreSQL restarting under load, an import killed half-way, and a
//! backup restored the way the README says. Every wait polls for what it
//! waits for; nothing sleeps a fixed time hoping a state is reached.

mod support;

use std::collections::HashSet;
use std::io::{BufWriter, Read, Write as _};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant};

use sqlx::{Connection, Row};
use support::{Server, cli, exchange, header, planner_token, request_as, start, user_token};

/// The longest any answer may take, even with the database gone: the pool
/// gives up acquiring a connection after 5 s, and the answer must follow.
const ANSWER_LIMIT: Duration = Duration::from_secs(15);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn is_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
    })
}

/// PostgreSQL's server binaries (Debian keeps them off PATH, one folder per
/// version, as scripts/pg-throwaway.sh finds them), newest first.
fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<(f64, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    found.pop().map(|(_, bin)| bin).or_else(|| {
        let out = Command::new("pg_config").arg("--bindir").output().ok()?;
        let bin = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
        bin.join("pg_ctl").exists().then_some(bin)
    })
}

/// A client tool (pg_dump, pg_restore) from the server's folder when there
/// is one, so its version matches the server's.
fn pg_tool(name: &str) -> PathBuf {
    pg_bin().map_or_else(|| PathBuf::from(name), |bin| bin.join(name))
}

/// The server's binaries, or `None` with a note; a failure when
/// `TRYGG_REQUIRE_POSTGRES` is set (scripts/test.sh sets it), so a missing
/// PostgreSQL never passes silently.
fn require_pg_bin(test: &str) -> Option<PathBuf> {
    let bin = pg_bin();
    if bin.is_none() {
        assert!(
            std::env::var("TRYGG_REQUIRE_POSTGRES").is_err(),
            "TRYGG_REQUIRE_POSTGRES is set but PostgreSQL's server binaries (initdb, pg_ctl) are missing"
        );
        eprintln!("note: PostgreSQL's binaries are not installed; {test} not run");
    }
    bin
}

/// A PostgreSQL cluster of the test's own, so it may stop and start it.
/// Run the way scripts/pg-throwaway.sh runs one: loopback only, trust
/// authentication, and as the `postgres` user when the tests run as root
/// (initdb refuses root).
struct Cluster {
    bin: PathBuf,
    port: u16,
    root: tempfile::TempDir,
}

impl Cluster {
    fn init(bin: PathBuf) -> Self {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("pg");
        std::fs::create_dir(&home).unwrap();
        if is_root() {
            // The postgres user must reach its folder (tempdir makes 0700).
            std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            let chown = Command::new("chown")
                .arg("postgres")
                .arg(&home)
                .status()
                .unwrap();
            assert!(chown.success(), "chown postgres {}", home.display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self { bin, port, root };
        let out = cluster
            .tool("initdb")
            .arg("-D")
            .arg(cluster.data())
            .args([
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.resume();
        cluster
    }

    fn home(&self) -> PathBuf {
        self.root.path().join("pg")
    }

    fn data(&self) -> PathBuf {
        self.home().join("data")
    }

    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn pg_ctl(&self, args: &[&str]) {
        let out = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let log = std::fs::read_to_string(self.home().join("server.log")).unwrap_or_default();
        assert!(
            out.status.success(),
            "pg_ctl {args:?}: {}\n{log}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server and returns once it accepts connections. Without
    /// fsync, as in the script: the restart here is a clean one, which
    /// hands every committed page to the operating system before it stops.
    fn resume(&self) {
        let log = self.home().join("server.log");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            self.port,
            self.home().display()
        );
        self.pg_ctl(&[
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-t",
            "60",
            "-o",
            &options,
            "start",
        ]);
    }

    /// Stops the server the way an operator's restart does: sessions are
    /// cut, open transactions roll back, committed ones are kept.
    fn stop(&self) {
        self.pg_ctl(&["-m", "fast", "-w", "-t", "60", "stop"]);
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A database of its own on a PostgreSQL server, made and dropped the way
/// the integration suites do it; dropped even when the test fails.
struct PgDatabase {
    admin: trygg_store::DatabaseUrl,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(admin: &str, label: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "trygg_faults_{label}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let admin = trygg_store::DatabaseUrl::new(admin);
        let url = runtime()
            .block_on(trygg_store::admin::create_database(&admin, &name))
            .unwrap();
        Self {
            admin,
            name,
            url: url.expose().to_owned(),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = runtime().block_on(trygg_store::admin::drop_database(&self.admin, &self.name));
    }
}

/// The admin URL for the suite's PostgreSQL, or `None` with a note.
fn test_postgres(test: &str) -> Option<String> {
    if let Ok(url) = std::env::var("TRYGG_TEST_POSTGRES_URL") {
        return Some(url);
    }
    assert!(
        std::env::var("TRYGG_REQUIRE_POSTGRES").is_err(),
        "TRYGG_REQUIRE_POSTGRES is set but TRYGG_TEST_POSTGRES_URL is not"
    );
    eprintln!(
        "note: TRYGG_TEST_POSTGRES_URL is not set; {test} (PostgreSQL) not run (scripts/test.sh runs it)"
    );
    None
}

/// Looks into a database directly, beside the binary, for what the API
/// does not show (uncommitted growth, integrity).
enum Peek {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Peek {
    /// The first row of a query, every column as an integer (NULL as 0).
    fn numbers(&self, sql: &'static str) -> Vec<i64> {
        runtime().block_on(async {
            match self {
                Self::Sqlite(path) => {
                    let url = format!("sqlite:{}", path.display());
                    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                    let row = sqlx::query(sql).fetch_one(&mut conn).await.unwrap();
                    let out = (0..row.len())
                        .map(|i| row.try_get::<Option<i64>, _>(i).unwrap().unwrap_or(0))
                        .collect();
                    conn.close().await.unwrap();
                    out
                }
                Self::Postgres(url) => {
                    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                    let row = sqlx::query(sql).fetch_one(&mut conn).await.unwrap();
                    let out = (0..row.len())
                        .map(|i| row.try_get::<Option<i64>, _>(i).unwrap().unwrap_or(0))
                        .collect();
                    conn.close().await.unwrap();
                    out
                }
            }
        })
    }

    fn integrity_check(&self) -> String {
        let Self::Sqlite(path) = self else {
            panic!("PRAGMA integrity_check is SQLite's");
        };
        runtime().block_on(async {
            let url = format!("sqlite:{}", path.display());
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let rows = sqlx::query("PRAGMA integrity_check")
                .fetch_all(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
            rows.iter()
                .map(|r| r.get::<String, _>(0))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }
}

/// A presence log as a phone uploads it; `n` spreads them over a few
/// hexagons and days.
fn presence(client_id: &str, n: usize) -> String {
    let lon = 15.600 + (n % 8) as f64 * 0.004;
    let lat = 58.400 + (n / 8 % 4) as f64 * 0.004;
    let day = 1 + n % 28;
    format!(
        r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{lon:.6},{lat:.6}]}},"properties":{{"unit_type":"night_walkers","started_at":"2025-10-{day:02}T20:00:00Z","ended_at":"2025-10-{day:02}T20:14:00Z","client_id":"{client_id}"}}}}"#
    )
}

/// The client ids of every stored presence log, read back through the API.
fn stored_presence(addr: &str, token: &str) -> Vec<String> {
    let (status, _, body) = request_as(
        addr,
        "GET",
        "/api/v1/presence?limit=10000",
        None,
        Some(token),
    );
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    let features = page["features"].as_array().unwrap();
    assert!(features.len() < 10_000, "one page holds every log");
    features
        .iter()
        .map(|f| f["properties"]["client_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The client ids of every presence log in a PostgreSQL database, read
/// from the table itself: lists are answered from each instance's index,
/// which follows other instances' writes a moment later.
fn stored_presence_in(url: &str) -> Vec<String> {
    runtime().block_on(async {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let rows = sqlx::query(
            "SELECT client_id FROM features WHERE kind = 'presence' AND client_id IS NOT NULL",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
        rows.iter().map(|r| r.get::<String, _>(0)).collect()
    })
}

/// What the in-memory index holds for a layer: features in `/metrics` (an
/// admin's token) and the sum over its hexagons (a planner's).
fn index_counts(addr: &str, admin: &str, planner: &str, kind: &str) -> (u64, u64) {
    let (status, _, metrics) = request_as(addr, "GET", "/metrics", None, Some(admin));
    assert_eq!(status, 200, "{metrics}");
    let prefix = format!("trygg_index_features{{kind=\"{kind}\"}} ");
    let indexed = metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {metrics}"))
        .trim()
        .parse()
        .unwrap();
    let (status, _, layer) = request_as(
        addr,
        "GET",
        &format!("/api/v1/layers/{kind}/hexagons?resolution=9"),
        None,
        Some(planner),
    );
    assert_eq!(status, 200, "{layer}");
    let layer: serde_json::Value = serde_json::from_str(&layer).unwrap();
    let count = if kind == "presence" {
        "visits"
    } else {
        "count"
    };
    let in_hexagons = layer["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["properties"][count].as_u64().unwrap())
        .sum();
    (indexed, in_hexagons)
}

/// Polls until an instance's index of `kind` holds `expected` features,
/// in `/metrics` and in its hexagons.
fn wait_index(server: &Server, admin: &str, planner: &str, kind: &str, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let counts = index_counts(&server.addr, admin, planner, kind);
        if counts == (expected, expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: the index of {kind} holds {counts:?} (metrics, hexagons), the store {expected}\n{}",
            server.addr,
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------
// PostgreSQL restarts under load

const UP: u8 = 0;
const DOWN: u8 = 1;
const RESUMING: u8 = 2;
const RECOVERED: u8 = 3;

/// One request of the load, with the phase of the database when it was
/// sent and when it was answered.
#[derive(Debug)]
struct Outcome {
    worker: usize,
    /// The client id, for a write.
    write: Option<String>,
    answer: Result<(u16, String, String), String>,
    took: Duration,
    began: u8,
    ended: u8,
}

impl Outcome {
    fn status(&self) -> Option<u16> {
        self.answer.as_ref().ok().map(|a| a.0)
    }

    fn acknowledged(&self) -> bool {
        self.status().is_some_and(|s| (200..300).contains(&s))
    }
}

/// One client, a phone and a map at once: logs presence and reads the
/// hexagons until told to stop. A failed upload is retried with the same
/// client id, as the field page does.
fn load(
    worker: usize,
    addr: &str,
    token: &str,
    phase: &AtomicU8,
    done: &AtomicBool,
    tx: &mpsc::Sender<Outcome>,
) {
    let mut n = 0;
    while !done.load(Ordering::SeqCst) {
        let client_id = format!("restart-{worker}-{n}");
        let body = presence(&client_id, n + worker * 3);
        let timed = |method: &str, path: &str, body: Option<&str>| {
            let began = phase.load(Ordering::SeqCst);
            let t = Instant::now();
            let answer = exchange(addr, method, path, body, Some(token), ANSWER_LIMIT * 2)
                .map_err(|e| e.to_string());
            (answer, t.elapsed(), began, phase.load(Ordering::SeqCst))
        };
        let (answer, took, began, ended) = timed("POST", "/api/v1/presence", Some(&body));
        let write = Outcome {
            worker,
            write: Some(client_id),
            answer,
            took,
            began,
            ended,
        };
        if write.acknowledged() {
            n += 1;
        }
        let (answer, took, began, ended) =
            timed("GET", "/api/v1/layers/presence/hexagons?resolution=9", None);
        let read = Outcome {
            worker,
            write: None,
            answer,
            took,
            began,
            ended,
        };
        if tx.send(write).is_err() || tx.send(read).is_err() {
            return;
        }
    }
}

/// Receives outcomes until `enough` holds.
fn gather(
    rx: &mpsc::Receiver<Outcome>,
    outcomes: &mut Vec<Outcome>,
    what: &str,
    enough: impl Fn(&[Outcome]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !enough(outcomes) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        match rx.recv_timeout(ANSWER_LIMIT * 3) {
            Ok(o) => outcomes.push(o),
            Err(e) => panic!("the load stopped while waiting for {what}: {e}"),
        }
    }
}

/// Whether every worker has at least `n` outcomes matching `f`.
fn each_worker(
    outcomes: &[Outcome],
    workers: usize,
    n: usize,
    f: impl Fn(&Outcome) -> bool,
) -> bool {
    (0..workers).all(|w| outcomes.iter().filter(|o| o.worker == w && f(o)).count() >= n)
}

/// A refusal a client can act on: 503, when to retry, and a problem.
fn assert_clean_unavailable(what: &str, answer: &(u16, String, String)) {
    let (status, head, body) = answer;
    assert_eq!(*status, 503, "{what}: {head}\n{body}");
    let retry: u32 = header(head, "retry-after")
        .unwrap_or_else(|| panic!("{what}: 503 without Retry-After: {head}"))
        .parse()
        .unwrap();
    assert!(retry >= 1, "{what}: Retry-After {retry}");
    assert_eq!(
        header(head, "content-type"),
        Some("application/problem+json"),
        "{what}: {head}"
    );
    let problem: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(problem["status"], 503, "{what}: {body}");
    assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

/// The last lines each server logged, for a failure message.
fn tail_logs(servers: &[Server]) -> String {
    servers
        .iter()
        .map(|s| {
            let log = s.log();
            let lines: Vec<&str> = log.lines().collect();
            lines[lines.len().saturating_sub(40)..].join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// Every request was answered within the limit, and every one not
/// acknowledged (all of those sent and answered while the database was
/// down) was a clean 503; returns how many were refused.
fn assert_answers_clean(outcomes: &[Outcome], servers: &[Server]) -> usize {
    let mut refused = 0;
    for o in outcomes {
        let what = format!(
            "worker {} {} (phase {} → {})",
            o.worker,
            o.write.as_deref().unwrap_or("hexagons"),
            o.began,
            o.ended
        );
        let answer = o
            .answer
            .as_ref()
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}\n{}", tail_logs(servers)));
        assert!(
            o.took <= ANSWER_LIMIT,
            "{what}: answered after {:?}",
            o.took
        );
        if o.began == DOWN && o.ended == DOWN || !o.acknowledged() {
            assert_clean_unavailable(&format!("{what}\n{}\n", tail_logs(servers)), answer);
            refused += 1;
        }
    }
    refused
}

/// Every acknowledged write is stored, once, and nothing unsent is;
/// returns how many were acknowledged.
fn assert_stored_once(stored: &[String], outcomes: &[Outcome]) -> usize {
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "a client id stored twice");
    let acknowledged: HashSet<&String> = outcomes
        .iter()
        .filter(|o| o.acknowledged())
        .filter_map(|o| o.write.as_ref())
        .collect();
    let attempted: HashSet<&String> = outcomes.iter().filter_map(|o| o.write.as_ref()).collect();
    for id in &acknowledged {
        assert!(
            unique.contains(id),
            "{id} was acknowledged but is not stored"
        );
    }
    for id in &unique {
        assert!(attempted.contains(id), "{id} is stored but was never sent");
    }
    acknowledged.len()
}

/// Two instances serve one PostgreSQL database (one a follower of the
/// other's writes through LISTEN/NOTIFY) while clients write and read; the
/// database is stopped and started again. While it is down every request
/// is refused promptly with 503 and Retry-After; afterwards both
/// instances recover by themselves, every acknowledged write is stored
/// exactly once, and both in-memory indexes agree with the store.
#[test]
fn postgres_restart_under_load_is_refused_cleanly_then_recovers() {
    let Some(bin) = require_pg_bin("the PostgreSQL restart test") else {
        return;
    };
    let t0 = Instant::now();
    let cluster = Cluster::init(bin);
    let pg = PgDatabase::create(&cluster.url("postgres"), "restart");
    let db = pg.url.clone();
    let planner = planner_token(&db);
    let admin = user_token(&db, "drift", "admin", "read");
    let servers = [start(Some(&db), &[]), start(Some(&db), &[])];
    for s in &servers {
        support::wait_ready(&s.addr);
    }
    let phase = Arc::new(AtomicU8::new(UP));
    let done = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = servers
        .iter()
        .enumerate()
        .map(|(w, s)| {
            let (addr, token, phase, done, tx) = (
                s.addr.clone(),
                planner.clone(),
                Arc::clone(&phase),
                Arc::clone(&done),
                tx.clone(),
            );
            std::thread::spawn(move || load(w, &addr, &token, &phase, &done, &tx))
        })
        .collect();
    drop(tx);
    let mut outcomes = Vec::new();
    gather(&rx, &mut outcomes, "writes before the restart", |o| {
        each_worker(o, 2, 20, |o| o.began == UP && o.acknowledged())
    });

    let t_stop = Instant::now();
    cluster.stop();
    phase.store(DOWN, Ordering::SeqCst);
    let stopped_in = t_stop.elapsed();
    for s in &servers {
        let t = Instant::now();
        let answer = exchange(&s.addr, "GET", "/readyz", None, None, ANSWER_LIMIT * 2).unwrap();
        assert!(t.elapsed() <= ANSWER_LIMIT, "readyz took {:?}", t.elapsed());
        assert_clean_unavailable("/readyz while the database is down", &answer);
    }
    gather(&rx, &mut outcomes, "requests refused while down", |o| {
        let down = |o: &Outcome| o.began == DOWN && o.ended == DOWN;
        each_worker(o, 2, 1, |o| down(o) && o.write.is_some())
            && each_worker(o, 2, 1, |o| down(o) && o.write.is_none())
    });

    phase.store(RESUMING, Ordering::SeqCst);
    let down_for = t_stop.elapsed();
    cluster.resume();
    phase.store(RECOVERED, Ordering::SeqCst);
    let t_resumed = Instant::now();
    for s in &servers {
        support::wait_ready_within(&s.addr, Duration::from_secs(60));
    }
    let ready_in = t_resumed.elapsed();
    gather(&rx, &mut outcomes, "writes after the restart", |o| {
        each_worker(o, 2, 20, |o| o.began == RECOVERED && o.acknowledged())
    });
    done.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    outcomes.extend(rx.try_iter());

    let refused = assert_answers_clean(&outcomes, &servers);
    let stored = stored_presence_in(&db);
    let acknowledged = assert_stored_once(&stored, &outcomes);
    let expected = stored.len() as u64;
    for s in &servers {
        wait_index(s, &admin, &planner, "presence", expected);
        // Once the index has caught up, the API lists what the table holds.
        let mut listed = stored_presence(&s.addr, &planner);
        let mut in_table = stored.clone();
        listed.sort();
        in_table.sort();
        assert_eq!(listed, in_table, "{} lists what is stored", s.addr);
    }
    let slowest = outcomes.iter().map(|o| o.took).max().unwrap_or_default();
    eprintln!(
        "postgres restart: {} requests, {refused} refused with 503, {} writes acknowledged, slowest answer {slowest:?}; \
         stop took {stopped_in:?}, down {down_for:?}, ready again {ready_in:?} after the start; whole test {:?}",
        outcomes.len(),
        acknowledged,
        t0.elapsed()
    );
}

// ---------------------------------------------------------------------------
// An import killed half-way

/// Enough incident rows that a debug build writes for seconds.
const SQLITE_IMPORT_ROWS: usize = 200_000;
/// Fewer on PostgreSQL: on a freshly filled table without planner
/// statistics its lookup of existing source ids scans the table, so an
/// import there costs time quadratic in its rows today.
const POSTGRES_IMPORT_ROWS: usize = 15_000;

fn incidents_csv(path: &Path, rows: usize) {
    const CATEGORIES: [&str; 5] = ["theft", "vandalism", "assault", "burglary", "drugs"];
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "id,lon,lat,time,category").unwrap();
    for i in 0..rows {
        // Spread deterministically over central Linköping and a past year.
        let lon = 15.56 + (i * 7919 % 10_000) as f64 * 0.000_012;
        let lat = 58.38 + (i * 104_729 % 10_000) as f64 * 0.000_006;
        let (month, day, hour, minute) = (1 + i / 28 % 10, 1 + i % 28, i % 24, i % 60);
        writeln!(
            out,
            "faults-{i},{lon:.6},{lat:.6},2025-{month:02}-{day:02}T{hour:02}:{minute:02}:00Z,{}",
            CATEGORIES[i % CATEGORIES.len()]
        )
        .unwrap();
    }
    out.flush().unwrap();
}

fn import_command(db: &str, file: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trygg"));
    c.args([
        "import",
        "--kind",
        "incidents",
        "--format",
        "csv",
        "--source",
        "faults",
        "--service-area",
        "0580",
    ])
    .arg(file)
    .args(["--database-url", db])
    .env("NO_COLOR", "1")
    .stdin(Stdio::null());
    c
}

/// Rows, distinct source ids, highest version and last update of the
/// imported source: what "nothing changed" compares.
const IMPORTED: &str = "SELECT COUNT(*), COUNT(DISTINCT source_id), MAX(version), MAX(updated_at) \
                        FROM features WHERE kind = 'incident' AND source = 'faults'";
const IMPORTS_AUDITED: &str = "SELECT COUNT(*) FROM audit_log WHERE action = 'import'";

/// Runs an import and `kill -9`s it once `writing` shows it has written
/// into the database; returns when it is dead.
fn kill_import_while_writing(db: &str, file: &Path, writing: impl Fn() -> bool) -> Duration {
    let t = Instant::now();
    let mut child: Child = import_command(db, file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !writing() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            let _ = child.stdout.take().unwrap().read_to_string(&mut out);
            let _ = child.stderr.take().unwrap().read_to_string(&mut out);
            panic!(
                "the import ended ({status}) before it was seen writing; make the file bigger: {out}"
            );
        }
        assert!(
            Instant::now() < deadline,
            "the import never started writing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let after = t.elapsed();
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "killed mid-way, not finished: {status}"
    );
    after
}

/// After the kill: nothing of the import is stored, a server starts on the
/// database and has nothing to show; then the import runs to completion,
/// and once more without changing anything.
fn import_recovers_after_kill(db: &str, file: &Path, rows: usize, peek: &Peek, label: &str) {
    assert_eq!(
        peek.numbers(IMPORTED)[0],
        0,
        "{label}: nothing of the killed import is stored"
    );
    assert_eq!(
        peek.numbers(IMPORTS_AUDITED)[0],
        0,
        "{label}: no import audited"
    );
    let planner = planner_token(db);
    {
        let server = start(Some(db), &[]);
        support::wait_ready(&server.addr);
        let (status, _, body) = request_as(
            &server.addr,
            "GET",
            "/api/v1/incidents?limit=1",
            None,
            Some(&planner),
        );
        assert_eq!(status, 200, "{body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(page["numberReturned"], 0, "{label}: {body}");
        let (status, _, layer) = request_as(
            &server.addr,
            "GET",
            "/api/v1/layers/incidents/hexagons?resolution=9",
            None,
            Some(&planner),
        );
        assert_eq!(status, 200);
        assert!(layer.contains("\"features\":[]"), "{label}: {layer}");
    }

    let t = Instant::now();
    let out = import_command(db, file).output().unwrap();
    let full = t.elapsed();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{label}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("{rows} inserted, 0 updated, 0 unchanged")),
        "{label}: {said}"
    );
    let first = peek.numbers(IMPORTED);
    let rows = rows as i64;
    assert_eq!(
        &first[..3],
        &[rows, rows, 1],
        "{label}: every row exactly once"
    );

    let t = Instant::now();
    let out = import_command(db, file).output().unwrap();
    let again = t.elapsed();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{label}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("0 inserted, 0 updated, {rows} unchanged")),
        "{label}: {said}"
    );
    assert_eq!(
        peek.numbers(IMPORTED),
        first,
        "{label}: the second run changed nothing"
    );
    assert_eq!(
        peek.numbers(IMPORTS_AUDITED)[0],
        2,
        "{label}: both runs audited"
    );
    eprintln!("{label}: full import {full:?}, idempotent re-run {again:?}");
}

#[test]
fn sqlite_import_killed_midway_leaves_nothing_and_reruns_cleanly() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("import.db");
    let db = format!("sqlite:{}", path.display());
    cli(&db, &["org", "list"]);
    let file = dir.path().join("incidents.csv");
    incidents_csv(&file, SQLITE_IMPORT_ROWS);
    // Uncommitted pages go to the write-ahead log as the page cache
    // overflows; a megabyte more than at the start is rows, not migrations.
    let wal = dir.path().join("import.db-wal");
    let wal_size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    let before = wal_size();
    let killed_after = kill_import_while_writing(&db, &file, || wal_size() > before + (1 << 20));
    let peek = Peek::Sqlite(path);
    assert_eq!(peek.integrity_check(), "ok");
    import_recovers_after_kill(&db, &file, SQLITE_IMPORT_ROWS, &peek, "sqlite");
    assert_eq!(peek.integrity_check(), "ok");
    eprintln!(
        "sqlite import: killed {killed_after:?} after the start, whole test {:?}",
        t0.elapsed()
    );
}

#[test]
fn postgres_import_killed_midway_leaves_nothing_and_reruns_cleanly() {
    let Some(admin) = test_postgres("the killed import") else {
        return;
    };
    let t0 = Instant::now();
    let pg = PgDatabase::create(&admin, "import");
    let dir = tempfile::tempdir().unwrap();
    cli(&pg.url, &["org", "list"]);
    let file = dir.path().join("incidents.csv");
    incidents_csv(&file, POSTGRES_IMPORT_ROWS);
    let peek = Peek::Postgres(pg.url.clone());
    // Uncommitted rows already take pages of the table.
    let size = || peek.numbers("SELECT pg_relation_size('features')")[0];
    assert_eq!(size(), 0);
    let killed_after = kill_import_while_writing(&pg.url, &file, || size() > 1 << 20);
    // The server notices the dead client and rolls its transaction back.
    let deadline = Instant::now() + Duration::from_secs(30);
    while peek.numbers(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )[0] > 0
    {
        assert!(Instant::now() < deadline, "the killed import's session lingers");
        std::thread::sleep(Duration::from_millis(50));
    }
    import_recovers_after_kill(&pg.url, &file, POSTGRES_IMPORT_ROWS, &peek, "postgres");
    eprintln!(
        "postgres import: killed {killed_after:?} after the start, whole test {:?}",
        t0.elapsed()
    );
}

// ---------------------------------------------------------------------------
// Backup and restore

/// Writes presence logs to a server until stopped, reporting each
/// acknowledged client id.
struct Writer {
    acknowledged: mpsc::Receiver<String>,
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<String>>,
}

impl Writer {
    fn start(addr: &str, token: &str) -> Self {
        let (tx, acknowledged) = mpsc::channel();
        let done = Arc::new(AtomicBool::new(false));
        let (addr, token, stop) = (addr.to_owned(), token.to_owned(), Arc::clone(&done));
        let thread = std::thread::spawn(move || {
            let mut sent = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let id = format!("backup-{n}");
                sent.push(id.clone());
                let (status, _, body) = exchange(
                    &addr,
                    "POST",
                    "/api/v1/presence",
                    Some(&presence(&id, n)),
                    Some(&token),
                    ANSWER_LIMIT,
                )
                .unwrap();
                assert_eq!(status, 201, "{body}");
                let _ = tx.send(id);
                n += 1;
            }
            sent
        });
        Self {
            acknowledged,
            done,
            thread,
        }
    }

    /// Waits for `n` more acknowledgements and returns them.
    fn next(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| self.acknowledged.recv_timeout(ANSWER_LIMIT).unwrap())
            .collect()
    }

    /// Everything acknowledged so far, without waiting.
    fn so_far(&self) -> Vec<String> {
        self.acknowledged.try_iter().collect()
    }

    /// Stops and returns every client id ever sent.
    fn stop(self) -> Vec<String> {
        self.done.store(true, Ordering::SeqCst);
        self.thread.join().unwrap()
    }
}

/// On the restored database: every write acknowledged before the backup
/// began is there once, nothing was invented, and the index built from
/// the store agrees with it.
fn assert_restored(
    server: &Server,
    planner: &str,
    admin: &str,
    before: &[String],
    sent: &[String],
) {
    let stored = stored_presence(&server.addr, planner);
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "a client id restored twice");
    for id in before {
        assert!(
            unique.contains(id),
            "{id} was acknowledged before the backup but is missing"
        );
    }
    let sent: HashSet<&String> = sent.iter().collect();
    for id in &unique {
        assert!(sent.contains(id), "{id} restored but never sent");
    }
    wait_index(server, admin, planner, "presence", stored.len() as u64);
}

/// `trygg backup` of a live SQLite database while writes come in, restored
/// as the README says: stop Trygg, put the copy in place of the database
/// (without the old write-ahead log), start.
#[test]
fn sqlite_backup_under_writes_restores_every_acknowledged_write() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("trygg.db");
    let db = format!("sqlite:{}", live.display());
    let planner = planner_token(&db);
    let admin = user_token(&db, "drift", "admin", "read");
    let mut server = start(Some(&db), &[]);
    support::wait_ready(&server.addr);
    let writer = Writer::start(&server.addr, &planner);
    let mut before = writer.next(30);
    before.extend(writer.so_far());
    let copy = dir.path().join("backup").join("trygg-copy.db");
    std::fs::create_dir(copy.parent().unwrap()).unwrap();
    let t = Instant::now();
    let said = cli(&db, &["backup", copy.to_str().unwrap()]);
    let took = t.elapsed();
    assert!(said.contains("backed up"), "{said}");
    // Writes go on during and after the backup.
    writer.next(10);
    let sent = writer.stop();
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let peek = Peek::Sqlite(copy.clone());
    assert_eq!(peek.integrity_check(), "ok");
    for stale in ["trygg.db-wal", "trygg.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(stale));
    }
    std::fs::copy(&copy, &live).unwrap();
    let server = start(Some(&db), &[]);
    support::wait_ready(&server.addr);
    assert_restored(&server, &planner, &admin, &before, &sent);
    assert_eq!(Peek::Sqlite(live).integrity_check(), "ok");
    eprintln!(
        "sqlite backup: {} writes acknowledged before, backup took {took:?}, whole test {:?}",
        before.len(),
        t0.elapsed()
    );
}

/// PostgreSQL the documented way: `pg_dump --format=custom` of the live
/// database while writes come in, `pg_restore` into a new database, serve
/// from that.
#[test]
fn postgres_dump_under_writes_restores_every_acknowledged_write() {
    let Some(admin_url) = test_postgres("the pg_dump/pg_restore test") else {
        return;
    };
    let t0 = Instant::now();
    let live = PgDatabase::create(&admin_url, "live");
    let planner = planner_token(&live.url);
    let admin = user_token(&live.url, "drift", "admin", "read");
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("trygg.dump");
    let (before, sent, took) = {
        let server = start(Some(&live.url), &[]);
        support::wait_ready(&server.addr);
        let writer = Writer::start(&server.addr, &planner);
        let mut before = writer.next(30);
        before.extend(writer.so_far());
        let t = Instant::now();
        let out = Command::new(pg_tool("pg_dump"))
            .args(["--format=custom", "--file"])
            .arg(&dump)
            .arg(&live.url)
            .output()
            .unwrap();
        let took = t.elapsed();
        assert!(
            out.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        writer.next(10);
        (before, writer.stop(), took)
    };
    let restored = PgDatabase::create(&admin_url, "restored");
    let out = Command::new(pg_tool("pg_restore"))
        .args(["--exit-on-error", "--dbname", &restored.url])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pg_restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = start(Some(&restored.url), &[]);
    support::wait_ready(&server.addr);
    assert_restored(&server, &planner, &admin, &before, &sent);
    eprintln!(
        "postgres dump: {} writes acknowledged before, pg_dump took {took:?}, whole test {:?}",
        before.len(),
        t0.elapsed()
    );
}
