use boxoffice::domain::user::{Email, NewPassword, PersonName, Role};
use boxoffice::error::AppError;
use boxoffice::service::ServiceError::Refused;
use boxoffice::service::users;

use crate::helpers::{TestApp, TestDatabase};

fn parsed(email: &str, name: &str, password: &str) -> (Email, PersonName, NewPassword) {
    (Email::parse(email).unwrap(), PersonName::parse(name).unwrap(), NewPassword::parse(password).unwrap())
}

#[tokio::test]
async fn register_then_log_in_with_an_argon2id_hash() {
    let app = TestApp::spawn().await;
    let (email, name, password) = parsed("Ada@Example.com", "Ada", "analytical engine");
    let user = users::register(&app.pool, &email, &name, &password).await.unwrap();
    assert_eq!((user.email.as_str(), user.role), ("ada@example.com", Role::Customer));

    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains("analytical"));

    let logged_in = users::authenticate(&app.pool, "ADA@example.com ", "analytical engine").await.unwrap();
    assert_eq!(logged_in, user);
}

#[tokio::test]
async fn a_taken_email_is_refused_whatever_its_case() {
    let app = TestApp::spawn().await;
    let (email, name, password) = parsed("grace@example.com", "Grace", "compilers rock");
    users::register(&app.pool, &email, &name, &password).await.unwrap();
    let again =
        users::register(&app.pool, &Email::parse("GRACE@example.com").unwrap(), &name, &password).await;
    assert!(matches!(again, Err(Refused(AppError::EmailTaken))), "{again:?}");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let (email, name, password) = parsed("alan@example.com", "Alan", "enigma machine");
    users::register(&app.pool, &email, &name, &password).await.unwrap();
    let wrong = users::authenticate(&app.pool, "alan@example.com", "bombe machine").await;
    let unknown = users::authenticate(&app.pool, "nobody@example.com", "enigma machine").await;
    assert!(matches!(wrong, Err(Refused(AppError::WrongCredentials))));
    assert!(matches!(unknown, Err(Refused(AppError::WrongCredentials))));
}

#[tokio::test]
async fn create_admin_creates_or_promotes() {
    let app = TestApp::spawn().await;
    let (email, name, password) = parsed("linus@example.com", "Linus", "first password");
    let customer = users::register(&app.pool, &email, &name, &password).await.unwrap();
    assert!(!users::admin_exists(&app.pool).await.unwrap());

    let new_password = NewPassword::parse("second password").unwrap();
    let admin = users::create_or_promote_admin(&app.pool, &email, &name, &new_password).await.unwrap();
    assert_eq!((admin.id, admin.role), (customer.id, Role::Admin), "the same account, promoted");
    assert!(users::admin_exists(&app.pool).await.unwrap());
    users::authenticate(&app.pool, "linus@example.com", "second password")
        .await
        .expect("the new password works");
}

#[tokio::test]
async fn the_create_admin_command_works_and_explains_bad_input() {
    let db = TestDatabase::create().await;
    let bin = env!("CARGO_BIN_EXE_boxoffice");
    let run = |password: &'static str| {
        tokio::process::Command::new(bin)
            .args(["create-admin", "--email", "ops@example.com", "--password", password])
            .env("DATABASE_URL", db.url())
            .output()
    };
    let short = run("short").await.unwrap();
    assert!(!short.status.success());
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(stderr.contains("at least 10 characters"), "{stderr}");

    let ok = run("a long enough password").await.unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ops@example.com is an admin."));
}
