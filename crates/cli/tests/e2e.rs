#![allow(
    clippy::unwrap_used,
    clippy::duration_suboptimal_units,
    reason = "test support code: a panic is the failure report"
)]
//! End to end: the real `trygg` binary on a loopback port, started the way
//! the README says, polled for readiness (never a fixed sleep).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{cli, planner_token, request, request_as, start, start_logging, wait_ready};

#[test]
fn the_demo_serves_a_city_not_an_empty_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("demo.db").display());
    let token = planner_token(&db);
    let server = start(Some(&db), &["--demo"]);
    wait_ready(&server.addr);
    let get = |path: &str| request_as(&server.addr, "GET", path, None, Some(&token));
    let (status, _, body) = get("/api/v1/areas?limit=100");
    assert_eq!(status, 200, "{body}");
    let areas: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        areas["numberReturned"], 32,
        "Linköping's 32 RegSO districts"
    );
    let (status, head, body) = get("/api/v1/layers/incidents/hexagons?resolution=9");
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/geo+json")
    );
    let layer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let hexagons = layer["features"].as_array().unwrap();
    assert!(
        hexagons.len() > 200,
        "a city's worth of hexagons, got {}",
        hexagons.len()
    );
    let max = hexagons
        .iter()
        .map(|h| h["properties"]["count"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(max >= 20, "hot spots stand out, max {max}");
    let (_, _, presence) = get("/api/v1/layers/presence/hexagons?resolution=9");
    assert!(presence.contains("\"minutes\""));
    // Police events keep their coarse precision.
    let (_, _, police) = get("/api/v1/incidents?limit=5");
    assert!(
        police.contains("\"precision_m\":20000") || police.contains("\"precision_m\":60000"),
        "{police}"
    );
    // Without a token: only the public, aggregated layer of a closed month.
    assert_eq!(
        request(&server.addr, "GET", "/api/v1/incidents?limit=5", None).0,
        401
    );
    let (status, head, public) = request(
        &server.addr,
        "GET",
        "/api/v1/public/layers/incidents/hexagons",
        None,
    );
    assert_eq!(status, 200, "{public}");
    assert!(head.to_ascii_lowercase().contains("etag:"));
    let public: serde_json::Value = serde_json::from_str(&public).unwrap();
    let cells = public["features"].as_array().unwrap();
    assert!(!cells.is_empty(), "last month's public layer has hexagons");
    assert!(
        cells
            .iter()
            .all(|c| c["properties"]["count"].as_u64().unwrap() >= 5)
    );
}

#[test]
fn writes_survive_a_restart_and_bad_input_gets_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("restart.db").display());
    let token = planner_token(&db);
    let body = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[15.6214,58.4108]},"properties":{"category":"vandalism","occurred_at":"2026-01-05T21:00:00Z"}}"#;
    let id = {
        let server = start(Some(&db), &[]);
        wait_ready(&server.addr);
        let (status, head, problem) = request_as(
            &server.addr,
            "POST",
            "/api/v1/incidents",
            Some("{\"type\":\"Feature\""),
            Some(&token),
        );
        assert_eq!(status, 400);
        assert!(
            head.to_ascii_lowercase()
                .contains("application/problem+json"),
            "{head}"
        );
        assert!(problem.contains("\"field\":\"body\""));
        let (status, _, created) = request_as(
            &server.addr,
            "POST",
            "/api/v1/incidents",
            Some(body),
            Some(&token),
        );
        assert_eq!(status, 201, "{created}");
        let created: serde_json::Value = serde_json::from_str(&created).unwrap();
        created["id"].as_str().unwrap().to_owned()
    };
    let server = start(Some(&db), &[]);
    wait_ready(&server.addr);
    let (status, _, read) = request_as(
        &server.addr,
        "GET",
        &format!("/api/v1/incidents/{id}"),
        None,
        Some(&token),
    );
    assert_eq!(status, 200, "{read}");
    let (_, _, layer) = request_as(
        &server.addr,
        "GET",
        "/api/v1/layers/incidents/hexagons?resolution=10",
        None,
        Some(&token),
    );
    assert!(
        layer.contains("\"count\":1"),
        "the index is rebuilt from the database: {layer}"
    );
    // The write is attributed: the CLI can list who may write, and the
    // token keeps its last-used time.
    assert!(cli(&db, &["token", "list"]).contains("e2e"));
    assert!(cli(&db, &["user", "list"]).contains("anna.planner\tplanner\tLinköpings kommun"));
}

/// GDAL's OAPIF driver (Debian's gdal-bin), as QGIS and scripts use it:
/// it must list and read every public collection. Skipped when `ogrinfo`
/// is missing, unless `TRYGG_REQUIRE_GDAL` is set (the test script sets it
/// after installing gdal-bin).
#[test]
fn gdal_lists_and_reads_every_public_collection() {
    let has_gdal = Command::new("ogrinfo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_gdal {
        assert!(
            std::env::var("TRYGG_REQUIRE_GDAL").is_err(),
            "TRYGG_REQUIRE_GDAL is set but ogrinfo is missing"
        );
        eprintln!(
            "note: ogrinfo not installed; GDAL test not run (scripts/test.sh installs gdal-bin)"
        );
        return;
    }
    let server = start(None, &["--demo"]);
    wait_ready(&server.addr);
    let url = format!("OAPIF:http://{}/ogc", server.addr);
    let list = Command::new("ogrinfo")
        .args(["-ro", "-so", &url])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.status.success(),
        "{listed} {}",
        String::from_utf8_lossy(&list.stderr)
    );
    let collections = [
        "public-incidents-hexagons",
        "public-reports-hexagons",
        "public-presence-hexagons",
        "public-measures-hexagons",
        "public-areas",
    ];
    for c in collections {
        assert!(listed.contains(c), "{c} missing from: {listed}");
    }
    assert!(
        !listed.contains(": incidents (") && !listed.contains(": presence ("),
        "internal collections stay hidden from the public: {listed}"
    );
    for c in ["public-areas", "public-incidents-hexagons"] {
        let read = Command::new("ogrinfo")
            .args(["-ro", "-al", "-q", &url, c])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&read.stdout);
        assert!(
            read.status.success(),
            "{c}: {}",
            String::from_utf8_lossy(&read.stderr)
        );
        let n = text.matches("OGRFeature(").count();
        assert!(n > 0, "{c}: no features read: {text}");
        if c == "public-areas" {
            assert_eq!(n, 32, "every district");
        }
    }
}

/// `kill -9` while writes are coming in: every write that got a 2xx is
/// there after a restart (SQLite in WAL mode with synchronous=FULL).
#[test]
fn acknowledged_writes_survive_kill_dash_nine() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("crash.db").display());
    let token = planner_token(&db);
    let mut server = start(Some(&db), &[]);
    wait_ready(&server.addr);
    let addr = server.addr.clone();
    let writer_token = token.clone();
    let (tx, rx) = mpsc::channel::<String>();
    let writer = std::thread::spawn(move || {
        let token = writer_token;
        for i in 0..10_000 {
            let body = format!(
                r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[15.6214,58.4108]}},"properties":{{"unit_type":"police","started_at":"2026-01-05T21:00:00Z","ended_at":"2026-01-05T21:12:00Z","client_id":"crash-{i}"}}}}"#
            );
            // The connection dies with the server: the loop ends there.
            let Ok(mut stream) = TcpStream::connect(&addr) else {
                break;
            };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let req = format!(
                "POST /api/v1/presence HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/geo+json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if stream.write_all(req.as_bytes()).is_err() {
                break;
            }
            let mut raw = String::new();
            if stream.read_to_string(&mut raw).is_err() || !raw.starts_with("HTTP/1.1 201") {
                break;
            }
            if tx.send(format!("crash-{i}")).is_err() {
                break;
            }
        }
    });
    // Let some writes be acknowledged, then pull the plug mid-stream.
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 40 {
        acknowledged.push(
            rx.recv_timeout(Duration::from_secs(60))
                .expect("writes are acknowledged"),
        );
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    writer.join().unwrap();
    acknowledged.extend(rx.try_iter());
    let server = start(Some(&db), &[]);
    wait_ready(&server.addr);
    let (_, _, body) = request_as(
        &server.addr,
        "GET",
        "/api/v1/presence?limit=10000",
        None,
        Some(&token),
    );
    let stored: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = stored["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["properties"]["client_id"].as_str())
        .collect();
    for id in &acknowledged {
        assert!(
            ids.contains(&id.as_str()),
            "{id} was acknowledged but is gone after kill -9"
        );
    }
    assert!(
        ids.len() <= acknowledged.len() + 1,
        "at most the one write in flight beyond the acknowledged"
    );
}

/// SIGTERM (systemd's stop) lets requests finish and exits cleanly.
#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut server = start(None, &[]);
    wait_ready(&server.addr);
    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "still running 20 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    assert!(
        TcpStream::connect(&server.addr).is_err(),
        "the port is closed"
    );
}

#[test]
fn an_import_from_the_cli_reaches_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("live.db").display());
    let token = planner_token(&db);
    let server = start(Some(&db), &[]);
    wait_ready(&server.addr);
    let csv = dir.path().join("incidents.csv");
    std::fs::write(
        &csv,
        "id,lon,lat,time,category\nk1,15.6214,58.4108,2026-01-10T20:00:00Z,theft\nk2,15.6220,58.4110,2026-01-11T21:00:00Z,robbery\n",
    )
    .unwrap();
    cli(
        &db,
        &[
            "import",
            "--kind",
            "incidents",
            "--format",
            "csv",
            csv.to_str().unwrap(),
        ],
    );
    // The server looks for other processes' imports every two seconds.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _, body) = request_as(
            &server.addr,
            "GET",
            "/api/v1/incidents?bbox=15.62,58.41,15.63,58.42",
            None,
            Some(&token),
        );
        assert_eq!(status, 200, "{body}");
        let list: serde_json::Value = serde_json::from_str(&body).unwrap();
        if list["numberReturned"] == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the import never reached the server: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("drain.db").display());
    let token = planner_token(&db);
    // tower_http logs each request as it begins: that line says the server
    // holds the request when the signal comes.
    let mut server = start_logging(Some(&db), &[], "info,tower_http=debug");
    wait_ready(&server.addr);
    let body = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[15.6214,58.4108]},"properties":{"category":"theft","occurred_at":"2026-01-05T21:00:00Z"}}"#;
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /api/v1/incidents HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/geo+json\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{first}",
        server.addr,
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    server.wait_for_log(
        "path=/api/v1/incidents",
        "the server never began the half-sent request",
    );
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    server.wait_for_log(
        "shutting down",
        "the server did not begin shutting down on SIGTERM",
    );
    stream.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    // What was acknowledged is stored.
    let server = start(Some(&db), &[]);
    wait_ready(&server.addr);
    let (_, _, list) = request_as(&server.addr, "GET", "/api/v1/incidents", None, Some(&token));
    assert!(list.contains("\"numberReturned\":1"), "{list}");
}

#[test]
fn the_binary_takes_the_import_options_and_writes_rejects_to_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let file = dir.path().join("narvaro.csv.gz");
    // Semicolons, Windows-1252 (Ö is 0xD6), gzip; one row without an end.
    let text = b"lon;lat;start;slut;enhetstyp\r\n15,6214;58,4108;2024-03-05 21:00;2024-03-05 21:40;Trygghetsteam\r\n15,6214;58,4108;2024-03-06 21:00;;\xd6vrigt\r\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text).unwrap();
    std::fs::write(&file, gz.finish().unwrap()).unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_trygg"))
            .current_dir(dir.path())
            .args([
                "import",
                "--kind",
                "presence",
                "--format",
                "csv",
                "--database-url",
                &db,
                // A new database is told which municipality it serves.
                "--service-area",
                "0580",
            ])
            .args(extra)
            .arg(&file)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let refused = run(&["--delimiter", ";"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("line 2: properties.unit_type: unknown value \"Trygghetsteam\""),
        "{said}"
    );
    let out = run(&[
        "--map",
        "unit_type=Trygghetsteam:municipal_staff",
        "--skip-invalid",
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("1 inserted, 0 updated, 0 unchanged, 0 skipped, 1 rejected (listed in narvaro.rejects.csv)"), "{said}");
    assert!(said.contains("note: read as Windows-1252"), "{said}");
    let listed = std::fs::read_to_string(dir.path().join("narvaro.rejects.csv")).unwrap();
    assert!(listed.contains("line 3,properties.ended_at,"), "{listed}");
    let out = run(&[
        "--map",
        "unit_type=Trygghetsteam:municipal_staff",
        "--default-duration",
        "15m",
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("1 inserted, 0 updated, 1 unchanged"),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn health_answers_while_heavy_analyses_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("heavy.db").display());
    let token = planner_token(&db);
    let server = start(Some(&db), &["--demo"]);
    wait_ready(&server.addr);
    // Four emerging-hot-spot analyses, each its own question (no two share
    // a kept answer): more than this machine has cores, so some wait in
    // the queue.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = [6, 7, 8, 9]
        .into_iter()
        .map(|months| {
            let (addr, token, done) = (
                server.addr.clone(),
                token.clone(),
                std::sync::Arc::clone(&done),
            );
            std::thread::spawn(move || {
                let path = format!("/api/v1/analysis/emerging?resolution=9&months={months}");
                let answer = support::exchange(
                    &addr,
                    "GET",
                    &path,
                    None,
                    Some(&token),
                    Duration::from_secs(600),
                );
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                answer
            })
        })
        .collect();
    server.wait_for_log("analysis started", "no analysis began");
    let (status, _, body) = request(&server.addr, "GET", "/healthz", None);
    assert_eq!(status, 200, "{body}");
    assert!(
        done.load(std::sync::atomic::Ordering::SeqCst) < 4,
        "/healthz answered only after every analysis had finished"
    );
    for w in workers {
        let (status, _, body) = w.join().unwrap().unwrap();
        assert_eq!(status, 200, "{}", &body[..body.len().min(300)]);
    }
    // Too much work is refused before it starts, naming what to change.
    let (status, _, body) = request_as(
        &server.addr,
        "GET",
        "/api/v1/analysis/emerging?resolution=10&months=36",
        None,
        Some(&token),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"field\":\"months\""), "{body}");
}

/// `trygg user second-factor enrol` prints the otpauth:// URI and ten
/// recovery codes; the running server then asks that admin for a code and
/// takes one computed from the URI's secret; `reset` sends them back to
/// setting one up.
#[test]
fn a_second_factor_from_the_cli_is_asked_for_at_login_and_reset_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("factor.db").display());
    let add = [
        "user",
        "add",
        "--username",
        "eva.admin",
        "--role",
        "admin",
        "--organisation",
        "Linköpings kommun",
    ];
    cli(&db, &add);
    let printed = cli(
        &db,
        &["user", "second-factor", "enrol", "--username", "eva.admin"],
    );
    let uri = printed.lines().next().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Trygg:eva.admin?"),
        "{printed}"
    );
    let recovery: Vec<&str> = printed
        .lines()
        .skip_while(|l| !l.starts_with("recovery codes"))
        .skip(1)
        .collect();
    assert_eq!(recovery.len(), 10, "{printed}");
    let base32 = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let secret = trygg_core::second_factor::secret_from_base32(base32).unwrap();

    let server = start(Some(&db), &[]);
    wait_ready(&server.addr);
    let login = |code: Option<&str>| {
        let mut body =
            serde_json::json!({ "username": "eva.admin", "password": support::PASSWORD });
        if let Some(code) = code {
            body["code"] = serde_json::json!(code);
        }
        request(
            &server.addr,
            "POST",
            "/api/v1/auth/login",
            Some(&body.to_string()),
        )
    };
    let (status, _, asked) = login(None);
    assert_eq!(status, 401, "{asked}");
    assert!(asked.contains("\"second_factor\":\"code\""), "{asked}");
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    let code = trygg_core::second_factor::code_at(&secret, now).unwrap();
    let (status, _, body) = login(Some(&code));
    assert_eq!(status, 200, "{body}");

    let reset = cli(
        &db,
        &["user", "second-factor", "reset", "--username", "eva.admin"],
    );
    assert!(reset.contains("no second factor now"), "{reset}");
    let (status, _, body) = login(None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"second_factor\":\"enrol\""), "{body}");
}
