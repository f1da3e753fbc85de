//! meterwall: a metered registration wall and paywall for news publishers.
//!
//! A publisher pastes one script tag on article pages:
//!
//! ```html
//! <script async src="/dist/meterwall.js" data-limit="3" data-selector=".article-body"></script>
//! ```
//!
//! The widget counts the distinct articles a reader opens in `localStorage`. Past the free
//! allowance it removes the rest of the article from the page and offers registration; registered
//! readers get more articles, then meet the subscribe wall; subscribers are never walled.
//!
//! The crate is a functional core and an imperative shell:
//! - the core ([`config`], [`period`], [`article`], [`meter`], [`record`], [`copy`], [`email`],
//!   [`retry`])
//!   is plain Rust: it takes values (the config, the stored record, the time) and returns values
//!   (a [`meter::Decision`] with its reasons), and is tested on the host;
//! - `web` is the only module that touches the browser: it reads the page, calls the core, and
//!   writes the page.
//!
//! The README is the user guide: the embed snippet, every config key with its default, the
//! meter's rules, the events, the failure policy and the size and speed figures.

pub mod article;
pub mod config;
pub mod copy;
pub mod email;
pub mod meter;
pub mod period;
pub mod record;
pub mod retry;
pub mod token;

#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;

/// Meters this page view and gates the article if the allowance is spent. `config` is an object
/// of config keys, or a list of such objects applied in order (later ones win). Returns the
/// decision: `{ wall, reason, tier, counted, used, limit, remaining }`.
///
/// # Errors
///
/// A message naming the cause and the fix when the config is invalid or the page has no article
/// element; the article then stays readable unless `onError` is `"closed"`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn mount(config: JsValue) -> Result<JsValue, JsValue> {
    web::mount(config)
}

/// The last decision and its reasons, or `null` before `mount`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn why() -> JsValue {
    web::why()
}

/// Forgets this reader's meter (the one storage key meterwall owns). For editors and tests.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn reset() {
    web::reset()
}
