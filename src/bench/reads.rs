//! Seat-map reads: many readers load a 1,000-seat show, as JSON and as the server-rendered page.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use super::client::REQUEST_TIMEOUT;
use super::stats::{Latency, rate};
use super::{Progress, Setup};

#[derive(Debug, Serialize)]
pub struct ReadsReport {
    pub show_id: i64,
    pub seats: usize,
    pub readers: usize,
    /// `GET /api/v1/shows/{id}`
    pub json: ReadFigures,
    /// `GET /shows/{id}`, the seat map page as a browser first receives it.
    pub html: ReadFigures,
}

#[derive(Debug, Serialize)]
pub struct ReadFigures {
    pub requests: usize,
    pub requests_per_s: f64,
    pub bytes_per_response: usize,
    pub latency: Latency,
}

pub async fn run(
    setup: &Setup,
    readers: usize,
    duration: Duration,
    progress: &Progress,
) -> anyhow::Result<ReadsReport> {
    let (rows, per_row) = (20, 50);
    let show_id = setup.api.create_show(&setup.admin, "Seat map reads", rows, per_row).await?;
    progress.say(&format!("{readers} readers load the JSON seat map for {} s", duration.as_secs()));
    let json = read_for(setup, &format!("/api/v1/shows/{show_id}"), readers, duration).await?;
    progress.say(&format!("{readers} readers load the seat map page for {} s", duration.as_secs()));
    let html = read_for(setup, &format!("/shows/{show_id}"), readers, duration).await?;
    Ok(ReadsReport { show_id, seats: rows * per_row, readers, json, html })
}

async fn read_for(
    setup: &Setup,
    path: &str,
    readers: usize,
    duration: Duration,
) -> anyhow::Result<ReadFigures> {
    let url = setup.api.url(path);
    let started = Instant::now();
    let until = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..readers {
        let (http, url) = (setup.api.http().clone(), url.clone());
        tasks.spawn(async move {
            let (mut latencies, mut bytes) = (vec![], 0);
            while Instant::now() < until {
                let sent = Instant::now();
                let response = http.get(&url).timeout(REQUEST_TIMEOUT).send().await?;
                let status = response.status();
                let body = response.bytes().await?;
                latencies.push(sent.elapsed());
                if !status.is_success() {
                    bail!("GET {url} answered {status}");
                }
                bytes = body.len();
            }
            anyhow::Ok((latencies, bytes))
        });
    }
    let (mut latencies, mut bytes) = (vec![], 0);
    while let Some(joined) = tasks.join_next().await {
        let (mine, size) = joined.context("a reader task panicked")??;
        latencies.extend(mine);
        bytes = bytes.max(size);
    }
    let elapsed = started.elapsed();
    Ok(ReadFigures {
        requests: latencies.len(),
        requests_per_s: rate(latencies.len(), elapsed),
        bytes_per_response: bytes,
        latency: Latency::of(&latencies),
    })
}
