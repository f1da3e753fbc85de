#![cfg(target_arch = "wasm32")]
//! Browser tests of subscriber tokens: real P-256 keys and ES256 signatures made by the
//! browser's own WebCrypto, checked through `meterwall::verify_token`, the check `mount` and
//! `setToken` make. Run in headless Chrome and Firefox by `cargo xtask test`
//! (wasm-bindgen-test-runner).

use js_sys::{Array, Date, Function, Promise, JSON};
use meterwall::token::TokenError;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Runs `body` as the body of an async JS function of `params` and awaits its result.
async fn js(params: &str, body: &str, args: &[&JsValue]) -> JsValue {
    let source = format!(
        "const b64u = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
             .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
         const text = (s) => new TextEncoder().encode(s);
         return (async () => {{ {body} }})();"
    );
    let f = Function::new_with_args(params, &source);
    let args: Array = args.iter().copied().collect();
    let promise: Promise = f
        .apply(&JsValue::NULL, &args)
        .expect("test script runs")
        .dyn_into()
        .expect("test script returns a promise");
    JsFuture::from(promise).await.expect("test script resolves")
}

/// A key pair made by the browser; `jwk` is the public half as the publisher configures it.
struct Pair {
    jwk: JsValue,
    private_jwk: JsValue,
    private: JsValue,
}

async fn pair_on(curve: &str) -> Pair {
    let made = js(
        "curve",
        "const pair = await crypto.subtle.generateKey(
             { name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify']);
         return [
             await crypto.subtle.exportKey('jwk', pair.publicKey),
             await crypto.subtle.exportKey('jwk', pair.privateKey),
             pair.privateKey,
         ];",
        &[&curve.into()],
    )
    .await;
    let made: Array = made.unchecked_into();
    Pair {
        jwk: made.get(0),
        private_jwk: made.get(1),
        private: made.get(2),
    }
}

async fn pair() -> Pair {
    pair_on("P-256").await
}

/// `b64u(header).b64u(payload).b64u(ES256 signature)`, signed by the browser.
async fn sign(pair: &Pair, header: &str, payload: &str) -> String {
    js(
        "key, header, payload",
        "const input = b64u(text(header)) + '.' + b64u(text(payload));
         const sig = await crypto.subtle.sign(
             { name: 'ECDSA', hash: 'SHA-256' }, key, text(input));
         return input + '.' + b64u(sig);",
        &[&pair.private, &header.into(), &payload.into()],
    )
    .await
    .as_string()
    .expect("a token")
}

async fn b64u(s: &str) -> String {
    js("s", "return b64u(text(s));", &[&s.into()])
        .await
        .as_string()
        .expect("base64url text")
}

const ES256: &str = r#"{"alg":"ES256","typ":"JWT"}"#;

fn now_s() -> i64 {
    (Date::now() / 1000.0) as i64
}

fn claims(exp: i64) -> String {
    format!(r#"{{"sub":"reader-42","iss":"https://news.example","exp":{exp}}}"#)
}

/// What the widget's token check settled to: `Ok`, or `Err` with the sentence it reports.
async fn outcome(token: &str, jwk: &JsValue) -> Result<(), String> {
    JsFuture::from(meterwall::verify_token(token, jwk))
        .await
        .map(|_| ())
        .map_err(|e| e.as_string().unwrap_or_default())
}

fn refused(e: TokenError) -> Result<(), String> {
    Err(e.to_string())
}

#[wasm_bindgen_test]
async fn a_valid_token_is_accepted() {
    let keys = pair().await;
    let token = sign(&keys, ES256, &claims(now_s() + 3600)).await;
    assert_eq!(outcome(&token, &keys.jwk).await, Ok(()));
    // The minimal header and payload, and one with a past nbf and extra claims.
    let token = sign(
        &keys,
        r#"{"alg":"ES256"}"#,
        &format!(r#"{{"exp":{}}}"#, now_s() + 60),
    )
    .await;
    assert_eq!(outcome(&token, &keys.jwk).await, Ok(()));
    let payload = format!(
        r#"{{"exp":{}.5,"nbf":{},"iat":{},"sub":"r","tier":"digital"}}"#,
        now_s() + 600,
        now_s() - 10,
        now_s() - 10
    );
    let token = sign(&keys, ES256, &payload).await;
    assert_eq!(outcome(&token, &keys.jwk).await, Ok(()));
}

#[wasm_bindgen_test]
async fn a_jwk_with_more_members_is_accepted() {
    // A publisher's JWK usually carries a key id, alg and use; they do not matter.
    let keys = pair().await;
    let token = sign(&keys, ES256, &claims(now_s() + 3600)).await;
    let published = js(
        "jwk",
        "return { kid: '2024-06', alg: 'ES256', use: 'sig', ...jwk };",
        &[&keys.jwk],
    )
    .await;
    assert_eq!(outcome(&token, &published).await, Ok(()));
}

#[wasm_bindgen_test]
async fn the_same_token_verifies_again() {
    let keys = pair().await;
    let token = sign(&keys, ES256, &claims(now_s() + 3600)).await;
    for _ in 0..3 {
        assert_eq!(outcome(&token, &keys.jwk).await, Ok(()));
    }
}

#[wasm_bindgen_test]
async fn an_expired_token_is_refused() {
    let keys = pair().await;
    let token = sign(&keys, ES256, &claims(now_s() - 600)).await;
    assert_eq!(
        outcome(&token, &keys.jwk).await,
        refused(TokenError::Expired)
    );
    // Just past exp is within the 5 minutes' leeway for clock skew.
    let token = sign(&keys, ES256, &claims(now_s() - 20)).await;
    assert_eq!(outcome(&token, &keys.jwk).await, Ok(()));
}

#[wasm_bindgen_test]
async fn a_token_before_its_nbf_is_refused() {
    let keys = pair().await;
    let payload = format!(r#"{{"exp":{},"nbf":{}}}"#, now_s() + 3600, now_s() + 600);
    let token = sign(&keys, ES256, &payload).await;
    assert_eq!(
        outcome(&token, &keys.jwk).await,
        refused(TokenError::NotYetValid)
    );
    // A few minutes of skew are forgiven: a login that sets `nbf` to when it issues the token,
    // read on a device whose clock is two minutes slow.
    let payload = format!(r#"{{"exp":{},"nbf":{}}}"#, now_s() + 3600, now_s() + 120);
    let token = sign(&keys, ES256, &payload).await;
    assert_eq!(outcome(&token, &keys.jwk).await, Ok(()));
}

#[wasm_bindgen_test]
async fn another_publishers_key_is_refused() {
    let ours = pair().await;
    let theirs = pair().await;
    let token = sign(&theirs, ES256, &claims(now_s() + 3600)).await;
    assert_eq!(
        outcome(&token, &ours.jwk).await,
        refused(TokenError::BadSignature)
    );
    assert_eq!(outcome(&token, &theirs.jwk).await, Ok(()));
}

#[wasm_bindgen_test]
async fn a_tampered_token_is_refused() {
    let keys = pair().await;
    let exp = now_s() + 3600;
    let token = sign(&keys, ES256, &claims(exp)).await;
    let parts: Vec<&str> = token.split('.').collect();

    // Another reader's id, and a later expiry, under the original signature.
    let other = claims(exp).replace("reader-42", "reader-43");
    let forged = format!("{}.{}.{}", parts[0], b64u(&other).await, parts[2]);
    assert_eq!(
        outcome(&forged, &keys.jwk).await,
        refused(TokenError::BadSignature)
    );
    let later = claims(exp + 86_400 * 365);
    let forged = format!("{}.{}.{}", parts[0], b64u(&later).await, parts[2]);
    assert_eq!(
        outcome(&forged, &keys.jwk).await,
        refused(TokenError::BadSignature)
    );
    // An expired token made to look fresh is a bad signature, not "expired".
    let stale = sign(&keys, ES256, &claims(now_s() - 600)).await;
    let stale: Vec<&str> = stale.split('.').collect();
    let forged = format!("{}.{}.{}", stale[0], b64u(&claims(exp)).await, stale[2]);
    assert_eq!(
        outcome(&forged, &keys.jwk).await,
        refused(TokenError::BadSignature)
    );

    // One flipped signature bit.
    let mut sig = parts[2].to_string();
    let first = if sig.starts_with('A') { "B" } else { "A" };
    sig.replace_range(0..1, first);
    let forged = format!("{}.{}.{}", parts[0], parts[1], sig);
    assert_eq!(
        outcome(&forged, &keys.jwk).await,
        refused(TokenError::BadSignature)
    );
    // All-zero r and s.
    let zeros = "A".repeat(86);
    let forged = format!("{}.{}.{}", parts[0], parts[1], zeros);
    assert_eq!(
        outcome(&forged, &keys.jwk).await,
        refused(TokenError::BadSignature)
    );
}

#[wasm_bindgen_test]
async fn only_es256_is_accepted() {
    let keys = pair().await;
    let payload = claims(now_s() + 3600);
    for header in [
        r#"{"alg":"none"}"#,
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"ES384"}"#,
        r#"{"alg":"es256"}"#,
        r#"{"alg":null}"#,
        r#"{"typ":"JWT"}"#,
        r#"[]"#,
    ] {
        // Signed with the right key, so only the header is wrong.
        let token = sign(&keys, header, &payload).await;
        assert_eq!(
            outcome(&token, &keys.jwk).await,
            refused(TokenError::UnsupportedAlgorithm),
            "{header}"
        );
    }
    // The classic "alg":"none" token has no signature at all.
    let unsigned = format!(
        "{}.{}.",
        b64u(r#"{"alg":"none"}"#).await,
        b64u(&payload).await
    );
    assert_eq!(
        outcome(&unsigned, &keys.jwk).await,
        refused(TokenError::Malformed)
    );
    // HS256 keyed with the public key's text: a 32-byte HMAC, refused before any crypto.
    let hmac = js(
        "jwk, payload",
        "const input = b64u(text('{\"alg\":\"HS256\"}')) + '.' + b64u(text(payload));
         const key = await crypto.subtle.importKey('raw', text(JSON.stringify(jwk)),
             { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
         return input + '.' + b64u(await crypto.subtle.sign('HMAC', key, text(input)));",
        &[&keys.jwk, &payload.as_str().into()],
    )
    .await
    .as_string()
    .expect("a token");
    // Its 32-byte signature is not ES256's 64: refused as malformed, before any crypto (a
    // WebCrypto check would refuse it too, as a bad signature).
    assert_eq!(
        outcome(&hmac, &keys.jwk).await,
        refused(TokenError::Malformed)
    );
}

#[wasm_bindgen_test]
async fn a_header_with_critical_extensions_is_refused() {
    let keys = pair().await;
    let payload = claims(now_s() + 3600);
    for header in [
        r#"{"alg":"ES256","crit":["exp"],"exp":1}"#,
        r#"{"alg":"ES256","b64":false,"crit":["b64"]}"#,
        r#"{"alg":"ES256","crit":[]}"#,
    ] {
        // Signed with the right key: only the extensions make it invalid (RFC 7515 §4.1.11).
        let token = sign(&keys, header, &payload).await;
        assert_eq!(
            outcome(&token, &keys.jwk).await,
            refused(TokenError::UnsupportedCritical),
            "{header}"
        );
    }
    // Other members a login may add (a key id) are not critical.
    let token = sign(&keys, r#"{"alg":"ES256","kid":"2026-11"}"#, &payload).await;
    assert_eq!(outcome(&token, &keys.jwk).await, Ok(()));
}

#[wasm_bindgen_test]
async fn garbage_is_malformed() {
    let keys = pair().await;
    let malformed = refused(TokenError::Malformed);
    let valid = sign(&keys, ES256, &claims(now_s() + 3600)).await;
    for garbage in [
        String::new(),
        "a.b".into(),
        "a.b.c".into(),
        "..".into(),
        "a".repeat(5000),
        format!("{valid}.{}", valid.split('.').nth(2).unwrap_or_default()),
        format!(" {valid}"),
        valid.replace('.', ".="),
        "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2ln".into(),
    ] {
        assert_eq!(
            outcome(&garbage, &keys.jwk).await,
            malformed,
            "{:?}",
            garbage.get(..80)
        );
    }
    // A genuine signature does not make a 5000-character token acceptable.
    let long = format!(
        r#"{{"exp":{},"pad":"{}"}}"#,
        now_s() + 3600,
        "x".repeat(3700)
    );
    let token = sign(&keys, ES256, &long).await;
    assert!(token.len() > 4096);
    assert_eq!(outcome(&token, &keys.jwk).await, malformed);
}

#[wasm_bindgen_test]
async fn signed_nonsense_is_malformed() {
    let keys = pair().await;
    let soon = now_s() + 3600;
    for (header, payload) in [
        ("not json", claims(soon)),
        (r#""ES256""#, claims(soon)),
        (ES256, "not json".into()),
        (ES256, "null".into()),
        (ES256, soon.to_string()),
        (ES256, r#"{"sub":"no exp"}"#.into()),
        (ES256, format!(r#"{{"exp":"{soon}"}}"#)),
        (ES256, r#"{"exp":null}"#.into()),
        (ES256, r#"{"exp":1e400}"#.into()),
        (ES256, format!(r#"{{"exp":{soon},"nbf":"yesterday"}}"#)),
    ] {
        let token = sign(&keys, header, &payload).await;
        assert_eq!(
            outcome(&token, &keys.jwk).await,
            refused(TokenError::Malformed),
            "{header} {payload}"
        );
    }
}

/// A token signed by a fresh P-256 key, and the `BadKey` refusal.
async fn token_and_refusal() -> (Pair, String, Result<(), String>) {
    let keys = pair().await;
    let token = sign(&keys, ES256, &claims(now_s() + 3600)).await;
    (keys, token, refused(TokenError::BadKey))
}

#[wasm_bindgen_test]
async fn a_p384_key_is_refused() {
    let (_, token, bad_key) = token_and_refusal().await;
    let p384 = pair_on("P-384").await;
    assert_eq!(outcome(&token, &p384.jwk).await, bad_key);
}

#[wasm_bindgen_test]
async fn a_private_key_is_refused() {
    // The private half must never be on the page, and WebCrypto will not verify with it.
    let (keys, token, bad_key) = token_and_refusal().await;
    assert_eq!(outcome(&token, &keys.private_jwk).await, bad_key);
    assert_eq!(outcome(&token, &keys.jwk).await, Ok(()));
}

#[wasm_bindgen_test]
async fn an_rsa_key_is_refused() {
    let (_, token, bad_key) = token_and_refusal().await;
    let rsa = js(
        "",
        "const pair = await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5',
             modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
             true, ['sign', 'verify']);
         return crypto.subtle.exportKey('jwk', pair.publicKey);",
        &[],
    )
    .await;
    assert_eq!(outcome(&token, &rsa).await, bad_key);
}

#[wasm_bindgen_test]
async fn a_point_off_the_curve_is_refused() {
    let (keys, token, bad_key) = token_and_refusal().await;
    // The right shape, but x changed, so (x, y) is no longer on P-256.
    let text = JSON::stringify(&keys.jwk)
        .ok()
        .and_then(|s| s.as_string())
        .expect("jwk text");
    let jwk = JSON::parse(&text).expect("jwk object");
    let x = js_sys::Reflect::get(&jwk, &"x".into())
        .ok()
        .and_then(|x| x.as_string())
        .expect("x");
    let flipped = if x.starts_with('A') { "B" } else { "A" };
    let x = flipped.to_string() + &x[1..];
    js_sys::Reflect::set(&jwk, &"x".into(), &x.into()).expect("set x");
    assert_eq!(outcome(&token, &jwk).await, bad_key);
}

#[wasm_bindgen_test]
async fn what_is_not_a_jwk_is_refused() {
    let (keys, token, bad_key) = token_and_refusal().await;
    for (jwk, what) in [
        (JsValue::NULL, "null"),
        (JsValue::UNDEFINED, "undefined"),
        (JsValue::from_str("not a key"), "a string"),
        (JSON::parse("{}").expect("{}"), "an empty object"),
        (
            JSON::parse(r#"{"kty":"EC","crv":"P-256"}"#).expect("json"),
            "no coordinates",
        ),
        (
            JSON::parse(r#"{"kty":"oct","k":"c2VjcmV0"}"#).expect("json"),
            "a symmetric key",
        ),
    ] {
        assert_eq!(outcome(&token, &jwk).await, bad_key, "{what}");
    }
    // The configured key is still fine.
    assert_eq!(outcome(&token, &keys.jwk).await, Ok(()));
}

#[wasm_bindgen_test]
async fn the_rfc_7515_es256_example_verifies() {
    // RFC 7515 Appendix A.3: a token signed by another implementation, long expired. Its
    // signature is checked before its times, so "expired" proves it verified.
    let jwk = JSON::parse(
        r#"{"kty":"EC","crv":"P-256",
            "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
    )
    .expect("jwk");
    let token = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    assert_eq!(outcome(token, &jwk).await, refused(TokenError::Expired));
    // Forged, it does not verify: refused as such (and, long expired by its own word, forgotten).
    let forged = token.replace("DtEhU3", "DtEhU4");
    assert_eq!(
        outcome(&forged, &jwk).await,
        refused(TokenError::BadSignatureExpired)
    );
}
