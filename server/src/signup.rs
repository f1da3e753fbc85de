//! `POST /api/signup`: the widget's registration form, checked in order and stored once.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::header::{ALLOW, CACHE_CONTROL, CONTENT_LANGUAGE, CONTENT_TYPE, ORIGIN};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::origin;
use crate::store::{Answer, Signup, Store};

/// Answers shown to the reader by the widget, one sentence each.
const FOREIGN_PAGE: &str = "Signups are accepted only from this site's own pages.";
const NOT_POST: &str = "Signups are sent with POST. Please reload the page and try again.";
pub(crate) const TIMED_OUT: &str =
    "The form took too long to arrive. Please check your connection and try again.";
const NOT_JSON: &str =
    "The form was sent in a format this site does not accept. Please reload the page and try again.";
const TOO_LARGE: &str =
    "The form sent more data than this site accepts. Please reload the page and try again.";
const UNREADABLE: &str = "The form could not be read. Please reload the page and try again.";
const NOT_ACCEPTED: &str =
    "Your signup could not be accepted. Please reload the page and try again.";
const TOO_FAST: &str = "The form was sent too quickly. Please wait a moment and try again.";
pub(crate) const RATE_LIMITED: &str =
    "Too many signups have come from your network. Please try again in a minute.";
pub(crate) const SERVER_FAULT: &str =
    "Something went wrong on our side. Please try again in a moment.";

/// Longest idempotency key kept; the widget sends 24 random base-36 characters.
const MAX_KEY_CHARS: usize = 128;

/// Longest article reference kept; the widget sends its article key (8 hex digits).
const MAX_ARTICLE_CHARS: usize = 200;

/// Longest locale kept: a language tag (RFC 5646 §4.4.1 advises 35 characters at most).
const MAX_LOCALE_CHARS: usize = 35;

/// What the signup route needs from the server's options.
#[derive(Debug)]
pub(crate) struct Signups {
    pub store: Arc<Store>,
    pub allowed_origins: Vec<String>,
    pub min_submit_ms: u64,
}

/// The JSON body the widget posts. Unknown fields are ignored so an older server accepts a newer widget.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Form {
    email: String,
    #[serde(default)]
    newsletter: bool,
    #[serde(default)]
    article: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    idempotency_key: String,
    /// The honeypot: the widget always sends it empty, so only a script posting its own guess at
    /// the fields fills it.
    #[serde(default)]
    website: String,
    /// Milliseconds between the prompt's render and submit, as measured by the widget.
    elapsed_ms: f64,
}

fn peer_of(request: &Request) -> Option<std::net::IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())
}

/// Logs a refusal with its reason (never the address).
fn log_refusal(peer: Option<std::net::IpAddr>, status: u16, reason: &str) {
    tracing::info!(
        peer = peer.map(tracing::field::display),
        status,
        reason,
        "signup refused"
    );
}

/// A refusal, logged, answered with `sentence`.
fn refused(
    peer: Option<std::net::IpAddr>,
    status: StatusCode,
    reason: &str,
    sentence: &str,
) -> Response {
    log_refusal(peer, status.as_u16(), reason);
    error(status, sentence)
}

/// What the request line and headers alone refuse (another method, a foreign page, a body that
/// is not JSON), answered before the rate limiter counts the request: what a third-party page
/// makes its visitors' browsers send (an image, a form posted without CORS) does not spend the
/// signup allowance of those visitors, or of everyone behind their address.
pub(crate) async fn screen(
    State(signups): State<Arc<Signups>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = peer_of(&request);
    if request.method() != Method::POST {
        let mut answer = refused(peer, StatusCode::METHOD_NOT_ALLOWED, "not POST", NOT_POST);
        answer
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return answer;
    }
    if let Err(refusal) = origin::check(request.headers(), &signups.allowed_origins) {
        if refusal != origin::Refusal::MissingOrigin {
            // The page is named (the log quotes and escapes it), with the fix for a publisher
            // whose pages are on another origin than this service.
            // At most 200 characters of it: refused before the rate limiter, a flood of long ones
            // should not fill the log.
            let page = request
                .headers()
                .get(ORIGIN)
                .and_then(|o| o.to_str().ok())
                .map(|o| o.get(..200).unwrap_or(o));
            tracing::info!(
                origin = page,
                "a page on an origin not allowed posted a signup: if it is the publisher's, \
                 start the service with --allow-origin <that origin> (or \
                 METERWALL_ALLOWED_ORIGINS)"
            );
        }
        return refused(peer, StatusCode::FORBIDDEN, refusal.as_str(), FOREIGN_PAGE);
    }
    if !is_json(request.headers()) {
        return refused(
            peer,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not application/json",
            NOT_JSON,
        );
    }
    next.run(request).await
}

/// Checks a signup in order (size, JSON, bot traps, address; the page and the format are
/// [`screen`]'s) and stores it.
///
/// Everything refused before the insert stores nothing. Every accepted address, new or already
/// registered, gets the same `200 {"ok":true}`.
pub(crate) async fn sign_up(State(signups): State<Arc<Signups>>, request: Request) -> Response {
    let peer = peer_of(&request);
    let refuse =
        |status: StatusCode, reason: &str, sentence: &str| refused(peer, status, reason, sentence);
    // `DefaultBodyLimit` (set from `Options::max_body_bytes`) caps what this reads.
    let body = match Bytes::from_request(request, &()).await {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, "body too large", TOO_LARGE);
        }
        Err(_) => return refuse(StatusCode::BAD_REQUEST, "body unreadable", UNREADABLE),
    };
    let form: Form = match serde_json::from_slice(&body) {
        Ok(form) => form,
        Err(problem) => {
            // Where, and which field is missing: never what a value was, which may be the address
            // (a wrong type's message quotes the value).
            let missing = problem.to_string();
            let missing = missing
                .strip_prefix("missing field ")
                .and_then(|m| m.split(" at line ").next())
                .map(str::to_owned);
            tracing::info!(
                line = problem.line(),
                column = problem.column(),
                missing,
                "the signup's body is not the widget's JSON form"
            );
            return refuse(StatusCode::BAD_REQUEST, "invalid JSON", UNREADABLE);
        }
    };
    // A bot's traps refuse this submission, not every reader: 422, as the widget takes a refused
    // submission (with 400); 403 is left to the origin, which refuses every reader and so is the
    // publisher's to hear of.
    if !form.website.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "honeypot filled",
            NOT_ACCEPTED,
        );
    }
    // Compared as `>=` so that a NaN from a broken clock counts as too fast.
    let slow_enough = form.elapsed_ms >= signups.min_submit_ms as f64;
    if !slow_enough {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "submitted too fast",
            TOO_FAST,
        );
    }
    let email = match meterwall::email::validate(&form.email) {
        Ok(email) => normalize(email),
        // The log names the cause (a dotless domain, say); the reader gets the rule's sentence.
        Err(problem) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                problem.cause(&form.email),
                &problem.to_string(),
            )
        }
    };
    let key = form.idempotency_key.trim();
    if key.chars().count() > MAX_KEY_CHARS {
        return refuse(
            StatusCode::BAD_REQUEST,
            "idempotency key too long",
            UNREADABLE,
        );
    }
    let key = (!key.is_empty()).then(|| key.to_owned());

    let signup = Signup {
        email,
        newsletter: form.newsletter,
        // What only describes the signup is not a reason to refuse a reader: a value that is
        // not what a widget sends is dropped (and logged), not stored.
        article: kept(form.article, "article", MAX_ARTICLE_CHARS, |c| {
            c.is_ascii_graphic()
        }),
        locale: kept(form.locale, "locale", MAX_LOCALE_CHARS, |c| {
            c.is_ascii_alphanumeric() || c == '-'
        }),
    };
    let store = Arc::clone(&signups.store);
    let article = signup.article.clone();
    let stored = tokio::task::spawn_blocking(move || store.sign_up(&signup, key.as_deref())).await;
    match stored {
        // A key sent again with another address or newsletter choice.
        Ok(Ok(answer)) if answer.status != 200 => {
            log_refusal(
                peer,
                answer.status,
                "idempotency key reused for another submission",
            );
            replay(answer)
        }
        // A retry of a stored submission: answered as the first time, and not counted again.
        Ok(Ok(answer)) if answer.replayed => {
            tracing::info!(
                peer = peer.map(tracing::field::display),
                article,
                "signup replayed"
            );
            replay(answer)
        }
        Ok(Ok(answer)) => {
            tracing::info!(
                peer = peer.map(tracing::field::display),
                article,
                newsletter = form.newsletter,
                "signup accepted"
            );
            replay(answer)
        }
        Ok(Err(fault)) => {
            tracing::error!(error = %fault, "signup could not be stored");
            error(StatusCode::INTERNAL_SERVER_ERROR, SERVER_FAULT)
        }
        Err(panic) => {
            tracing::error!(error = %panic, "signup storage task failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, SERVER_FAULT)
        }
    }
}

/// `value` if it has at most `max` characters, each `allowed`; else empty, and logged.
fn kept(value: String, field: &str, max: usize, allowed: fn(char) -> bool) -> String {
    if value.chars().count() <= max && value.chars().all(allowed) {
        return value;
    }
    tracing::info!(field, "signup field dropped: not what the widget sends");
    String::new()
}

/// `{"error": sentence}` with the given status; never cached, like every API answer. The
/// sentences are English, and say so (`Content-Language`): a prompt in another language shows
/// its own words instead.
pub(crate) fn error(status: StatusCode, sentence: &str) -> Response {
    (
        status,
        [
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (CONTENT_LANGUAGE, HeaderValue::from_static("en")),
        ],
        Json(serde_json::json!({ "error": sentence })),
    )
        .into_response()
}

/// A stored answer, sent back byte for byte; a refusal's sentence is English, as [`error`]'s.
fn replay(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (
        status,
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from(answer.body),
    )
        .into_response();
    if !status.is_success() {
        response
            .headers_mut()
            .insert(CONTENT_LANGUAGE, HeaderValue::from_static("en"));
    }
    response
}

/// `application/json`, with or without parameters such as `; charset=utf-8`.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

/// The stored form of a valid address: the domain lower-cased (domains are case-insensitive,
/// RFC 1035 §2.3.3), the local part as typed (it may be case-sensitive, RFC 5321 §2.4).
fn normalize(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => address.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_domain_is_lower_cased() {
        assert_eq!(normalize("Ann.Lee@Example.COM"), "Ann.Lee@example.com");
    }

    #[test]
    fn json_with_a_charset_is_json() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            "Application/JSON; charset=utf-8".parse().unwrap(),
        );
        assert!(is_json(&headers));
        headers.insert(CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!is_json(&headers));
    }
}
