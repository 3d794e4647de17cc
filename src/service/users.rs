//! Accounts: registration, password checks, admins. Passwords are hashed with argon2id on
//! tokio's blocking pool, never on the async threads that serve requests.

use std::sync::{LazyLock, OnceLock};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash as ParsedHash, PasswordHasher, PasswordVerifier, SaltString};
use sqlx::PgPool;
use tokio::sync::Semaphore;

use super::ServiceError;
use crate::domain::user::{Email, NewPassword, PersonName, Role, User};
use crate::error::AppError;

/// An argon2id PHC string. Server-only and deliberately neither `Serialize` nor `Debug`-printed,
/// so it cannot leave the server by accident.
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

/// Hashes run at once, at most one per CPU. Each argon2 hash holds 19 MiB while it runs: a crowd
/// signing up or logging in together must queue here rather than start a blocking thread and a
/// 19 MiB buffer each (docs/PERFORMANCE.md says what that did to memory).
static HASHING: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())));

/// Hashes running or waiting for a slot, at most: past that a sign-up or log-in is refused at
/// once (503 with Retry-After) instead of queueing without end behind a crowd or a bot.
const MOST_QUEUED: usize = 64;
static QUEUE: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(MOST_QUEUED));

/// Runs `work` (a hash or a check) on the blocking pool, once a hashing slot is free.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ServiceError> {
    let Ok(_place) = QUEUE.try_acquire() else {
        tracing::warn!("too many password checks waiting; refusing one");
        return Err(AppError::Unavailable { retry_after_seconds: 2 }.into());
    };
    let _slot = HASHING.acquire().await.map_err(|e| internal("the hashing slots closed", e))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| internal("the hashing task failed", e))
}

async fn hash(password: &NewPassword) -> Result<PasswordHash, ServiceError> {
    let password = password.expose().to_owned();
    let hashed = hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await?
    .map_err(|e| internal("hashing a password failed", e))?;
    Ok(PasswordHash(hashed))
}

/// Checks `password` against `hash` on the blocking pool. A malformed hash counts as a mismatch.
async fn verify(password: &str, hash: String) -> Result<bool, ServiceError> {
    let password = password.to_owned();
    hashing(move || {
        ParsedHash::new(&hash)
            .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
}

/// A real hash of a throw-away password: unknown emails are checked against it, so a login
/// takes as long whether or not the account exists.
fn dummy_hash() -> String {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(b"no account has this password", &salt)
                .map(|h| h.to_string())
                .unwrap_or_default()
        })
        .clone()
}

fn internal(what: &str, error: impl std::fmt::Display) -> ServiceError {
    tracing::error!(%error, "{what}");
    ServiceError::Refused(AppError::Internal)
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: Role,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self { id: row.id, email: row.email, name: row.name, role: row.role }
    }
}

/// An account with its password hash (None for an account that cannot log in).
#[derive(sqlx::FromRow)]
struct AccountRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: Option<String>,
}

/// Creates a customer account. A taken email is refused by the database's unique index.
#[tracing::instrument(skip(pool, password), fields(email = email.as_str()))]
pub async fn register(
    pool: &PgPool,
    email: &Email,
    name: &PersonName,
    password: &NewPassword,
) -> Result<User, ServiceError> {
    let password_hash = hash(password).await?;
    let inserted = sqlx::query_as::<_, UserRow>(
        "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
         RETURNING id, email, name, role",
    )
    .bind(email.as_str())
    .bind(name.as_str())
    .bind(&password_hash.0)
    .fetch_one(pool)
    .await;
    match inserted {
        Ok(user) => Ok(user.into()),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("users_email_unique") => {
            Err(AppError::EmailTaken.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The account with this email and password. Wrong email and wrong password get the same
/// answer, after the same work. The email is matched in its canonical form, exactly.
#[tracing::instrument(skip(pool, email, password))]
pub async fn authenticate(pool: &PgPool, email: &str, password: &str) -> Result<User, ServiceError> {
    let email = Email::parse(email)?;
    // Accounts are stored in canonical form; lower() lets the unique index find the row.
    let row: Option<AccountRow> = sqlx::query_as(
        "SELECT id, email, name, role, password_hash FROM users WHERE lower(email) = $1 AND email = $1",
    )
    .bind(email.as_str())
    .fetch_optional(pool)
    .await?;
    let stored_hash = row.as_ref().and_then(|r| r.password_hash.clone()).unwrap_or_else(dummy_hash);
    let matches = verify(password, stored_hash).await?;
    match row {
        Some(AccountRow { user, password_hash: Some(_) }) if matches => Ok(user.into()),
        _ => Err(AppError::WrongCredentials.into()),
    }
}

/// Creates an admin, or makes an existing account an admin with this password.
#[tracing::instrument(skip(pool, password), fields(email = email.as_str()))]
pub async fn create_or_promote_admin(
    pool: &PgPool,
    email: &Email,
    name: &PersonName,
    password: &NewPassword,
) -> Result<User, ServiceError> {
    let password_hash = hash(password).await?;
    Ok(sqlx::query_as::<_, UserRow>(
        "INSERT INTO users (email, name, role, password_hash) VALUES ($1, $2, 'ADMIN', $3)
         ON CONFLICT ((lower(email))) DO UPDATE SET role = 'ADMIN', password_hash = EXCLUDED.password_hash
         RETURNING id, email, name, role",
    )
    .bind(email.as_str())
    .bind(name.as_str())
    .bind(&password_hash.0)
    .fetch_one(pool)
    .await?
    .into())
}

/// The account with this id as it is now; None once it is deleted.
pub async fn find(pool: &PgPool, id: i64) -> Result<Option<User>, ServiceError> {
    let row: Option<UserRow> = sqlx::query_as("SELECT id, email, name, role FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(User::from))
}

/// True when some admin account exists.
pub async fn admin_exists(pool: &PgPool) -> Result<bool, ServiceError> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'ADMIN')").fetch_one(pool).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_crowd_of_password_checks_past_the_queue_is_refused_at_once() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};

        // Every check waits at this gate, so the queue is full while the crowd arrives.
        let open = Arc::new(AtomicBool::new(false));
        let crowd: Vec<_> = (0..MOST_QUEUED * 2)
            .map(|_| {
                let open = open.clone();
                tokio::spawn(hashing(move || {
                    while !open.load(Ordering::Acquire) {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                }))
            })
            .collect();
        // The refused half answers at once, before any check has run.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while crowd.iter().filter(|check| check.is_finished()).count() < MOST_QUEUED {
            assert!(tokio::time::Instant::now() < deadline, "the refusals did not come at once");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        open.store(true, Ordering::Release);
        let (mut done, mut refused) = (0, 0);
        for check in crowd {
            match check.await.unwrap() {
                Ok(()) => done += 1,
                Err(ServiceError::Refused(AppError::Unavailable { retry_after_seconds })) => {
                    assert!(retry_after_seconds > 0);
                    refused += 1;
                }
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!((done, refused), (MOST_QUEUED, MOST_QUEUED));
    }
}
