//! The physical limit: PostgreSQL's own load generator running the app's booking statement
//! with no web layer in between.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, bail, ensure};
use serde::Serialize;
use sqlx::PgPool;

use super::{Progress, Setup};
use crate::service::claims::CLAIM_SQL;

/// Pairs of seats booked in all: the flash sale's 10,000 seats.
const PAIRS: usize = 5_000;

#[derive(Debug, Serialize)]
pub struct PgbenchReport {
    pub show_id: i64,
    pub clients: usize,
    pub transactions: usize,
    /// Bookings per second (each transaction books two seats).
    pub tps: f64,
    pub latency_average_ms: f64,
    /// The script pgbench ran.
    pub script: String,
}

pub async fn run(
    setup: &Setup,
    database: &PgPool,
    database_url: &str,
    clients: usize,
    user_id: i64,
    progress: &Progress,
) -> anyhow::Result<PgbenchReport> {
    let clients = clients.clamp(1, PAIRS);
    let per_client = PAIRS / clients;
    let seats = 2 * per_client * clients;
    let rows = seats.div_ceil(100);
    let show_id = setup.api.create_show(&setup.admin, "pgbench", rows, seats.div_ceil(rows)).await?;
    let mut ids: Vec<i32> = setup.api.seats(show_id).await?.iter().map(|s| s.id).collect();
    ids.sort_unstable();
    ensure!(
        ids.first() == Some(&1) && ids.windows(2).all(|w| w[1] == w[0] + 1),
        "the show's seat ids are not 1, 2, 3, ...: the pgbench script cannot name them"
    );

    let script = script(show_id, user_id, per_client);
    let script_path = std::env::temp_dir().join(format!("boxoffice-bench-{}.pgbench", std::process::id()));
    std::fs::write(&script_path, &script).context("writing the pgbench script")?;
    progress.say(&format!("pgbench: {clients} clients book {seats} seats with the app's statement"));
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
    Ok(PgbenchReport {
        show_id,
        clients,
        transactions: per_client * clients,
        tps: figure(&stdout, "tps = ").context("pgbench printed no tps")?,
        latency_average_ms: figure(&stdout, "latency average = ").unwrap_or_default(),
        script,
    })
}

/// The app's claim statement for one order (a batch of one), booking now, with pgbench
/// variables for its parameters. Client c books pairs c·n, c·n+1, ... (seats 2p+1 and 2p+2), so
/// no two transactions collide.
fn script(show_id: i64, user_id: i64, per_client: usize) -> String {
    // Highest first, so that $1 does not eat the start of $10.
    let parameters = [
        ("$9", "ARRAY['pgbench']".to_owned()),
        ("$8", "ARRAY[true]".to_owned()),
        ("$7", "ARRAY[true]".to_owned()),
        ("$6", "ARRAY[NULL::text]".to_owned()),
        ("$5", "ARRAY[120]".to_owned()),
        ("$4", "ARRAY[2]".to_owned()),
        ("$3", "ARRAY[:seat_a, :seat_b]".to_owned()),
        ("$2", format!("ARRAY[{user_id}]")),
        ("$1", format!("ARRAY[{show_id}]")),
    ];
    let statement = parameters
        .iter()
        .fold(CLAIM_SQL.to_owned(), |sql, (placeholder, value)| sql.replace(placeholder, value));
    format!(
        "\\set pair :client_id * {per_client} + :i\n\\set i :i + 1\n\\set seat_a 2 * :pair + 1\n\\set seat_b 2 * :pair + 2\n{};\n",
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
        let script = script(7, 3, 100);
        assert!(!script.contains('$'), "a parameter was left unfilled:\n{script}");
        assert!(script.contains("unnest(ARRAY[7]::bigint[], ARRAY[3]::bigint[]"), "{script}");
        assert!(script.contains("(ARRAY[:seat_a, :seat_b]::int[])"), "{script}");
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
