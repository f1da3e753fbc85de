//! Per-IP rate limiting of signups: a token bucket per peer address (governor, via tower_governor).

use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::{GovernorError, GovernorLayer};

use crate::{signup, Error};

/// Limits the routes of `router` to `per_minute` requests a minute from each IP address, refilled
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
