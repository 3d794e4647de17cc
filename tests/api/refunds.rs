//! Cancellation policies, refunds and cancelling some seats of a booking (issue 22), through
//! the REST API against real PostgreSQL: the policy is stored with the booking and applied as
//! shown, refunds at each rule's boundary, and the rest of a partly cancelled booking stays
//! valid.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::booking_world::{assert_invariants, create_show, hall};
use crate::helpers::{Browser, TestApp};
use crate::rest::{Api, assert_error};

/// A hall of one row of `seats` seats at 10.00 each, starting `starts_in` from now.
async fn show_starting_in(app: &TestApp, seats: u16, starts_in: Duration) -> i64 {
    let mut spec = hall(1, seats);
    spec.starts_at = Utc::now() + starts_in;
    create_show(&app.pool, &spec).await
}

/// 100% at least 48 hours before, 50% at least 2 hours before, none after.
fn tiered(partial: bool) -> Value {
    json!({"cancellable": true, "partial": partial,
           "tiers": [{"hours_before": 2, "refund_percent": 50}, {"hours_before": 48, "refund_percent": 100}]})
}

async fn set_policy(admin: &Api, show: i64, policy: Value) -> Value {
    let (status, body) = admin.put(&format!("/admin/shows/{show}/cancellation-policy"), policy).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn book(api: &Api, show: i64, seat_ids: &[i32]) -> Value {
    let (status, booking) = api.post(&format!("/shows/{show}/bookings"), json!({ "seat_ids": seat_ids })).await;
    assert_eq!(status, StatusCode::CREATED, "{booking}");
    booking
}

async fn seat_statuses(api: &Api, show: i64) -> Vec<String> {
    let (_, show) = api.get(&format!("/shows/{show}")).await;
    show["seats"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_booking_keeps_the_policy_it_was_made_under() {
    let app = TestApp::spawn().await;
    let show = show_starting_in(&app, 6, Duration::days(5)).await;
    let admin = Api::admin(&app).await;
    let ann = Api::customer(&app, "ann@example.com").await;

    let shown = set_policy(&admin, show, tiered(true)).await;
    // Tiers come back longest notice first, as customers read them.
    assert_eq!(shown["cancellation_policy"]["tiers"][0]["hours_before"], 48);
    let (_, page) = ann.get(&format!("/shows/{show}")).await;
    assert_eq!(page["cancellation_policy"], shown["cancellation_policy"]);

    let booking = book(&ann, show, &[1, 2]).await;
    assert_eq!(booking["cancellation_policy"], shown["cancellation_policy"]);

    // The admin closes cancellations after Ann paid: her booking keeps its policy...
    set_policy(&admin, show, json!({"cancellable": false})).await;
    let (status, cancelled) = ann.post(&format!("/bookings/{}/cancel", booking["id"]), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["refunds"][0]["refund_percent"], 100);
    assert_eq!(cancelled["refunds"][0]["amount_cents"], 2000);
    assert_eq!(cancelled["refunds"][0]["seats"], json!(["A1", "A2"]));
    assert_eq!(cancelled["refunded_cents"], 2000);

    // ...while a booking made now cannot be cancelled, and nothing changes.
    let later = book(&ann, show, &[3]).await;
    assert_eq!(later["cancellation_policy"]["cancellable"], false);
    let refused = ann.post(&format!("/bookings/{}/cancel", later["id"]), json!({})).await;
    assert_error(&refused, StatusCode::CONFLICT, "not_cancellable");
    let (_, still) = ann.get(&format!("/bookings/{}", later["id"])).await;
    assert_eq!((still["status"].as_str(), &still["refunds"]), (Some("CONFIRMED"), &json!([])));
    assert_eq!(&seat_statuses(&ann, show).await[..3], ["AVAILABLE", "AVAILABLE", "BOOKED"]);
    // A hold can still be released: nothing was paid for it.
    let (status, hold) = ann.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [4]})).await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    let (status, released) = ann.post(&format!("/bookings/{}/cancel", hold["id"]), json!({})).await;
    assert_eq!((status, released["refunds"].clone()), (StatusCode::OK, json!([])), "{released}");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn refunds_follow_each_rule_up_to_its_boundary() {
    let app = TestApp::spawn().await;
    let admin = Api::admin(&app).await;
    let ann = Api::customer(&app, "ann@example.com").await;
    // (starts in, share refunded): a minute either side of the 48-hour and the 2-hour rule.
    // The exact second of each boundary is a unit test of `CancellationPolicy::refund_percent`.
    let cases = [
        (Duration::hours(48) + Duration::minutes(1), 100),
        (Duration::hours(48) - Duration::minutes(1), 50),
        (Duration::hours(2) + Duration::minutes(1), 50),
        (Duration::hours(2) - Duration::minutes(1), 0),
    ];
    for (starts_in, percent) in cases {
        let show = show_starting_in(&app, 3, starts_in).await;
        set_policy(&admin, show, tiered(true)).await;
        let booking = book(&ann, show, &[1, 2]).await;
        assert_eq!(booking["total_cents"], 2000);
        let (status, cancelled) = ann.post(&format!("/bookings/{}/cancel", booking["id"]), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        let refund = &cancelled["refunds"][0];
        assert_eq!(
            (refund["refund_percent"].as_i64(), refund["paid_cents"].as_i64(), refund["amount_cents"].as_i64()),
            (Some(percent), Some(2000), Some(20 * percent)),
            "starting in {starts_in}"
        );
        // Cancelling frees the seats whatever the refund.
        assert_eq!(&seat_statuses(&ann, show).await[..2], ["AVAILABLE", "AVAILABLE"]);
    }
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn cancelling_some_seats_keeps_the_rest_of_the_booking_valid() {
    let app = TestApp::spawn().await;
    // 47 hours ahead: the 50% rule applies.
    let show = show_starting_in(&app, 5, Duration::hours(47)).await;
    let admin = Api::admin(&app).await;
    set_policy(&admin, show, tiered(true)).await;
    let ann = Api::customer(&app, "ann@example.com").await;
    let booking = book(&ann, show, &[1, 2, 3]).await;
    let id = booking["id"].as_i64().unwrap();

    let (status, kept) = ann.post(&format!("/bookings/{id}/cancel-seats"), json!({"seat_ids": [2]})).await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(kept["status"], "CONFIRMED");
    assert_eq!(kept["seats"], json!([{"id": 1, "label": "A1"}, {"id": 3, "label": "A3"}]));
    assert_eq!(kept["total_cents"], 2000);
    assert_eq!(kept["refunds"][0]["seats"], json!(["A2"]));
    assert_eq!((kept["refunds"][0]["paid_cents"].as_i64(), kept["refunded_cents"].as_i64()), (Some(1000), Some(500)));
    assert_eq!(seat_statuses(&ann, show).await, ["BOOKED", "AVAILABLE", "BOOKED", "AVAILABLE", "AVAILABLE"]);

    // The freed seat is on sale to others; the kept seats are not.
    let bob = Api::customer(&app, "bob@example.com").await;
    book(&bob, show, &[2]).await;
    let taken = bob.post(&format!("/shows/{show}/bookings"), json!({"seat_ids": [1]})).await;
    assert_error(&taken, StatusCode::CONFLICT, "seats_taken");

    // The admin sees the refund, and revenue counts what the show kept of seat A2.
    let browser = Browser::new(&app);
    browser.sign_in_as_admin(&app).await;
    let (status, dashboard, _) = browser.call("admin/dashboard", &[]).await;
    assert_eq!(status, 200, "{dashboard}");
    let sales = dashboard.as_array().unwrap().iter().find(|s| s["id"] == show).unwrap().clone();
    assert_eq!((sales["revenue_cents"].as_i64(), sales["refunded_cents"].as_i64()), (Some(2000 + 1000 + 500), Some(500)));

    // Cancelling the rest cancels the booking, refunding the two seats it still had.
    let (status, cancelled) = ann.post(&format!("/bookings/{id}/cancel"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["refunds"][1]["seats"], json!(["A1", "A3"]));
    assert_eq!(cancelled["refunded_cents"], 500 + 1000);
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn cancelling_some_seats_is_refused_clearly_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let show = show_starting_in(&app, 6, Duration::days(5)).await;
    let admin = Api::admin(&app).await;
    let ann = Api::customer(&app, "ann@example.com").await;
    let booking = book(&ann, show, &[1, 2, 3]).await;
    let path = format!("/bookings/{}/cancel-seats", booking["id"]);

    assert_error(&ann.post(&path, json!({"seat_ids": []})).await, StatusCode::BAD_REQUEST, "invalid_input");
    assert_error(&ann.post(&path, json!({"seat_ids": [5]})).await, StatusCode::BAD_REQUEST, "invalid_input");
    assert_error(&ann.post(&path, json!({"seats": [1]})).await, StatusCode::BAD_REQUEST, "invalid_input");
    let bob = Api::customer(&app, "bob@example.com").await;
    assert_error(&bob.post(&path, json!({"seat_ids": [1]})).await, StatusCode::NOT_FOUND, "booking_not_found");
    assert_error(&Api::new(&app).post(&path, json!({"seat_ids": [1]})).await, StatusCode::UNAUTHORIZED, "not_signed_in");
    // A hold is released whole.
    let (_, hold) = ann.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [5, 6]})).await;
    let partial_hold = ann.post(&format!("/bookings/{}/cancel-seats", hold["id"]), json!({"seat_ids": [5]})).await;
    assert_error(&partial_hold, StatusCode::BAD_REQUEST, "invalid_input");

    // A policy of whole bookings only: some seats are refused, all of them cancel the booking.
    set_policy(&admin, show, json!({"cancellable": true, "partial": false, "tiers": [{"hours_before": 0, "refund_percent": 100}]})).await;
    let newer = book(&ann, show, &[4]).await;
    assert_eq!(newer["cancellation_policy"]["partial"], false);
    let (_, two) = ann.post(&format!("/bookings/{}/cancel", hold["id"]), json!({})).await;
    assert_eq!(two["status"], "CANCELLED");
    let pair = book(&ann, show, &[5, 6]).await;
    let whole_only = ann.post(&format!("/bookings/{}/cancel-seats", pair["id"]), json!({"seat_ids": [5]})).await;
    assert_error(&whole_only, StatusCode::CONFLICT, "whole_bookings_only");
    let (status, all) = ann.post(&format!("/bookings/{}/cancel-seats", pair["id"]), json!({"seat_ids": [6, 5]})).await;
    assert_eq!((status, all["status"].as_str()), (StatusCode::OK, Some("CANCELLED")), "{all}");

    // Nothing of the refused requests changed the first booking.
    let (_, first) = ann.get(&format!("/bookings/{}", booking["id"])).await;
    assert_eq!((first["status"].as_str(), first["seats"].as_array().unwrap().len()), (Some("CONFIRMED"), 3));
    assert_eq!(first["refunds"], json!([]));
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn only_admins_set_policies_and_bad_policies_are_refused() {
    let app = TestApp::spawn().await;
    let show = show_starting_in(&app, 2, Duration::days(5)).await;
    let path = format!("/admin/shows/{show}/cancellation-policy");
    let ann = Api::customer(&app, "ann@example.com").await;
    assert_error(&ann.put(&path, tiered(true)).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&Api::new(&app).put(&path, tiered(true)).await, StatusCode::UNAUTHORIZED, "not_signed_in");

    let admin = Api::admin(&app).await;
    let over = json!({"cancellable": true, "tiers": [{"hours_before": 2, "refund_percent": 120}]});
    assert_error(&admin.put(&path, over).await, StatusCode::BAD_REQUEST, "invalid_input");
    let backwards = json!({"cancellable": true, "tiers": [{"hours_before": 48, "refund_percent": 10},
                                                          {"hours_before": 2, "refund_percent": 50}]});
    assert_error(&admin.put(&path, backwards).await, StatusCode::BAD_REQUEST, "invalid_input");
    assert_error(&admin.put(&path, json!({"tiers": []})).await, StatusCode::BAD_REQUEST, "invalid_input");
    assert_error(&admin.put("/admin/shows/999999/cancellation-policy", tiered(true)).await, StatusCode::NOT_FOUND, "show_not_found");
    // None of it changed the show's policy: the default, full refund until the start.
    let (_, page) = ann.get(&format!("/shows/{show}")).await;
    assert_eq!(page["cancellation_policy"], json!({"cancellable": true, "partial": true, "tiers": [{"hours_before": 0, "refund_percent": 100}]}));
}

#[tokio::test]
async fn the_admin_cancelling_a_show_refunds_every_confirmed_booking_in_full() {
    let app = TestApp::spawn().await;
    let show = show_starting_in(&app, 4, Duration::hours(1)).await;
    let admin = Api::admin(&app).await;
    // With this policy a customer cancelling now would get nothing back.
    set_policy(&admin, show, tiered(true)).await;
    let ann = Api::customer(&app, "ann@example.com").await;
    let booking = book(&ann, show, &[1, 2]).await;
    let (_, hold) = ann.post(&format!("/shows/{show}/holds"), json!({"seat_ids": [3]})).await;

    let browser = Browser::new(&app);
    browser.sign_in_as_admin(&app).await;
    let (status, _, _) = browser.call("admin/cancel_show", &[("show_id", &show.to_string())]).await;
    assert_eq!(status, 200);
    let (_, cancelled) = ann.get(&format!("/bookings/{}", booking["id"])).await;
    assert_eq!((cancelled["status"].as_str(), cancelled["refunded_cents"].as_i64()), (Some("CANCELLED"), Some(2000)));
    let (_, released) = ann.get(&format!("/bookings/{}", hold["id"])).await;
    assert_eq!(released["refunds"], json!([]), "a hold was never paid for");
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn a_refund_smaller_than_the_one_shown_is_refused_and_cancels_nothing() {
    use boxoffice::error::AppError;
    use boxoffice::service::ServiceError;
    use boxoffice::service::bookings::Cancelling;

    use crate::booking_world::{create_users, customer};

    let app = TestApp::spawn().await;
    // 47 hours ahead: the page may still say 100% (it was read an hour ago), the policy gives 50%.
    let show = show_starting_in(&app, 4, Duration::hours(47)).await;
    set_policy(&Api::admin(&app).await, show, tiered(true)).await;
    let ann = create_users(&app.pool, 1).await[0];
    let seats = boxoffice::domain::SeatRequest::Seats(vec![1, 2]);
    let booking = app.bookings.book_now(&customer(ann), show, seats, None).await.unwrap();

    for which in [Cancelling::Seats(vec![1]), Cancelling::Whole] {
        let refused = app.bookings.cancel_as_shown(&customer(ann), booking.id, which, Some(100)).await;
        assert!(
            matches!(refused, Err(ServiceError::Refused(AppError::RefundChanged { percent: 50, promised: 100 }))),
            "{refused:?}"
        );
    }
    let unchanged = app.bookings.get(&customer(ann), booking.id).await.unwrap();
    assert_eq!((unchanged.seat_ids(), unchanged.refunds.len()), (vec![1, 2], 0));

    // What was shown is what is applied.
    let cancelled = app.bookings.cancel_as_shown(&customer(ann), booking.id, Cancelling::Whole, Some(50)).await.unwrap();
    assert_eq!((cancelled.refunds[0].refund_percent, cancelled.refunded_cents()), (50, 1000));
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn editing_the_refund_steps_after_purchase_changes_no_existing_booking() {
    let app = TestApp::spawn().await;
    // 47 hours ahead: 50% under the tiered policy.
    let show = show_starting_in(&app, 4, Duration::hours(47)).await;
    let admin = Api::admin(&app).await;
    set_policy(&admin, show, tiered(true)).await;
    let ann = Api::customer(&app, "ann@example.com").await;
    let before = book(&ann, show, &[1, 2]).await;

    // The admin turns generous: full refund until the start. Ann's booking keeps 50%, a new
    // booking gets the new steps.
    set_policy(&admin, show, json!({"cancellable": true, "partial": true,
                                    "tiers": [{"hours_before": 0, "refund_percent": 100}]})).await;
    let after = book(&ann, show, &[3]).await;
    let (_, kept) = ann.post(&format!("/bookings/{}/cancel", before["id"]), json!({})).await;
    assert_eq!((kept["refunds"][0]["refund_percent"].as_i64(), kept["refunded_cents"].as_i64()), (Some(50), Some(1000)));
    let (_, generous) = ann.post(&format!("/bookings/{}/cancel", after["id"]), json!({})).await;
    assert_eq!((generous["refunds"][0]["refund_percent"].as_i64(), generous["refunded_cents"].as_i64()), (Some(100), Some(1000)));
    assert_invariants(&app.pool).await;
}

#[tokio::test]
async fn cancelling_a_show_after_a_partial_cancel_refunds_the_seats_left_in_full() {
    let app = TestApp::spawn().await;
    let show = show_starting_in(&app, 4, Duration::hours(47)).await;
    let admin = Api::admin(&app).await;
    set_policy(&admin, show, tiered(true)).await;
    let ann = Api::customer(&app, "ann@example.com").await;
    let booking = book(&ann, show, &[1, 2, 3]).await;
    let path = format!("/bookings/{}/cancel-seats", booking["id"]);
    let (status, _) = ann.post(&path, json!({"seat_ids": [1]})).await;
    assert_eq!(status, StatusCode::OK);

    let browser = Browser::new(&app);
    browser.sign_in_as_admin(&app).await;
    let (status, _, _) = browser.call("admin/cancel_show", &[("show_id", &show.to_string())]).await;
    assert_eq!(status, 200);
    let (_, cancelled) = ann.get(&format!("/bookings/{}", booking["id"])).await;
    assert_eq!(cancelled["status"], "CANCELLED");
    // Seat A1 by the policy (50% of 10.00), seats A2 and A3 in full (20.00) when the show was called off.
    let refunds: Vec<(Value, Value)> = cancelled["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["seats"].clone(), r["amount_cents"].clone()))
        .collect();
    assert_eq!(refunds, [(json!(["A1"]), json!(500)), (json!(["A2", "A3"]), json!(2000))]);
    assert_eq!(cancelled["refunded_cents"], 2500);
    assert_invariants(&app.pool).await;
}
