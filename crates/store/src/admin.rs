//! Creating and dropping PostgreSQL databases: what the test suites and
//! operators' scripts need to get a fresh database per run.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::{DatabaseUrl, Error, Result};

fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 63
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Error::Config(format!(
            "`{name}` is not a plain database name (a-z, 0-9, _)"
        )));
    }
    Ok(())
}

/// The URL of database `name` on the same server as `admin`.
pub fn sibling_url(admin: &DatabaseUrl, name: &str) -> Result<DatabaseUrl> {
    check_name(name)?;
    let url = admin.expose();
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(DatabaseUrl::new(out))
}

pub async fn create_database(admin: &DatabaseUrl, name: &str) -> Result<DatabaseUrl> {
    check_name(name)?;
    let mut conn = PgConnection::connect(admin.expose()).await?;
    // A name cannot be a bind parameter; check_name made it safe to quote.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    sibling_url(admin, name)
}

pub async fn drop_database(admin: &DatabaseUrl, name: &str) -> Result<()> {
    check_name(name)?;
    let mut conn = PgConnection::connect(admin.expose()).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sibling_keeps_host_credentials_and_options() {
        let admin = DatabaseUrl::new("postgres://u:p@127.0.0.1:5433/postgres?sslmode=disable");
        assert_eq!(
            sibling_url(&admin, "trygg_t1").unwrap().expose(),
            "postgres://u:p@127.0.0.1:5433/trygg_t1?sslmode=disable"
        );
        assert!(sibling_url(&admin, "x; DROP").is_err());
    }
}
