//! Slow work off the caller's thread, as a future the host awaits.
//!
//! uniffi turns an exported `async fn` into a Kotlin `suspend fun` / Swift `async` function and
//! lets the host's executor poll it; no Rust runtime is involved. [`spawn`] runs the blocking work
//! (SQLite, file parsing) on a thread of its own and wakes the host when it is done. When the host
//! cancels (a Kotlin coroutine is cancelled, a Swift task is cancelled), uniffi drops the future:
//! that raises the work's cancel flag, and the core rolls the work back and stops.
//!
//! A thread per call suits work that is rare and long (an import, a sync); per-fix calls stay
//! synchronous.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::error::PatrolError;

struct Shared<T> {
    slot: Mutex<Slot<T>>,
    cancel: Arc<AtomicBool>,
}

struct Slot<T> {
    result: Option<Result<T, PatrolError>>,
    waker: Option<Waker>,
}

/// The result of work running on its own thread. Dropping it before it is ready cancels the work.
pub(crate) struct Background<T> {
    shared: Arc<Shared<T>>,
    done: bool,
}

/// Runs `work` on a new thread named `name`. `work` gets the cancel flag to pass to the core: the
/// host's [`CancelToken`] if it gave one, else a flag of this call's own. A panic in `work`
/// becomes `PatrolError::Internal`.
pub(crate) fn spawn<T, F>(name: &str, token: Option<Arc<CancelToken>>, work: F) -> Background<T>
where
    T: Send + 'static,
    F: FnOnce(&AtomicBool) -> Result<T, PatrolError> + Send + 'static,
{
    let cancel = token.map(|t| Arc::clone(&t.cancelled)).unwrap_or_default();
    let shared = Arc::new(Shared {
        slot: Mutex::new(Slot {
            result: None,
            waker: None,
        }),
        cancel,
    });
    let theirs = Arc::clone(&shared);
    let what = name.to_owned();
    let started = std::thread::Builder::new()
        .name(format!("patrol-{name}"))
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| work(&theirs.cancel)))
                .unwrap_or_else(|payload| Err(PatrolError::panicked(&what, payload.as_ref())));
            finish(&theirs, result);
        });
    if let Err(e) = started {
        finish(
            &shared,
            Err(PatrolError::internal(format!(
                "cannot start a thread for the {name}: {e}"
            ))),
        );
    }
    Background {
        shared,
        done: false,
    }
}

fn finish<T>(shared: &Shared<T>, result: Result<T, PatrolError>) {
    let waker = {
        let mut slot = shared
            .slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.result = Some(result);
        slot.waker.take()
    };
    if let Some(w) = waker {
        w.wake();
    }
}

/// Cancels slow work explicitly: pass one to the call, then `cancel()` it from anywhere. Kotlin
/// does not need it (cancelling the coroutine cancels the work); Swift does, as cancelling a Task
/// does not reach a uniffi async call.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelToken {
    cancelled: Arc<AtomicBool>,
}

#[uniffi::export]
impl CancelToken {
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Asks the work to stop; it rolls back and fails with `PatrolError::Interrupted`.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

impl<T> Future for Background<T> {
    type Output = Result<T, PatrolError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let taken = {
            let mut slot = self
                .shared
                .slot
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match slot.result.take() {
                Some(result) => Some(result),
                None => {
                    slot.waker = Some(cx.waker().clone());
                    None
                }
            }
        };
        match taken {
            Some(result) => {
                self.done = true;
                Poll::Ready(result)
            }
            None => Poll::Pending,
        }
    }
}

impl<T> Drop for Background<T> {
    fn drop(&mut self) {
        if !self.done {
            self.shared.cancel.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::task::Wake;
    use std::time::Duration;

    /// Polls a future on this thread until it is ready (a minimal executor).
    fn block_on<F: Future>(f: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    #[test]
    fn work_runs_on_another_thread_and_its_result_arrives() {
        let caller = std::thread::current().id();
        let got = block_on(spawn(
            "test",
            None,
            move |_| Ok(std::thread::current().id()),
        ));
        assert_ne!(got.unwrap(), caller);
    }

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let got: Result<(), _> = block_on(spawn("test", None, |_| panic!("boom")));
        match got {
            Err(PatrolError::Internal { reason: m }) => {
                assert!(m.contains("boom") && m.contains("test"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dropping_the_future_raises_the_cancel_flag() {
        let (tx, rx) = mpsc::channel();
        let fut = spawn("test", None, move |cancel| {
            while !cancel.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
            }
            tx.send("saw cancel").unwrap();
            Ok(())
        });
        drop(fut);
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok("saw cancel"));
    }

    #[test]
    fn a_token_cancels_work_that_is_still_awaited() {
        let token = CancelToken::new();
        let fut = spawn::<(), _>("test", Some(Arc::clone(&token)), move |cancel| {
            while !cancel.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(PatrolError::interrupted("stopped"))
        });
        token.cancel();
        assert!(matches!(
            block_on(fut),
            Err(PatrolError::Interrupted { .. })
        ));
        assert!(token.is_cancelled());
    }
}
