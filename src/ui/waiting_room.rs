//! The sale's opening and the waiting room on a show's page (issue 19): a countdown to the
//! opening by the server's clock, and, on a show behind a waiting room, the customer's place in
//! line, live, instead of the seat map until it is their turn.
//!
//! The page is rendered on the server from `get_waiting_room`, so it says where the customer
//! stands without JavaScript (joining and leaving are plain forms then); once the page is live,
//! the place follows the event stream `/api/v1/shows/{id}/waiting-room/events`, and the seat
//! map appears by itself when the customer is admitted.

use chrono::{DateTime, TimeDelta, Utc};
use leptos::prelude::*;

use super::browser::{every, now_millis};
use super::live::use_server_events;
use super::session::{login_url, use_session};
use crate::api::waiting_room::{JoinWaitingRoom, LeaveWaitingRoom, get_waiting_room};
use crate::domain::waiting_room::{PlaceInLine, WaitingRoomView, thousands, wait_phrase};
use crate::error::AppError;

/// The server's clock as the browser follows it: the time the server said when the page was
/// read, moved on by how much time passed on this device since. A device whose clock is wrong
/// still counts down to the right moment; on the server it stands still at the read.
#[derive(Debug, Clone, Copy)]
pub struct ServerClock {
    server_at_load: DateTime<Utc>,
    loaded_at: f64,
    device: RwSignal<f64>,
}

impl ServerClock {
    /// Starts from the server's `now`, ticking four times a second in the browser while the
    /// calling component lives.
    pub fn start(server_now: DateTime<Utc>) -> Self {
        let loaded_at = now_millis();
        let device = RwSignal::new(loaded_at);
        every(std::time::Duration::from_millis(250), move || device.set(now_millis()));
        Self { server_at_load: server_now, loaded_at, device }
    }

    /// The server's time now (tracked: a reader runs again as the clock ticks).
    pub fn now(&self) -> DateTime<Utc> {
        let elapsed = (self.device.get() - self.loaded_at).max(0.0);
        self.server_at_load + TimeDelta::milliseconds(elapsed as i64)
    }
}

/// "00:01:23", "2 days 03:00:00": the time left, counting whole seconds up.
pub fn countdown(left: TimeDelta) -> String {
    let millis = left.num_milliseconds().max(0);
    let seconds = (millis + 999) / 1000;
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let clock = format!("{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => clock,
        1 => format!("1 day {clock}"),
        n => format!("{n} days {clock}"),
    }
}

/// "2026-12-05 10:00 UTC".
fn opening_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "Sales open in 00:01:23 · at 2026-12-05 10:00 UTC", counting down every second, until the
/// opening (then nothing).
#[component]
pub fn SaleCountdown(clock: ServerClock, opens_at: DateTime<Utc>) -> impl IntoView {
    let left = Memo::new(move |_| {
        let left = opens_at - clock.now();
        (left > TimeDelta::zero()).then(|| countdown(left))
    });
    move || {
        left.get().map(|left| {
            view! {
                <p class="rounded-md bg-amber-50 p-3 text-amber-900 ring-1 ring-amber-200" data-testid="sale-countdown">
                    "Sales open in "
                    <strong class="font-mono tabular-nums" role="timer" aria-live="off">{left}</strong>
                    {format!(" · at {}", opening_time(opens_at))}
                </p>
            }
        })
    }
}

/// What the customer's place means now: an admission whose pass ran out on the clock reads as
/// expired at once, before the server says so.
fn place_at(place: PlaceInLine, now: DateTime<Utc>) -> PlaceInLine {
    match place {
        PlaceInLine::Admitted { pass_expires_at, .. } if pass_expires_at <= now => {
            PlaceInLine::PassExpired { pass_expires_at }
        }
        place => place,
    }
}

/// "You are number 1,234 · about 6 minutes", split as the page shows it: the number, then what
/// follows it.
fn place_phrase(number: u64, eta_seconds: Option<u64>) -> (String, String) {
    let wait = match eta_seconds {
        Some(seconds) => wait_phrase(seconds),
        None => "Admissions are paused".to_owned(),
    };
    (thousands(number), wait)
}

/// "1 person is waiting", "1,234 people are waiting".
fn waiting_phrase(waiting: u64) -> String {
    match waiting {
        1 => "1 person is waiting.".to_owned(),
        n => format!("{} people are waiting.", thousands(n)),
    }
}

/// The waiting room in front of a show's seats: `children` (the seat map and checkout) while
/// the customer holds a valid pass, the room's panel otherwise. `reload` reads the show's page
/// again, for when the admin removed the room (its seats can then be booked directly).
#[component]
pub fn WaitingRoomGate(
    show_id: i64,
    clock: ServerClock,
    opens_at: Option<DateTime<Utc>>,
    reload: Callback<()>,
    children: ChildrenFn,
) -> impl IntoView {
    let session = use_session();
    let signed_in = Memo::new(move |_| session.signed_in().is_some());
    // The place as the event stream or an action last told it (None: as the page was read).
    let live = RwSignal::new(None::<WaitingRoomView>);
    let first = Resource::new(|| (), move |_| get_waiting_room(show_id));

    let join = ServerAction::<JoinWaitingRoom>::new();
    let leave = ServerAction::<LeaveWaitingRoom>::new();
    // "Leave and join again": the join follows the leave.
    let rejoin = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(view)) = join.value().get() {
            live.set(Some(view));
        }
    });
    Effect::new(move |_| match leave.value().get() {
        Some(Ok(view)) => {
            live.set(Some(view));
            if rejoin.get_untracked() {
                rejoin.set(false);
                join.dispatch(JoinWaitingRoom { show_id });
            }
        }
        Some(Err(_)) => rejoin.set(false),
        None => {}
    });

    view! {
        <Show when=move || signed_in.get()>
            <PlaceFeed show_id live reload/>
        </Show>
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading the waiting room…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    let first = match first.await {
                        Ok(view) => view,
                        Err(AppError::NoWaitingRoom) => {
                            // Removed since the page was read: read the page again.
                            reload.run(());
                            return ().into_any();
                        }
                        Err(error) => {
                            return view! { <p role="alert" class="rounded-md bg-red-50 p-3 text-red-900">{error.to_string()}</p> }
                                .into_any();
                        }
                    };
                    let current = Signal::derive(move || live.get().unwrap_or_else(|| first.clone()));
                    // The end of the customer's pass while it is valid.
                    let pass = Memo::new(move |_| match place_at(current.get().place, clock.now()) {
                        PlaceInLine::Admitted { pass_expires_at, .. } => Some(pass_expires_at),
                        _ => None,
                    });
                    (move || match pass.get() {
                        Some(until) => view! {
                            <p role="status" class="rounded-md bg-emerald-50 p-3 font-medium text-emerald-900 ring-1 ring-emerald-200" data-testid="pass-banner">
                                {format!("It's your turn: choose seats until {}", until.format("%H:%M UTC"))}
                            </p>
                            {children()}
                        }
                        .into_any(),
                        None => view! { <RoomPanel show_id current clock opens_at signed_in join leave rejoin/> }.into_any(),
                    })
                    .into_any()
                })
            }}
        </Transition>
    }
}

/// The customer's place, live: one event stream for the page, closed with it.
#[component]
fn PlaceFeed(show_id: i64, live: RwSignal<Option<WaitingRoomView>>, reload: Callback<()>) -> impl IntoView {
    use_server_events(format!("/api/v1/shows/{show_id}/waiting-room/events"), &["place", "closed"], move |name, data| {
        match name {
            "closed" => reload.run(()),
            _ => {
                if let Ok(view) = serde_json::from_str::<WaitingRoomView>(&data) {
                    live.set(Some(view));
                }
            }
        }
    });
}

#[component]
fn RoomPanel(
    show_id: i64,
    current: Signal<WaitingRoomView>,
    clock: ServerClock,
    opens_at: Option<DateTime<Utc>>,
    signed_in: Memo<bool>,
    join: ServerAction<JoinWaitingRoom>,
    leave: ServerAction<LeaveWaitingRoom>,
    rejoin: RwSignal<bool>,
) -> impl IntoView {
    let busy = move || join.pending().get() || leave.pending().get();
    // The place as shown: only a change of state (or number) redraws the panel, not the clock.
    let place = Memo::new(move |_| place_at(current.get().place, clock.now()));
    let waiting = Memo::new(move |_| current.get().waiting);
    let opened = Memo::new(move |_| current.get().sale_opens_at.or(opens_at).is_none_or(|at| clock.now() >= at));
    let error = move || {
        [join.value().get(), leave.value().get()].into_iter().flatten().find_map(Result::err)
    };

    let leave_form = move || {
        view! {
            <ActionForm action=leave attr:class="mt-3">
                <input type="hidden" name="show_id" value=show_id/>
                <button
                    type="submit"
                    data-testid="leave-waiting-room"
                    class="rounded-md border border-slate-300 px-4 py-2 text-sm font-medium text-slate-700 hover:bg-slate-50 disabled:opacity-50"
                    disabled=busy
                >
                    "Leave the waiting room"
                </button>
            </ActionForm>
        }
    };

    let status = move || match place.get() {
        _ if !signed_in.get() => view! {
            <p class="text-slate-700">
                "This sale has a waiting room: customers in it are let in to choose seats a few at a time. "
                <a class="font-medium text-indigo-700 underline" href=login_url(&format!("/shows/{show_id}"))>"Log in to join the waiting room"</a>
                "."
            </p>
        }
        .into_any(),
        PlaceInLine::Outside => view! {
            <p class="text-slate-700">
                "This sale has a waiting room: join it, and choose your seats when it is your turn. "
                {move || if opened.get() {
                    "Joining now puts you at the back of the line."
                } else {
                    "Everyone who joins before the opening gets a random place when it comes, so there is no need to rush."
                }}
            </p>
        }
        .into_any(),
        PlaceInLine::BeforeOpening => view! {
            <p class="text-slate-700">
                <strong class="text-lg text-slate-900">"You're in the waiting room."</strong>
                {move || if opened.get() {
                    " The sale is opening: places in line are being given out."
                } else {
                    " When the sale opens, everyone here gets a random place in line — joining early gives no advantage."
                }}
            </p>
        }
        .into_any(),
        PlaceInLine::Waiting { number, eta_seconds } => {
            let (number, wait) = place_phrase(number, eta_seconds);
            view! {
                <p class="text-3xl font-bold tracking-tight">
                    "You are number " <span data-testid="place-number">{number}</span>
                    <span class="text-slate-600" data-testid="place-wait">{format!(" · {wait}")}</span>
                </p>
                <p class="text-slate-700">{move || waiting_phrase(waiting.get())} " Keep this page open: the seat map appears when it is your turn."</p>
            }
            .into_any()
        }
        PlaceInLine::Admitted { pass_expires_at, .. } => view! {
            <p class="text-lg font-semibold">{format!("It's your turn: choose seats until {}", pass_expires_at.format("%H:%M UTC"))}</p>
        }
        .into_any(),
        PlaceInLine::PassExpired { pass_expires_at } => view! {
            <p class="text-lg font-semibold" data-testid="pass-expired">"Your turn has ended."</p>
            <p class="text-slate-700">
                {format!(
                    "Your pass to choose seats ran out at {}. Leave and join again to go to the back of the line.",
                    pass_expires_at.format("%H:%M UTC")
                )}
            </p>
        }
        .into_any(),
    };

    let actions = move || match place.get() {
        _ if !signed_in.get() => ().into_any(),
        PlaceInLine::Outside => view! {
            <ActionForm action=join attr:class="mt-3">
                <input type="hidden" name="show_id" value=show_id/>
                <button
                    type="submit"
                    data-testid="join-waiting-room"
                    class="rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 disabled:opacity-50"
                    disabled=busy
                >
                    "Join the waiting room"
                </button>
            </ActionForm>
        }
        .into_any(),
        PlaceInLine::BeforeOpening | PlaceInLine::Waiting { .. } => leave_form().into_any(),
        PlaceInLine::Admitted { .. } => ().into_any(),
        // A plain form, so it works without the script too (then it only leaves: the page
        // offers joining again).
        PlaceInLine::PassExpired { .. } => view! {
            <form
                method="post"
                action="/rpc/leave_waiting_room"
                class="mt-3"
                on:submit=move |ev| {
                    ev.prevent_default();
                    if busy() {
                        return;
                    }
                    rejoin.set(true);
                    leave.dispatch(LeaveWaitingRoom { show_id });
                }
            >
                <input type="hidden" name="show_id" value=show_id/>
                <button
                    type="submit"
                    data-testid="rejoin-waiting-room"
                    class="rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 disabled:opacity-50"
                    disabled=busy
                >
                    "Leave and join again"
                </button>
            </form>
        }
        .into_any(),
    };

    view! {
        <section
            class="space-y-3 rounded-lg bg-white p-5 shadow-sm ring-1 ring-slate-200"
            aria-labelledby="waiting-room-heading"
            data-testid="waiting-room"
        >
            <h2 id="waiting-room-heading" class="text-lg font-semibold">"Waiting room"</h2>
            {opens_at.map(|opens_at| view! { <SaleCountdown clock opens_at/> })}
            <div role="status" aria-live="polite" class="space-y-1">{status}</div>
            {move || error().map(|e| view! { <p role="alert" class="rounded-md bg-red-50 p-3 text-red-900">{e.to_string()}</p> })}
            {actions}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdowns_count_whole_seconds_up_with_days_in_words() {
        assert_eq!(countdown(TimeDelta::seconds(83)), "00:01:23");
        assert_eq!(countdown(TimeDelta::milliseconds(82_001)), "00:01:23");
        assert_eq!(countdown(TimeDelta::milliseconds(-5)), "00:00:00");
        assert_eq!(countdown(TimeDelta::hours(5)), "05:00:00");
        assert_eq!(countdown(TimeDelta::hours(25) + TimeDelta::seconds(1)), "1 day 01:00:01");
        assert_eq!(countdown(TimeDelta::days(3)), "3 days 00:00:00");
    }

    #[test]
    fn places_read_as_the_customer_sees_them() {
        assert_eq!(place_phrase(1234, Some(371)), ("1,234".to_owned(), "about 7 minutes".to_owned()));
        assert_eq!(place_phrase(2, None).1, "Admissions are paused");
        assert_eq!(waiting_phrase(1), "1 person is waiting.");
        assert_eq!(waiting_phrase(1234), "1,234 people are waiting.");
        let at = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        let admitted = PlaceInLine::Admitted { admitted_at: at(0), pass_expires_at: at(600) };
        assert_eq!(place_at(admitted, at(599)), admitted);
        assert_eq!(place_at(admitted, at(600)), PlaceInLine::PassExpired { pass_expires_at: at(600) });
    }
}
