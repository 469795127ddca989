//! The phone's sync client: a thin HTTP adapter (reqwest, TLS by rustls with the Mozilla root
//! store, so it behaves the same on Android, iOS and desktops) around [`super::engine`].
//!
//! Policy: metadata (documents, patrol headers, records, own fixes) syncs on any network; bulk
//! downloads (other people's fixes) and original photos wait for wifi unless the policy allows
//! cellular. Transient failures (connection lost, timeouts, 5xx, 429) are retried with
//! exponential backoff and full jitter; every step is persisted as it completes, so a sync cut
//! short resumes where it stopped.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize};

use super::engine::{DOC_UPLOADS_PER_REQUEST, RECORD_UPLOADS_PER_REQUEST};
use super::fixcodec::{decode_fixes, encode_fixes};
use super::wire::{EnrolRequest, EnrolResponse, ErrorBody, FixMark, SyncRequest, SyncResponse};
use crate::domain::PatrolId;
use crate::error::{Error, Result};
use crate::store::{DeviceIdentity, Store};
use patrol_model::rng::SimRng;

mod photos;

use photos::PhotoUpload;

/// The network the phone is on, as the host app reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkState {
    Wifi,
    Cellular,
    Offline,
}

/// How a sync may use the network.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncPolicy {
    pub network: NetworkState,
    /// Download other people's fixes (supervisors) on cellular too.
    pub bulk_on_cellular: bool,
    /// Upload original photos on cellular too (thumbnails always go).
    pub photos_on_cellular: bool,
    /// Attempts per request before a transient failure ends the sync.
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Feed entries per page.
    pub page_size: u32,
    /// Allow plain http to hosts other than this machine (development only).
    pub allow_insecure_http: bool,
}

impl SyncPolicy {
    pub fn on(network: NetworkState) -> Self {
        Self {
            network,
            bulk_on_cellular: false,
            photos_on_cellular: false,
            max_attempts: 6,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            page_size: 2_000,
            allow_insecure_http: false,
        }
    }

    fn bulk_allowed(&self) -> bool {
        self.network == NetworkState::Wifi
            || (self.network == NetworkState::Cellular && self.bulk_on_cellular)
    }
}

/// The stages of a sync, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStage {
    /// Exchanging documents, patrol headers and records; counts pages.
    Documents,
    /// Uploading this device's fixes; counts fixes.
    FixesUp,
    /// Photo originals up and down; counts photos.
    Photos,
    /// Downloading other patrols' fixes; counts fixes.
    FixesDown,
}

impl SyncStage {
    /// The stage's name on the wire and in logs (`documents`, `fixes_up`, `photos`,
    /// `fixes_down`).
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStage::Documents => "documents",
            SyncStage::FixesUp => "fixes_up",
            SyncStage::Photos => "photos",
            SyncStage::FixesDown => "fixes_down",
        }
    }
}

impl std::fmt::Display for SyncStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Progress of a sync, for the host's UI.
pub trait SyncProgress: Send + Sync {
    /// `done` of `total` in `stage`.
    fn progress(&self, stage: SyncStage, done: u64, total: u64);
}

/// Progress that goes nowhere.
#[derive(Debug)]
pub struct NoProgress;

impl SyncProgress for NoProgress {
    fn progress(&self, _: SyncStage, _: u64, _: u64) {}
}

/// What a sync moved.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    pub network: Option<NetworkState>,
    pub requests: u64,
    pub retries: u64,
    pub docs_up: u64,
    pub docs_down: u64,
    pub patrols_up: u64,
    pub patrols_down: u64,
    pub records_up: u64,
    pub records_down: u64,
    pub reference_down: u64,
    pub fixes_up: u64,
    pub fixes_down: u64,
    pub photos_up: u64,
    pub photos_down: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// What waited for a better network.
    pub deferred: Vec<String>,
    /// What the server refused in this sync (kept here, left out of uploads, shown to the user).
    pub rejected: Vec<super::docs::RejectedDoc>,
    /// What the server sent that this device could not take in this sync (set aside with the
    /// reason; the rest of the sync went on).
    pub set_aside: Vec<super::engine::SetAside>,
    pub cursor: u64,
}

/// Checks a server URL: https, or http to this machine, or http when explicitly allowed.
pub fn check_server_url(url: &str, allow_insecure_http: bool) -> Result<Url> {
    let parsed = Url::parse(url.trim())
        .map_err(|e| Error::Protocol(format!("{url:?} is not a URL: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" => {
            let host = parsed
                .host_str()
                .unwrap_or("")
                .trim_start_matches('[')
                .trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback || allow_insecure_http {
                Ok(parsed)
            } else {
                Err(Error::InsecureUrl(url.to_owned()))
            }
        }
        other => Err(Error::Protocol(format!(
            "{url:?}: scheme {other} is not http(s)"
        ))),
    }
}

fn tls_config() -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// An HTTP connection to one server.
#[derive(Debug)]
pub struct SyncClient {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
    policy: SyncPolicy,
    rng: SimRng,
    report: SyncReport,
}

impl SyncClient {
    pub fn new(server_url: &str, token: Option<String>, policy: SyncPolicy) -> Result<Self> {
        let base = check_server_url(server_url, policy.allow_insecure_http)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("streetpatrol/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Network(format!("cannot set up HTTP: {e}")))?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        Ok(Self {
            http,
            base,
            token,
            policy,
            rng: SimRng::new(seed),
            report: SyncReport::default(),
        })
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::Protocol(format!("bad path {path}: {e}")))
    }

    /// Sends a request, retrying transient failures with backoff; returns the body of a 2xx.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<Vec<u8>> {
        self.send_with_headers(
            method,
            path,
            body,
            &[("content-type", content_type.to_owned())],
        )
        .await
    }

    async fn send_with_headers(
        &mut self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<Vec<u8>> {
        let (status, _, bytes) = self.exchange(method, path, body, headers).await?;
        if status.is_success() {
            return Ok(bytes);
        }
        Err(server_error(status, &bytes))
    }

    /// Sends a request, retrying transient failures with backoff; returns the status, headers and
    /// body of the first answer that is not transient (a success or a 4xx).
    async fn exchange(
        &mut self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, Vec<u8>)> {
        let url = self.url(path)?;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.report.requests += 1;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .body(body.clone());
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            if let Some(t) = &self.token {
                req = req.bearer_auth(t);
            }
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(bytes) => Ok((status, headers, bytes.to_vec())),
                        Err(e) => Err(format!("reading the answer failed: {e}")),
                    }
                }
                Err(e) => Err(describe(&e)),
            };
            let transient = match outcome {
                Ok((status, headers, bytes)) if !retryable(status) => {
                    if status.is_success() {
                        self.report.bytes_up += body.len() as u64;
                        self.report.bytes_down += bytes.len() as u64;
                    }
                    return Ok((status, headers, bytes));
                }
                Ok((status, _, bytes)) => format!(
                    "server answered {status}: {}",
                    String::from_utf8_lossy(&bytes)
                ),
                Err(e) => e,
            };
            if attempt >= self.policy.max_attempts {
                return Err(Error::Network(format!(
                    "{transient} (gave up after {attempt} attempts)"
                )));
            }
            self.report.retries += 1;
            let wait = self.backoff(attempt);
            tokio::time::sleep(wait).await;
        }
    }

    /// Full jitter: a random wait up to the exponential bound for this attempt, so phones that
    /// lost the network together do not come back in lockstep.
    fn backoff(&mut self, attempt: u32) -> Duration {
        let bound = self
            .policy
            .base_backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.policy.max_backoff);
        bound.mul_f64(self.rng.uniform())
    }

    async fn post_json<T: Serialize, R: for<'de> Deserialize<'de>>(
        &mut self,
        path: &str,
        body: &T,
    ) -> Result<R> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::Protocol(e.to_string()))?;
        let answer = self
            .send(Method::POST, path, bytes, "application/json")
            .await?;
        serde_json::from_slice(&answer).map_err(|e| {
            Error::Protocol(format!(
                "the server's answer to {path} is not what this app expects: {e}"
            ))
        })
    }
}

/// The machine code and message of an unsuccessful answer.
fn error_body(status: StatusCode, bytes: &[u8]) -> (String, String) {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(b) => (b.error, b.message),
        Err(_) => (
            status.canonical_reason().unwrap_or("error").to_owned(),
            String::from_utf8_lossy(bytes).into_owned(),
        ),
    }
}

/// The error a non-transient, unsuccessful answer stands for.
fn server_error(status: StatusCode, bytes: &[u8]) -> Error {
    let (code, message) = error_body(status, bytes);
    Error::Server {
        status: status.as_u16(),
        code,
        message,
    }
}

fn retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
}

fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Enrols this store with a server using a one-time code; a fresh store becomes that user's
/// device.
pub async fn enrol(
    store: &mut Store,
    server_url: &str,
    code: &str,
    policy: SyncPolicy,
) -> Result<DeviceIdentity> {
    let mut client = SyncClient::new(server_url, None, policy)?;
    let device_name = store.device()?.map(|d| format!("{}'s device", d.name));
    let resp: EnrolResponse = client
        .post_json(
            "/v1/enrol",
            &EnrolRequest {
                code: code.to_owned(),
                device_name,
            },
        )
        .await?;
    store.apply_enrolment(client.base.as_str(), &resp)
}

/// Fixes per upload request.
const FIX_UPLOAD_BATCH: usize = 10_000;
/// Fixes per download request.
const FIX_DOWNLOAD_BUDGET: usize = 200_000;

/// Runs one full sync: documents, headers and records both ways (page by page), own fixes up,
/// then (network permitting) other patrols' fixes down.
pub async fn sync(
    store: &mut Store,
    policy: &SyncPolicy,
    progress: &dyn SyncProgress,
) -> Result<SyncReport> {
    let account = store.require_account()?;
    if policy.network == NetworkState::Offline {
        return Ok(SyncReport {
            network: Some(NetworkState::Offline),
            deferred: vec!["everything (offline)".into()],
            cursor: account.cursor,
            ..Default::default()
        });
    }
    let mut client = SyncClient::new(
        &account.server_url,
        Some(account.token.clone()),
        policy.clone(),
    )?;
    client.report.network = Some(policy.network);

    exchange_documents(store, &mut client, policy, progress).await?;
    upload_fixes(store, &mut client, progress).await?;
    sync_photos(store, &mut client, policy, progress).await?;

    // 4. Other patrols' fixes down (supervisors): bulk, so wifi unless allowed.
    let wanted = store.fixes_to_download()?;
    if !wanted.is_empty() {
        if policy.bulk_allowed() {
            download_fixes(store, &mut client, wanted, progress).await?;
        } else {
            client.report.deferred.push(format!(
                "fixes of {} patrols (bulk download waits for wifi)",
                wanted.len()
            ));
        }
    }
    Ok(client.report)
}

/// Step 1 of a sync: the document exchange (documents, patrol headers, records both ways), page
/// by page; each page stored before the next is asked for.
async fn exchange_documents(
    store: &mut Store,
    client: &mut SyncClient,
    policy: &SyncPolicy,
    progress: &dyn SyncProgress,
) -> Result<()> {
    let mut pages = 0u64;
    // Documents the server cannot take yet (see isolate_refusals): left out until the next sync.
    let mut held_back = std::collections::HashSet::new();
    loop {
        let mut req = store.next_sync_request(Some(policy.page_size))?;
        req.docs.retain(|d| !held_back.contains(&d.id));
        let resp: SyncResponse = match client.post_json("/v1/sync", &req).await {
            Ok(r) => r,
            Err(Error::Server { status, .. }) if refusal(status) && has_uploads(&req) => {
                // The server refuses a request whole; find what it refused, set that aside and
                // let everything else through.
                held_back.extend(isolate_refusals(store, client, &req).await?);
                continue;
            }
            Err(e) => return Err(e),
        };
        let applied = store.apply_sync_response(&req, &resp)?;
        let r = &mut client.report;
        r.docs_up += req.docs.len() as u64;
        r.patrols_up += req.patrols.len() as u64;
        r.records_up += req.records.len() as u64;
        r.docs_down += applied.docs;
        r.patrols_down += applied.patrols;
        r.records_down += applied.records;
        r.reference_down += applied.reference;
        r.set_aside.extend(applied.set_aside);
        r.cursor = resp.cursor;
        pages += 1;
        progress.progress(
            SyncStage::Documents,
            pages,
            if resp.more { pages + 1 } else { pages },
        );
        // A full request may have left uploads behind: go on until they are all sent, not only
        // while the server has more to send.
        let uploads_left = req.docs.len() >= DOC_UPLOADS_PER_REQUEST
            || req.records.len() >= RECORD_UPLOADS_PER_REQUEST;
        if !resp.more && !uploads_left {
            return Ok(());
        }
        if pages > 100_000 {
            return Err(Error::Protocol(
                "the server keeps saying there is more; giving up".into(),
            ));
        }
    }
}

/// Step 2 of a sync: own fixes up, from the server's high-water mark: idempotent, so a retry or
/// a repeat never duplicates anything.
async fn upload_fixes(
    store: &mut Store,
    client: &mut SyncClient,
    progress: &dyn SyncProgress,
) -> Result<()> {
    let uploads = store.fixes_to_upload()?;
    let total: u64 = uploads.iter().map(|(_, from, to)| (to - from) as u64).sum();
    let mut done = 0u64;
    for (patrol, mut from, to) in uploads {
        while from < to {
            let fixes = store.fixes_from(patrol, from, FIX_UPLOAD_BATCH)?;
            if fixes.is_empty() {
                break;
            }
            let n = fixes.len() as u64;
            let bytes = client
                .send(
                    Method::PUT,
                    &format!("/v1/patrols/{patrol}/fixes"),
                    encode_fixes(&fixes),
                    "application/octet-stream",
                )
                .await?;
            let mark: FixMark = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Protocol(format!("fix upload answer: {e}")))?;
            store.set_server_fix_mark(patrol, mark.next_seq)?;
            if mark.next_seq <= from {
                return Err(Error::Protocol(format!(
                    "the server did not take fixes of patrol {patrol} from seq {from}"
                )));
            }
            from = mark.next_seq;
            done += n;
            client.report.fixes_up += n;
            progress.progress(SyncStage::FixesUp, done, total);
        }
    }
    Ok(())
}

/// Step 3 of a sync: photo originals up (resumable) and down, on wifi unless allowed on
/// cellular; otherwise noted as deferred.
async fn sync_photos(
    store: &mut Store,
    client: &mut SyncClient,
    policy: &SyncPolicy,
    progress: &dyn SyncProgress,
) -> Result<()> {
    let photos_ok = policy.network == NetworkState::Wifi || policy.photos_on_cellular;
    let up = store.photos_to_upload()?;
    let down = store.wanted_photos()?;
    if photos_ok {
        let total = (up.len() + down.len()) as u64;
        let mut done = 0u64;
        upload_photos(store, client, up, &mut done, total, progress).await?;
        download_photos(store, client, down, &mut done, total, progress).await?;
    } else if !up.is_empty() || !down.is_empty() {
        client.report.deferred.push(format!(
            "{} photo(s) up and {} down (originals wait for wifi)",
            up.len(),
            down.len()
        ));
    }
    Ok(())
}

/// Uploads photo originals (sha256, file, size); `done` counts on towards `total` for progress.
async fn upload_photos(
    store: &mut Store,
    client: &mut SyncClient,
    up: Vec<(String, std::path::PathBuf, u64)>,
    done: &mut u64,
    total: u64,
    progress: &dyn SyncProgress,
) -> Result<()> {
    for (sha, path, size) in up {
        match photos::upload_photo(client, &sha, &path, size).await? {
            PhotoUpload::Stored => {
                store.mark_blob_on_server(&sha)?;
                client.report.photos_up += 1;
            }
            // Not (yet) declared by this user in anything the server holds (its document
            // may be held back): tried again at the next sync.
            PhotoUpload::NotYours(reason) => {
                client
                    .report
                    .deferred
                    .push(format!("photo {sha}: {reason}"));
            }
            // Refused, or given up after repeated conflicts: kept here, shown to the user,
            // tried again at the next sync.
            PhotoUpload::SetAside(reason) => {
                store.reject_item("photo", &sha, &reason)?;
                client.report.rejected.push(super::docs::RejectedDoc {
                    id: format!("photo:{sha}"),
                    reason,
                });
            }
        }
        *done += 1;
        progress.progress(SyncStage::Photos, *done, total);
    }
    Ok(())
}

/// Downloads the photo originals this store wants; `done` counts on towards `total`.
async fn download_photos(
    store: &mut Store,
    client: &mut SyncClient,
    down: Vec<String>,
    done: &mut u64,
    total: u64,
    progress: &dyn SyncProgress,
) -> Result<()> {
    for sha in down {
        let bytes = client
            .send(
                Method::GET,
                &format!("/v1/blobs/{sha}"),
                Vec::new(),
                "application/octet-stream",
            )
            .await;
        match bytes {
            Ok(bytes) => {
                store.store_downloaded_photo(&sha, &bytes)?;
                client.report.photos_down += 1;
            }
            // Not uploaded by its owner yet: the next sync asks again. (400: an id that is
            // no photo; nothing to fetch, and no reason to stop the other photos.)
            Err(Error::Server {
                status: 404 | 400, ..
            }) => {}
            Err(e) => return Err(e),
        }
        *done += 1;
        progress.progress(SyncStage::Photos, *done, total);
    }
    Ok(())
}

/// A 4xx that means "this content is refused" (not auth, protocol version or rate).
fn refusal(status: u16) -> bool {
    matches!(status, 400 | 403 | 409 | 413 | 422)
}

fn has_uploads(req: &SyncRequest) -> bool {
    !req.docs.is_empty() || !req.patrols.is_empty() || !req.records.is_empty()
}

/// Sends a refused request's uploads one at a time; each one the server refuses is set aside
/// with the server's reason. Returns the documents the server cannot take yet (they build on
/// changes it lacks): they stay pending for a later sync.
async fn isolate_refusals(
    store: &mut Store,
    client: &mut SyncClient,
    req: &SyncRequest,
) -> Result<Vec<String>> {
    let mut not_yet = Vec::new();
    let single = |docs, patrols, records| SyncRequest {
        protocol: req.protocol,
        cursor: req.cursor,
        docs,
        patrols,
        records,
        max_entries: Some(1),
        refetch: Vec::new(),
    };
    let mut attempts: Vec<(String, String, SyncRequest)> = Vec::new();
    for d in &req.docs {
        attempts.push((
            "doc".into(),
            d.id.clone(),
            single(vec![d.clone()], vec![], vec![]),
        ));
    }
    for p in &req.patrols {
        attempts.push((
            "patrol".into(),
            p.id.to_string(),
            single(vec![], vec![p.clone()], vec![]),
        ));
    }
    for r in &req.records {
        attempts.push((
            r.kind.clone(),
            r.id.clone(),
            single(vec![], vec![], vec![r.clone()]),
        ));
    }
    for (kind, id, one) in attempts {
        match client.post_json::<_, SyncResponse>("/v1/sync", &one).await {
            Ok(resp) => {
                let applied = store.apply_sync_response(&one, &resp)?;
                let r = &mut client.report;
                r.set_aside.extend(applied.set_aside);
                r.docs_up += one.docs.len() as u64;
                r.patrols_up += one.patrols.len() as u64;
                r.records_up += one.records.len() as u64;
            }
            // Changes that build on ones the server does not have yet (a document handed over
            // by file, whose author's phone has not synced): kept pending, sent again next time.
            Err(Error::Server {
                status: 409,
                code,
                message,
            }) if kind == "doc" && code == "missing_dependencies" => {
                client
                    .report
                    .deferred
                    .push(format!("document {id}: {message}"));
                not_yet.push(id);
            }
            Err(Error::Server {
                status, message, ..
            }) if refusal(status) => {
                if kind == "doc" {
                    store.reject_doc(&id, &message)?;
                } else {
                    store.reject_item(&kind, &id, &message)?;
                }
                client.report.rejected.push(super::docs::RejectedDoc {
                    id: format!("{kind}:{id}"),
                    reason: message,
                });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(not_yet)
}

#[derive(Serialize)]
struct DownloadRequest {
    patrols: Vec<PatrolFrom>,
    max_fixes: usize,
}

#[derive(Serialize)]
struct PatrolFrom {
    patrol_id: PatrolId,
    from_seq: i64,
}

async fn download_fixes(
    store: &mut Store,
    client: &mut SyncClient,
    mut wanted: Vec<(PatrolId, i64, i64)>,
    progress: &dyn SyncProgress,
) -> Result<()> {
    let total: u64 = wanted.iter().map(|(_, from, to)| (to - from) as u64).sum();
    let mut done = 0u64;
    while !wanted.is_empty() {
        let req = DownloadRequest {
            patrols: wanted
                .iter()
                .take(2_000)
                .map(|(p, from, _)| PatrolFrom {
                    patrol_id: *p,
                    from_seq: *from,
                })
                .collect(),
            max_fixes: FIX_DOWNLOAD_BUDGET,
        };
        let body = serde_json::to_vec(&req).map_err(|e| Error::Protocol(e.to_string()))?;
        let bytes = client
            .send(Method::POST, "/v1/fixes/download", body, "application/json")
            .await?;
        let mut got = 0u64;
        for (patrol, fixes) in split_frames(&bytes)? {
            got += fixes.len() as u64;
            store.store_synced_fixes(patrol, &fixes)?;
        }
        if got == 0 {
            break;
        }
        done += got;
        client.report.fixes_down += got;
        progress.progress(SyncStage::FixesDown, done, total);
        wanted = store.fixes_to_download()?;
    }
    Ok(())
}

/// Splits a bulk download into (patrol, fixes) frames.
fn split_frames(bytes: &[u8]) -> Result<Vec<(PatrolId, Vec<crate::domain::StoredFix>)>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let head = bytes
            .get(pos..pos + 20)
            .ok_or_else(|| Error::Protocol("truncated fix frame".into()))?;
        let id = PatrolId(
            uuid::Uuid::from_slice(&head[..16]).map_err(|e| Error::Protocol(e.to_string()))?,
        );
        let len = u32::from_le_bytes([head[16], head[17], head[18], head[19]]) as usize;
        let batch = bytes
            .get(pos + 20..pos + 20 + len)
            .ok_or_else(|| Error::Protocol("truncated fix batch".into()))?;
        out.push((
            id,
            decode_fixes(batch).map_err(|e| Error::Protocol(e.to_string()))?,
        ));
        pos += 20 + len;
    }
    Ok(out)
}

/// Runs a future to completion on a private runtime, for callers that are not async (the CLI,
/// tests, FFI worker threads).
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Network(format!("cannot start the network runtime: {e}")))?;
    Ok(rt.block_on(f))
}
