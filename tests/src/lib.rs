//! Test harness shared by the integration suites: fresh stores on both
//! backends, the Linköping service area, feature builders, and the sink
//! that collects every GeoJSON body for the independent validator.

#![allow(
    clippy::unwrap_used,
    clippy::needless_pass_by_value,
    clippy::items_after_statements,
    reason = "test support code: a panic is the failure report"
)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use trygg_core::service_area::ServiceArea;
use trygg_store::{DatabaseUrl, Store};

/// The Linköping service area (what `trygg serve --demo` serves).
pub fn linkoping() -> ServiceArea {
    static AREA: OnceLock<ServiceArea> = OnceLock::new();
    AREA.get_or_init(|| {
        trygg_cli::data::service_area("0580").expect("Linköping is in the SCB list")
    })
    .clone()
}

pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// A fresh SQLite database in a temporary folder (kept alive by the guard).
pub async fn sqlite_store() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = DatabaseUrl::new(format!("sqlite:{}", dir.path().join("trygg.db").display()));
    let store = trygg_store::connect(&url).await.expect("open SQLite");
    (store, dir)
}

/// A database of its own on the PostgreSQL server that
/// `TRYGG_TEST_POSTGRES_URL` names; dropped by [`PgDatabase::drop`].
pub struct PgDatabase {
    admin: DatabaseUrl,
    name: String,
    /// Where this test's database is, for a second connection to it.
    pub url: DatabaseUrl,
}

impl PgDatabase {
    pub async fn drop(self) {
        let _ = trygg_store::admin::drop_database(&self.admin, &self.name).await;
    }
}

/// `None` (with a note) when no PostgreSQL is configured; a failure when
/// `TRYGG_REQUIRE_POSTGRES=1`, which the project's test script sets so a
/// missing server can never pass silently.
pub async fn postgres_store() -> Option<(Arc<dyn Store>, PgDatabase)> {
    let Ok(admin) = std::env::var("TRYGG_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TRYGG_REQUIRE_POSTGRES").is_err(),
            "TRYGG_REQUIRE_POSTGRES is set but TRYGG_TEST_POSTGRES_URL is not"
        );
        eprintln!(
            "note: TRYGG_TEST_POSTGRES_URL is not set; PostgreSQL case not run (scripts/test.sh runs it)"
        );
        return None;
    };
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "trygg_t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        Utc::now().timestamp_subsec_nanos()
    );
    let admin = DatabaseUrl::new(admin);
    let url = trygg_store::admin::create_database(&admin, &name)
        .await
        .expect("create test database");
    let store = trygg_store::connect(&url)
        .await
        .expect("connect to test database");
    Some((store, PgDatabase { admin, name, url }))
}

/// Runs one async test body on a fresh SQLite and a fresh PostgreSQL store.
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* async fn $name:ident($store:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($store: std::sync::Arc<dyn trygg_store::Store>) $body

            #[tokio::test]
            async fn sqlite() {
                let (store, _dir) = $crate::sqlite_store().await;
                case(store).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some((store, db)) = $crate::postgres_store().await {
                    case(store).await;
                    db.drop().await;
                }
            }
        }
    };
}

/// A GeoJSON Feature body for a kind, with a point geometry.
pub fn point(lon: f64, lat: f64, properties: Value) -> Value {
    json!({ "type": "Feature", "geometry": { "type": "Point", "coordinates": [lon, lat] }, "properties": properties })
}

pub fn feature(geometry: Value, properties: Value) -> Value {
    json!({ "type": "Feature", "geometry": geometry, "properties": properties })
}

/// A polygon around a centre, about `half_m` metres from centre to side.
pub fn square(lon: f64, lat: f64, half_m: f64) -> Value {
    let dlat = half_m / 110_540.0;
    let dlon = half_m / (111_320.0 * lat.to_radians().cos());
    json!({ "type": "Polygon", "coordinates": [[
        [lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat], [lon - dlon, lat + dlat], [lon - dlon, lat - dlat]
    ]]})
}

/// Writes a GeoJSON body where the independent RFC 7946 validator
/// (tests/geojson) will read it, when `TRYGG_GEOJSON_SAMPLES` names a folder.
pub fn collect_geojson(label: &str, body: &str) {
    let Ok(dir) = std::env::var("TRYGG_GEOJSON_SAMPLES") else {
        return;
    };
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = PathBuf::from(dir);
    let _ = std::fs::create_dir_all(&dir);
    let safe: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let file = dir.join(format!(
        "{}-{}-{safe}.geojson",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(file, body).expect("write GeoJSON sample");
}

/// One API token per role, for driving the API as each kind of user.
#[derive(Debug, Clone)]
pub struct Identities {
    pub admin: String,
    pub planner: String,
    /// A planner with the publish permission.
    pub publisher: String,
    /// Field staff of the municipality.
    pub field: String,
    /// Field staff of the police: another organisation.
    pub field_other: String,
    /// A planner's token with only the read scope.
    pub reader: String,
    pub municipality: uuid::Uuid,
    pub police: uuid::Uuid,
}

/// The password of the `planner` user, for login tests.
pub const PLANNER_PASSWORD: &str = "en lång och hemlig lösenfras";

/// Creates two partner organisations, a user per role and a token each.
pub async fn identities(store: &dyn Store) -> Identities {
    use trygg_core::access::{Role, Scope};
    use trygg_store::{Actor, NewUser};
    static HASH: OnceLock<String> = OnceLock::new();
    let hash = HASH.get_or_init(|| {
        trygg_server::auth::secrets::hash_password(PLANNER_PASSWORD).expect("hash")
    });
    let actor = Actor::system("test");
    let now = Utc::now();
    let municipality = store
        .create_organisation("Linköpings kommun", &actor, now)
        .await
        .expect("org");
    let police = store
        .create_organisation("Polisen Linköping", &actor, now)
        .await
        .expect("org");
    let all = vec![Scope::Read, Scope::Write, Scope::Import];
    let token =
        async |username: &str, role: Role, publish: bool, org: uuid::Uuid, scopes: Vec<Scope>| {
            let user = match store.user_by_username(username).await.expect("lookup") {
                Some((u, _)) => u,
                None => store
                    .create_user(
                        &NewUser {
                            username: username.to_owned(),
                            display_name: username.to_owned(),
                            password_hash: hash.clone(),
                            role,
                            can_publish: publish,
                            organisation_id: org,
                        },
                        &actor,
                        now,
                    )
                    .await
                    .expect("user"),
            };
            let (secret, record) =
                trygg_server::auth::mint_token(user.id, "test", scopes, 30).expect("token");
            store
                .create_token(&record, &actor, now)
                .await
                .expect("store token");
            secret
        };
    Identities {
        admin: token("admin", Role::Admin, false, municipality.id, all.clone()).await,
        planner: token(
            "planner",
            Role::Planner,
            false,
            municipality.id,
            all.clone(),
        )
        .await,
        publisher: token(
            "publisher",
            Role::Planner,
            true,
            municipality.id,
            all.clone(),
        )
        .await,
        field: token("field", Role::Field, false, municipality.id, all.clone()).await,
        field_other: token("field.polis", Role::Field, false, police.id, all.clone()).await,
        reader: token(
            "planner",
            Role::Planner,
            false,
            municipality.id,
            vec![Scope::Read],
        )
        .await,
        municipality: municipality.id,
        police: police.id,
    }
}

/// The second factor the test helpers give admins and publishers, so that
/// the suite logs in as they do: with a code computed from it.
pub const TEST_FACTOR_SECRET: &[u8] = b"trygg test factor 20b!";

/// Gives a user [`TEST_FACTOR_SECRET`] as a confirmed second factor unless
/// they have one, with no code used yet.
pub async fn enrol_test_factor(store: &dyn Store, user_id: uuid::Uuid) {
    use trygg_core::second_factor::{SKEW_STEPS, STEP_SECONDS, secret_to_base32};
    if store.second_factor(user_id).await.unwrap().is_some() {
        return;
    }
    let now = Utc::now();
    store
        .begin_second_factor(user_id, &secret_to_base32(TEST_FACTOR_SECRET), now)
        .await
        .unwrap();
    let before_window =
        now.timestamp() / i64::try_from(STEP_SECONDS).unwrap() - i64::from(SKEW_STEPS) - 1;
    store
        .confirm_second_factor(
            user_id,
            before_window,
            &[],
            &trygg_store::Actor::system("test"),
            now,
        )
        .await
        .unwrap();
}

/// A code of [`TEST_FACTOR_SECRET`] that the server takes now: the current
/// step's, or — when a login in the same 30 s used it — the next step's,
/// which the ±1 step window accepts (a wrong code would count towards the
/// login back-off).
pub async fn test_factor_code(store: &dyn Store, user_id: uuid::Uuid) -> String {
    use trygg_core::second_factor::{STEP_SECONDS, code_at};
    let now = u64::try_from(Utc::now().timestamp()).unwrap();
    let current = now / STEP_SECONDS;
    let last = store
        .second_factor(user_id)
        .await
        .unwrap()
        .and_then(|f| f.last_step)
        .and_then(|s| u64::try_from(s).ok());
    let step = last.map_or(current, |l| current.max(l + 1));
    assert!(
        step <= current + 1,
        "every code of this 30 s window is used: a test logs in as one user more than twice in 30 s"
    );
    code_at(TEST_FACTOR_SECRET, step * STEP_SECONDS).unwrap()
}
