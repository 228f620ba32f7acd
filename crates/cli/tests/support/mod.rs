//! What the end-to-end suites share: the real `trygg` binary on a loopback
//! port, the CLI run as an operator runs it, and a minimal HTTP/1.1 client
//! (the API is spoken to without the crates that implement it).

#![allow(
    dead_code,
    reason = "every suite compiles this module on its own and uses a part of it"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "en lång och hemlig lösenfras";

pub struct Server {
    pub child: Child,
    pub addr: String,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// What the server wrote to stderr so far, for failure messages.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Waits until the server has logged a line containing `needle`: the
    /// way to know it reached a state (a request begun, a shutdown begun)
    /// without guessing how long that takes. Panics naming `what` if it
    /// never comes.
    pub fn wait_for_log(&self, needle: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .any(|line| line.contains(needle))
        {
            assert!(
                Instant::now() < deadline,
                "{what}: no log line with `{needle}` within 60 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Starts the binary on a free port; `db` defaults to a fresh SQLite file.
pub fn start(db: Option<&str>, args: &[&str]) -> Server {
    start_logging(db, args, "info")
}

/// `start` with a log filter of its own (`TRYGG_LOG`), for tests that wait
/// for what the server logs.
pub fn start_logging(db: Option<&str>, args: &[&str], filter: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = db.map_or_else(
        || format!("sqlite:{}", dir.path().join("e2e.db").display()),
        str::to_owned,
    );
    // Linköping unless the test names its own area (or the demo's).
    let area: &[&str] = if args
        .iter()
        .any(|a| *a == "--demo" || a.starts_with("--service-area"))
    {
        &[]
    } else {
        &["--service-area", "0580"]
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_trygg"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &db])
        .args(area)
        .args(args)
        .env("TRYGG_LOG", filter)
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = Arc::clone(&log);
    let (tx, rx) = mpsc::channel();
    // Reads to the end, or a chatty server would block on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(i) = line.find("listening on http://") {
                let _ = tx.send(line[i + "listening on http://".len()..].trim().to_owned());
            }
            lines
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(line);
        }
    });
    let Ok(addr) = rx.recv_timeout(Duration::from_secs(120)) else {
        let _ = child.kill();
        let log = log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .join("\n");
        panic!("the server did not report its address:\n{log}");
    };
    Server {
        child,
        addr,
        log,
        _dir: dir,
    }
}

/// Runs a `trygg` command to completion and returns its standard output.
pub fn cli(db: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_trygg"))
        .args(args)
        .args(["--database-url", db])
        .env("TRYGG_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "trygg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A user and a token for them, made with the CLI as an operator would.
pub fn user_token(db: &str, username: &str, role: &str, scopes: &str) -> String {
    cli(
        db,
        &[
            "user",
            "add",
            "--username",
            username,
            "--role",
            role,
            "--organisation",
            "Linköpings kommun",
        ],
    );
    let token = cli(
        db,
        &[
            "token",
            "create",
            "--username",
            username,
            "--name",
            "e2e",
            "--scopes",
            scopes,
        ],
    );
    assert!(token.starts_with("trygg_"), "{token}");
    token
}

/// A planner who may read and write.
pub fn planner_token(db: &str) -> String {
    user_token(db, "anna.planner", "planner", "read,write")
}

pub fn request(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String, String) {
    request_as(addr, method, path, body, None)
}

pub fn request_as(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> (u16, String, String) {
    exchange(addr, method, path, body, token, Duration::from_secs(30)).unwrap()
}

/// One HTTP/1.1 exchange on a fresh connection: status, head, body. An
/// answer slower than `timeout` is an error, not a wait without end.
pub fn exchange(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
    timeout: Duration,
) -> std::io::Result<(u16, String, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/geo+json\r\n{}Content-Length: {}\r\n\r\n{body}",
        token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default(),
        body.len()
    )?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP answer");
    let (head, rest) = raw.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let body = if header(head, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Ok((status, head.to_owned(), body))
}

/// The value of a header in a response head, by case-insensitive name.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

/// Polls `/readyz` until the database answers, for at most `limit`.
pub fn wait_ready_within(addr: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok((200, _, _)) = exchange(addr, "GET", "/readyz", None, None, limit) {
            return;
        }
        assert!(Instant::now() < deadline, "{addr} not ready in {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn wait_ready(addr: &str) {
    wait_ready_within(addr, Duration::from_secs(30));
}
