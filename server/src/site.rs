//! The static site around the API: the publisher's pages and the built widget, and request logs.

use std::path::Path;

use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

/// `api`, with every other path served from `root` and every request logged.
pub(crate) fn serve(root: &Path, api: Router) -> Router {
    api.fallback_service(ServeDir::new(root))
        .layer(middleware::from_fn(script_types))
        // Browsers must not guess a type the server did not send (a stored file read as script).
        // https://developer.mozilla.org/docs/Web/HTTP/Headers/X-Content-Type-Options
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// The types the widget cannot load without, set whatever the platform's MIME table says.
///
/// `WebAssembly.instantiateStreaming` rejects any other type than `application/wasm`
/// (<https://webassembly.github.io/spec/web-api/#streaming-modules>), and module scripts refuse a
/// non-JavaScript type under `nosniff` (<https://html.spec.whatwg.org/#fetch-a-single-module-script>).
async fn script_types(request: Request, next: Next) -> Response {
    let kind = media_type(request.uri().path());
    let mut response = next.run(request).await;
    if let Some(kind) = kind {
        if response.status().is_success() {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(kind));
        }
    }
    response
}

fn media_type(path: &str) -> Option<&'static str> {
    let extension = path.rsplit_once('.')?.1;
    if extension.eq_ignore_ascii_case("wasm") {
        Some("application/wasm")
    } else if extension.eq_ignore_ascii_case("js") || extension.eq_ignore_ascii_case("mjs") {
        // RFC 9239 §6: text/javascript is the one JavaScript type.
        Some("text/javascript; charset=utf-8")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_scripts_and_wasm_are_retyped() {
        assert_eq!(
            media_type("/dist/meterwall_bg.wasm"),
            Some("application/wasm")
        );
        assert_eq!(
            media_type("/dist/meterwall.js"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(media_type("/articles/tides.html"), None);
        assert_eq!(media_type("/"), None);
    }
}
