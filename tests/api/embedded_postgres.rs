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

#[tokio::test]
async fn a_cluster_planted_on_our_socket_is_refused() {
    let base = |name: &str| std::env::temp_dir().join(format!("boxoffice-{name}-{}", uuid::Uuid::new_v4().simple()));
    let theirs = base("theirs");
    let cluster = EmbeddedPostgres::start(&theirs, Durability::Disposable).await.expect("their cluster");

    // Our folder, prepared as the launcher leaves it, but with their socket linked into our
    // run/ and their postmaster's pid in our pgdata/: what answers is not our cluster.
    let ours = base("ours");
    std::fs::create_dir_all(&ours).unwrap();
    for dir in ["pgdata", "run"] {
        std::fs::create_dir(ours.join(dir)).unwrap();
        std::fs::set_permissions(ours.join(dir), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        if nix::unistd::geteuid().is_root() {
            let postgres = nix::unistd::User::from_name("postgres").unwrap().expect("the postgres user");
            std::os::unix::fs::chown(ours.join(dir), Some(postgres.uid.as_raw()), Some(postgres.gid.as_raw()))
                .unwrap();
        }
    }
    std::fs::hard_link(theirs.join("run/.s.PGSQL.5432"), ours.join("run/.s.PGSQL.5432")).unwrap();
    std::fs::copy(theirs.join("pgdata/postmaster.pid"), ours.join("pgdata/postmaster.pid")).unwrap();

    let refused = EmbeddedPostgres::start(&ours, Durability::Disposable).await.err().expect("refused");
    assert!(refused.to_string().contains("refusing to use it"), "{refused:#}");

    cluster.stop().await;
    std::fs::remove_dir_all(&theirs).unwrap();
    std::fs::remove_dir_all(&ours).unwrap();
}
