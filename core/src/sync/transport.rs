//! How the sync client reaches the network: one request in, one answer out, blocking.
//!
//! The client ([`super::client`]) holds the protocol (what to send, retries with backoff, what an
//! answer means) and asks an [`HttpTransport`] to carry each request, the way
//! application-services' `viaduct` lets Firefox's components use the app's own networking. A phone
//! app hands in its platform's stack (`HttpURLConnection` / OkHttp on Android, `URLSession` on
//! iOS: the system's certificate store, proxies and network policy, and no TLS library in the
//! mobile library); the CLI, the tests and the benchmarks use [`native::NativeTransport`]
//! (reqwest over rustls, feature `native-http`).
//!
//! A transport answers every HTTP status as a response, including 4xx and 5xx; only a request
//! that got no answer (no route, refused, reset, timed out, TLS failure) is a
//! [`TransportError`], which the client treats as transient and retries.

#[cfg(feature = "native-http")]
pub mod native;

use std::time::Duration;

/// The methods the sync protocol uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Head,
    Post,
    Put,
    Patch,
}

impl HttpMethod {
    /// The method's name on the wire (`GET`, `HEAD` ...).
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
        }
    }
}

/// One request, complete: the transport adds nothing but what HTTP itself needs (host, length,
/// and a compression it undoes itself).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: HttpMethod,
    /// Absolute `http(s)` URL, already checked by [`super::client::check_server_url`].
    pub url: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The whole exchange, connection to last byte, may take this long.
    pub timeout: Duration,
}

/// An answer, whatever its status.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lower case; a transport that sees them otherwise lowers them.
    pub headers: Vec<(String, String)>,
    /// The body, decompressed.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A request that got no HTTP answer, in the transport's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError(pub String);

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TransportError {}

/// Carries one request to the server and brings back its answer. Called on the sync's own
/// thread, one request at a time; it may block for up to the request's timeout.
pub trait HttpTransport: Send + Sync {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}
