//! A token bucket per client address, for the endpoints anyone can call without a token
//! (enrolment): a burst of attempts, then one more every so often. Every attempt takes a
//! token, failed ones too, so guessing codes is as slow as the limit says.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::{AppState, Metrics};

/// How many requests one client address may make: `burst` at once, then one more every
/// `every`. An `every` of zero means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub burst: u32,
    pub every: Duration,
}

impl RateLimit {
    /// Enrolment: 10 attempts, then one every 10 seconds (a supervisor enrolling a room full
    /// of phones behind one NAT waits a little; a code guesser gets 8,640 tries a day).
    pub const ENROL_DEFAULT: RateLimit = RateLimit {
        burst: 10,
        every: Duration::from_secs(10),
    };

    /// Signboard-page posts from one client address: 10, then one a minute. Mobile carriers
    /// put many phones behind one address, so this is generous; the per-signboard limit and
    /// the form token do the rest.
    pub const PUBLIC_DEFAULT: RateLimit = RateLimit {
        burst: 10,
        every: Duration::from_secs(60),
    };

    /// Posts through one signboard, from any address: 30, then one every two minutes (a
    /// busy street corner sees a handful of reports a day).
    pub const SIGNBOARD_DEFAULT: RateLimit = RateLimit {
        burst: 30,
        every: Duration::from_secs(120),
    };

    /// Public pages and photos from one client address: 120, then two a second (a whole office
    /// behind one address browsing receipts is fine; a loop fetching pages is not).
    pub const PAGES_DEFAULT: RateLimit = RateLimit {
        burst: 120,
        every: Duration::from_millis(500),
    };

    /// No limit at all.
    pub const NONE: RateLimit = RateLimit {
        burst: u32::MAX,
        every: Duration::ZERO,
    };

    fn unlimited(&self) -> bool {
        self.every.is_zero()
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::ENROL_DEFAULT
    }
}

/// Buckets kept before the full (idle) ones are dropped.
const MAX_BUCKETS: usize = 4096;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of one endpoint, keyed by client address (IPv6 by its /64, what one
/// subscriber usually has) or by anything else (a signboard).
pub struct RateLimiter<K = IpAddr> {
    limit: RateLimit,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K> std::fmt::Debug for RateLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").finish_non_exhaustive()
    }
}

impl RateLimiter<IpAddr> {
    /// Takes a token for `ip` at `now`; when there is none, how long until there is.
    pub fn take(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        self.take_key(bucket_key(ip), now)
    }
}

impl<K: std::hash::Hash + Eq> RateLimiter<K> {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key` at `now`; when there is none, how long until there is.
    pub fn take_key(&self, key: K, now: Instant) -> Result<(), Duration> {
        if self.limit.unlimited() {
            return Ok(());
        }
        let burst = f64::from(self.limit.burst.max(1));
        let every = self.limit.every.as_secs_f64();
        let refilled = |b: &Bucket| {
            (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() / every).min(burst)
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            // A full bucket is the same as none.
            buckets.retain(|_, b| refilled(b) < burst);
            if buckets.len() >= MAX_BUCKETS / 2 {
                // Still crowded (many keys in use at once, as from rotating addresses): the
                // least recently used half goes, so the map stays bounded and a sweep happens
                // only every so many new keys.
                let mut ats: Vec<Instant> = buckets.values().map(|b| b.at).collect();
                ats.sort_unstable();
                let cut = ats[ats.len() / 2];
                buckets.retain(|_, b| b.at > cut);
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        bucket.tokens = refilled(bucket);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) * every))
        }
    }
}

/// The address a request came from (`0.0.0.0` for a router served without connect info: every
/// client then shares one bucket, still limited, never open).
pub fn client_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Middleware for `/v1/enrol`: one token per attempt, before anything is read; 429 with
/// `Retry-After` when the client address has none left.
pub async fn limit_enrol(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = client_ip(&req);
    match state.enrol_limiter.take(ip, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            Metrics::add(&state.metrics.enrolments_limited, 1);
            let retry_after_s = wait.as_secs_f64().ceil().max(1.0) as u64;
            tracing::warn!(
                network = %crate::http::logging::network_of(ip),
                retry_after_s,
                "enrolment attempts over the limit"
            );
            ApiError::TooManyRequests {
                message: format!(
                    "too many enrolment attempts from this address; try again in {retry_after_s} s"
                ),
                retry_after_s,
            }
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval_per_address() {
        let l = RateLimiter::<IpAddr>::new(RateLimit {
            burst: 3,
            every: Duration::from_secs(10),
        });
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(l.take(a, t0).is_ok());
        }
        let wait = l.take(a, t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(10));
        assert!(l.take(b, t0).is_ok(), "another address has its own bucket");
        assert!(l.take(a, t0 + Duration::from_secs(5)).is_err());
        assert!(l.take(a, t0 + Duration::from_secs(10)).is_ok());
        assert!(l.take(a, t0 + Duration::from_secs(11)).is_err());
        // A /64 is one client.
        let v6a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
        for _ in 0..3 {
            assert!(l.take(v6a, t0).is_ok());
        }
        assert!(l.take(v6b, t0).is_err());
        assert!(
            RateLimiter::<IpAddr>::new(RateLimit::NONE)
                .take(a, t0)
                .is_ok()
        );
    }

    #[test]
    fn busy_buckets_are_bounded_too() {
        let l = RateLimiter::<IpAddr>::new(RateLimit {
            burst: 2,
            every: Duration::from_secs(3600),
        });
        let t0 = Instant::now();
        for i in 0..(3 * MAX_BUCKETS as u32) {
            let _ = l.take(
                IpAddr::V4(i.into()),
                t0 + Duration::from_millis(u64::from(i)),
            );
        }
        assert!(l.buckets.lock().unwrap().len() <= MAX_BUCKETS);
    }

    #[test]
    fn idle_buckets_are_dropped_when_there_are_many() {
        let l = RateLimiter::<IpAddr>::new(RateLimit {
            burst: 1,
            every: Duration::from_secs(1),
        });
        let t0 = Instant::now();
        for i in 0..MAX_BUCKETS as u32 {
            let _ = l.take(IpAddr::V4(i.into()), t0);
        }
        let later = t0 + Duration::from_secs(2);
        assert!(l.take("198.51.100.7".parse().unwrap(), later).is_ok());
        assert!(l.buckets.lock().unwrap().len() < 10);
    }
}
