//! What the server's logs may say of a request: its method and the route it matched
//! (`/r/{token}`, never the token), its status and time, and of a client the network it came
//! from, not its address. Paths of the public pages carry receipt and application tokens, and
//! query strings carry filters; neither is written, at any log level (docs/privacy.md, Logs).

use std::net::IpAddr;

use axum::extract::MatchedPath;
use axum::http::Request;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{MakeSpan, TraceLayer};
use tracing::Span;

/// Each request's span: the method and the matched route's template.
#[derive(Debug, Clone, Copy, Default)]
pub struct RouteSpan;

impl<B> MakeSpan<B> for RouteSpan {
    fn make_span(&mut self, req: &Request<B>) -> Span {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or("(no route)", MatchedPath::as_str);
        tracing::debug_span!("request", method = %req.method(), route)
    }
}

/// tower-http's request tracing with [`RouteSpan`] in place of its default span (which records
/// the whole URI).
pub fn trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RouteSpan> {
    TraceLayer::new_for_http().make_span_with(RouteSpan)
}

/// The network a client address belongs to, as logs give it: the /24 of an IPv4 address (and
/// of an IPv4 one mapped into IPv6), the /48 of an IPv6 one. Enough to see a flood come from one
/// place, not enough to name a household.
pub fn network_of(ip: IpAddr) -> String {
    let v4 = |v4: std::net::Ipv4Addr| {
        let [a, b, c, _] = v4.octets();
        format!("{a}.{b}.{c}.0/24")
    };
    match ip {
        IpAddr::V4(a) => v4(a),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(a) => v4(a),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_name_networks_not_addresses() {
        assert_eq!(
            network_of("203.0.113.77".parse().unwrap()),
            "203.0.113.0/24"
        );
        assert_eq!(
            network_of("::ffff:198.51.100.9".parse().unwrap()),
            "198.51.100.0/24"
        );
        assert_eq!(
            network_of("2001:db8:85a3:8d3:1319:8a2e:370:7348".parse().unwrap()),
            "2001:db8:85a3::/48"
        );
    }
}
