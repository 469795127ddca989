//! patrol-server: the StreetPatrol sync server.
//!
//! - [`http`]: the API (enrolment, sync, fixes, blobs, health, metrics), one router per resource.
//! - [`sync`]: one sync round trip as pure logic over a storage transaction.
//! - [`policy`]: what the server asks of a CRDT document (scope facts, allowed changes).
//! - [`storage`]: the storage trait and its embedded SQLite backend.
//! - [`admin`]: the admin command line's operations (district, users, codes, assignments).
//! - [`network`]: the district's street network and signboards, published to devices.
//! - [`secrets`]: tokens and enrolment codes, stored hashed.

pub mod admin;
pub mod blob_access;
pub mod coverage;
pub mod http;
pub mod issue_index;
pub mod network;
pub mod office;
pub mod people;
pub mod policy;
pub mod public;
pub mod quarantine;
pub mod reports;
pub mod retention;
pub mod rights;
pub mod rules;
pub mod secrets;
pub mod storage;
pub mod sync;
pub mod sync_error;
pub mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::oneshot;

use http::ratelimit::{RateLimit, RateLimiter};
use http::{AppState, Metrics};
use policy::DocPolicy;
use storage::{SqliteStorage, Storage};

/// Where the server keeps its data and where it listens.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The data folder: `server.db` and `blobs/`.
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Where Prometheus `/metrics` is served, on a listener of its own (the API's port does
    /// not answer it); `None`, the default: not served.
    pub metrics_listen: Option<SocketAddr>,
    /// Enrolment attempts one client address may make ([`RateLimit::ENROL_DEFAULT`]).
    pub enrol_limit: RateLimit,
    /// Signboard-page posts one client address may make ([`RateLimit::PUBLIC_DEFAULT`]).
    pub public_limit: RateLimit,
    /// Signboard-page posts through one signboard ([`RateLimit::SIGNBOARD_DEFAULT`]).
    pub signboard_limit: RateLimit,
    /// Public pages and photos one client address may load ([`RateLimit::PAGES_DEFAULT`]).
    pub page_limit: RateLimit,
    /// Office sign-in attempts one client address may make ([`http::office::SIGN_IN_LIMIT`]).
    pub sign_in_limit: RateLimit,
}

impl ServerConfig {
    /// The API on `listen`, no metrics listener, the default enrolment limit.
    pub fn new(data_dir: impl Into<PathBuf>, listen: SocketAddr) -> Self {
        Self {
            data_dir: data_dir.into(),
            listen,
            metrics_listen: None,
            enrol_limit: RateLimit::ENROL_DEFAULT,
            public_limit: RateLimit::PUBLIC_DEFAULT,
            signboard_limit: RateLimit::SIGNBOARD_DEFAULT,
            page_limit: RateLimit::PAGES_DEFAULT,
            sign_in_limit: http::office::SIGN_IN_LIMIT,
        }
    }
}

/// Opens the storage in a data folder.
pub fn open_storage(data_dir: &std::path::Path) -> anyhow::Result<Arc<dyn Storage>> {
    let s = SqliteStorage::open(data_dir)
        .with_context(|| format!("opening the data folder {}", data_dir.display()))?;
    Ok(Arc::new(s))
}

/// The policy the server enforces on documents.
pub fn default_policy() -> Arc<dyn DocPolicy> {
    Arc::new(policy::CorePolicy)
}

/// A server running on the current tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    /// The metrics listener's address, when there is one.
    pub metrics_addr: Option<SocketAddr>,
    shutdown: Vec<oneshot::Sender<()>>,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        for tx in self.shutdown.drain(..) {
            let _ = tx.send(());
        }
        for task in self.tasks.drain(..) {
            task.await.context("server task")??;
        }
        Ok(())
    }
}

/// Serves `app` on `listener` until `rx` fires, with each request's peer address (the
/// enrolment rate limit is per address).
fn serve_until(
    listener: tokio::net::TcpListener,
    app: axum::Router,
) -> (
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        })
        .await
    });
    (tx, task)
}

/// Starts serving; returns once the port is bound.
pub async fn start(config: ServerConfig) -> anyhow::Result<RunningServer> {
    let storage = open_storage(&config.data_dir)?;
    let erased = retention::erase_contacts_of_closed_issues(storage.as_ref(), admin::now_ms())?;
    if erased > 0 {
        tracing::info!(
            erased,
            "contact phones of residents whose problems had ended, erased"
        );
    }
    let form_key = {
        let mut tx = storage.write()?;
        let key = public::desk::form_key(tx.as_mut())?;
        tx.commit()?;
        key
    };
    let state = AppState {
        storage,
        policy: default_policy(),
        blobs_dir: config.data_dir.join("blobs"),
        metrics: Arc::new(Metrics::default()),
        enrol_limiter: Arc::new(RateLimiter::new(config.enrol_limit)),
        public: Arc::new(http::public::PublicDoor {
            form_key,
            per_address: RateLimiter::new(config.public_limit),
            per_signboard: RateLimiter::new(config.signboard_limit),
            pages: RateLimiter::new(config.page_limit),
            photo_decodes: tokio::sync::Semaphore::new(1),
        }),
        office: Arc::new(http::office::OfficeDoor::new(config.sign_in_limit)),
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // Both ports are bound before either serves, so a bad metrics address starts nothing.
    let metrics_listener = match config.metrics_listen {
        Some(at) => Some(
            tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("cannot listen for metrics on {at}"))?,
        ),
        None => None,
    };
    let mut running = RunningServer {
        addr,
        metrics_addr: None,
        shutdown: Vec::new(),
        tasks: Vec::new(),
    };
    if let Some(l) = metrics_listener {
        running.metrics_addr = Some(l.local_addr()?);
        let (tx, task) = serve_until(l, http::metrics_router(state.clone()));
        running.shutdown.push(tx);
        running.tasks.push(task);
    }
    let (tx, task) = measure_in_background(state.storage.clone());
    running.shutdown.push(tx);
    running.tasks.push(task);
    let (tx, task) = serve_until(listener, http::router(state));
    running.shutdown.push(tx);
    running.tasks.push(task);
    Ok(running)
}

/// Measures what complete patrols covered as they come in ([`coverage::measure_pending`]), a
/// batch at a time off the async threads, until told to stop.
fn measure_in_background(
    storage: Arc<dyn Storage>,
) -> (
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let (tx, mut rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        loop {
            let s = storage.clone();
            let step = tokio::task::spawn_blocking(move || {
                coverage::measure_pending(s.as_ref(), coverage::MEASURE_BATCH)
            });
            let measured = match step.await {
                Ok(Ok(n)) => n,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "measuring patrols' coverage failed; trying again later");
                    0
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the coverage measurer stopped");
                    0
                }
            };
            let wait = if measured > 0 {
                std::time::Duration::ZERO
            } else {
                coverage::MEASURE_IDLE
            };
            tokio::select! {
                _ = &mut rx => return Ok(()),
                _ = tokio::time::sleep(wait) => {}
            }
        }
    });
    (tx, task)
}

/// A server on its own thread and runtime, for tests and tools that are not async.
#[derive(Debug)]
pub struct ServerThread {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    pub fn spawn(config: ServerConfig) -> anyhow::Result<Self> {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("patrol-server".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = addr_tx.send(Err(anyhow::Error::from(e)));
                        return;
                    }
                };
                rt.block_on(async move {
                    match start(config).await {
                        Ok(server) => {
                            let _ = addr_tx.send(Ok((server.addr, server.metrics_addr)));
                            let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                            let _ = server.stop().await;
                        }
                        Err(e) => {
                            let _ = addr_tx.send(Err(e));
                        }
                    }
                });
            })?;
        let (addr, metrics_addr) = addr_rx.recv().context("server thread died")??;
        Ok(Self {
            addr,
            metrics_addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        self.shutdown();
    }
}
