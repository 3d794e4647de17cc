//! What goes over the wire: compressed answers (never the live event streams), and cache
//! lifetimes that let browsers keep hashed files for a year and revalidate everything else.

use std::time::Duration;

use crate::booking_world::{create_show, hall};
use crate::helpers::TestApp;

async fn get(app: &TestApp, path: &str, encoding: &str) -> reqwest::Response {
    app.client.get(format!("{}{path}", app.address)).header("accept-encoding", encoding).send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn pages_and_json_are_compressed_as_the_browser_accepts() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(10, 10)).await;
    for path in ["/", &format!("/shows/{show}"), &format!("/api/v1/shows/{show}")] {
        let plain = get(&app, path, "identity").await;
        assert_eq!(header(&plain, "content-encoding"), None, "{path}");
        let plain_size = plain.bytes().await.unwrap().len();

        let gzipped = get(&app, path, "gzip").await;
        assert_eq!(header(&gzipped, "content-encoding").as_deref(), Some("gzip"), "{path}");
        let body = gzipped.bytes().await.unwrap();
        assert_eq!(&body[..2], &[0x1f, 0x8b], "{path}: a gzip stream");
        assert!(body.len() < plain_size, "{path}: {} bytes gzipped of {plain_size}", body.len());
        if path != "/" {
            // A hundred seats' markup and data repeat a lot.
            assert!(body.len() * 4 < plain_size, "{path}: {} bytes gzipped of {plain_size}", body.len());
        }

        let brotli = get(&app, path, "br, gzip").await;
        assert_eq!(header(&brotli, "content-encoding").as_deref(), Some("br"), "{path}: brotli preferred");
        assert_eq!(header(&brotli, "vary").as_deref(), Some("accept-encoding"), "{path}");
    }
}

#[tokio::test]
async fn live_updates_are_never_compressed_so_each_leaves_at_once() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(2, 5)).await;
    let mut stream = get(&app, &format!("/api/v1/shows/{show}/events"), "br, gzip").await;
    assert_eq!(stream.status(), 200);
    assert_eq!(header(&stream, "content-encoding"), None);
    let first = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await.expect("the snapshot at once");
    let first = String::from_utf8(first.unwrap().unwrap().to_vec()).unwrap();
    assert!(first.contains("event:") && first.contains("data:"), "{first}");
}

#[tokio::test]
async fn hashed_files_are_kept_a_year_and_the_rest_revalidated() {
    let site = std::env::temp_dir().join(format!("boxoffice-site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let css = "body { color: black; }\n".repeat(100);
    std::fs::write(site.join("pkg/boxoffice.Xk3f9_aB-cD4eF5gH6iJ7k.css"), &css).unwrap();
    std::fs::write(site.join("pkg/plain.css"), &css).unwrap();
    // What `cargo leptos build --release --precompress` leaves beside each file.
    std::fs::write(site.join("pkg/boxoffice.Xk3f9_aB-cD4eF5gH6iJ7k.css.br"), b"precompressed").unwrap();
    let root = site.to_str().unwrap().to_owned();
    let app = TestApp::spawn_with(move |settings| settings.site_root = root).await;

    let hashed = get(&app, "/pkg/boxoffice.Xk3f9_aB-cD4eF5gH6iJ7k.css", "gzip").await;
    assert_eq!(hashed.status(), 200);
    assert_eq!(header(&hashed, "cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
    assert_eq!(header(&hashed, "content-encoding").as_deref(), Some("gzip"));
    let precompressed = get(&app, "/pkg/boxoffice.Xk3f9_aB-cD4eF5gH6iJ7k.css", "br").await;
    assert_eq!(header(&precompressed, "content-encoding").as_deref(), Some("br"));
    assert_eq!(header(&precompressed, "cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
    assert_eq!(&precompressed.bytes().await.unwrap()[..], b"precompressed", "the file made at build time, as it is");

    let plain = get(&app, "/pkg/plain.css", "identity").await;
    assert_eq!(header(&plain, "cache-control").as_deref(), Some("no-cache"));
    let modified = header(&plain, "last-modified").expect("a date to revalidate against");
    let again = app
        .client
        .get(format!("{}/pkg/plain.css", app.address))
        .header("if-modified-since", modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "unchanged: not sent again");

    let page = get(&app, "/", "identity").await;
    assert_eq!(header(&page, "cache-control").as_deref(), Some("private, no-cache"));
    std::fs::remove_dir_all(&site).unwrap();
}

/// The budget of issue 16: the page of a 1,000-seat show is at most 60 KB on the wire with
/// gzip (brotli, which browsers prefer over https, makes it smaller still).
#[tokio::test]
async fn the_page_of_a_thousand_seat_show_fits_in_60_kb_on_the_wire() {
    let app = TestApp::spawn().await;
    let show = create_show(&app.pool, &hall(40, 25)).await;
    for encoding in ["gzip", "br"] {
        let page = get(&app, &format!("/shows/{show}"), encoding).await;
        assert_eq!(page.status(), 200);
        let bytes = page.bytes().await.unwrap().len();
        assert!(bytes <= 60 * 1024, "{encoding}: {bytes} bytes on the wire");
    }
}
