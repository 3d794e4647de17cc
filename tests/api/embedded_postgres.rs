use boxoffice::server::embedded_pg::{Durability, EmbeddedPostgres};
use sqlx::{Connection, PgConnection};

#[tokio::test]
async fn a_second_start_reuses_the_data_of_the_first() {
    let dir = std::env::temp_dir().join(format!("boxoffice-embedded-{}", uuid::Uuid::new_v4().simple()));

    let first = EmbeddedPostgres::start(&dir, Durability::Durable).await.expect("first start");
    first.ensure_database("app").await.unwrap();
    let mut conn = PgConnection::connect_with(&first.connect_options("app")).await.unwrap();
    sqlx::raw_sql("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    first.stop().await;
    assert!(!dir.join("pgdata/postmaster.pid").exists(), "stopped cleanly");

    let second = EmbeddedPostgres::start(&dir, Durability::Durable).await.expect("second start");
    second.ensure_database("app").await.unwrap();
    let mut conn = PgConnection::connect_with(&second.connect_options("app")).await.unwrap();
    let note: String = sqlx::query_scalar("SELECT note FROM kept").fetch_one(&mut conn).await.unwrap();
    assert_eq!(note, "still here");
    conn.close().await.unwrap();
    second.stop().await;

    std::fs::remove_dir_all(&dir).unwrap();
}
