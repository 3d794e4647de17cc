//! Hot seat: every customer asks for the same two seats at the same moment.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;
use tokio::sync::Barrier;

use super::Setup;
use super::client::{Commitment, Outcome, Session};
use super::stats::Latency;

/// Each round fights over a different pair of seats.
const ROUNDS: usize = 3;

#[derive(Debug, Serialize)]
pub struct HotSeatReport {
    pub show_id: i64,
    pub clients: usize,
    pub rounds: usize,
    /// Holds granted per round: exactly one each, or the booking rules are broken.
    pub winners_per_round: Vec<usize>,
    pub refusal_latency: Latency,
    pub winner_latency: Latency,
    pub ok: bool,
}

pub async fn run(setup: &Setup, customers: &[Session]) -> anyhow::Result<HotSeatReport> {
    let show_id = setup.api.create_show(&setup.admin, "Hot seat", 1, 2 * ROUNDS).await?;
    let mut seat_ids: Vec<i32> = setup.api.seats(show_id).await?.iter().map(|s| s.id).collect();
    seat_ids.sort_unstable();
    let (mut winners_per_round, mut refused, mut won) = (vec![], vec![], vec![]);
    for pair in seat_ids.chunks(2).take(ROUNDS) {
        let start = Arc::new(Barrier::new(customers.len()));
        let mut tasks = tokio::task::JoinSet::new();
        for session in customers {
            let (api, session, start, pair) =
                (setup.api.clone(), session.clone(), start.clone(), pair.to_vec());
            tasks.spawn(async move {
                start.wait().await;
                api.order(&session, show_id, &pair, Commitment::Hold).await
            });
        }
        let mut winners = 0;
        while let Some(joined) = tasks.join_next().await {
            let attempt = joined.context("a customer task panicked")??;
            match attempt.outcome {
                Outcome::Got => {
                    winners += 1;
                    won.push(attempt.latency);
                }
                Outcome::Taken(_) => refused.push(attempt.latency),
                Outcome::Unexpected(status, body) => bail!("holding a hot seat answered {status}: {body}"),
            }
        }
        winners_per_round.push(winners);
        // Let the server settle between rounds.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(HotSeatReport {
        show_id,
        clients: customers.len(),
        rounds: ROUNDS,
        ok: winners_per_round.iter().all(|&w| w == 1),
        winners_per_round,
        refusal_latency: Latency::of(&refused),
        winner_latency: Latency::of(&won),
    })
}
