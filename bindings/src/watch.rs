//! The machinery behind observers: a query re-run on its own thread whenever the store changed,
//! its result handed to the host when it differs from the last one, until the host drops the
//! [`TaskHandle`] (in the manner of matrix-sdk-ffi's `TaskHandle`).
//!
//! What wakes an observer:
//! - [`ChangeSignal::notify`], raised by the store object after any call that wrote through the
//!   app's connection, and by a sync as it goes: changes show within milliseconds;
//! - every [`POLL`] otherwise, for writes no call of this store object made (another store
//!   object on the same file, another process).
//!
//! Awake, it reads the core's [`patrol_core::observe::ChangeStamp`] and re-runs its query only if
//! the stamp moved, so reads and wake-ups cost no query. The first round delivers the current
//! state. An observer holds the store weakly: closing the store ends it.
//!
//! Promises to the host: callbacks come one at a time on the observer's thread, never on the
//! caller's; after `cancel()` returns (or the handle is dropped) the listener is not called again,
//! even from a round already running (cancelling from inside a callback returns at once); a
//! listener that throws ends the observation; an error of the query is delivered once, then the
//! observation ends.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::ThreadId;
use std::time::Duration;

use patrol_core::Store;

use crate::error::PatrolError;
use crate::platform::guarded;

/// How often an observer looks for writes made outside this store object.
pub(crate) const POLL: Duration = Duration::from_secs(1);

/// Raised when the store changed; observers wait on it.
#[derive(Debug, Default)]
pub(crate) struct ChangeSignal {
    state: Mutex<SignalState>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct SignalState {
    /// Grows with every notification.
    generation: u64,
    /// The store object was closed: observers end.
    closed: bool,
}

/// Why a wait ended.
#[derive(Debug, PartialEq, Eq)]
enum Wake {
    Changed,
    TimedOut,
    Ended,
}

impl ChangeSignal {
    fn lock(&self) -> MutexGuard<'_, SignalState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells the observers the store changed.
    pub(crate) fn notify(&self) {
        self.lock().generation += 1;
        self.wake.notify_all();
    }

    /// Tells the observers the store object is closed.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_all();
    }

    /// Wakes waiting observers without a change (one of them was cancelled).
    fn nudge(&self) {
        let _held = self.lock();
        self.wake.notify_all();
    }

    fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Waits until a notification past `*seen`, the close, `stop` or `timeout`, whichever first.
    fn wait(&self, seen: &mut u64, timeout: Duration, stop: &AtomicBool) -> Wake {
        let guard = self.lock();
        let (guard, _) = self
            .wake
            .wait_timeout_while(guard, timeout, |s| {
                s.generation == *seen && !s.closed && !stop.load(Ordering::Acquire)
            })
            .unwrap_or_else(|p| p.into_inner());
        if guard.closed || stop.load(Ordering::Acquire) {
            Wake::Ended
        } else if guard.generation != *seen {
            *seen = guard.generation;
            Wake::Changed
        } else {
            Wake::TimedOut
        }
    }
}

/// What an observer shares with its handle.
struct Shared {
    cancelled: AtomicBool,
    finished: AtomicBool,
    /// Held while the listener is being called, so `cancel` can wait for a call in flight.
    delivering: Mutex<()>,
    /// The observer's thread, so `cancel` from inside a callback does not wait for itself.
    thread: OnceLock<ThreadId>,
    signal: Arc<ChangeSignal>,
}

/// A running observation. Dropping it (Kotlin `close()` / `use {}`, Swift releasing it) or
/// calling `cancel()` stops it; the listener is not called after either returns.
#[derive(uniffi::Object)]
pub struct TaskHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for TaskHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskHandle").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl TaskHandle {
    /// Stops the observation. When this returns the listener is not being called and will not
    /// be called again (unless this is called from the listener itself, which returns at once).
    pub fn cancel(&self) {
        let s = &self.shared;
        s.cancelled.store(true, Ordering::Release);
        s.signal.nudge();
        if s.thread.get() != Some(&std::thread::current().id()) {
            drop(s.delivering.lock().unwrap_or_else(|p| p.into_inner()));
        }
    }

    /// True once the observation has ended: cancelled, the store closed, the listener threw or
    /// the query failed.
    pub fn is_finished(&self) -> bool {
        self.shared.finished.load(Ordering::Acquire)
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Starts observing `store` on a thread named `patrol-observe-{name}`. Each round `query` reads
/// the state (under the store's lock), `deliver` hands a changed result to the host and `fail`
/// the query's error (see the module doc for when rounds run and when the observation ends).
pub(crate) fn observe<T, Q, D, F>(
    name: &str,
    store: Weak<Mutex<Store>>,
    signal: Arc<ChangeSignal>,
    query: Q,
    deliver: D,
    fail: F,
) -> Result<Arc<TaskHandle>, PatrolError>
where
    T: PartialEq + Clone + Send + 'static,
    Q: FnMut(&mut Store) -> Result<T, PatrolError> + Send + 'static,
    D: Fn(T) + Send + 'static,
    F: Fn(PatrolError) + Send + 'static,
{
    let shared = Arc::new(Shared {
        cancelled: AtomicBool::new(false),
        finished: AtomicBool::new(false),
        delivering: Mutex::new(()),
        thread: OnceLock::new(),
        signal,
    });
    let theirs = Arc::clone(&shared);
    std::thread::Builder::new()
        .name(format!("patrol-observe-{name}"))
        .spawn(move || {
            let _ = theirs.thread.set(std::thread::current().id());
            let (mut query, deliver, fail) = (query, deliver, fail);
            run(&store, &theirs, &mut query, &deliver, &fail);
            // Finished before the listener is released, so a host that sees it released sees it
            // finished.
            theirs.finished.store(true, Ordering::Release);
        })
        .map_err(|e| {
            PatrolError::internal(format!("cannot start a thread to observe {name}: {e}"))
        })?;
    Ok(Arc::new(TaskHandle { shared }))
}

/// The observer's loop, until it ends.
fn run<T, Q, D, F>(
    store: &Weak<Mutex<Store>>,
    shared: &Shared,
    query: &mut Q,
    deliver: &D,
    fail: &F,
) where
    T: PartialEq + Clone,
    Q: FnMut(&mut Store) -> Result<T, PatrolError>,
    D: Fn(T),
    F: Fn(PatrolError),
{
    let mut seen = shared.signal.generation();
    let mut stamp = None;
    let mut last: Option<T> = None;
    loop {
        if shared.cancelled.load(Ordering::Acquire) {
            return;
        }
        let Some(store) = store.upgrade() else {
            return; // the store was closed
        };
        let round = match store.lock() {
            Err(_) => Some(Err(PatrolError::poisoned())),
            Ok(mut s) => match s.change_stamp() {
                Ok(now) if stamp == Some(now) => None,
                Ok(now) => {
                    stamp = Some(now);
                    Some(query(&mut s))
                }
                Err(e) => Some(Err(e.into())),
            },
        };
        drop(store); // not held while the host runs: closing the store must not wait for it
        match round {
            None => {}
            Some(Ok(state)) if last.as_ref() == Some(&state) => {}
            Some(Ok(state)) => {
                let turn = shared.delivering.lock().unwrap_or_else(|p| p.into_inner());
                if shared.cancelled.load(Ordering::Acquire) {
                    return;
                }
                last = Some(state.clone());
                let delivered = guarded(|| deliver(state));
                drop(turn);
                if delivered.is_none() {
                    return; // the listener threw
                }
            }
            Some(Err(e)) => {
                let _turn = shared.delivering.lock().unwrap_or_else(|p| p.into_inner());
                if !shared.cancelled.load(Ordering::Acquire) {
                    guarded(|| fail(e));
                }
                return;
            }
        }
        if shared.signal.wait(&mut seen, POLL, &shared.cancelled) == Wake::Ended {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patrol_core::{Role, StoreConfig};
    use std::sync::mpsc;
    use std::time::Instant;

    const WAIT: Duration = Duration::from_secs(10);

    /// Observes the open patrol of `store`, sending each delivery down a channel.
    fn observe_open_patrol(
        store: &Arc<Mutex<Store>>,
        signal: &Arc<ChangeSignal>,
    ) -> (Arc<TaskHandle>, mpsc::Receiver<Option<String>>) {
        let (tx, rx) = mpsc::channel();
        let handle = observe(
            "test",
            Arc::downgrade(store),
            Arc::clone(signal),
            |s: &mut Store| Ok(s.open_patrol()?.map(|id| id.to_string())),
            move |p| tx.send(p).unwrap(),
            |e| panic!("{e}"),
        )
        .unwrap();
        (handle, rx)
    }

    fn store() -> Arc<Mutex<Store>> {
        let mut s = Store::open_in_memory(StoreConfig::default()).unwrap();
        s.init_device("王芳", Role::Chief, None).unwrap();
        Arc::new(Mutex::new(s))
    }

    fn wait_until(what: &str, done: impl Fn() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < WAIT, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn the_current_state_first_then_each_change_once() {
        let store = store();
        let signal = Arc::new(ChangeSignal::default());
        let (handle, rx) = observe_open_patrol(&store, &signal);
        assert_eq!(rx.recv_timeout(WAIT), Ok(None), "the current state first");

        let id = store.lock().unwrap().start_patrol(&[]).unwrap();
        let notified = Instant::now();
        signal.notify();
        assert_eq!(rx.recv_timeout(WAIT), Ok(Some(id.to_string())));
        assert!(
            notified.elapsed() < POLL,
            "a notification wakes it before the poll would"
        );

        // A wake-up with no write, and a write that does not change the result: nothing delivered.
        signal.notify();
        store.lock().unwrap().pause_patrol(id).unwrap();
        signal.notify();
        assert!(
            rx.recv_timeout(POLL * 2).is_err(),
            "an unchanged result is not delivered again"
        );

        store.lock().unwrap().stop_patrol(id).unwrap();
        signal.notify();
        assert_eq!(rx.recv_timeout(WAIT), Ok(None));
        assert!(!handle.is_finished());
    }

    #[test]
    fn a_write_that_nobody_notified_is_found_by_the_poll() {
        let store = store();
        let signal = Arc::new(ChangeSignal::default());
        let (_handle, rx) = observe_open_patrol(&store, &signal);
        assert_eq!(rx.recv_timeout(WAIT), Ok(None));
        let id = store.lock().unwrap().start_patrol(&[]).unwrap();
        assert_eq!(rx.recv_timeout(POLL * 3), Ok(Some(id.to_string())));
    }

    #[test]
    fn after_cancel_or_drop_nothing_more_is_delivered() {
        let store = store();
        let signal = Arc::new(ChangeSignal::default());
        let (handle, rx) = observe_open_patrol(&store, &signal);
        assert_eq!(rx.recv_timeout(WAIT), Ok(None));
        handle.cancel();
        store.lock().unwrap().start_patrol(&[]).unwrap();
        signal.notify();
        wait_until("the observer ends", || handle.is_finished());
        assert!(rx.recv_timeout(POLL * 2).is_err(), "cancelled: no callback");

        let (handle, rx) = observe_open_patrol(&store, &signal);
        assert!(rx.recv_timeout(WAIT).unwrap().is_some());
        drop(handle);
        let id = store.lock().unwrap().open_patrol().unwrap().unwrap();
        store.lock().unwrap().stop_patrol(id).unwrap();
        signal.notify();
        // The channel's sender lives in the observer: it hangs up when the thread ends.
        assert_eq!(
            rx.recv_timeout(WAIT),
            Err(mpsc::RecvTimeoutError::Disconnected)
        );
    }

    #[test]
    fn closing_the_store_ends_the_observer() {
        let store = store();
        let signal = Arc::new(ChangeSignal::default());
        let (handle, rx) = observe_open_patrol(&store, &signal);
        assert_eq!(rx.recv_timeout(WAIT), Ok(None));
        drop(store);
        signal.close();
        wait_until("the observer ends", || handle.is_finished());
    }

    #[test]
    fn cancel_from_inside_the_listener_returns_and_a_throwing_listener_ends_it() {
        let store = store();
        let signal = Arc::new(ChangeSignal::default());
        let slot: Arc<OnceLock<Arc<TaskHandle>>> = Arc::default();
        let theirs = Arc::clone(&slot);
        let (tx, rx) = mpsc::channel();
        let handle = observe(
            "test",
            Arc::downgrade(&store),
            Arc::clone(&signal),
            |s: &mut Store| Ok(s.open_patrol()?.is_some()),
            move |open: bool| {
                if let Some(h) = theirs.get() {
                    h.cancel(); // must not deadlock
                }
                tx.send(open).unwrap();
            },
            |e| panic!("{e}"),
        )
        .unwrap();
        assert_eq!(rx.recv_timeout(WAIT), Ok(false));
        let _ = slot.set(Arc::clone(&handle));
        store.lock().unwrap().start_patrol(&[]).unwrap();
        signal.notify();
        assert_eq!(
            rx.recv_timeout(WAIT),
            Ok(true),
            "delivered, cancelling itself"
        );
        wait_until("the observer ends", || handle.is_finished());

        let handle = observe(
            "test",
            Arc::downgrade(&store),
            Arc::clone(&signal),
            |s: &mut Store| Ok(s.open_patrol()?.is_some()),
            |_| panic!("the host listener threw"),
            |e| panic!("{e}"),
        )
        .unwrap();
        wait_until("the observer ends", || handle.is_finished());
    }

    #[test]
    fn a_failing_query_is_reported_once_and_ends_it() {
        let store = store();
        let signal = Arc::new(ChangeSignal::default());
        let (tx, rx) = mpsc::channel();
        let unknown = patrol_core::PatrolId::new();
        let handle = observe(
            "test",
            Arc::downgrade(&store),
            Arc::clone(&signal),
            move |s: &mut Store| Ok(s.patrol(unknown)?.id.to_string()),
            |_| panic!("nothing to deliver"),
            move |e: PatrolError| tx.send(e.to_string()).unwrap(),
        )
        .unwrap();
        let message = rx.recv_timeout(WAIT).unwrap();
        assert!(message.contains("patrol"), "{message}");
        wait_until("the observer ends", || handle.is_finished());
        assert_eq!(
            rx.recv_timeout(WAIT),
            Err(mpsc::RecvTimeoutError::Disconnected)
        );
    }
}
