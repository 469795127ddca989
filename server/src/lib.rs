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
pub mod http;
pub mod network;
pub mod policy;
pub mod quarantine;
pub mod secrets;
pub mod storage;
pub mod sync;
pub mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::oneshot;

use http::{AppState, Metrics};
use policy::DocPolicy;
use storage::{SqliteStorage, Storage};

/// Where the server keeps its data and where it listens.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The data folder: `server.db` and `blobs/`.
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
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
pub struct RunningServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.context("server task")??;
        Ok(())
    }
}

/// Starts serving; returns once the port is bound.
pub async fn start(config: ServerConfig) -> anyhow::Result<RunningServer> {
    let storage = open_storage(&config.data_dir)?;
    let state = AppState {
        storage,
        policy: default_policy(),
        blobs_dir: config.data_dir.join("blobs"),
        metrics: Arc::new(Metrics::default()),
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = http::router(state);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningServer {
        addr,
        shutdown: Some(tx),
        task,
    })
}

/// A server on its own thread and runtime, for tests and tools that are not async.
pub struct ServerThread {
    pub addr: SocketAddr,
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
                            let _ = addr_tx.send(Ok(server.addr));
                            let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                            let _ = server.stop().await;
                        }
                        Err(e) => {
                            let _ = addr_tx.send(Err(e));
                        }
                    }
                });
            })?;
        let addr = addr_rx.recv().context("server thread died")??;
        Ok(Self {
            addr,
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
