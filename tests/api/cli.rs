use std::process::Command;

use crate::helpers::TestDatabase;

const BIN: &str = env!("CARGO_BIN_EXE_boxoffice");

#[test]
fn help_lists_every_environment_variable_and_subcommand() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "DATABASE_URL",
        "BOXOFFICE_DATA_DIR",
        "LEPTOS_SITE_ADDR",
        "LEPTOS_SITE_ROOT",
        "RUST_LOG",
        "migrate",
        "serve",
    ] {
        assert!(help.contains(expected), "--help lacks {expected}:\n{help}");
    }
}

#[tokio::test]
async fn migrate_applies_the_migrations_and_exits() {
    let db = TestDatabase::create().await;
    let output = tokio::process::Command::new(BIN)
        .arg("migrate")
        .env("DATABASE_URL", db.url())
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let pool = sqlx::PgPool::connect_with(db.options.clone()).await.unwrap();
    let shows: i64 = sqlx::query_scalar("SELECT count(*) FROM shows").fetch_one(&pool).await.unwrap();
    assert_eq!(shows, 0, "the shows table exists");
    pool.close().await;
}

#[tokio::test]
async fn a_bad_database_url_is_a_clear_error() {
    let output = tokio::process::Command::new(BIN)
        .arg("migrate")
        .env("DATABASE_URL", "mysql://nope")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL is not a valid PostgreSQL URL"), "{stderr}");
}
