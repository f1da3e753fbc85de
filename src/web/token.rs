//! Checks a subscriber's entitlement token in the browser: the JSON and the ES256 signature, via
//! WebCrypto; the rules that need neither are `crate::token`'s.

use super::promise::settled;
use crate::token::{self, TokenError};
use js_sys::{Array, Object, Promise, Uint8Array, JSON};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CryptoKey, SubtleCrypto};

/// Verifies `token` against the publisher's public keys at the current time, and gives `done` the
/// token back with the outcome, always in a later microtask: the caller keeps the token if it
/// holds, and learns when it stops holding (ms since the epoch).
///
/// `keys` is a JWK, a list of JWKs or a JWK Set (`{"keys": [...]}`, RFC 7517 §5), at most
/// [`token::MAX_KEYS`]: while the publisher moves to a new key, pages carry both, and a token
/// signed with either holds. They are tried in turn, the next only when the signature does not
/// match the one before (or the key cannot be used: a typo in the new key does not stop the old
/// one). None matching is `BadKey` if none of them could be used, else `BadSignature`, or the
/// fault of the unverified claims when they show the token could not hold with any key (see
/// [`unverified`]): with one key that works, the token is what failed, as with that key alone.
///
/// The order matters: the algorithm is checked before any cryptography, and the claims are
/// trusted only once the signature has vouched for them: a forged token never holds, whatever it
/// claims.
///
/// Every failure is a [`TokenError`]: the token's shape, algorithm, signature or times, a key
/// that is not a P-256 public JWK (`BadKey`), or no WebCrypto on this page
/// (`CryptoUnavailable`).
pub fn verify_now(token: String, keys: &JsValue, done: Done) {
    let now_ms = js_sys::Date::now() as i64;
    // Everything read from the token is copied out here, so the callbacks can take the token.
    match start(&token, keys) {
        Ok(started) => try_key(Box::new(Check {
            started,
            next: 0,
            verifying: false,
            now_ms,
            token,
            done,
        })),
        Err(e) => later(token, done, e),
    }
}

/// Hands the caller its token back with `fault` in a later microtask (once an already resolved
/// promise settles): one callback type for a token refused before any key is tried and one that
/// no key verifies, handed to `settled` itself rather than wrapped in a second one.
fn later(token: String, done: Done, fault: TokenError) {
    settled(
        &Promise::resolve(&JsValue::UNDEFINED),
        Box::new(move |_| done(token, Err(fault))),
    );
}

type Done = Box<dyn FnOnce(String, Result<i64, TokenError>)>;

/// A check under way, boxed: each callback on its way takes one pointer, not the keys, the
/// signature, the claims, the time and the caller's callback one by one. A refusal once no key is
/// left takes only the token and the caller's callback ([`later`]).
struct Check {
    started: Started,
    /// The key to try next.
    next: u32,
    /// Whether the promise awaited is the signature's check (else the key's import).
    verifying: bool,
    now_ms: i64,
    token: String,
    done: Done,
}

/// Hands the caller its token back with the verdict. The check stays boxed until its two parts
/// are taken out: moved out whole first, it was copied (33 bytes of wasm, gzip).
#[allow(clippy::boxed_local)]
fn finish(c: Box<Check>, verdict: Result<i64, TokenError>) {
    let Check { token, done, .. } = *c;
    done(token, verdict);
}

/// Checks the signature with the next key, and with the one after if it does not match. Each
/// key is imported only when its turn comes, so no import is left unawaited (a rejected one would
/// be reported by the browser as unhandled).
fn try_key(mut c: Box<Check>) {
    let i = c.next;
    let s = &mut c.started;
    if i >= s.keys.length() {
        let fault = if s.usable {
            unverified(&s.payload, c.now_ms)
        } else {
            TokenError::BadKey
        };
        // In a later microtask, as promised, also when no key could even be imported: a caller
        // that holds the mounted state (another tab's change) could not take it again now.
        let Check { token, done, .. } = *c;
        return later(token, done, fault);
    }
    c.next = i + 1;
    match import(s, &s.keys.get(i)) {
        Ok(import) => wait(c, &import, false),
        Err(_) => try_key(c),
    }
}

/// Awaits the key's import, or (`verifying`) the signature's check. One callback type for both,
/// the stage kept in the check, rather than a closure for each (22 bytes of wasm, gzip, with
/// [`later`]).
fn wait(mut c: Box<Check>, promise: &Promise, verifying: bool) {
    c.verifying = verifying;
    settled(promise, Box::new(move |outcome| step(c, outcome)));
}

/// What the awaited promise came to: a key imported (whose signature check is awaited next), or
/// the signature's verdict.
fn step(mut c: Box<Check>, outcome: Result<JsValue, JsValue>) {
    // A rejection, its reason dropped, is `undefined`: no verdict that holds, no key.
    let outcome = outcome.unwrap_or_default();
    if c.verifying {
        // `=== true` in JS, as `as_bool() == Some(true)` is, without taking the boolean out.
        if outcome == JsValue::TRUE {
            let verdict = claims(&c.started.payload, c.now_ms);
            return finish(c, verdict);
        }
        return try_key(c);
    }
    let s = &mut c.started;
    let Ok(key) = outcome.dyn_into::<CryptoKey>() else {
        return try_key(c);
    };
    s.usable = true;
    // `verify({name: 'ECDSA', hash: 'SHA-256'}, key, r||s, signingInput)`: WebCrypto's
    // ECDSA signature is the raw `r || s`, the same form as JWS's (RFC 7518 §3.4), so no
    // DER conversion.
    match s
        .subtle
        .verify_with_object_and_buffer_source_and_buffer_source(
            &s.algorithm,
            &key,
            &s.signature,
            &s.data,
        ) {
        Ok(check) => wait(c, &check, true),
        Err(_) => try_key(c),
    }
}

/// What the checks before any cryptography leave for it: the keys, the signature and what it
/// signs (copied into JS arrays rather than lent as views of wasm memory), and the claims, read
/// once the signature holds.
struct Started {
    subtle: SubtleCrypto,
    /// `{name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256'}`, made once for every import and
    /// every verification: each reads only its own members (`namedCurve` for importing, `hash`
    /// for verifying; WebIDL dictionaries ignore the others), and one object made once is
    /// smaller than one made per call (16 bytes of wasm, gzip).
    algorithm: Object,
    keys: Array,
    /// Whether a key tried so far could be used (imported).
    usable: bool,
    signature: Uint8Array,
    data: Uint8Array,
    payload: Vec<u8>,
}

fn start(token: &str, keys: &JsValue) -> Result<Started, TokenError> {
    let parts = token::split(token)?;
    let header = parse(&parts.header)?;
    let alg = super::reflect::get(&header, "alg").map_err(|_| TokenError::Malformed)?;
    token::check_alg(alg.as_string().as_deref())?;
    token::check_crit(super::reflect::has(&header, "crit").unwrap_or(true))?;
    let subtle = subtle().ok_or(TokenError::CryptoUnavailable)?;
    // A JWK Set's list, a list, or one key.
    let set = super::reflect::value(keys, "keys");
    let list = if Array::is_array(&set) { &set } else { keys };
    let list = if Array::is_array(list) {
        Array::from(list)
    } else {
        Array::of1(keys)
    };
    let count = list.length() as usize;
    if count == 0 || count > token::MAX_KEYS {
        return Err(TokenError::BadKey);
    }
    let algorithm = Object::new();
    with(&algorithm, "name", "ECDSA");
    with(&algorithm, "namedCurve", "P-256");
    with(&algorithm, "hash", "SHA-256");
    Ok(Started {
        subtle,
        algorithm,
        keys: list,
        usable: false,
        signature: Uint8Array::from(parts.signature.as_slice()),
        data: Uint8Array::from(parts.signing_input.as_bytes()),
        payload: parts.payload,
    })
}

/// Why a token that no key verifies is refused. The claims are not to be trusted, but they can
/// still show that it could not hold on any page: a payload that is not a JSON object with an
/// `exp`, or an `exp` past (a lapsed subscriber's token signed with a key the publisher has since
/// retired, `BadSignatureExpired`). Such a token is forgotten, where a mere `BadSignature` keeps it
/// for a page that carries its key. Trusting them this far grants nothing: a forged token is
/// refused either way.
fn unverified(payload: &[u8], now_ms: i64) -> TokenError {
    match claims(payload, now_ms) {
        Err(TokenError::Expired) => TokenError::BadSignatureExpired,
        Err(e) if e.is_for_good() => e,
        _ => TokenError::BadSignature,
    }
}

/// The claims' times, once the signature has vouched for them: when the token stops holding.
fn claims(payload: &[u8], now_ms: i64) -> Result<i64, TokenError> {
    let payload = parse(payload)?;
    let exp = claim(&payload, "exp")?;
    let nbf = claim(&payload, "nbf")?;
    token::check_times(exp, nbf, now_ms, token::DEFAULT_LEEWAY_S)
}

/// `window.crypto.subtle`, which is `undefined` outside secure contexts (plain-http pages):
/// <https://developer.mozilla.org/en-US/docs/Web/API/Crypto/subtle>
fn subtle() -> Option<SubtleCrypto> {
    let subtle = web_sys::window()?.crypto().ok()?.subtle();
    if subtle.is_object() {
        Some(subtle)
    } else {
        None
    }
}

/// Decoded header or payload bytes as a JSON object (RFC 7515 §4, RFC 7519 §7.2 step 10).
fn parse(bytes: &[u8]) -> Result<JsValue, TokenError> {
    let text = token::utf8(bytes).ok_or(TokenError::Malformed)?;
    let value = JSON::parse(&text).map_err(|_| TokenError::Malformed)?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(TokenError::Malformed)
    }
}

/// A NumericDate claim: absent is `None`; present but not a number is malformed rather than
/// ignored, so `"nbf":"tomorrow"` cannot slip past the check.
fn claim(payload: &JsValue, name: &str) -> Result<Option<f64>, TokenError> {
    let value = super::reflect::get(payload, name).map_err(|_| TokenError::Malformed)?;
    if value.is_undefined() {
        Ok(None)
    } else {
        value.as_f64().map(Some).ok_or(TokenError::Malformed)
    }
}

/// Sets `key` on a fresh object; `Reflect.set` on a plain extensible object cannot fail.
fn with(object: &Object, key: &str, value: &str) {
    let _ = super::reflect::set(object, key, &value.into());
}

/// A string member of a JS object; `None` when absent, not a string, or behind a throwing getter
/// (read as `undefined` by the widget's one lenient get, rather than caught here).
fn member(object: &JsValue, name: &str) -> Option<String> {
    super::reflect::value(object, name).as_string()
}

/// `importKey('jwk', {kty, crv, x, y}, {name: 'ECDSA', namedCurve: 'P-256'}, false, ['verify'])`
/// (the algorithm `s.algorithm`, whose `hash` importing ignores).
/// The core checks the key's shape first and only those four members are passed on: Firefox
/// crashes the tab on some non-EC JWKs (see `token::check_jwk`). WebCrypto then checks that the
/// point is on the curve (<https://w3c.github.io/webcrypto/#ecdsa-operations>, "Import Key").
fn import(s: &Started, jwk: &JsValue) -> Result<Promise, TokenError> {
    if !jwk.is_object() {
        return Err(TokenError::BadKey);
    }
    let (kty, crv) = (member(jwk, "kty"), member(jwk, "crv"));
    let (x, y) = (member(jwk, "x"), member(jwk, "y"));
    let has_d = super::reflect::get(jwk, "d").map_or(true, |d| !d.is_undefined());
    token::check_jwk(
        kty.as_deref(),
        crv.as_deref(),
        x.as_deref(),
        y.as_deref(),
        has_d,
    )?;
    let public = Object::new();
    with(&public, "kty", "EC");
    with(&public, "crv", "P-256");
    with(&public, "x", x.as_deref().unwrap_or_default());
    with(&public, "y", y.as_deref().unwrap_or_default());
    let usages = Array::of1(&"verify".into());
    s.subtle
        .import_key_with_object("jwk", &public, &s.algorithm, false, &usages)
        .map_err(|_| TokenError::BadKey)
}
