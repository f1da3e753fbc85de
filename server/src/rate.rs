//! Per-client rate limiting of signups: token buckets per peer address (governor, via
//! tower_governor), an IPv6 address counted with its /64 network and, more loosely, its /48.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

use crate::{signup, Error};

/// How many times one client's allowance a whole IPv6 /48 has: a site (a home, an office, a
/// tunnel broker's user) is given a /48 to /64 (RFC 6177), so a script that moves through the
/// /64s of one /48 would otherwise have 65,536 allowances; eight clients' worth leaves room for a
/// site's several readers.
const SITE_ALLOWANCES: u32 = 8;

/// The client a request is counted against: its peer address, or for IPv6 the network of the
/// first `v6_bits` bits the address is in (64: one home line or server, which is given a whole
/// /64, so counting single IPv6 addresses would give one client billions of allowances; 48: the
/// largest site).
#[derive(Clone, Copy, Debug)]
struct Client {
    v6_bits: u8,
}

impl KeyExtractor for Client {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|peer| client(peer.ip(), self.v6_bits))
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

/// `ip`'s key: an IPv4 address as it is (also when it comes mapped into IPv6), an IPv6 address
/// with all but its first `v6_bits` bits (a multiple of 16) cleared.
fn client(ip: IpAddr, v6_bits: u8) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[usize::from(v6_bits / 16)..].fill(0);
                IpAddr::from(segments)
            }
        },
        v4 => v4,
    }
}

/// Limits the routes of `router` to `per_minute` requests a minute from each client, refilled
/// evenly (one every `60 / per_minute` seconds), with a burst of `per_minute`; and, for IPv6, to
/// [`SITE_ALLOWANCES`] times that from each /48, however many /64s the requests come from.
///
/// # Errors
///
/// [`Error::ZeroRate`] if `per_minute` is zero.
pub(crate) fn limit<S>(router: Router<S>, per_minute: u32) -> Result<Router<S>, Error>
where
    S: Clone + Send + Sync + 'static,
{
    let per_minute = NonZeroU32::new(per_minute).ok_or(Error::ZeroRate)?;
    let site = per_minute.saturating_mul(NonZeroU32::new(SITE_ALLOWANCES).ok_or(Error::ZeroRate)?);
    // The client's own over its site's (the layer added last runs first): a request the client's
    // refuses spends nothing of its site's.
    let router = limited(router, site, 48)?;
    limited(router, per_minute, 64)
}

/// `router` under one limiter: `per_minute` a minute, refilled evenly, from each client as IPv6
/// networks of `v6_bits` count them.
fn limited<S>(router: Router<S>, per_minute: NonZeroU32, v6_bits: u8) -> Result<Router<S>, Error>
where
    S: Clone + Send + Sync + 'static,
{
    let refill = Duration::from_nanos(60_000_000_000 / u64::from(per_minute.get()));
    let config = GovernorConfigBuilder::default()
        .key_extractor(Client { v6_bits })
        .period(refill)
        .burst_size(per_minute.get())
        .finish()
        .ok_or(Error::ZeroRate)?;
    let limiter = std::sync::Arc::downgrade(config.limiter());
    forget_idle_addresses(move || match limiter.upgrade() {
        Some(limiter) => {
            limiter.retain_recent();
            limiter.shrink_to_fit();
            true
        }
        None => false,
    });
    Ok(router.route_layer(GovernorLayer::new(config).error_handler(refuse)))
}

/// The answer to a refused request: JSON like every other API answer.
fn refuse(refusal: GovernorError) -> Response {
    match refusal {
        GovernorError::TooManyRequests { wait_time, .. } => {
            // governor rounds the wait down to whole seconds; one more and the retry gets through.
            let retry_after = wait_time + 1;
            tracing::info!(retry_after, "signup refused: rate limited");
            let mut response = signup::error(StatusCode::TOO_MANY_REQUESTS, signup::RATE_LIMITED);
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        GovernorError::UnableToExtractKey => {
            tracing::error!(
                "no peer address on the request: serve the router with \
                 into_make_service_with_connect_info::<SocketAddr>()"
            );
            signup::error(StatusCode::INTERNAL_SERVER_ERROR, signup::SERVER_FAULT)
        }
        GovernorError::Other { code, .. } => signup::error(code, signup::SERVER_FAULT),
    }
}

/// The limiter keeps a bucket for every address it has seen. Once a minute, drop the buckets that
/// are full again, so memory follows the last minute's readers rather than every address since
/// start-up. `sweep` answers false once the limiter is gone (the router was dropped); the thread ends.
fn forget_idle_addresses(mut sweep: impl FnMut() -> bool + Send + 'static) {
    let spawned = std::thread::Builder::new()
        .name("meterwall-rate-limit".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(60));
            if !sweep() {
                return;
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(
            %error,
            "cannot start the rate limiter's clean-up thread; its memory will grow with distinct addresses"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_64_network_and_an_ipv4_one_its_address() {
        let key = |text: &str| client(text.parse().unwrap(), 64).to_string();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::");
        assert_ne!(key("2001:db8:1:3::1"), "2001:db8:1:2::", "another /64");
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
    }

    #[test]
    fn an_ipv6_site_is_its_48_network() {
        let key = |text: &str| client(text.parse().unwrap(), 48).to_string();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1::");
        assert_eq!(key("2001:db8:1:ffff::1"), "2001:db8:1::");
        assert_ne!(key("2001:db8:2::1"), "2001:db8:1::", "another /48");
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
    }

    /// A script moving through the /64s of one /48 gets the site's allowance, not one a /64: with
    /// one signup a minute a client, eight go through from eight /64s, the ninth /64 is refused,
    /// and another /48 is not. A request the /64 refuses spends nothing of its /48's.
    #[tokio::test]
    async fn the_64s_of_one_48_share_its_allowance() {
        use axum::body::Body;
        use tower::ServiceExt;
        let router = limit(
            Router::new().route("/", axum::routing::post(|| async { "ok" })),
            1,
        )
        .unwrap();
        let status = |address: &str| {
            let router = router.clone();
            let peer: SocketAddr = format!("[{address}]:4000").parse().unwrap();
            async move {
                let mut request = Request::post("/").body(Body::empty()).unwrap();
                request.extensions_mut().insert(ConnectInfo(peer));
                router.oneshot(request).await.unwrap().status()
            }
        };
        // One /64 twice: its own allowance refuses the second, which the /48 does not count.
        assert_eq!(status("2001:db8:1:0::1").await, StatusCode::OK);
        assert_eq!(
            status("2001:db8:1:0::2").await,
            StatusCode::TOO_MANY_REQUESTS
        );
        for n in 1..SITE_ALLOWANCES {
            assert_eq!(
                status(&format!("2001:db8:1:{n:x}::1")).await,
                StatusCode::OK,
                "/64 number {n}"
            );
        }
        assert_eq!(
            status("2001:db8:1:ff::1").await,
            StatusCode::TOO_MANY_REQUESTS,
            "the /48's allowance is spent"
        );
        assert_eq!(status("2001:db8:2::1").await, StatusCode::OK, "another /48");
    }
}
