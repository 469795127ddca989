//! What a host can observe instead of polling: a list of issues, and the recording state. Each
//! `observe_*` call starts an observer ([`crate::watch`]) and returns its [`TaskHandle`]: the
//! listener hears the current state first, then each change (from this app's calls, a sync, or
//! another process writing the file), until the handle is dropped or cancelled. Kotlin wraps them
//! in a `Flow`, Swift in an `AsyncStream`.

use std::sync::Arc;

use patrol_core::Store;
use patrol_core::track::Motion;

use crate::error::PatrolError;
use crate::issues::{IssueQuery, IssueSummary, issue_list};
use crate::store::PatrolStore;
use crate::types::PatrolInfo;
use crate::watch::{TaskHandle, observe};

/// Hears an issue list as it changes. Called on the observer's thread, one call at a time: post
/// to the UI thread from here. A listener that throws is not called again.
#[uniffi::export(with_foreign)]
pub trait IssueListListener: Send + Sync {
    /// The issues matching the query now: first the current list, then each time it changed.
    fn on_issues(&self, issues: Vec<IssueSummary>);
    /// The query failed (the store's storage failed, say); the observation has ended.
    fn on_error(&self, error: PatrolError);
}

/// The patrol this device has open, as a recording screen shows it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RecordingState {
    /// The patrol being recorded or paused (`patrol.state` says which); none when no patrol is
    /// open (or the device is not set up yet).
    pub patrol: Option<PatrolInfo>,
    /// Whether the walker is moving, as of the patrol's last fix; none without an open patrol.
    pub motion: Option<Motion>,
    /// The location interval to use now, in seconds; none without an open patrol. When it
    /// changes, restart location updates with it.
    pub interval_s: Option<u32>,
}

/// Hears the recording state as it changes (a patrol started, paused, resumed, stopped; the
/// walker stopping or moving on). Called on the observer's thread, one call at a time. A
/// listener that throws is not called again.
#[uniffi::export(with_foreign)]
pub trait RecordingStateListener: Send + Sync {
    /// The state now: first the current one, then each time it changed.
    fn on_state(&self, state: RecordingState);
    /// Reading the state failed; the observation has ended.
    fn on_error(&self, error: PatrolError);
}

/// The recording state of `store` now.
fn recording_state(store: &mut Store) -> Result<RecordingState, PatrolError> {
    let open = match store.device()? {
        Some(_) => store.open_patrol()?,
        None => None,
    };
    let Some(id) = open else {
        return Ok(RecordingState {
            patrol: None,
            motion: None,
            interval_s: None,
        });
    };
    let advice = store.sampling_advice(id)?;
    Ok(RecordingState {
        patrol: Some(store.patrol(id)?.into()),
        motion: Some(advice.motion),
        interval_s: Some(advice.interval_s),
    })
}

#[uniffi::export]
impl PatrolStore {
    /// Keeps `listener` told of the issues matching `query` (the list `list_issues(query)` would
    /// return), on a thread of its own, until the returned handle is dropped or cancelled. An
    /// issue reported, acted on, imported or received by sync shows within milliseconds; a
    /// change made by another process within a second. "Overdue" is as of each change: an issue
    /// becoming overdue with no write is seen at the next change.
    #[uniffi::method(default(query))]
    pub fn observe_issues(
        &self,
        query: IssueQuery,
        listener: Arc<dyn IssueListListener>,
    ) -> Result<Arc<TaskHandle>, PatrolError> {
        let failed = Arc::clone(&listener);
        observe(
            "issues",
            Arc::downgrade(&self.store),
            Arc::clone(&self.changes),
            move |s| issue_list(s, &query),
            move |issues| listener.on_issues(issues),
            move |e| failed.on_error(e),
        )
    }

    /// Keeps `listener` told of the recording state (the patrol open on this device, its motion
    /// and location interval), on a thread of its own, until the returned handle is dropped or
    /// cancelled. Fixes that do not change the state (the walker keeps walking) are not
    /// reported: fixes stay the host's own.
    pub fn observe_recording(
        &self,
        listener: Arc<dyn RecordingStateListener>,
    ) -> Result<Arc<TaskHandle>, PatrolError> {
        let failed = Arc::clone(&listener);
        observe(
            "recording",
            Arc::downgrade(&self.store),
            Arc::clone(&self.changes),
            recording_state,
            move |state| listener.on_state(state),
            move |e| failed.on_error(e),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issues::NewIssue;
    use crate::settings::StoreSettings;
    use patrol_core::{PatrolState, Role};
    use std::sync::Mutex;
    use std::sync::mpsc;
    use std::time::Duration;

    const WAIT: Duration = Duration::from_secs(10);

    struct Issues(Mutex<mpsc::Sender<Vec<IssueSummary>>>);
    impl IssueListListener for Issues {
        fn on_issues(&self, issues: Vec<IssueSummary>) {
            let _ = self.0.lock().unwrap().send(issues);
        }
        fn on_error(&self, error: PatrolError) {
            panic!("{error}")
        }
    }

    struct States(Mutex<mpsc::Sender<RecordingState>>);
    impl RecordingStateListener for States {
        fn on_state(&self, state: RecordingState) {
            let _ = self.0.lock().unwrap().send(state);
        }
        fn on_error(&self, error: PatrolError) {
            panic!("{error}")
        }
    }

    fn store(dir: &tempfile::TempDir) -> Arc<PatrolStore> {
        let path = dir.path().join("p.db").display().to_string();
        let store = PatrolStore::open(
            path,
            crate::secrets::tests::InMemory::shared(),
            StoreSettings::default(),
            None,
            None,
            None,
        )
        .unwrap();
        store.init_device("王芳".into(), Role::Chief, None).unwrap();
        store
    }

    fn litter() -> NewIssue {
        NewIssue {
            category: "litter".into(),
            lat: 39.9042,
            lon: 116.1935,
            datum: None,
            description: String::new(),
            photos: vec![],
            street_id: None,
            segment_id: None,
        }
    }

    #[test]
    fn an_issue_list_observer_hears_the_list_then_a_reported_issue() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let (tx, rx) = mpsc::channel();
        let handle = store
            .observe_issues(IssueQuery::default(), Arc::new(Issues(Mutex::new(tx))))
            .unwrap();
        assert_eq!(
            rx.recv_timeout(WAIT).unwrap(),
            vec![],
            "the current list first"
        );
        let id = store.report_issue(litter()).unwrap().issue.id;
        let list = rx.recv_timeout(WAIT).unwrap();
        assert_eq!(list.iter().map(|i| i.id).collect::<Vec<_>>(), vec![id]);

        // A filter the change does not touch: no callback for it.
        let (tx, open_rx) = mpsc::channel();
        let query = IssueQuery {
            category: Some("overflowing_bin".into()),
            ..IssueQuery::default()
        };
        let _bins = store
            .observe_issues(query, Arc::new(Issues(Mutex::new(tx))))
            .unwrap();
        assert_eq!(open_rx.recv_timeout(WAIT).unwrap(), vec![]);
        store.comment_issue(id, "还在".into()).unwrap();
        let commented = rx.recv_timeout(WAIT).unwrap();
        assert_eq!(commented.iter().map(|i| i.id).collect::<Vec<_>>(), vec![id]);
        assert_ne!(commented, list, "delivered because the issue changed");
        assert!(
            open_rx.recv_timeout(Duration::from_secs(2)).is_err(),
            "unchanged list"
        );

        drop(handle);
        store.report_issue(litter()).unwrap();
        assert_eq!(
            rx.recv_timeout(WAIT),
            Err(mpsc::RecvTimeoutError::Disconnected),
            "a dropped handle hears nothing more"
        );
    }

    #[test]
    fn a_recording_observer_follows_start_pause_and_stop() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let (tx, rx) = mpsc::channel();
        let _handle = store
            .observe_recording(Arc::new(States(Mutex::new(tx))))
            .unwrap();
        let none = rx.recv_timeout(WAIT).unwrap();
        assert_eq!((none.patrol, none.interval_s), (None, None));
        let id = store.start_patrol(vec![]).unwrap();
        let started = rx.recv_timeout(WAIT).unwrap();
        assert_eq!(
            started.patrol.map(|p| (p.id, p.state)),
            Some((id, PatrolState::Recording))
        );
        assert!(
            started.interval_s.is_some_and(|s| s > 0),
            "{:?}",
            started.interval_s
        );
        store.pause_patrol(id).unwrap();
        let paused = rx.recv_timeout(WAIT).unwrap();
        assert_eq!(paused.patrol.map(|p| p.state), Some(PatrolState::Paused));
        store.stop_patrol(id).unwrap();
        assert_eq!(
            rx.recv_timeout(WAIT).unwrap().patrol,
            None,
            "stopped: none open"
        );
    }

    #[test]
    fn closing_the_store_ends_its_observers() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let (tx, rx) = mpsc::channel();
        let handle = store
            .observe_recording(Arc::new(States(Mutex::new(tx))))
            .unwrap();
        rx.recv_timeout(WAIT).unwrap();
        drop(store);
        assert_eq!(
            rx.recv_timeout(WAIT),
            Err(mpsc::RecvTimeoutError::Disconnected),
            "the listener is released"
        );
        assert!(handle.is_finished());
    }
}
