//! The demo site's login (`--demo-login`): any well-formed address with any password gets a
//! subscriber entitlement token, an ES256 compact JWS valid for 30 days, for the login page to
//! hand to the widget. It shows a publisher's login end to end; it checks no account.
//!
//! The signing key is the demo's own and is public (it is in this file), so its tokens prove
//! nothing outside the demo: only pages configured with [`DEMO_PUBLIC_JWK`] accept them. A
//! publisher's login signs with a private key it keeps secret.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};

use crate::signup::error;

/// The demo's P-256 private key (a scalar, big-endian hex).
const DEMO_PRIVATE_KEY: &str = "7899ac8e923cea8a80766100259890354e8c75d86bd3aa400399efdbd87732c1";

/// Its public half as a JWK, as the demo articles carry it in `data-public-key`.
pub const DEMO_PUBLIC_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"bvc70wu_a52OF-VhiZ8nc8N8R3Eo5FnXX7AH01FOr6c","y":"DLBGT8aQzSocdG7psQpKE-1aaiub8-olit_qgpn5_NA"}"#;

/// How long a token lasts, in seconds.
const LIFETIME_S: u64 = 30 * 24 * 60 * 60;

#[derive(serde::Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

/// `POST /api/login`: `200 {"token": "<JWS>"}`, or `400 {"error": …}`.
pub(crate) async fn log_in(body: Bytes) -> Response {
    let Ok(login) = serde_json::from_slice::<Credentials>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Please enter your email address and password.",
        );
    };
    if let Err(problem) = meterwall::email::validate(&login.email) {
        return error(StatusCode::BAD_REQUEST, &problem.to_string());
    }
    if login.password.is_empty() {
        return error(StatusCode::BAD_REQUEST, "Please enter your password.");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // No address in the token: the widget keeps it in the reader's browser storage.
    let claims =
        serde_json::json!({ "sub": "demo-subscriber", "iat": now, "exp": now + LIFETIME_S });
    Json(serde_json::json!({ "token": sign(&claims.to_string()) })).into_response()
}

/// A compact JWS of `payload`, signed ES256 with the demo key (RFC 7515, RFC 7518 §3.4).
fn sign(payload: &str) -> String {
    let mut input = base64url(br#"{"alg":"ES256","typ":"JWT"}"#);
    input.push('.');
    input.push_str(&base64url(payload.as_bytes()));
    let signature: Signature = demo_key().sign(input.as_bytes());
    input.push('.');
    input.push_str(&base64url(&signature.to_bytes()));
    input
}

fn demo_key() -> SigningKey {
    let mut scalar = [0u8; 32];
    for (i, byte) in scalar.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&DEMO_PRIVATE_KEY[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    SigningKey::from_bytes(&scalar.into()).expect("the demo key is a valid P-256 scalar")
}

/// Unpadded base64url (RFC 4648 §5).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::VerifyingKey;

    #[test]
    fn base64url_is_unpadded_and_url_safe() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn tokens_verify_with_the_published_key() {
        let token = sign(r#"{"exp":1}"#);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        // The key the articles carry is this key's public half.
        let point = demo_key().verifying_key().to_encoded_point(false);
        let jwk: serde_json::Value = serde_json::from_str(DEMO_PUBLIC_JWK).unwrap();
        assert_eq!(jwk["x"], base64url(&point.x().unwrap()[..]));
        assert_eq!(jwk["y"], base64url(&point.y().unwrap()[..]));
        // And the signature is one over the first two parts.
        let signature = meterwall::token::base64url_decode(parts[2]).unwrap();
        let signature = Signature::from_slice(&signature).unwrap();
        let key: VerifyingKey = *demo_key().verifying_key();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(key.verify(input.as_bytes(), &signature).is_ok());
    }
}
