//! The phone's sync client: the protocol's requests around [`super::engine`], carried by the
//! host's [`HttpTransport`] (the phone's own HTTP stack, or reqwest in the CLI and tests). It
//! blocks: a phone runs it on a worker thread, and a cancelled sync stops before its next request.
//!
//! Policy: metadata (documents, patrol headers, records, own fixes) syncs on any network; bulk
//! downloads (other people's fixes) and original photos wait for wifi unless the policy allows
//! cellular. Transient failures (connection lost, timeouts, 5xx, 429) are retried with
//! exponential backoff and full jitter; every step is persisted as it completes, so a sync cut
//! short resumes where it stopped.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::engine::{DOC_UPLOADS_PER_REQUEST, RECORD_UPLOADS_PER_REQUEST};
use super::fixcodec::{decode_fixes, encode_fixes};
use super::transport::{HttpMethod as Method, HttpRequest, HttpResponse, HttpTransport};
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

/// The host's side of a running sync: progress out for its UI, cancellation in.
pub trait SyncProgress: Send + Sync {
    /// `done` of `total` in `stage`.
    fn progress(&self, stage: SyncStage, done: u64, total: u64);

    /// Whether the host wants the sync to stop. Asked before every request and during backoff
    /// waits; a stopped sync keeps every step it finished ([`Error::Interrupted`]).
    fn cancelled(&self) -> bool {
        false
    }
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

/// A checked server address: where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// `scheme://host[:port]`, lower-case scheme, no trailing slash.
    origin: String,
}

impl ServerUrl {
    /// The URL of `path` (absolute, from `/`) on this server.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// `scheme://host[:port]/`, the form an account stores.
    pub fn as_base(&self) -> String {
        format!("{}/", self.origin)
    }
}

/// Checks a server URL: https, or http to this machine, or http when explicitly allowed. Only an
/// origin is taken (`https://host[:port]`, any path ignored: the protocol's paths are absolute);
/// credentials, spaces and control characters are refused.
pub fn check_server_url(url: &str, allow_insecure_http: bool) -> Result<ServerUrl> {
    let trimmed = url.trim();
    let bad = |why: &str| Error::Protocol(format!("{url:?} is not a URL: {why}"));
    let (scheme, rest) = trimmed
        .split_once("://")
        .ok_or_else(|| bad("no scheme (https://...)"))?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err(bad("no host"));
    }
    if authority.contains('@') {
        return Err(bad("credentials do not belong in a server address"));
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("spaces or control characters"));
    }
    let (host, port) = split_host_port(authority).ok_or_else(|| bad("bad host or port"))?;
    let bracketed = host.starts_with('[') && host.ends_with(']');
    let plain_name = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !bracketed && !plain_name {
        return Err(bad("bad host name"));
    }
    let origin = match port {
        Some(p) => format!("{scheme}://{}:{p}", host.to_ascii_lowercase()),
        None => format!("{scheme}://{}", host.to_ascii_lowercase()),
    };
    match scheme.as_str() {
        "https" => Ok(ServerUrl { origin }),
        "http" => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = bare.eq_ignore_ascii_case("localhost")
                || bare
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback || allow_insecure_http {
                Ok(ServerUrl { origin })
            } else {
                Err(Error::InsecureUrl(url.to_owned()))
            }
        }
        other => Err(Error::Protocol(format!(
            "{url:?}: scheme {other} is not http(s)"
        ))),
    }
}

/// `host[:port]` with IPv6 in brackets; `None` when the port is not a number in range or the
/// brackets do not close.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, after) = authority.split_at(close + 1);
        let inner = &host[1..host.len() - 1];
        inner.parse::<std::net::Ipv6Addr>().ok()?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|&p| p != 0)?),
        None => None,
    };
    Some((host, port))
}

/// How long one request may take, connection to last byte.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The protocol's side of a conversation with one server.
pub(crate) struct SyncClient<'t> {
    transport: &'t dyn HttpTransport,
    control: &'t dyn SyncProgress,
    base: ServerUrl,
    token: Option<String>,
    policy: SyncPolicy,
    rng: SimRng,
    report: SyncReport,
}

impl<'t> SyncClient<'t> {
    pub(crate) fn new(
        transport: &'t dyn HttpTransport,
        control: &'t dyn SyncProgress,
        server_url: &str,
        token: Option<String>,
        policy: SyncPolicy,
    ) -> Result<Self> {
        let base = check_server_url(server_url, policy.allow_insecure_http)?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        Ok(Self {
            transport,
            control,
            base,
            token,
            policy,
            rng: SimRng::new(seed),
            report: SyncReport::default(),
        })
    }

    /// Sends a request, retrying transient failures with backoff; returns the body of a 2xx.
    fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<Vec<u8>> {
        let answer = self.exchange(
            method,
            path,
            body,
            &[("content-type", content_type.to_owned())],
        )?;
        if answer.is_success() {
            return Ok(answer.body);
        }
        Err(server_error(answer.status, &answer.body))
    }

    /// Sends a request, retrying transient failures with backoff; returns the first answer that
    /// is not transient (a success or a 4xx).
    fn exchange(
        &mut self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<HttpResponse> {
        let mut request = HttpRequest {
            method,
            url: self.base.join(path),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            body,
            timeout: REQUEST_TIMEOUT,
        };
        if let Some(t) = &self.token {
            request
                .headers
                .push(("authorization".into(), format!("Bearer {t}")));
        }
        let mut attempt = 0u32;
        loop {
            if self.control.cancelled() {
                return Err(Error::Interrupted);
            }
            attempt += 1;
            self.report.requests += 1;
            let transient = match self.transport.send(request.clone()) {
                Ok(answer) if !retryable(answer.status) => {
                    if answer.is_success() {
                        self.report.bytes_up += request.body.len() as u64;
                        self.report.bytes_down += answer.body.len() as u64;
                    }
                    return Ok(answer);
                }
                Ok(answer) => format!(
                    "server answered {}: {}",
                    answer.status,
                    String::from_utf8_lossy(&answer.body)
                ),
                Err(e) => e.0,
            };
            if attempt >= self.policy.max_attempts {
                return Err(Error::Network(format!(
                    "{transient} (gave up after {attempt} attempts)"
                )));
            }
            self.report.retries += 1;
            let wait = self.backoff(attempt);
            self.wait(wait)?;
        }
    }

    /// Sleeps `total`, in short steps so that a cancelled sync stops within a tenth of a second.
    fn wait(&self, total: Duration) -> Result<()> {
        let step = Duration::from_millis(100);
        let mut left = total;
        while !left.is_zero() {
            if self.control.cancelled() {
                return Err(Error::Interrupted);
            }
            let now = left.min(step);
            std::thread::sleep(now);
            left -= now;
        }
        Ok(())
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

    fn post_json<T: Serialize, R: for<'de> Deserialize<'de>>(
        &mut self,
        path: &str,
        body: &T,
    ) -> Result<R> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::Protocol(e.to_string()))?;
        let answer = self.send(Method::Post, path, bytes, "application/json")?;
        serde_json::from_slice(&answer).map_err(|e| {
            Error::Protocol(format!(
                "the server's answer to {path} is not what this app expects: {e}"
            ))
        })
    }
}

/// The machine code and message of an unsuccessful answer.
fn error_body(status: u16, bytes: &[u8]) -> (String, String) {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(b) => (b.error, b.message),
        Err(_) => (
            format!("http_{status}"),
            String::from_utf8_lossy(bytes).into_owned(),
        ),
    }
}

/// The error a non-transient, unsuccessful answer stands for.
fn server_error(status: u16, bytes: &[u8]) -> Error {
    let (code, message) = error_body(status, bytes);
    Error::Server {
        status,
        code,
        message,
    }
}

/// 5xx, 429 Too Many Requests and 408 Request Timeout: worth another try.
fn retryable(status: u16) -> bool {
    (500..600).contains(&status) || status == 429 || status == 408
}

/// Enrols this store with a server using a one-time code; a fresh store becomes that user's
/// device.
pub fn enrol(
    store: &mut Store,
    transport: &dyn HttpTransport,
    control: &dyn SyncProgress,
    server_url: &str,
    code: &str,
    policy: SyncPolicy,
) -> Result<DeviceIdentity> {
    let mut client = SyncClient::new(transport, control, server_url, None, policy)?;
    let device_name = store.device()?.map(|d| format!("{}'s device", d.name));
    let resp: EnrolResponse = client.post_json(
        "/v1/enrol",
        &EnrolRequest {
            code: code.to_owned(),
            device_name,
        },
    )?;
    store.apply_enrolment(&client.base.as_base(), &resp)
}

/// Fixes per upload request.
const FIX_UPLOAD_BATCH: usize = 10_000;
/// Fixes per download request.
const FIX_DOWNLOAD_BUDGET: usize = 200_000;

/// Runs one full sync: documents, headers and records both ways (page by page), own fixes up,
/// then (network permitting) other patrols' fixes down.
pub fn sync(
    store: &mut Store,
    transport: &dyn HttpTransport,
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
        transport,
        progress,
        &account.server_url,
        Some(account.token.clone()),
        policy.clone(),
    )?;
    client.report.network = Some(policy.network);

    exchange_documents(store, &mut client, policy, progress)?;
    upload_fixes(store, &mut client, progress)?;
    sync_photos(store, &mut client, policy, progress)?;

    // 4. Other patrols' fixes down (supervisors): bulk, so wifi unless allowed.
    let wanted = store.fixes_to_download()?;
    if !wanted.is_empty() {
        if policy.bulk_allowed() {
            download_fixes(store, &mut client, wanted, progress)?;
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
fn exchange_documents(
    store: &mut Store,
    client: &mut SyncClient<'_>,
    policy: &SyncPolicy,
    progress: &dyn SyncProgress,
) -> Result<()> {
    let mut pages = 0u64;
    // Documents the server cannot take yet (see isolate_refusals): left out until the next sync.
    let mut held_back = std::collections::HashSet::new();
    loop {
        let mut req = store.next_sync_request(Some(policy.page_size))?;
        req.docs.retain(|d| !held_back.contains(&d.id));
        let resp: SyncResponse = match client.post_json("/v1/sync", &req) {
            Ok(r) => r,
            Err(Error::Server { status, .. }) if refusal(status) && has_uploads(&req) => {
                // The server refuses a request whole; find what it refused, set that aside and
                // let everything else through.
                held_back.extend(isolate_refusals(store, client, &req)?);
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
fn upload_fixes(
    store: &mut Store,
    client: &mut SyncClient<'_>,
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
            let bytes = client.send(
                Method::Put,
                &format!("/v1/patrols/{patrol}/fixes"),
                encode_fixes(&fixes),
                "application/octet-stream",
            )?;
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
fn sync_photos(
    store: &mut Store,
    client: &mut SyncClient<'_>,
    policy: &SyncPolicy,
    progress: &dyn SyncProgress,
) -> Result<()> {
    let photos_ok = policy.network == NetworkState::Wifi || policy.photos_on_cellular;
    let up = store.photos_to_upload()?;
    let down = store.wanted_photos()?;
    if photos_ok {
        let total = (up.len() + down.len()) as u64;
        let mut done = 0u64;
        upload_photos(store, client, up, &mut done, total, progress)?;
        download_photos(store, client, down, &mut done, total, progress)?;
    } else if !up.is_empty() || !down.is_empty() {
        client.report.deferred.push(format!(
            "{} photo(s) up and {} down (originals wait for wifi)",
            up.len(),
            down.len()
        ));
    }
    Ok(())
}

/// Uploads photo originals (by hash); `done` counts on towards `total` for progress.
fn upload_photos(
    store: &mut Store,
    client: &mut SyncClient<'_>,
    up: Vec<String>,
    done: &mut u64,
    total: u64,
    progress: &dyn SyncProgress,
) -> Result<()> {
    for sha in up {
        let upload = match store.photo_bytes(&sha) {
            Ok(bytes) => photos::upload_photo(client, &sha, &bytes)?,
            Err(e) => PhotoUpload::SetAside(format!("the original cannot be read: {e}")),
        };
        match upload {
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
fn download_photos(
    store: &mut Store,
    client: &mut SyncClient<'_>,
    down: Vec<String>,
    done: &mut u64,
    total: u64,
    progress: &dyn SyncProgress,
) -> Result<()> {
    for sha in down {
        let bytes = client.send(
            Method::Get,
            &format!("/v1/blobs/{sha}"),
            Vec::new(),
            "application/octet-stream",
        );
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
fn isolate_refusals(
    store: &mut Store,
    client: &mut SyncClient<'_>,
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
        match client.post_json::<_, SyncResponse>("/v1/sync", &one) {
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

fn download_fixes(
    store: &mut Store,
    client: &mut SyncClient<'_>,
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
        let bytes = client.send(Method::Post, "/v1/fixes/download", body, "application/json")?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_server_url_is_an_origin_over_https_or_loopback_http() {
        let ok = |u: &str| check_server_url(u, false).map(|s| s.join("/v1/sync"));
        assert_eq!(
            ok("https://LocalHost/").unwrap(),
            "https://localhost/v1/sync"
        );
        assert_eq!(
            ok(" https://10.0.0.5:8443/ignored/path?q#f ").unwrap(),
            "https://10.0.0.5:8443/v1/sync"
        );
        assert_eq!(
            ok("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/v1/sync"
        );
        assert_eq!(ok("http://[::1]:9/").unwrap(), "http://[::1]:9/v1/sync");
        assert_eq!(
            ok("http://localhost:3000").unwrap(),
            "http://localhost:3000/v1/sync"
        );
        assert!(matches!(
            check_server_url("http://192.0.2.7:8080", false),
            Err(Error::InsecureUrl(_))
        ));
        assert!(check_server_url("http://192.0.2.7:8080", true).is_ok());
        for bad in [
            "10.0.0.5",
            "ftp://10.0.0.5",
            "https://",
            "https://user:pw@10.0.0.5",
            "https://10.0.0.5:99999",
            "https://10.0.0.5:0",
            "https://10.0.0.5:x",
            "https://[::1",
            "https://[not-v6]",
            "https://local host",
            "https://10.0.0.5/\u{0}",
            "https://ten_0_0_5/",
        ] {
            assert!(check_server_url(bad, true).is_err(), "{bad:?} was taken");
        }
    }

    /// A transport that answers from a script and records what it was sent.
    struct Scripted {
        answers: Mutex<Vec<std::result::Result<HttpResponse, super::super::TransportError>>>,
        sent: Mutex<Vec<HttpRequest>>,
    }

    impl HttpTransport for Scripted {
        fn send(
            &self,
            request: HttpRequest,
        ) -> std::result::Result<HttpResponse, super::super::TransportError> {
            self.sent.lock().unwrap().push(request);
            self.answers.lock().unwrap().remove(0)
        }
    }

    struct CancelAfter(std::sync::atomic::AtomicU32);

    impl SyncProgress for CancelAfter {
        fn progress(&self, _: SyncStage, _: u64, _: u64) {}
        fn cancelled(&self) -> bool {
            self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) == 0
        }
    }

    fn quick_policy() -> SyncPolicy {
        SyncPolicy {
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            ..SyncPolicy::on(NetworkState::Wifi)
        }
    }

    #[test]
    fn transient_failures_are_retried_and_a_refusal_keeps_status_and_code() {
        let t = Scripted {
            answers: Mutex::new(vec![
                Err(super::super::TransportError("connection reset".into())),
                Ok(HttpResponse {
                    status: 503,
                    ..Default::default()
                }),
                Ok(HttpResponse {
                    status: 401,
                    headers: vec![],
                    body: br#"{"error":"unauthorized","message":"this device was revoked"}"#
                        .to_vec(),
                }),
            ]),
            sent: Mutex::default(),
        };
        let mut c = SyncClient::new(
            &t,
            &NoProgress,
            "https://10.0.0.5",
            Some("tok".into()),
            quick_policy(),
        )
        .unwrap();
        let e = c
            .send(Method::Post, "/v1/sync", b"{}".to_vec(), "application/json")
            .unwrap_err();
        assert!(
            matches!(&e, Error::Server { status: 401, code, message } if code == "unauthorized" && message.contains("revoked")),
            "{e:?}"
        );
        assert_eq!(c.report.requests, 3);
        assert_eq!(c.report.retries, 2);
        let sent = t.sent.lock().unwrap();
        assert_eq!(sent[0].url, "https://10.0.0.5/v1/sync");
        assert!(
            sent[0]
                .headers
                .contains(&("authorization".into(), "Bearer tok".into()))
        );
        assert!(
            sent[0]
                .headers
                .contains(&("content-type".into(), "application/json".into()))
        );
    }

    #[test]
    fn a_cancelled_sync_stops_before_its_next_request() {
        let t = Scripted {
            answers: Mutex::new(vec![
                Err(super::super::TransportError("timed out".into())),
                Err(super::super::TransportError("timed out".into())),
            ]),
            sent: Mutex::default(),
        };
        // Lets the first request through, then says stop.
        let control = CancelAfter(std::sync::atomic::AtomicU32::new(1));
        let mut c =
            SyncClient::new(&t, &control, "https://10.0.0.5", None, quick_policy()).unwrap();
        let e = c
            .send(Method::Get, "/v1/blobs/x", Vec::new(), "application/json")
            .unwrap_err();
        assert!(matches!(e, Error::Interrupted), "{e:?}");
        assert_eq!(
            t.sent.lock().unwrap().len(),
            1,
            "no request after the cancel"
        );
    }
}
