//! The transport of the CLI, the tests and the benchmarks: reqwest on a private single-threaded
//! runtime, TLS by rustls with the Mozilla root store, gzip undone. Phones use their platform's
//! stack instead (see [`super`]).

use std::sync::Arc;
use std::time::Duration;

use super::{HttpMethod, HttpRequest, HttpResponse, HttpTransport, TransportError};
use crate::error::{Error, Result};

/// reqwest behind the blocking [`HttpTransport`] interface.
#[derive(Debug)]
pub struct NativeTransport {
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
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

impl NativeTransport {
    /// A client with its own connection pool and runtime. Must not be called from inside an
    /// async runtime (it blocks the thread it runs on).
    pub fn new() -> Result<Self> {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config())
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("streetpatrol/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Network(format!("cannot set up HTTP: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Network(format!("cannot start the network runtime: {e}")))?;
        Ok(Self { http, runtime })
    }
}

fn method(m: HttpMethod) -> reqwest::Method {
    match m {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Head => reqwest::Method::HEAD,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
    }
}

/// The error and its causes on one line ("error sending request: connection refused").
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

impl HttpTransport for NativeTransport {
    fn send(&self, request: HttpRequest) -> std::result::Result<HttpResponse, TransportError> {
        let mut req = self
            .http
            .request(method(request.method), request.url.as_str())
            .timeout(request.timeout)
            .body(request.body);
        for (k, v) in &request.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        self.runtime.block_on(async {
            let resp = req.send().await.map_err(|e| TransportError(describe(&e)))?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let body = resp.bytes().await.map_err(|e| {
                TransportError(format!("reading the answer failed: {}", describe(&e)))
            })?;
            Ok(HttpResponse {
                status,
                headers,
                body: body.to_vec(),
            })
        })
    }
}
