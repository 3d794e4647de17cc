//! The physical limit: PostgreSQL's own load generator running the app's booking statement
//! with no web layer in between, two ways: one order per transaction with as many clients as
//! the app has connections (what one booking costs), and batches as the app's claim queue
//! sends them (what the app could reach with a web layer that cost nothing).

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, bail, ensure};
use serde::Serialize;
use sqlx::PgPool;

use super::{Progress, Setup};
use crate::service::claims::CLAIM_SQL;

/// What pgbench runs: `clients` at once, each transaction booking `orders_per_transaction`
/// pairs of seats, `pairs` in all at most (a show has 20,000 seats at most).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Load {
    pub clients: usize,
    pub orders_per_transaction: usize,
    pub pairs: usize,
}

#[derive(Debug, Serialize)]
pub struct PgbenchReport {
    pub show_id: i64,
    pub clients: usize,
    pub orders_per_transaction: usize,
    pub transactions: usize,
    pub transactions_per_s: f64,
    /// Bookings (of two seats) per second.
    pub bookings_per_s: f64,
    pub latency_average_ms: f64,
    /// The script pgbench ran.
    pub script: String,
}

pub async fn run(
    setup: &Setup,
    database: &PgPool,
    database_url: &str,
    load: Load,
    user_id: i64,
    progress: &Progress,
) -> anyhow::Result<PgbenchReport> {
    let batch = load.orders_per_transaction.max(1);
    let clients = load.clients.clamp(1, load.pairs / batch);
    let per_client = load.pairs / batch / clients;
    let seats = 2 * batch * per_client * clients;
    let rows = seats.div_ceil(100);
    let show_id = setup.api.create_show(&setup.admin, "pgbench", rows, seats.div_ceil(rows)).await?;
    let mut ids: Vec<i32> = setup.api.seats(show_id).await?.iter().map(|s| s.id).collect();
    ids.sort_unstable();
    ensure!(
        ids.first() == Some(&1) && ids.windows(2).all(|w| w[1] == w[0] + 1),
        "the show's seat ids are not 1, 2, 3, ...: the pgbench script cannot name them"
    );

    let script = script(show_id, user_id, per_client, batch);
    let script_path = std::env::temp_dir().join(format!("boxoffice-bench-{}.pgbench", std::process::id()));
    std::fs::write(&script_path, &script).context("writing the pgbench script")?;
    progress.say(&format!(
        "pgbench: {clients} clients book {seats} seats with the app's statement, {batch} orders per transaction"
    ));
    let output = tokio::process::Command::new(pgbench_binary())
        .args(["--no-vacuum", "--protocol=prepared", "--jobs=2"])
        .arg(format!("--client={clients}"))
        .arg(format!("--transactions={per_client}"))
        .args(["--define", "i=0"])
        .arg(format!("--file={}", script_path.display()))
        .arg(database_url)
        .stdin(Stdio::null())
        .output()
        .await
        .context("running pgbench (Debian: apt install postgresql)")?;
    let _ = std::fs::remove_file(&script_path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("pgbench failed: {}{}", stdout, String::from_utf8_lossy(&output.stderr));
    }
    let booked: i64 =
        sqlx::query_scalar("SELECT count(*) FROM seats WHERE show_id = $1 AND status = 'BOOKED'")
            .bind(show_id)
            .fetch_one(database)
            .await?;
    ensure!(booked as usize == seats, "pgbench booked {booked} seats, not {seats}: {stdout}");
    let transactions_per_s = figure(&stdout, "tps = ").context("pgbench printed no tps")?;
    Ok(PgbenchReport {
        show_id,
        clients,
        orders_per_transaction: batch,
        transactions: per_client * clients,
        transactions_per_s,
        bookings_per_s: transactions_per_s * batch as f64,
        latency_average_ms: figure(&stdout, "latency average = ").unwrap_or_default(),
        script,
    })
}

/// The app's claim statement for `batch` orders, booking now, with pgbench variables and
/// expressions for its parameters. Client c's n-th transaction books the pairs from
/// (c·per_client + n)·batch on (seats 2p+1 and 2p+2), so no two transactions collide.
fn script(show_id: i64, user_id: i64, per_client: usize, batch: usize) -> String {
    let each = |value: &str| format!("array_fill({value}, ARRAY[{batch}])");
    let parameters = [
        ("$9", each("'pgbench'::text")),
        ("$8", each("true")),
        ("$7", each("true")),
        ("$6", each("NULL::text")),
        ("$5", each("120::float8")),
        ("$4", each("2")),
        ("$3", format!("ARRAY(SELECT generate_series(:first_seat, :first_seat + {}))", 2 * batch - 1)),
        ("$2", each(&format!("{user_id}::bigint"))),
        ("$1", each(&format!("{show_id}::bigint"))),
    ];
    let statement = parameters
        .iter()
        .fold(CLAIM_SQL.to_owned(), |sql, (placeholder, value)| sql.replace(placeholder, value));
    format!(
        "\\set first_seat 2 * (:client_id * {per_client} + :i) * {batch} + 1\n\\set i :i + 1\n{};\n",
        statement.trim()
    )
}

/// pgbench from the PostgreSQL the embedded default uses, else from PATH.
fn pgbench_binary() -> PathBuf {
    crate::server::embedded_pg::find_bin_dir()
        .map(|dir| dir.join("pgbench"))
        .ok()
        .filter(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("pgbench"))
}

/// The number after `label` in pgbench's report.
fn figure(report: &str, label: &str) -> Option<f64> {
    let line = report.lines().find(|line| line.starts_with(label))?;
    line[label.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_runs_the_app_statement_with_every_parameter_filled() {
        let script = script(7, 3, 100, 64);
        assert!(!script.contains('$'), "a parameter was left unfilled:\n{script}");
        assert!(
            script.contains(
                "unnest(array_fill(7::bigint, ARRAY[64])::bigint[], array_fill(3::bigint, ARRAY[64])"
            ),
            "{script}"
        );
        assert!(
            script.contains("(ARRAY(SELECT generate_series(:first_seat, :first_seat + 127))::int[])"),
            "{script}"
        );
        assert!(script.starts_with("\\set first_seat 2 * (:client_id * 100 + :i) * 64 + 1\n"), "{script}");
        assert!(script.trim_end().ends_with(';'));
    }

    #[test]
    fn figures_are_read_from_the_report() {
        let report = "latency average = 10.5 ms\ntps = 3012.345678 (without initial connection time)\n";
        assert_eq!(figure(report, "tps = "), Some(3012.345678));
        assert_eq!(figure(report, "latency average = "), Some(10.5));
        assert_eq!(figure(report, "nothing = "), None);
    }
}
