//! The host's HTTP stack, which carries the sync's requests (application-services' `viaduct`
//! pattern): Android's `HttpURLConnection` (or OkHttp), iOS's `URLSession`. The phone then uses
//! the system's certificate store, proxies and network policy, and the mobile library carries no
//! HTTP or TLS code of its own. The Kotlin and Swift packages each ship one (`JavaNetHttpClient`,
//! `URLSessionHttpClient`); an app passes it to `PatrolStore.open`.
//!
//! The host answers every HTTP status as an [`HttpResponse`] and throws only when no answer came
//! (no route, refused, timed out, TLS failure); the core retries those with backoff.

use std::sync::Arc;

use patrol_core::sync::{self as core_sync, TransportError};

use crate::platform::guarded;

/// The HTTP methods the sync uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HttpMethod {
    Get,
    Head,
    Post,
    Put,
    Patch,
}

/// One header; names are lower case both ways.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

/// A request to carry as it is.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HttpRequest {
    pub method: HttpMethod,
    /// The method's name on the wire (`GET`, `PATCH` ...), for stacks that take a string.
    pub method_name: String,
    pub url: String,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
    /// The whole exchange may take this long.
    pub timeout_ms: u64,
}

/// The server's answer, whatever the status; the body decompressed.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
}

/// No answer came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum HttpError {
    #[error("{reason}")]
    Failed { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HttpError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        HttpError::Failed { reason: e.reason }
    }
}

/// The host's HTTP stack. Called on the sync's worker thread, one request at a time; it may
/// block until the request's timeout.
#[uniffi::export(with_foreign)]
pub trait HttpClient: Send + Sync {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError>;
}

/// The host's client as the core's transport.
pub(crate) struct HostHttp(pub Arc<dyn HttpClient>);

fn method(m: core_sync::HttpMethod) -> HttpMethod {
    match m {
        core_sync::HttpMethod::Get => HttpMethod::Get,
        core_sync::HttpMethod::Head => HttpMethod::Head,
        core_sync::HttpMethod::Post => HttpMethod::Post,
        core_sync::HttpMethod::Put => HttpMethod::Put,
        core_sync::HttpMethod::Patch => HttpMethod::Patch,
    }
}

impl core_sync::HttpTransport for HostHttp {
    fn send(
        &self,
        request: core_sync::HttpRequest,
    ) -> Result<core_sync::HttpResponse, TransportError> {
        let request = HttpRequest {
            method: method(request.method),
            method_name: request.method.as_str().to_owned(),
            url: request.url,
            headers: request
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            body: request.body,
            timeout_ms: u64::try_from(request.timeout.as_millis()).unwrap_or(u64::MAX),
        };
        // A host client that panics across the boundary counts as a failed request.
        match guarded(|| self.0.send(request)) {
            Some(Ok(answer)) => Ok(core_sync::HttpResponse {
                status: answer.status,
                headers: answer
                    .headers
                    .into_iter()
                    .map(|h| (h.name.to_ascii_lowercase(), h.value))
                    .collect(),
                body: answer.body,
            }),
            Some(Err(HttpError::Failed { reason })) => Err(TransportError(reason)),
            None => Err(TransportError("the app's HTTP client failed".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patrol_core::sync::HttpTransport as _;

    struct Answering;

    impl HttpClient for Answering {
        fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
            assert_eq!(request.method, HttpMethod::Patch);
            assert_eq!(request.method_name, "PATCH");
            assert_eq!(request.timeout_ms, 1_500);
            Ok(HttpResponse {
                status: 204,
                headers: vec![HttpHeader {
                    name: "Upload-Offset".into(),
                    value: "42".into(),
                }],
                body: request.body,
            })
        }
    }

    struct Panicking;

    impl HttpClient for Panicking {
        fn send(&self, _: HttpRequest) -> Result<HttpResponse, HttpError> {
            panic!("host bug")
        }
    }

    fn request() -> core_sync::HttpRequest {
        core_sync::HttpRequest {
            method: core_sync::HttpMethod::Patch,
            url: "https://10.0.0.5/v1/blobs/x".into(),
            headers: vec![("upload-offset".into(), "0".into())],
            body: vec![1, 2, 3],
            timeout: std::time::Duration::from_millis(1_500),
        }
    }

    #[test]
    fn the_hosts_answer_reaches_the_core_with_lower_case_headers() {
        let answer = HostHttp(Arc::new(Answering)).send(request()).unwrap();
        assert_eq!(answer.status, 204);
        assert_eq!(answer.header("upload-offset"), Some("42"));
        assert_eq!(answer.headers[0].0, "upload-offset");
        assert_eq!(answer.body, vec![1, 2, 3]);
    }

    #[test]
    fn a_host_client_that_panics_is_a_failed_request_not_a_crash() {
        let e = HostHttp(Arc::new(Panicking)).send(request()).unwrap_err();
        assert!(e.0.contains("HTTP client"), "{e}");
    }
}
