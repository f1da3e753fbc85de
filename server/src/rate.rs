//! Per-client rate limiting of signups: a token bucket per peer address, an IPv6 address counted
//! with its /64 network (governor, via tower_governor).

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

/// The client a request is counted against: its peer address, or for IPv6 the /64 network the
/// address is in. A home line or a server is given a whole /64 (RFC 6177), so counting single
/// IPv6 addresses would give one client billions of allowances.
#[derive(Clone, Copy, Debug)]
struct Client;

impl KeyExtractor for Client {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|peer| client(peer.ip()))
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

/// `ip`'s key: an IPv4 address as it is (also when it comes mapped into IPv6), an IPv6 address
/// with its last 64 bits cleared.
fn client(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::from(segments)
            }
        },
        v4 => v4,
    }
}

/// Limits the routes of `router` to `per_minute` requests a minute from each client, refilled
/// evenly (one every `60 / per_minute` seconds), with a burst of `per_minute`.
///
/// # Errors
///
/// [`Error::ZeroRate`] if `per_minute` is zero.
pub(crate) fn limit<S>(router: Router<S>, per_minute: u32) -> Result<Router<S>, Error>
where
    S: Clone + Send + Sync + 'static,
{
    let per_minute = NonZeroU32::new(per_minute).ok_or(Error::ZeroRate)?;
    let refill = Duration::from_nanos(60_000_000_000 / u64::from(per_minute.get()));
    let config = GovernorConfigBuilder::default()
        .key_extractor(Client)
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
        let key = |text: &str| client(text.parse().unwrap()).to_string();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::");
        assert_ne!(key("2001:db8:1:3::1"), "2001:db8:1:2::", "another /64");
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
    }
}
