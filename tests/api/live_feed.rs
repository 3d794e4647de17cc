//! The live feed under abuse (issue 14, item 4): subscriptions racing the re-reader leave it
//! working, unknown shows are answered from memory (and a new show is seen at once), and one
//! client may hold only so many event streams.

use std::time::Duration;

use futures::future::join_all;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::booking_world::{create_show, hall};
use crate::helpers::{Browser, EventStream, TestApp};

const WAIT: Duration = Duration::from_secs(5);

/// Reads `stream` until `seat_id` is reported `status`; fails after [`WAIT`].
async fn until_seat(stream: &mut EventStream, seat_id: i32, status: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (_, data) = stream.next(left).await.unwrap_or_else(|| panic!("seat {seat_id} never {status}"));
        let seats: Value = serde_json::from_str(&data).unwrap();
        if seats[status].as_array().is_some_and(|ids| ids.contains(&json!(seat_id))) {
            return;
        }
    }
}

async fn set_seat(app: &TestApp, show: i64, seat_id: i32, status: &str) {
    sqlx::query("UPDATE seats SET status = $3::seat_status WHERE show_id = $1 AND seat_id = $2")
        .bind(show)
        .bind(seat_id)
        .bind(status)
        .execute(&app.pool)
        .await
        .unwrap();
    app.feed.seats_changed(show, &[seat_id]);
}

#[tokio::test]
async fn subscribers_coming_and_going_while_seats_change_leave_the_feed_working() {
    let app = TestApp::spawn().await;
    let mut shows = vec![];
    for _ in 0..4 {
        shows.push(create_show(&app.pool, &hall(4, 10)).await);
    }
    let churn = async {
        // Each subscription is the first or the last of its show again and again, while the
        // re-reader drops the shows nobody watches.
        join_all((0..8).map(|task| {
            let feed = app.feed.clone();
            let shows = shows.clone();
            async move {
                for round in 0..150 {
                    let show = shows[(task + round) % shows.len()];
                    let subscription = feed.subscribe(show).await.expect("a subscription");
                    assert!(!subscription.snapshot.is_empty());
                    if round % 10 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            }
        }))
        .await
    };
    let changes = async {
        for round in 0..60 {
            let seat_id = (round % 40 + 1) as i32;
            let status = if round % 2 == 0 { "BLOCKED" } else { "AVAILABLE" };
            set_seat(&app, shows[round % shows.len()], seat_id, status).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::join!(churn, changes);

    // Through HTTP, as pages open it: a snapshot, then the changes.
    for &show in &shows {
        let mut stream = EventStream::open(&format!("{}/api/v1/shows/{show}/events", app.address)).await;
        let (event, _) = stream.next(WAIT).await.expect("a snapshot");
        assert_eq!(event, "snapshot");
        set_seat(&app, show, 40, "BLOCKED").await;
        until_seat(&mut stream, 40, "BLOCKED").await;
    }
}

/// The id the next show will get.
async fn next_show_id(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM shows_id_seq",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn status_of(url: &str, timeout: Duration) -> u16 {
    let client = reqwest::Client::builder().timeout(timeout).build().unwrap();
    match client.get(url).send().await {
        Ok(response) => response.status().as_u16(),
        Err(error) => panic!("{url}: no answer within {timeout:?}: {error}"),
    }
}

#[tokio::test]
async fn unknown_shows_are_answered_from_memory_and_a_new_show_is_seen_at_once() {
    let app = TestApp::spawn().await;
    let other = app.second_instance().await;
    let unknown = next_show_id(&app).await;
    let paths = [
        format!("/shows/{unknown}/events"),
        format!("/api/v1/shows/{unknown}/events"),
        format!("/api/v1/shows/{unknown}"),
    ];
    for base in [&app.address, &other] {
        assert_eq!(status_of(&format!("{base}{}", paths[0]), WAIT).await, 404);
    }

    // With the show tables locked, any read of them would wait: answers come from memory.
    let mut lock = app.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE shows, seats IN ACCESS EXCLUSIVE MODE").execute(&mut *lock).await.unwrap();
    for round in 0..20 {
        let url = format!("{}{}", app.address, paths[round % paths.len()]);
        assert_eq!(status_of(&url, Duration::from_secs(2)).await, 404, "round {round}");
    }
    lock.rollback().await.unwrap();

    // An admin creates the show that id was unknown to: every instance sees it.
    let admin = Browser::new(&app);
    admin.sign_in_as_admin(&app).await;
    let (status, created) = admin.call_json("admin/create_show", &json!({"spec": hall(2, 5)})).await;
    assert_eq!((status, created.as_i64()), (200, Some(unknown)), "{created}");
    for path in &paths {
        assert_eq!(status_of(&format!("{}{path}", app.address), WAIT).await, 200, "{path} where it was created");
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while status_of(&format!("{other}{}", paths[1]), WAIT).await != 200 {
        assert!(Instant::now() < deadline, "the other instance still says no such show");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn open_stream(url: &str) -> reqwest::Response {
    reqwest::Client::new().get(url).send().await.unwrap()
}

#[tokio::test]
async fn one_client_holds_only_so_many_event_streams() {
    let app = TestApp::spawn_with(|settings| settings.rate_limits.event_streams_per_ip = 3).await;
    let show = create_show(&app.pool, &hall(1, 5)).await;
    let urls = [
        format!("{}/shows/{show}/events", app.address),
        format!("{}/api/v1/shows/{show}/events", app.address),
        format!("{}/events/availability", app.address),
    ];
    let mut open = vec![];
    for url in &urls {
        let stream = open_stream(url).await;
        assert_eq!(stream.status(), 200, "{url}");
        open.push(stream);
    }
    for url in &urls {
        let refused = open_stream(url).await;
        assert_eq!(refused.status(), 429, "{url}");
        assert!(refused.headers().contains_key("retry-after"));
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "rate_limited", "{body}");
    }

    // A stream that ends gives its place back.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stream = open_stream(&urls[0]).await;
        if stream.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the closed stream still counts");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
