use crate::helpers::TestApp;

#[tokio::test]
async fn home_page_is_server_rendered_with_an_empty_state() {
    let app = TestApp::spawn().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Box Office"), "header is rendered");
    assert!(html.contains("What&#x27;s on") || html.contains("What's on"), "heading is rendered");
    assert!(html.contains("Nothing is on sale right now"), "empty state is rendered:\n{html}");
    assert!(
        !html.contains("Loading shows"),
        "the list is rendered in place, not streamed for a script to swap in"
    );
    assert!(html.contains("/pkg/boxoffice.js"), "hydration script is referenced");
}

#[tokio::test]
async fn home_page_lists_upcoming_shows_soonest_first_and_hides_past_ones() {
    let app = TestApp::spawn().await;
    app.insert_show("Later Play", "Grand Hall", chrono::Duration::days(9)).await;
    app.insert_show("Sooner Concert", "Riverside Arena", chrono::Duration::days(2)).await;
    app.insert_show("Yesterday's Gig", "Old Barn", chrono::Duration::days(-1)).await;

    let html = app.get("/").await.text().await.unwrap();
    let sooner = html.find("Sooner Concert").expect("upcoming show listed");
    let later = html.find("Later Play").expect("upcoming show listed");
    assert!(sooner < later, "soonest first");
    assert!(html.contains("Riverside Arena"), "venue shown");
    assert!(!html.contains("Old Barn"), "past show hidden");
}

#[tokio::test]
async fn search_filters_on_the_server_without_javascript() {
    let app = TestApp::spawn().await;
    app.insert_show("Hamlet", "Globe", chrono::Duration::days(3)).await;
    app.insert_show("Swan Lake", "Opera House", chrono::Duration::days(4)).await;

    let html = app.get("/?q=opera").await.text().await.unwrap();
    assert!(html.contains("Swan Lake"));
    assert!(!html.contains("Hamlet"));

    let html = app.get("/?q=100%25_sure").await.text().await.unwrap();
    assert!(html.contains("No shows or trips match"), "LIKE wildcards in the search match nothing here");
}

#[tokio::test]
async fn an_overlong_search_gets_a_readable_message_not_a_crash() {
    let app = TestApp::spawn().await;
    let html = app.get(&format!("/?q={}", "x".repeat(101))).await.text().await.unwrap();
    assert!(html.contains("Search text is too long"), "{html}");
}

#[tokio::test]
async fn list_shows_server_function_answers_400_with_a_message_for_bad_input() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(format!("{}/rpc/list_shows", app.address))
        .form(&[("search", "y".repeat(500))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(body.contains("Search text is too long"), "{body}");
}

#[tokio::test]
async fn a_database_failure_shows_a_friendly_message_without_database_text() {
    let app = TestApp::spawn().await;
    // The table vanishing makes every show query fail, as a broken database would.
    sqlx::raw_sql("ALTER TABLE shows RENAME TO shows_gone").execute(&app.pool).await.unwrap();
    let html = app.get("/").await.text().await.unwrap();
    assert!(html.contains("Something went wrong on our side"), "{html}");
    assert!(!html.contains("relation"), "no database text on screen");
}

#[tokio::test]
async fn unknown_pages_answer_404_with_a_way_back() {
    let app = TestApp::spawn().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(html.contains("href=\"/\""));
}

#[tokio::test]
async fn demo_shows_are_seeded_once_into_an_empty_database() {
    let app = TestApp::spawn().await;
    assert_eq!(boxoffice::service::demo::seed_if_empty(&app.pool).await.unwrap(), 4);
    assert_eq!(boxoffice::service::demo::seed_if_empty(&app.pool).await.unwrap(), 0, "never twice");
    let html = app.get("/").await.text().await.unwrap();
    for title in ["The Midnight Reel", "Hamlet", "Morning Express", "Night Sleeper"] {
        assert!(html.contains(title), "{title} is on the home page");
    }
    assert!(html.contains("Pune → Mumbai"));
}
