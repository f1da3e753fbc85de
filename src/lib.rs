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
//!   writes the page;
//! - [`heap`] is the wasm module's memory allocator, smaller than the standard library's.
//!
//! The README is the user guide: the embed snippet, every config key with its default, the
//! meter's rules, the events, the failure policy and the size and speed figures.

/// A list of names or texts as one string, each followed by the unit separator (U+001F), read
/// with [`list_items`]. One string rather than an array of `&str`, whose pointers and lengths
/// take room in the wasm and compress poorly (0.2 KB gzip for the copy of four languages).
macro_rules! texts {
    ($($text:literal),* $(,)?) => { concat!($($text, "\u{1f}"),*) };
}

/// The items of a `texts!` list, in order. Each item ends in the separator, as `texts!` writes
/// them: text after the last separator is no item (`split_terminator` would give it as one).
pub(crate) fn list_items(list: &'static str) -> impl Iterator<Item = &'static str> {
    let mut rest = list;
    core::iter::from_fn(move || {
        let (item, after) = cut(rest, 0x1f)?;
        rest = after;
        Some(item)
    })
}

/// `text` cut at the first `sep`, an ASCII byte: what comes before it and what comes after. The
/// byte is found by its value, as an ASCII byte is always a character's boundary; `split_once`
/// with a `char` links core's searcher and `memchr` for it.
pub(crate) fn cut(text: &str, sep: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == sep)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// `text` without the white space at either end, as `str::trim` gives it (Unicode's White_Space),
/// found in one pass forward: `str::trim` also decodes the text backward, a decoder of its own.
pub(crate) fn trim(text: &str) -> &str {
    let (mut start, mut end) = (text.len(), 0);
    for (i, c) in text.char_indices() {
        if !c.is_whitespace() {
            start = start.min(i);
            end = i + c.len_utf8();
        }
    }
    text.get(start.min(end)..end).unwrap_or_default()
}

/// Whether `text` is only white space (or nothing), as `str::trim` sees it. (The page's shell
/// uses it, and builds for wasm only; it is here to be tested on the host.)
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

/// Whether `bytes` holds `b`: by comparison, as `<[u8]>::contains` links `memchr` (350 bytes of
/// wasm before compression) for the few short lists the widget searches.
#[allow(clippy::manual_contains)]
pub(crate) fn holds(bytes: &[u8], b: u8) -> bool {
    bytes.iter().any(|&c| c == b)
}

/// The pieces of `text` between each `sep`, an ASCII byte, as `str::split` gives them (an empty
/// text is one empty piece); see [`cut`].
pub(crate) fn pieces(text: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    core::iter::from_fn(move || {
        let r = rest?;
        let (piece, after) = cut(r, sep).map_or((r, None), |(p, a)| (p, Some(a)));
        rest = after;
        Some(piece)
    })
}

/// The `n`th item of a `texts!` list (an enum's text, read by the variant's number), or "" past
/// its end.
pub(crate) fn list_item(list: &'static str, n: usize) -> &'static str {
    list_items(list).nth(n).unwrap_or_default()
}

/// How many items a `texts!` list holds; a `const fn`, so lists can be checked as the crate builds.
pub(crate) const fn list_len(list: &str) -> usize {
    let bytes = list.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == 0x1f {
            n += 1;
        }
        i += 1;
    }
    n
}

/// Every text made of up to `up_to` of `pieces` one after another, the empty one first: the inputs
/// on which the tests compare a rewritten function with its old form.
#[cfg(test)]
pub(crate) fn every_text(pieces: &[&str], up_to: usize) -> Vec<String> {
    let mut texts = vec![String::new()];
    let mut from = 0;
    for _ in 0..up_to {
        let to = texts.len();
        for i in from..to {
            for p in pieces {
                texts.push([texts[i].as_str(), p].concat());
            }
        }
        from = to;
    }
    texts
}

/// `text` with `edits` made in turn, each `(kind, at, c)`: `c`'s first character put in (kind 0),
/// put in place of the character (1) or that character taken out (2) at `at` in the text as it
/// then is. What the property tests make near-valid inputs with (an address, a stored record, a
/// token), so that they fall on both sides of a rule that random text almost never reaches.
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) fn edited(text: &str, edits: Vec<(u8, proptest::sample::Index, String)>) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (kind, at, c) in edits {
        let c = c.chars().next().unwrap_or('0');
        let i = at.index(chars.len() + 1);
        match kind {
            0 => chars.insert(i, c),
            1 if i < chars.len() => chars[i] = c,
            _ if i < chars.len() => {
                chars.remove(i);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

pub mod article;
pub mod config;
pub mod copy;
pub mod email;
pub mod heap;
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

/// What the loader calls: `page` layers (the JSON block, the script's `data-*`), then the
/// article element's attributes, then `calls` layers (queued `config` commands), later winning.
///
/// # Errors
///
/// As `mount`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(js_name = mountWith)]
pub fn mount_with(page: JsValue, calls: JsValue) -> Result<JsValue, JsValue> {
    web::mount_with(page, calls)
}

/// The reader's meter: `{ version, period, articles, registeredAt, latestSeen }`, or `null`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn state() -> JsValue {
    web::state()
}

/// The publisher says whether this reader subscribes, for this page view: `true` or `false`.
/// Anything else (a session's field misnamed, `"true"`) is reported and changes nothing, rather
/// than being read as `false`, which would wall a subscriber.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(js_name = setSubscriber)]
pub fn set_subscriber(#[wasm_bindgen(unchecked_param_type = "boolean")] on: JsValue) -> JsValue {
    web::set_subscriber(on)
}

/// Verifies a subscriber entitlement token against the configured `publicKey` and keeps it, so
/// every later page recognises the subscriber offline; `null` forgets it. Anything else (an
/// `undefined` from a misnamed field, say) is refused rather than taken for a logout.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(js_name = setToken)]
pub fn set_token(
    #[wasm_bindgen(unchecked_param_type = "string | null")] token: JsValue,
) -> js_sys::Promise {
    web::set_token(token)
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

/// Checks a subscriber's entitlement token (a compact ES256 JWS) against the publisher's public
/// key, a P-256 JWK object, at the current time: what `mount` and `setToken` do before they
/// trust a token. Public for the browser tests only, and not exported to JavaScript, so that
/// no reader downloads a binding that no page calls.
///
/// The promise resolves when the token holds, and rejects with the cause's message otherwise
/// (a [`token::TokenError`], which names the fix).
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub fn verify_token(token: &str, jwk: &JsValue) -> js_sys::Promise {
    let mut token = Some(token.to_owned());
    // The executor runs once, at once: it takes the token.
    js_sys::Promise::new(&mut |resolve, reject| {
        web::token::verify_now(
            token.take().unwrap_or_default(),
            jwk,
            Box::new(move |_, verdict| {
                let _ = match verdict {
                    Ok(_) => resolve.call0(&JsValue::NULL),
                    Err(e) => reject.call1(&JsValue::NULL, &e.message().into()),
                };
            }),
        );
    })
}

#[cfg(test)]
mod tests {
    use super::{blank, cut, every_text, holds, list_items, pieces, trim};

    #[test]
    fn holds_matches_the_standard_contains() {
        for list in every_text(&["a", ".", "\u{1f}", "\u{e9}"], 4) {
            for b in [b'a', b'.', 0x1f, 0xc3, 0xa9, b'z'] {
                assert_eq!(holds(list.as_bytes(), b), list.as_bytes().contains(&b));
            }
        }
    }

    #[test]
    fn trim_and_blank_match_the_standard_trim() {
        // ASCII and Unicode white space (a no-break space, an ideographic space, a line
        // separator) around, between and without other characters, one- to three-byte ones.
        for text in every_text(
            &["a", " ", "\u{a0}", "\u{3000}", "\u{2028}", "é", "\t\n"],
            4,
        ) {
            assert_eq!(trim(&text), text.trim(), "{text:?}");
            assert_eq!(blank(&text), text.trim().is_empty(), "{text:?}");
        }
    }

    #[test]
    fn cut_and_pieces_match_the_standard_split() {
        // Multi-byte characters beside the separator, which a cut inside one would break.
        for text in every_text(&["a", ",", "é", "€,", ",,"], 4) {
            assert_eq!(cut(&text, b','), text.split_once(','), "{text:?}");
            let ours: Vec<&str> = pieces(&text, b',').collect();
            let std: Vec<&str> = text.split(',').collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    #[test]
    fn list_items_match_the_standard_split_terminator() {
        for text in every_text(&["a", "\u{1f}", "é"], 5) {
            // A `texts!` list ends in the separator, as every one of its items does.
            let list: &'static str = String::leak(text + "\u{1f}");
            let ours: Vec<&str> = list_items(list).collect();
            let std: Vec<&str> = list.split_terminator('\u{1f}').collect();
            assert_eq!(ours, std, "{list:?}");
        }
    }
}
