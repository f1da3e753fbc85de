//! The reference signup service for meterwall: serves the publisher's pages and the built widget,
//! and stores the readers who register through the wall.
//!
//! It is what `cargo xtask demo` runs, and a small service a publisher can deploy as it is.
//!
//! # Routes
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /healthz` | `200 {"status":"ok"}` when the database answers, else `503 {"status":"unavailable"}` |
//! | `POST /api/signup` | `200 {"ok":true}`, or `{"error": "<a sentence for the reader>"}` with the status below |
//! | `POST /api/login` | with [`Options::demo_login`] only: `200 {"token": "<ES256 JWS>"}` for any address and password (see `login.rs`) |
//! | anything else | a file under [`Options::root`] (`.wasm` as `application/wasm`, `.js` as `text/javascript`) |
//!
//! # The signup request
//!
//! The widget posts `application/json`:
//!
//! ```json
//! {"email": "ann@example.com", "newsletter": true, "article": "3f2a9c01",
//!  "locale": "en-GB", "idempotencyKey": "6f1c…", "website": "", "elapsedMs": 5210}
//! ```
//!
//! It is checked in this order, and a refused request stores nothing:
//!
//! | check | refused with |
//! | --- | --- |
//! | not `POST` | 405 and `Allow: POST` |
//! | `Origin` is neither this site (equal to `Host`) nor on [`Options::allowed_origins`]; no `Origin` | 403 |
//! | `Sec-Fetch-Site: cross-site` from an origin not on the allow-list | 403 |
//! | `Content-Type` is not `application/json` | 415 |
//! | more than [`Options::rate_per_minute`] signups from one client (an IPv4 address, or an IPv6 /64 network; burst of the same size), or eight times that from one IPv6 /48; the checks above, of the request's headers alone, come first, so what they refuse (a third-party page's requests) spends no reader's allowance | 429 and `Retry-After: <seconds>` |
//! | body over [`Options::max_body_bytes`] | 413 |
//! | body is not the JSON above | 400 |
//! | the honeypot field `website` is not empty | 422 |
//! | `elapsedMs` below [`Options::min_submit_ms`] | 422 |
//! | the address fails `meterwall::email::validate` (the widget's own rule: the WHATWG one, and a domain with a dot ending in a top-level domain) | 400, with that rule's sentence; the log names the cause |
//! | the `idempotencyKey` was used with another address or newsletter choice | 422 |
//!
//! A body that takes longer than [`Options::request_timeout`] to arrive is answered 408, with a
//! sentence as every refusal has.
//!
//! An accepted address is stored once: trimmed, its domain lower-cased, unique without regard to
//! case. Signing up again gets the same `200 {"ok":true}`, so the answer never tells anyone whether
//! an address is registered. A repeated `idempotencyKey` (kept for a day) gets its first answer back
//! verbatim and writes nothing, if it comes with the same address and newsletter choice.
//!
//! Pages on an allow-listed origin get CORS answers (preflight included), so a widget served from
//! `https://www.news.example` can post to a signup service on another host and read its answer.
//!
//! # Storage
//!
//! One SQLite file ([`Options::db`]) in WAL mode, migrated at start-up from the SQL files in
//! `server/migrations/` (the applied count is `PRAGMA user_version`). Tables `signups` and
//! `idempotency`; export with `sqlite3 meterwall.sqlite 'SELECT email, newsletter FROM signups'`.
//!
//! # Deploying
//!
//! Rate limiting keys on the TCP peer address. Behind a reverse proxy every reader shares the
//! proxy's address, so limit there instead (or raise `--rate-per-minute`); so do the readers behind
//! one carrier-grade NAT address, whom the default of 10 a minute can refuse at a busy moment. If
//! the proxy rewrites `Host`, list the public origin with `--allow-origin https://news.example`.
//!
//! A stored `newsletter` of 1 is the box ticked in a form anyone can send with any address, not
//! the owner's consent: confirm the address (double opt-in) before mailing it.

mod login;
mod origin;
mod rate;
mod signup;
mod site;
mod store;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

pub use crate::login::DEMO_PUBLIC_JWK;
use crate::signup::Signups;
use crate::store::Store;

/// How the service is set up. [`Options::default`] gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The static site directory: the publisher's pages and `dist/` with the built widget. Default `www`.
    pub root: PathBuf,
    /// The SQLite file, created if missing. Default `meterwall.sqlite` in the working directory.
    pub db: PathBuf,
    /// Origins (`https://news.example`) whose pages may post signups, also cross-site.
    /// This site itself (an `Origin` equal to the request's `Host`) always may. Default empty.
    pub allowed_origins: Vec<String>,
    /// Fewest milliseconds between the prompt's render and submit; faster is a bot. Default 1000.
    pub min_submit_ms: u64,
    /// Signups per minute from one client (an IPv4 address, or an IPv6 /64 network), also the
    /// burst size. Default 10.
    pub rate_per_minute: u32,
    /// Largest signup body accepted, in bytes. Default 4096.
    pub max_body_bytes: usize,
    /// How long a signup (or demo login) may take once its headers are in, its body included;
    /// a slower one is answered 408 and its connection closed, so a client that trickles its
    /// body cannot hold the service's sockets. Default 10 s.
    pub request_timeout: Duration,
    /// How long a client has to send a request's headers, counted from when the connection can
    /// take one (so also how long a kept-alive connection may sit idle); then the connection is
    /// closed, so a client that trickles its headers cannot hold the service's sockets either.
    /// Default 10 s. Used by [`run`] and [`serve`].
    pub header_timeout: Duration,
    /// Serves the demo site's `POST /api/login`, which gives anyone a subscriber token signed
    /// with the demo's public key pair. Never for a real site. Default off.
    pub demo_login: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            root: PathBuf::from("www"),
            db: PathBuf::from("meterwall.sqlite"),
            allowed_origins: Vec::new(),
            min_submit_ms: 1000,
            rate_per_minute: 10,
            max_body_bytes: 4096,
            request_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            demo_login: false,
        }
    }
}

/// Why the service could not start or stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// [`Options::root`] is not a directory.
    Root { path: PathBuf },
    /// An [`Options::allowed_origins`] entry is not an origin such as `https://news.example`.
    Origin { entry: String },
    /// [`Options::rate_per_minute`] is zero.
    ZeroRate,
    /// [`Options::header_timeout`] is zero or more than an hour.
    HeaderTimeout,
    /// The SQLite file could not be opened or set up.
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// A migration in `server/migrations/` failed; the file stays at the previous version.
    Migration {
        name: &'static str,
        source: rusqlite::Error,
    },
    /// The SQLite file was migrated by a newer server than this one.
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// The service's socket could not be set up (bound, say, by an embedder).
    Serve(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root { path } => write!(
                f,
                "the static site directory {} does not exist; pass --root with the folder holding \
                 the pages (the repository's www/), and run `cargo xtask build` for www/dist/",
                path.display()
            ),
            Self::Origin { entry } => write!(
                f,
                "--allow-origin (METERWALL_ALLOWED_ORIGINS) {entry:?} is not an origin: give the scheme and host as the browser \
                 sends them, such as https://www.news.example (no path; a host that is not ASCII \
                 in punycode, such as https://xn--socit-esab.example)"
            ),
            Self::ZeroRate => f.write_str(
                "--rate-per-minute (METERWALL_RATE_PER_MINUTE) must be at least 1",
            ),
            Self::HeaderTimeout => f.write_str(
                "Options::header_timeout must be more than zero and at most an hour (10 s by \
                 default)",
            ),
            Self::Database { path, source } => write!(
                f,
                "cannot open the SQLite file {}: {source}; check that its folder exists and is writable, \
                 or pass --db with another path",
                path.display()
            ),
            Self::Migration { name, source } => write!(
                f,
                "database migration {name} failed: {source}; the file was left at the previous \
                 version: check the disk's free space and the file's permissions, then start again"
            ),
            Self::SchemaTooNew { path, found, known } => write!(
                f,
                "the SQLite file {} is at schema version {found} but this server knows only {known}; \
                 run the newer server, or pass --db with another file",
                path.display()
            ),
            Self::Serve(source) => write!(f, "the service's socket could not be set up: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Database { source, .. } | Self::Migration { source, .. } => Some(source),
            Self::Serve(source) => Some(source),
            Self::Root { .. }
            | Self::Origin { .. }
            | Self::ZeroRate
            | Self::HeaderTimeout
            | Self::SchemaTooNew { .. } => None,
        }
    }
}

/// The longest [`Options::header_timeout`]: an hour.
pub const MAX_HEADER_TIMEOUT: Duration = Duration::from_secs(3600);

/// Serves `opts` on `listener` until the returned future is dropped.
///
/// # Errors
///
/// Whatever [`app`] refuses at start-up. Once serving, it runs until dropped: a connection that
/// cannot be accepted is retried, one that fails is closed alone.
///
/// # Examples
///
/// ```no_run
/// # async fn demo() -> Result<(), meterwall_server::Error> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(meterwall_server::Error::Serve)?;
/// meterwall_server::run(listener, meterwall_server::Options::default()).await
/// # }
/// ```
pub async fn run(listener: tokio::net::TcpListener, opts: Options) -> Result<(), Error> {
    let header_timeout = opts.header_timeout;
    let app = app(opts)?;
    serve(listener, app, header_timeout, std::future::pending()).await;
    Ok(())
}

/// Serves `app` on `listener` until `stop` completes, then closes the idle connections and waits
/// for the requests in flight. Each connection has Nagle's algorithm off ([`no_delay`]) and
/// `header_timeout` to send each request's headers ([`Options::header_timeout`]); each request
/// carries the peer's address as `ConnectInfo<SocketAddr>`, which the rate limit keys on.
///
/// `axum::serve` sets no timer on hyper's connections, so it has no deadline for headers: a
/// client could hold a socket open for as long as it liked by sending a byte of its headers now
/// and then. A `header_timeout` of zero is taken as a millisecond, and one over an hour as an
/// hour ([`app`] refuses both in [`Options`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    use axum::serve::Listener as _;
    let mut listener = no_delay(listener);
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        // Accept errors (out of file descriptors, a connection reset before it was accepted) are
        // retried inside `accept`, after a pause where they call for one.
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: axum::http::Request<_>| {
            let mut request = request.map(axum::body::Body::new);
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            tower::ServiceExt::oneshot(app.clone(), request)
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(header_timeout.clamp(Duration::from_millis(1), MAX_HEADER_TIMEOUT))
            .serve_connection(hyper_util::rt::TokioIo::new(io), service);
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            // A client that went away or was cut off: nothing to answer, nothing to keep.
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection closed");
            }
        });
    }
    // Closed first, so that a client connecting meanwhile is refused at once (and may try
    // another instance) instead of waiting for a stop that will never accept it.
    drop(listener);
    connections.shutdown().await;
}

/// `listener`, with Nagle's algorithm off on every connection it accepts: [`serve`] uses it, and an
/// embedder serving [`app`] some other way should serve this, not the bare listener.
///
/// hyper writes a file's headers before its body. With Nagle's algorithm on, the body then waits
/// until the client acknowledges the headers, and a browser on a reused connection delays that
/// acknowledgement (by 40 ms on Linux): every stylesheet, script and wasm file of a page took
/// 40 ms longer, more than the whole page took to load otherwise.
pub fn no_delay(listener: tokio::net::TcpListener) -> NoDelay {
    fn set(tcp: &mut tokio::net::TcpStream) {
        // A connection where it cannot be set is only slower, never wrong.
        let _ = tcp.set_nodelay(true);
    }
    axum::serve::ListenerExt::tap_io(listener, set)
}

/// A listener that turns Nagle's algorithm off ([`no_delay`]).
pub type NoDelay = axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)>;

/// The service as a router, with its database opened and migrated.
///
/// Serve it with [`serve`], or as axum serves a router with
/// `into_make_service_with_connect_info::<SocketAddr>()`: the rate limit keys on the peer address,
/// and without it every signup is answered 500 (and the log says why).
///
/// # Errors
///
/// [`Error::Root`] if `opts.root` is not a directory, [`Error::Origin`], [`Error::ZeroRate`],
/// [`Error::HeaderTimeout`], or
/// the database's errors: [`Error::Database`], [`Error::Migration`], [`Error::SchemaTooNew`].
pub fn app(opts: Options) -> Result<Router, Error> {
    if opts.header_timeout.is_zero() || opts.header_timeout > MAX_HEADER_TIMEOUT {
        return Err(Error::HeaderTimeout);
    }
    if !opts.root.is_dir() {
        return Err(Error::Root { path: opts.root });
    }
    if opts.rate_per_minute == 0 {
        return Err(Error::ZeroRate);
    }
    let allowed_origins = opts
        .allowed_origins
        .iter()
        .map(|entry| {
            origin::normalize(entry).ok_or_else(|| Error::Origin {
                entry: entry.clone(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let store = Arc::new(Store::open(&opts.db)?);
    tracing::info!(
        root = %opts.root.display(),
        db = %opts.db.display(),
        allowed_origins = ?allowed_origins,
        min_submit_ms = opts.min_submit_ms,
        rate_per_minute = opts.rate_per_minute,
        max_body_bytes = opts.max_body_bytes,
        "meterwall-server ready"
    );

    let timeout = TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, opts.request_timeout);
    let state = Arc::new(Signups {
        store: Arc::clone(&store),
        allowed_origins,
        min_submit_ms: opts.min_submit_ms,
    });
    let signups = Router::new()
        .route("/api/signup", post(signup::sign_up))
        .route_layer(DefaultBodyLimit::max(opts.max_body_bytes))
        .route_layer(timeout)
        .route_layer(middleware::map_response(timed_out));
    // Layered over the route, so a flood is refused before the body is read or anything stored.
    let signups = rate::limit(signups, opts.rate_per_minute)?;
    // Over the limiter: what the headers alone refuse spends no reader's allowance.
    let mut signups = signups.route_layer(middleware::from_fn_with_state(
        Arc::clone(&state),
        signup::screen,
    ));
    if !state.allowed_origins.is_empty() {
        // Outermost: preflights are answered without spending the reader's rate allowance, and
        // refusals carry the CORS headers too, so the widget on that origin can show the sentence.
        signups = signups.route_layer(cors(&state.allowed_origins));
    }
    let signups = signups.with_state(state);
    let mut api = signups.merge(
        Router::new()
            .route("/healthz", get(healthz))
            .with_state(store),
    );
    if opts.demo_login {
        api = api.merge(
            Router::new()
                .route("/api/login", post(login::log_in))
                .route_layer(DefaultBodyLimit::max(opts.max_body_bytes))
                .route_layer(timeout)
                .route_layer(middleware::map_response(timed_out)),
        );
    }
    Ok(site::serve(&opts.root, api))
}

/// tower-http's timeout answers 408 with nothing in it: given the JSON sentence, language and
/// no-store of every other API answer.
async fn timed_out(answer: Response) -> Response {
    if answer.status() == StatusCode::REQUEST_TIMEOUT
        && !answer.headers().contains_key(CONTENT_TYPE)
    {
        return signup::error(StatusCode::REQUEST_TIMEOUT, signup::TIMED_OUT);
    }
    answer
}

/// Lets pages on the allow-listed origins post JSON signups and read the answers.
/// <https://fetch.spec.whatwg.org/#http-cors-protocol>
fn cors(allowed_origins: &[String]) -> CorsLayer {
    let origins = allowed_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok());
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST])
        .allow_headers([CONTENT_TYPE])
        // Not a CORS-safelisted response header: without this, a widget on another origin
        // reads no `Retry-After` and retries on its own schedule into the rate limit.
        .expose_headers([RETRY_AFTER])
        .max_age(Duration::from_secs(24 * 60 * 60))
}

/// `GET /healthz`: 200 when the database answers a query, 503 when it does not.
async fn healthz(State(store): State<Arc<Store>>) -> Response {
    let ping = tokio::task::spawn_blocking(move || store.ping()).await;
    let (status, word) = match ping {
        Ok(Ok(())) => (StatusCode::OK, "ok"),
        Ok(Err(fault)) => {
            tracing::error!(error = %fault, "health check: database did not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
        Err(panic) => {
            tracing::error!(error = %panic, "health check task failed");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    };
    (
        status,
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(serde_json::json!({ "status": word })),
    )
        .into_response()
}
