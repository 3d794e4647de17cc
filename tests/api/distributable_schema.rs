//! The schema stays distributable by show (Citus, docs/OPERATIONS.md "Sharding by show"): read
//! from the catalog of a migrated database, every per-show table can be distributed on
//! `show_id` and co-located with `shows` (distributed on `id`). A table is per-show when it has
//! a `show_id` column; everything else (users, sessions) must be a reference or local table.

use reqwest::StatusCode;
use serde_json::json;

use crate::booking_world::{create_show, hall};
use crate::helpers::TestApp;
use crate::rest::{Api, assert_error};

/// One row per rule broken, naming the table and the constraint or index:
/// - a per-show table's `show_id` is NOT NULL and of the type of `shows.id` (co-location);
/// - it has a primary key, and every unique index (constraints included) and exclusion
///   constraint has `show_id` among its key columns (Citus enforces uniqueness per shard);
/// - a foreign key from a per-show table to another pairs `show_id` with `show_id`
///   (`shows.id` for `shows`), so the referenced row is always on the same shard;
/// - a table without `show_id` references no per-show table (it would really be per-show).
const VIOLATIONS: &str = r#"
WITH tables AS (
    SELECT c.oid, c.oid::regclass::text AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
),
-- The distribution root `shows` is keyed by `id`; the other per-show tables by `show_id`.
per_show AS (
    SELECT t.oid, t.name, a.attnum AS show_column, a.attname::text AS show_column_name,
           a.atttypid, a.attnotnull
    FROM tables t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE (t.oid = 'shows'::regclass AND a.attname = 'id')
       OR (t.oid <> 'shows'::regclass AND a.attname = 'show_id')
)
SELECT format('%s: %s must be NOT NULL and %s like shows.id', p.name, p.show_column_name,
              format_type(root.atttypid, NULL))
FROM per_show p, per_show root
WHERE root.oid = 'shows'::regclass AND (NOT p.attnotnull OR p.atttypid <> root.atttypid)
UNION ALL
SELECT format('%s has no primary key', p.name)
FROM per_show p
WHERE NOT EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = p.oid AND x.indisprimary)
UNION ALL
SELECT format('%s: %s %s does not include %s: %s', p.name,
              CASE WHEN x.indisprimary THEN 'primary key'
                   WHEN x.indisexclusion THEN 'exclusion constraint'
                   ELSE 'unique index' END,
              x.indexrelid::regclass, p.show_column_name, pg_get_indexdef(x.indexrelid))
FROM per_show p JOIN pg_index x ON x.indrelid = p.oid
WHERE (x.indisunique OR x.indisexclusion)
  AND NOT p.show_column = ANY ((x.indkey::int2[])[0 : x.indnkeyatts - 1])
UNION ALL
SELECT format('%s: foreign key %s to %s does not pair %s with %s: %s', src.name, k.conname, dst.name,
              src.show_column_name, dst.show_column_name, pg_get_constraintdef(k.oid))
FROM pg_constraint k
JOIN per_show src ON src.oid = k.conrelid
JOIN per_show dst ON dst.oid = k.confrelid
WHERE k.contype = 'f'
  AND NOT EXISTS (SELECT 1 FROM unnest(k.conkey, k.confkey) AS pair(from_column, to_column)
                  WHERE pair.from_column = src.show_column AND pair.to_column = dst.show_column)
UNION ALL
SELECT format('%s has no show_id, but its foreign key %s references the per-show table %s',
              t.name, k.conname, dst.name)
FROM pg_constraint k
JOIN tables t ON t.oid = k.conrelid
JOIN per_show dst ON dst.oid = k.confrelid
WHERE k.contype = 'f' AND t.oid NOT IN (SELECT oid FROM per_show)
ORDER BY 1
"#;

/// Tables that must be found per-show: the check cannot pass by seeing none.
const KNOWN_PER_SHOW: [&str; 10] = [
    "shows",
    "seat_categories",
    "seats",
    "bookings",
    "booking_events",
    "booking_refusals",
    "refunds",
    "waitlist_entries",
    "waiting_rooms",
    "waiting_room_places",
];

async fn violations(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(VIOLATIONS).fetch_all(pool).await.expect("reading the catalog")
}

#[tokio::test]
async fn every_per_show_table_is_keyed_and_referenced_by_show() {
    let app = TestApp::spawn().await;
    let per_show: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
         WHERE c.relkind = 'r' AND a.attname = 'show_id' AND NOT a.attisdropped",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for table in KNOWN_PER_SHOW.iter().filter(|&&t| t != "shows") {
        assert!(per_show.iter().any(|t| t == table), "{table} has no show_id column");
    }

    let broken = violations(&app.pool).await;
    assert!(broken.is_empty(), "the schema cannot be distributed by show:\n{}", broken.join("\n"));
}

#[tokio::test]
async fn the_check_names_each_table_and_constraint_that_breaks_a_rule() {
    let app = TestApp::spawn().await;
    sqlx::raw_sql(
        "CREATE TABLE scratch_tickets (
             id bigint PRIMARY KEY,
             show_id bigint NOT NULL,
             seat_id integer NOT NULL,
             code text CONSTRAINT scratch_tickets_code UNIQUE,
             CONSTRAINT scratch_tickets_seat FOREIGN KEY (show_id, seat_id) REFERENCES seats
         );
         CREATE TABLE scratch_scans (
             ticket_id bigint CONSTRAINT scratch_scans_ticket REFERENCES scratch_tickets
         );
         CREATE TABLE scratch_notes (
             show_id integer,
             seat_id integer,
             PRIMARY KEY (seat_id),
             CONSTRAINT scratch_notes_seat FOREIGN KEY (seat_id, show_id) REFERENCES seats (show_id, seat_id)
         );",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let broken = violations(&app.pool).await;
    let expected = [
        "scratch_notes: show_id must be NOT NULL and bigint like shows.id",
        "scratch_notes: foreign key scratch_notes_seat to seats does not pair show_id with show_id",
        "scratch_notes: primary key scratch_notes_pkey does not include show_id",
        "scratch_scans has no show_id, but its foreign key scratch_scans_ticket references the per-show table scratch_tickets",
        "scratch_tickets: primary key scratch_tickets_pkey does not include show_id",
        "scratch_tickets: unique index scratch_tickets_code does not include show_id",
    ];
    for rule in expected {
        assert!(
            broken.iter().any(|b| b.starts_with(rule)),
            "not reported: {rule}\nreported:\n{}",
            broken.join("\n")
        );
    }
    let scratch = broken.iter().filter(|b| b.starts_with("scratch_")).count();
    assert_eq!(scratch, expected.len(), "reported:\n{}", broken.join("\n"));
}

/// Idempotency keys are unique per customer and show (a key unique per customer alone could
/// not be enforced by a shard): a key names one checkout of one show.
#[tokio::test]
async fn an_idempotency_key_names_a_checkout_of_one_show() {
    let app = TestApp::spawn().await;
    let first_show = create_show(&app.pool, &hall(1, 5)).await;
    let second_show = create_show(&app.pool, &hall(1, 5)).await;
    let ann = Api::customer(&app, "ann@example.com").await;
    let hold = |show: i64, seats: serde_json::Value| {
        ann.client
            .post(ann.url(&format!("/shows/{show}/holds")))
            .header("Idempotency-Key", "checkout-1")
            .json(&json!({"seat_ids": seats}))
            .send()
    };

    let first = Api::read(hold(first_show, json!([1])).await.unwrap()).await;
    let second = Api::read(hold(second_show, json!([1])).await.unwrap()).await;
    assert_eq!((first.0, second.0), (StatusCode::CREATED, StatusCode::CREATED), "{first:?} {second:?}");
    assert_ne!(first.1["id"], second.1["id"], "one booking per show");
    assert_eq!(second.1["show_id"], second_show);

    // Each show replays its own booking, and still refuses the key for another request.
    assert_eq!(Api::read(hold(first_show, json!([1])).await.unwrap()).await, first);
    assert_eq!(Api::read(hold(second_show, json!([1])).await.unwrap()).await, second);
    let different = Api::read(hold(second_show, json!([2])).await.unwrap()).await;
    assert_error(&different, StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(different.1["field"], "idempotency_key");
    let bookings: i64 =
        sqlx::query_scalar("SELECT count(*) FROM bookings").fetch_one(&app.pool).await.unwrap();
    assert_eq!(bookings, 2);
}
