//! Cluster-level housekeeping: databases themselves rather than what is in them.

use sqlx::PgConnection;

/// Creates `name` unless it exists. Two processes racing to create it both succeed.
pub async fn create_database_if_missing(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    if exists {
        return Ok(());
    }
    let create = format!("CREATE DATABASE {}", quote_identifier(name));
    match sqlx::raw_sql(&create).execute(&mut *conn).await {
        Ok(_) => Ok(()),
        // 42P04 duplicate_database: someone else created it in the meantime.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => Ok(()),
        Err(e) => Err(e),
    }
}

/// Drops `name`, ending any sessions still connected to it.
pub async fn drop_database(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_identifier(name));
    sqlx::raw_sql(&drop).execute(conn).await?;
    Ok(())
}

/// An SQL identifier in double quotes, with embedded quotes doubled.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    #[test]
    fn identifiers_are_quoted_safely() {
        assert_eq!(super::quote_identifier(r#"we"ird"#), r#""we""ird""#);
    }
}
