//! The background tasks an instance needs to work (the claim dispatcher, the live feed's
//! publisher, listener and re-reader, the session listener, the expiry worker) run under one
//! supervisor: a task that panics is logged and started again after a pause, and while any
//! task is down, or reports itself unable to work (a lost connection), `/readyz` answers 503
//! so a load balancer sends customers to another instance.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::FutureExt;

/// The first pause before a task that panicked starts again; it doubles with every panic in a
/// row, up to [`LONGEST_PAUSE`], so a task that panics at once does not spin.
const FIRST_PAUSE: Duration = Duration::from_millis(200);
const LONGEST_PAUSE: Duration = Duration::from_secs(10);
/// A task that ran this long before panicking starts again after the first pause.
const STEADY: Duration = Duration::from_secs(60);

/// This instance's supervisor: a cheap handle.
#[derive(Clone, Default)]
pub struct Supervisor {
    tasks: Arc<Mutex<BTreeMap<&'static str, Condition>>>,
}

/// Why a task is not working now, if it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    Working,
    /// It panicked and waits to start again.
    Restarting,
    /// It says it cannot do its work (for example, its connection is lost).
    Impaired(String),
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor").field("not_working", &self.not_working()).finish()
    }
}

impl Supervisor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `task()` as `name` until it returns (its normal end, e.g. the pool closed). A
    /// panic is logged and `task()` runs again after a pause; meanwhile the task counts as
    /// down. `task` makes a fresh run each time: state that must outlive a panic (a queue's
    /// receiving end, say) lives outside the future it returns.
    pub fn spawn<F, Fut>(&self, name: &'static str, mut task: F) -> tokio::task::JoinHandle<()>
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.set(name, Condition::Working);
        let supervisor = self.clone();
        tokio::spawn(async move {
            let mut pause = FIRST_PAUSE;
            loop {
                let started = tokio::time::Instant::now();
                match std::panic::AssertUnwindSafe(task()).catch_unwind().await {
                    Ok(()) => {
                        supervisor.forget(name);
                        return;
                    }
                    Err(panic) => {
                        if started.elapsed() >= STEADY {
                            pause = FIRST_PAUSE;
                        }
                        tracing::error!(task = name, panic = %panic_message(&*panic), ?pause,
                            "a background task panicked; starting it again");
                        supervisor.set(name, Condition::Restarting);
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(LONGEST_PAUSE);
                        supervisor.set(name, Condition::Working);
                    }
                }
            }
        })
    }

    /// A task's report that it cannot do its work now (`Err(reason)`) or can again (`Ok`).
    pub fn report(&self, name: &'static str, working: Result<(), String>) {
        let condition = match working {
            Ok(()) => Condition::Working,
            Err(reason) => Condition::Impaired(reason),
        };
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(current) = tasks.get_mut(name)
            && *current != Condition::Restarting
        {
            *current = condition;
        }
    }

    /// The tasks that are not working now, each with why: empty when all is well.
    pub fn not_working(&self) -> Vec<String> {
        let tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        tasks
            .iter()
            .filter_map(|(name, condition)| match condition {
                Condition::Working => None,
                Condition::Restarting => Some(format!("{name}: restarting after a panic")),
                Condition::Impaired(reason) => Some(format!("{name}: {reason}")),
            })
            .collect()
    }

    fn set(&self, name: &'static str, condition: Condition) {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner).insert(name, condition);
    }

    fn forget(&self, name: &'static str) {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner).remove(name);
    }
}

/// What a panic said, when it said it as text.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(not text)".to_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_task_that_panics_is_down_until_it_runs_again() {
        let supervisor = Supervisor::new();
        let runs = Arc::new(AtomicU32::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let handle = supervisor.spawn("flaky", {
            let runs = runs.clone();
            move || {
                let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
                let mut released = released.clone();
                async move {
                    if run == 1 {
                        panic!("first run fails");
                    }
                    let _ = released.wait_for(|done| *done).await;
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(supervisor.not_working(), vec!["flaky: restarting after a panic".to_owned()]);
        tokio::time::sleep(FIRST_PAUSE * 2).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2, "started again after the pause");
        assert!(supervisor.not_working().is_empty());

        supervisor.report("flaky", Err("connection lost".into()));
        assert_eq!(supervisor.not_working(), vec!["flaky: connection lost".to_owned()]);
        supervisor.report("flaky", Ok(()));
        assert!(supervisor.not_working().is_empty());

        release.send(true).unwrap();
        handle.await.unwrap();
        assert!(supervisor.not_working().is_empty(), "a task that ended is not down");
        supervisor.report("flaky", Err("late report".into()));
        assert!(supervisor.not_working().is_empty(), "reports of an ended task are ignored");
    }

    #[tokio::test(start_paused = true)]
    async fn pauses_grow_while_a_task_keeps_panicking() {
        let supervisor = Supervisor::new();
        let runs = Arc::new(AtomicU32::new(0));
        supervisor.spawn("broken", {
            let runs = runs.clone();
            move || {
                runs.fetch_add(1, Ordering::SeqCst);
                async { panic!("always") }
            }
        });
        // 200 + 400 + 800 + 1600 ms of pauses: five runs within three seconds, not hundreds.
        tokio::time::sleep(Duration::from_millis(3_100)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 5);
        assert!(!supervisor.not_working().is_empty());
    }
}
