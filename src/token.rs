//! Subscriber entitlement tokens: the rules of a compact ES256 JWS that need no cryptography.
//!
//! A publisher's login issues a compact JWS (RFC 7515 §7.1) signed with ES256 (RFC 7518 §3.4),
//! whose payload is a JSON object with `exp` and optionally `nbf` (RFC 7519 §4.1.4, §4.1.5). This
//! module splits and decodes the token and checks its algorithm and times; the browser shell
//! (`web::token`) parses the JSON and checks the signature with WebCrypto, between these steps:
//! [`split`] -> [`check_alg`] -> [`check_crit`] -> [`check_jwk`] -> signature ->
//! [`check_times`].

/// Longer tokens are refused unread: an entitlement needs a few hundred characters, and the cap
/// bounds the work a hostile cookie or URL can ask of the reader's browser.
pub const MAX_TOKEN_LEN: usize = 4096;

/// The clock skew forgiven on `exp` and `nbf`, in seconds, between the publisher's server and
/// the reader's device. RFC 7519 §4.1.4 allows "some small leeway, usually no more than a few
/// minutes"; the shell uses this value. Five: a login that sets `nbf` to the time it issues the
/// token, read by a phone whose clock is two minutes slow, still makes a subscriber at once.
pub const DEFAULT_LEEWAY_S: i64 = 300;

/// The most public keys a page may carry (a JWK Set or a list): the key in use and the next one,
/// with room for a third while a change reaches every cached page. Each is tried in turn on a
/// token whose signature does not match the one before.
pub const MAX_KEYS: usize = 4;

/// The one algorithm accepted: ECDSA on P-256 with SHA-256 (RFC 7518 §3.4).
pub const ALG: &str = "ES256";

/// An ES256 signature is the raw `r || s`, 32 bytes each (RFC 7518 §3.4), not DER.
pub const SIGNATURE_LEN: usize = 64;

/// A compact JWS taken apart: the three parts decoded, and the text that was signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compact<'a> {
    /// `<header b64>.<payload b64>`, exactly as in the token: its ASCII bytes are what was signed
    /// (RFC 7515 §5.2, step 8).
    pub signing_input: &'a str,
    /// The JOSE header: UTF-8 JSON text, not yet parsed.
    pub header: Vec<u8>,
    /// The claims: UTF-8 JSON text, not yet parsed.
    pub payload: Vec<u8>,
    /// The raw `r || s`, [`SIGNATURE_LEN`] bytes.
    pub signature: Vec<u8>,
}

/// Why a token does not entitle the reader; `Display` names the cause and the fix, for the
/// publisher's console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts, too long, a signature that is not 64 bytes, a header or payload
    /// that is not a JSON object, or a missing or non-numeric `exp`.
    Malformed,
    /// The header's `alg` is anything but exactly `"ES256"`, including `"none"`.
    UnsupportedAlgorithm,
    /// The header lists critical extensions (`crit`), none of which the widget understands.
    UnsupportedCritical,
    /// The signature does not verify with the publisher's public key.
    BadSignature,
    /// The signature does not verify either, and the token's own `exp`, read without the signature's
    /// word for it, has passed: no key would make it hold (a lapsed subscriber's token of a key
    /// the publisher has retired), so it is forgotten.
    BadSignatureExpired,
    /// `exp` has passed, by more than the leeway.
    Expired,
    /// `nbf` is still ahead, by more than the leeway.
    NotYetValid,
    /// `exp` or `nbf` is over 1e11, in seconds the year 5138: a time in milliseconds where JWT
    /// counts seconds (RFC 7519 §2, NumericDate). Read as seconds, such an `exp` would never
    /// expire.
    TimeInMilliseconds,
    /// The configured public key is not a P-256 public JWK, or not 1 to [`MAX_KEYS`] of them.
    BadKey,
    /// The browser offers no WebCrypto here: `crypto.subtle` exists only in secure contexts
    /// (https pages), <https://w3c.github.io/webcrypto/#crypto-interface>.
    CryptoUnavailable,
}

impl TokenError {
    /// Whether the fault is the token's own (its shape, algorithm, header, signature or times),
    /// not the page's key or the browser's: only then is the token worth forgetting, or another
    /// one worth checking instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::token::TokenError;
    /// assert!(TokenError::Expired.is_the_token_s());
    /// assert!(!TokenError::BadKey.is_the_token_s());
    /// ```
    pub fn is_the_token_s(&self) -> bool {
        !matches!(self, TokenError::BadKey | TokenError::CryptoUnavailable)
    }

    /// Whether no page will ever accept the token (its shape, algorithm, header or expiry): only
    /// then is a kept token forgotten. A signature that does not match may be the page's fault (a
    /// page cached from before the publisher's key changed, while the token is signed with the new
    /// key), and a token not valid yet will be.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::token::TokenError;
    /// assert!(TokenError::Expired.is_for_good());
    /// assert!(!TokenError::BadSignature.is_for_good());
    /// assert!(!TokenError::NotYetValid.is_for_good());
    /// ```
    pub fn is_for_good(&self) -> bool {
        self.is_the_token_s() && !matches!(self, TokenError::BadSignature | TokenError::NotYetValid)
    }

    /// The sentence `Display` writes, as a `&'static str`: the shell hands it to JS without the
    /// formatting machinery.
    pub fn message(self) -> &'static str {
        match self {
            TokenError::Malformed => "the subscriber token is not a compact ES256 JWS (three base64url parts, a JSON header and payload with a numeric exp, a 64-byte signature, 4096 characters at most); the publisher's login must issue a well-formed token",
            TokenError::UnsupportedAlgorithm => "the subscriber token is not signed with ES256 (its header's alg must be \"ES256\"); the publisher's login must sign with ECDSA P-256 and SHA-256",
            TokenError::UnsupportedCritical => "the subscriber token's header has a crit member, whose extensions meterwall does not support; the publisher's login must issue tokens without crit",
            TokenError::BadSignature => "the subscriber token's signature does not match the publisher's public key; check that the widget is configured with the public half of the key the login signs with",
            TokenError::BadSignatureExpired => "the subscriber token's signature does not match the publisher's public key, and by its own exp it has expired anyway; the reader must log in again for a new token",
            TokenError::Expired => "the subscriber token has expired; the publisher's login must issue a new one",
            TokenError::NotYetValid => "the subscriber token is not valid yet (its nbf is in the future); check the clock of the server that issues it",
            TokenError::TimeInMilliseconds => "the subscriber token's exp or nbf is over 100,000,000,000 (in seconds, past the year 5000), so it counts milliseconds; JWT times count seconds, so the publisher's login must divide them by 1000",
            TokenError::BadKey => "the publisher's public key is not a P-256 public JWK (or a list or JWK Set of 1 to 4 of them); configure it as {\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"...\",\"y\":\"...\"}, without the private \"d\"",
            TokenError::CryptoUnavailable => "this browser cannot check subscriber tokens here because WebCrypto is unavailable (it exists only on https pages); serve the page over https",
        }
    }
}

impl core::fmt::Display for TokenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for TokenError {}

/// The value of one base64url character (RFC 4648 §5).
fn sextet(c: u8) -> Option<u32> {
    // Its place in the stored record's alphabet, the same one: the record reads its digits so.
    crate::record::B64
        .iter()
        .position(|&b| b == c)
        .map(|p| p as u32)
}

/// Decodes unpadded base64url (RFC 4648 §5), as JWS uses it (RFC 7515 §2).
///
/// Strict: `None` for `+`, `/`, `=`, whitespace or any other character outside the URL-safe
/// alphabet, for a length of 1 mod 4 (no byte count encodes to that), and for unused trailing
/// bits that are not zero (RFC 4648 §3.5), so each byte string has exactly one accepted encoding.
///
/// # Examples
///
/// ```
/// use meterwall::token::base64url_decode;
/// assert_eq!(base64url_decode("Zm9vYmFy").as_deref(), Some(&b"foobar"[..]));
/// assert_eq!(base64url_decode("Zm8").as_deref(), Some(&b"fo"[..]));
/// assert_eq!(base64url_decode("-_8").as_deref(), Some(&[0xfb, 0xff][..]));
/// assert_eq!(base64url_decode("Zm8="), None); // padding
/// assert_eq!(base64url_decode("+/8"), None); // the standard alphabet
/// assert_eq!(base64url_decode("Zm9vY"), None); // 1 mod 4
/// assert_eq!(base64url_decode("Zh"), None); // "f" is "Zg": the trailing bits must be zero
/// ```
pub fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    // 6 bits a character, a byte out as soon as 8 are held: one loop over the characters, not
    // one over chunks of four and one over each chunk's bytes. What is left at the end is the
    // padding of the last chunk: 2 bits after 3 characters, 4 after 2, none after 4, and 6
    // after 1, which is no encoding; the padding bits must be zero. Bits above those held are
    // shifted out of `acc` and never read.
    let (mut acc, mut held) = (0u32, 0);
    for &c in bytes {
        acc = acc << 6 | sextet(c)?;
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push((acc >> held) as u8);
        }
    }
    (held < 6 && acc & ((1 << held) - 1) == 0).then_some(out)
}

/// The text of `bytes` if they are UTF-8, else `None`: the same verdict as `core::str::from_utf8`
/// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF, no cut sequence), which
/// the token's header and payload need before `JSON.parse`. The standard library's validator reads
/// long ASCII runs a word at a time, 0.5 KB of wasm for text of a few hundred bytes.
///
/// # Examples
///
/// ```
/// use meterwall::token::utf8;
/// assert_eq!(utf8("{\"sub\":\"Zoë\"}".as_bytes()).as_deref(), Some("{\"sub\":\"Zoë\"}"));
/// assert_eq!(utf8(&[0xC0, 0xAF]), None); // "/" in two bytes: overlong
/// assert_eq!(utf8(&[0xED, 0xA0, 0x80]), None); // a surrogate
/// assert_eq!(utf8(&[0xE2, 0x82]), None); // cut short
/// ```
pub fn utf8(bytes: &[u8]) -> Option<String> {
    let mut text = String::with_capacity(bytes.len());
    let mut rest = bytes.iter();
    while let Some(&lead) = rest.next() {
        // The lead byte's bits, how many continuation bytes follow, and the least code point
        // that needs that many (a smaller one is an overlong form).
        let (mut code, more, least) = match lead {
            0..=0x7F => (u32::from(lead), 0, 0),
            0xC0..=0xDF => (u32::from(lead & 0x1F), 1, 0x80),
            0xE0..=0xEF => (u32::from(lead & 0x0F), 2, 0x800),
            0xF0..=0xF7 => (u32::from(lead & 0x07), 3, 0x1_0000),
            _ => return None,
        };
        for _ in 0..more {
            let next = *rest.next()?;
            if next & 0xC0 != 0x80 {
                return None;
            }
            code = code << 6 | u32::from(next & 0x3F);
        }
        if code < least {
            return None;
        }
        // `char` refuses surrogates and anything above U+10FFFF.
        text.push(char::from_u32(code)?);
    }
    Some(text)
}

/// Takes a compact JWS apart: exactly three non-empty base64url parts separated by `.`, a
/// signature of 64 bytes, the whole at most [`MAX_TOKEN_LEN`] bytes. The header and payload are
/// returned as decoded bytes; their JSON is the shell's to parse.
///
/// # Errors
///
/// [`TokenError::Malformed`] when any of those rules is broken.
///
/// # Examples
///
/// ```
/// use meterwall::token::{split, TokenError};
/// // {"alg":"ES256"} . {"exp":1} . 64 zero bytes
/// let sig = "A".repeat(86);
/// let token = format!("eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.{sig}");
/// let parts = split(&token).unwrap();
/// assert_eq!(parts.signing_input, "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9");
/// assert_eq!(parts.header, br#"{"alg":"ES256"}"#);
/// assert_eq!(parts.payload, br#"{"exp":1}"#);
/// assert_eq!(parts.signature, [0; 64]);
///
/// assert_eq!(split("a.b"), Err(TokenError::Malformed));
/// assert_eq!(split("eyJhbGciOiJub25lIn0.eyJleHAiOjF9."), Err(TokenError::Malformed));
/// ```
pub fn split(token: &str) -> Result<Compact<'_>, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    // At the first two dots: a third is left in the signature, which then does not decode (`.`
    // is outside the alphabet). Two `cut`s, which the crate uses anyway, rather than a `split`
    // inlined here (21 bytes of wasm, gzip, with `split_once`, as it was then).
    let (h, rest) = crate::cut(token, b'.').ok_or(TokenError::Malformed)?;
    let (p, s) = crate::cut(rest, b'.').ok_or(TokenError::Malformed)?;
    if h.is_empty() || p.is_empty() || s.is_empty() {
        return Err(TokenError::Malformed);
    }
    let decode = |part| base64url_decode(part).ok_or(TokenError::Malformed);
    let (header, payload, signature) = (decode(h)?, decode(p)?, decode(s)?);
    if signature.len() != SIGNATURE_LEN {
        return Err(TokenError::Malformed);
    }
    // `get` rather than indexing: the same bytes, without linking the panic message's formatting.
    let signing_input = token
        .get(..h.len() + 1 + p.len())
        .ok_or(TokenError::Malformed)?;
    Ok(Compact {
        signing_input,
        header,
        payload,
        signature,
    })
}

/// Accepts only a header whose `alg` is exactly `"ES256"`: the verifier, not the token, chooses
/// the algorithm (RFC 8725 §3.1), so `"none"`, `"HS256"` (HMAC keyed with the public key) and
/// every variant spelling are refused.
///
/// # Errors
///
/// [`TokenError::UnsupportedAlgorithm`] for anything else, or no `alg` at all.
///
/// # Examples
///
/// ```
/// use meterwall::token::{check_alg, TokenError};
/// assert_eq!(check_alg(Some("ES256")), Ok(()));
/// assert_eq!(check_alg(Some("none")), Err(TokenError::UnsupportedAlgorithm));
/// assert_eq!(check_alg(None), Err(TokenError::UnsupportedAlgorithm));
/// ```
pub fn check_alg(alg: Option<&str>) -> Result<(), TokenError> {
    match alg {
        Some(ALG) => Ok(()),
        _ => Err(TokenError::UnsupportedAlgorithm),
    }
}

/// Refuses a header with a `crit` member: the extensions it lists must be understood for the
/// token to be valid (RFC 7515 §4.1.11), and the widget understands none. Its mere presence is
/// enough, whatever its value (an empty list is itself invalid).
///
/// # Errors
///
/// [`TokenError::UnsupportedCritical`] when `crit` is present.
///
/// # Examples
///
/// ```
/// use meterwall::token::{check_crit, TokenError};
/// assert_eq!(check_crit(false), Ok(()));
/// assert_eq!(check_crit(true), Err(TokenError::UnsupportedCritical));
/// ```
pub fn check_crit(present: bool) -> Result<(), TokenError> {
    if present {
        Err(TokenError::UnsupportedCritical)
    } else {
        Ok(())
    }
}

/// A P-256 coordinate is 32 bytes, base64url without padding (RFC 7518 §6.2.1.2).
const COORDINATE_LEN: usize = 32;

/// Checks the publisher's key before WebCrypto sees it: a public P-256 JWK (RFC 7518 §6.2.1),
/// `kty` "EC", `crv` "P-256", `x` and `y` of 32 bytes each, and no private `d` (a private key on
/// a page is a key anyone can sign with). The shell then imports a fresh object holding only
/// these four members; WebCrypto still checks that the point is on the curve.
///
/// Checked here rather than left to WebCrypto: Firefox (153 ESR) crashes the tab's content
/// process when a JWK with `"kty":"RSA"`, `n` and `e` is imported as an ECDSA key (reproduced by
/// `tests/token.rs`, `an_rsa_key_is_refused`, before this check existed).
///
/// # Errors
///
/// [`TokenError::BadKey`] for anything else.
///
/// # Examples
///
/// ```
/// use meterwall::token::{check_jwk, TokenError};
/// let x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
/// let y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
/// assert_eq!(check_jwk(Some("EC"), Some("P-256"), Some(x), Some(y), false), Ok(()));
/// assert_eq!(check_jwk(Some("RSA"), None, None, None, false), Err(TokenError::BadKey));
/// assert_eq!(check_jwk(Some("EC"), Some("P-256"), Some(x), Some(y), true), Err(TokenError::BadKey));
/// ```
pub fn check_jwk(
    kty: Option<&str>,
    crv: Option<&str>,
    x: Option<&str>,
    y: Option<&str>,
    has_d: bool,
) -> Result<(), TokenError> {
    let coordinate = |c: Option<&str>| {
        c.and_then(base64url_decode)
            .is_some_and(|bytes| bytes.len() == COORDINATE_LEN)
    };
    if kty == Some("EC") && crv == Some("P-256") && coordinate(x) && coordinate(y) && !has_d {
        Ok(())
    } else {
        Err(TokenError::BadKey)
    }
}

/// Checks the token's times at `now_ms` (ms since the epoch), forgiving `leeway_s` seconds of
/// clock skew each way ([`DEFAULT_LEEWAY_S`], 300 s, in the shell; a negative leeway counts as 0).
/// `exp` and `nbf` are NumericDates, seconds since the epoch, possibly fractional (RFC 7519 §2).
///
/// The token is valid while `now < exp + leeway` (RFC 7519 §4.1.4: "before the expiration time")
/// and from `now >= nbf - leeway` (§4.1.5: "after or equal to").
///
/// A token that holds gives the time (ms since the epoch) from which it no longer does,
/// `exp + leeway`: the anti-flicker hint tells the next page that a reader over the limit is
/// walled from then on (see [`crate::meter::next_hint`]).
///
/// # Errors
///
/// [`TokenError::Malformed`] when `exp` is missing or either time is not finite,
/// [`TokenError::TimeInMilliseconds`] when either is over 1e11 (milliseconds, most likely),
/// [`TokenError::Expired`] past `exp`, [`TokenError::NotYetValid`] before `nbf`.
///
/// # Examples
///
/// ```
/// use meterwall::token::{check_times, TokenError};
/// let now_ms = 1_700_000_000_000;
/// // Holds until exp plus the 60 s leeway.
/// assert_eq!(check_times(Some(1_700_000_600.0), None, now_ms, 60), Ok(1_700_000_660_000));
/// // Expired 30 s ago: forgiven by the 60 s leeway, for 30 s more.
/// assert_eq!(check_times(Some(1_699_999_970.0), None, now_ms, 60), Ok(1_700_000_030_000));
/// assert_eq!(check_times(Some(1_699_999_000.0), None, now_ms, 60), Err(TokenError::Expired));
/// assert_eq!(
///     check_times(Some(1_700_000_600.0), Some(1_700_000_300.0), now_ms, 60),
///     Err(TokenError::NotYetValid)
/// );
/// assert_eq!(check_times(None, None, now_ms, 60), Err(TokenError::Malformed));
/// ```
pub fn check_times(
    exp: Option<f64>,
    nbf: Option<f64>,
    now_ms: i64,
    leeway_s: i64,
) -> Result<i64, TokenError> {
    let exp = exp.filter(|e| e.is_finite()).ok_or(TokenError::Malformed)?;
    if nbf.is_some_and(|n| !n.is_finite()) {
        return Err(TokenError::Malformed);
    }
    // 1e11 seconds is in the year 5138; the milliseconds of any date since 1973 are more.
    if exp > 1e11 || nbf.is_some_and(|n| n > 1e11) {
        return Err(TokenError::TimeInMilliseconds);
    }
    // In f64 milliseconds: NumericDates may be fractional, and an f64 holds any ms timestamp of
    // the next 285,000 years exactly.
    let now = now_ms as f64;
    let leeway = leeway_s.max(0) as f64;
    let lapses = (exp + leeway) * 1000.0;
    if now >= lapses {
        return Err(TokenError::Expired);
    }
    if nbf.is_some_and(|n| now < (n - leeway) * 1000.0) {
        return Err(TokenError::NotYetValid);
    }
    // The first whole millisecond at which `now >= lapses`; below 1e14 + 60,000, so exact.
    Ok(lapses.ceil() as i64)
}

#[cfg(test)]
mod tests {
    /// Every sequence of up to three bytes, and every four-byte one from a lead byte that may start
    /// one with each continuation byte at the edges of its range: the decoder's verdict and text
    /// are the standard library's.
    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn utf8_agrees_with_the_standard_library_on_every_short_sequence() {
        fn same(bytes: &[u8]) {
            assert_eq!(
                super::utf8(bytes),
                std::str::from_utf8(bytes).ok().map(String::from),
                "{bytes:02x?}"
            );
        }
        for a in 0..=255u8 {
            same(&[a]);
            for b in 0..=255u8 {
                same(&[a, b]);
                for c in 0..=255u8 {
                    same(&[a, b, c]);
                }
            }
        }
        let edges = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF];
        for a in 0xF0..=0xFFu8 {
            for b in edges {
                for c in edges {
                    for d in edges {
                        same(&[a, b, c, d]);
                    }
                }
            }
        }
    }

    use super::*;

    /// The decoder as it was, before one loop took every chunk length: the same verdicts and
    /// bytes on every string of up to six characters drawn from both alphabets' edges, padding
    /// and bytes that are no base64url.
    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn base64url_decode_matches_its_earlier_form() {
        fn earlier(s: &str) -> Option<Vec<u8>> {
            let mut out = Vec::new();
            for chunk in s.as_bytes().chunks(4) {
                let mut acc = 0u32;
                for &c in chunk {
                    acc = acc << 6 | sextet(c)?;
                }
                match chunk.len() {
                    4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
                    3 if acc & 0b11 == 0 => {
                        out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8])
                    }
                    2 if acc & 0b1111 == 0 => out.push((acc >> 4) as u8),
                    _ => return None,
                }
            }
            Some(out)
        }
        let alphabet = b"AQgw_-/9+=";
        let mut text = Vec::new();
        for len in 0..=6u32 {
            for mut n in 0..alphabet.len().pow(len) {
                text.clear();
                for _ in 0..len {
                    text.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                let s = core::str::from_utf8(&text).unwrap();
                assert_eq!(base64url_decode(s), earlier(s), "{s}");
            }
        }
    }

    /// `sextet` as it was, a match over the ranges (verbatim): the same value for every byte.
    #[test]
    fn sextet_matches_its_earlier_form() {
        fn earlier(c: u8) -> Option<u32> {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'-' => 62,
                b'_' => 63,
                _ => return None,
            };
            Some(u32::from(v))
        }
        for c in 0..=u8::MAX {
            assert_eq!(sextet(c), earlier(c), "{c}");
        }
    }

    /// The decoder as it was before one loop took the characters (chunks of four, verbatim):
    /// the same verdicts and bytes on every string of up to six characters drawn from both
    /// alphabets' edges, padding and bytes that are no base64url, and on longer ones.
    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn base64url_decode_matches_its_chunked_form() {
        fn chunked(s: &str) -> Option<Vec<u8>> {
            let bytes = s.as_bytes();
            let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
            for chunk in bytes.chunks(4) {
                let mut acc = 0u32;
                for &c in chunk {
                    acc = acc << 6 | sextet(c)?;
                }
                // 6 bits a character: 24 bits for 3 bytes; 18 for 2, the last 2 padding; 12 for 1,
                // the last 4 padding; 6 for none, which is no encoding. One loop for every length, not
                // two `extend_from_slice`s and a `push` (148 bytes of wasm, gzip).
                let n = chunk.len();
                let padding = 6 * n % 8;
                if n == 1 || acc & ((1 << padding) - 1) != 0 {
                    return None;
                }
                let acc = acc >> padding;
                for i in (0..n * 3 / 4).rev() {
                    out.push((acc >> (8 * i)) as u8);
                }
            }
            Some(out)
        }
        let alphabet = b"AQgw_-/9+=";
        let mut text = Vec::new();
        for len in 0..=6u32 {
            for mut n in 0..alphabet.len().pow(len) {
                text.clear();
                for _ in 0..len {
                    text.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                let s = core::str::from_utf8(&text).unwrap();
                assert_eq!(base64url_decode(s), chunked(s), "{s}");
            }
        }
        // Longer strings of every length up to 80, from the whole alphabet and a stray byte.
        let all = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for len in 0..=80 {
            for round in 0..200 {
                text.clear();
                for _ in 0..len {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    text.push(all[(seed % 64) as usize]);
                }
                if round % 4 == 3 && len > 0 {
                    let at = (seed as usize / 64) % len;
                    text[at] = b'=';
                }
                let s = core::str::from_utf8(&text).unwrap();
                assert_eq!(base64url_decode(s), chunked(s), "{s}");
            }
        }
    }

    /// `split` as it was before it cut at the first two dots, verbatim.
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn split_earlier(token: &str) -> Result<Compact<'_>, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        if h.is_empty() || p.is_empty() || s.is_empty() {
            return Err(TokenError::Malformed);
        }
        let decode = |part| base64url_decode(part).ok_or(TokenError::Malformed);
        let (header, payload, signature) = (decode(h)?, decode(p)?, decode(s)?);
        if signature.len() != SIGNATURE_LEN {
            return Err(TokenError::Malformed);
        }
        // `get` rather than indexing: the same bytes, without linking the panic message's formatting.
        let signing_input = token
            .get(..h.len() + 1 + p.len())
            .ok_or(TokenError::Malformed)?;
        Ok(Compact {
            signing_input,
            header,
            payload,
            signature,
        })
    }

    /// The same verdict and parts as the earlier `split` on every sequence of up to five parts
    /// drawn from empty ones, ones that decode, ones that do not, and 64- and 65-byte signatures.
    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn split_matches_its_earlier_form() {
        let sig = "A".repeat(86);
        let long = "A".repeat(88);
        let pieces = [
            "",
            "e30",
            "Zm8",
            "Zm8=",
            "+/",
            " ",
            sig.as_str(),
            long.as_str(),
        ];
        let mut checked = 0;
        for len in 1..=5u32 {
            for mut n in 0..pieces.len().pow(len) {
                let mut t = String::new();
                for i in 0..len {
                    if i > 0 {
                        t.push('.');
                    }
                    t.push_str(pieces[n % pieces.len()]);
                    n /= pieces.len();
                }
                assert_eq!(split(&t), split_earlier(&t), "{t}");
                checked += usize::from(split(&t).is_ok());
            }
        }
        assert!(checked > 0);
        let over = format!("e30.{}.{sig}", "A".repeat(MAX_TOKEN_LEN));
        assert_eq!(split(&over), split_earlier(&over));
    }

    /// Test-only encoder: unpadded base64url, written independently of the decoder.
    pub(super) fn encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut n = 0u32;
            for (i, &b) in chunk.iter().enumerate() {
                n |= u32::from(b) << (16 - 8 * i);
            }
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            }
        }
        out
    }

    fn token(header: &str, payload: &str, signature: &[u8]) -> String {
        let mut t = encode(header.as_bytes());
        t.push('.');
        t.push_str(&encode(payload.as_bytes()));
        t.push('.');
        t.push_str(&encode(signature));
        t
    }

    const NOW_MS: i64 = 1_700_000_000_000;
    const NOW_S: f64 = 1_700_000_000.0;

    /// Whether the times hold, leaving out until when (`the_lapse_time_is_exp_plus_leeway`).
    fn times(
        exp: Option<f64>,
        nbf: Option<f64>,
        now_ms: i64,
        leeway_s: i64,
    ) -> Result<(), TokenError> {
        check_times(exp, nbf, now_ms, leeway_s).map(|_| ())
    }

    #[test]
    fn the_lapse_time_is_exp_plus_leeway() {
        assert_eq!(
            check_times(Some(NOW_S + 600.0), None, NOW_MS, 60),
            Ok(NOW_MS + 660_000)
        );
        assert_eq!(
            check_times(Some(NOW_S + 600.0), None, NOW_MS, 0),
            Ok(NOW_MS + 600_000)
        );
        // Fractional seconds: the first whole millisecond at which the token is expired.
        assert_eq!(
            check_times(Some(NOW_S + 0.0005), None, NOW_MS, 0),
            Ok(NOW_MS + 1)
        );
        assert_eq!(
            times(Some(NOW_S + 0.0005), None, NOW_MS + 1, 0),
            Err(TokenError::Expired)
        );
        assert_eq!(
            check_times(Some(NOW_S + 10.0), Some(NOW_S), NOW_MS, -5),
            Ok(NOW_MS + 10_000)
        );
    }

    #[test]
    fn decodes_the_rfc_4648_vectors() {
        // RFC 4648 §10, without the padding.
        for (text, plain) in [
            ("", ""),
            ("Zg", "f"),
            ("Zm8", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg", "foob"),
            ("Zm9vYmE", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ] {
            assert_eq!(
                base64url_decode(text).as_deref(),
                Some(plain.as_bytes()),
                "{text}"
            );
            assert_eq!(encode(plain.as_bytes()), text);
        }
    }

    #[test]
    fn uses_the_url_safe_alphabet() {
        assert_eq!(
            base64url_decode("-_-_").as_deref(),
            Some(&[0xfb, 0xff, 0xbf][..])
        );
        assert_eq!(base64url_decode("AAEC").as_deref(), Some(&[0, 1, 2][..]));
        assert_eq!(base64url_decode("____").as_deref(), Some(&[0xff; 3][..]));
    }

    #[test]
    fn refuses_what_is_not_unpadded_base64url() {
        for bad in [
            "+/8", "Zm8=", "Zg==", "Zm9v\n", " Zm9v", "Zm 9v", "Zm9v.", "é", "Zm9vY", "A", "Zh",
            "Zm9", "Zm\0v",
        ] {
            assert_eq!(base64url_decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn splits_a_well_formed_token() {
        let sig: Vec<u8> = (0..64).collect();
        let t = token(r#"{"alg":"ES256"}"#, r#"{"exp":1}"#, &sig);
        let parts = split(&t).unwrap();
        assert_eq!(parts.header, br#"{"alg":"ES256"}"#);
        assert_eq!(parts.payload, br#"{"exp":1}"#);
        assert_eq!(parts.signature, sig);
        assert_eq!(parts.signing_input, &t[..t.rfind('.').unwrap()]);
        assert!(parts.signing_input.ends_with(&encode(br#"{"exp":1}"#)));
    }

    #[test]
    fn splits_the_rfc_7515_es256_example() {
        // RFC 7515 Appendix A.3.
        let t = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
        let parts = split(t).unwrap();
        assert_eq!(parts.header, br#"{"alg":"ES256"}"#);
        assert!(parts
            .payload
            .starts_with(b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,"));
        assert_eq!(parts.signature.len(), 64);
    }

    #[test]
    fn needs_exactly_three_non_empty_parts() {
        let sig = encode(&[7; 64]);
        let h = encode(br#"{"alg":"ES256"}"#);
        let p = encode(br#"{"exp":1}"#);
        for bad in [
            String::new(),
            "a.b".into(),
            ".".into(),
            "..".into(),
            "...".into(),
            format!("{h}.{p}"),
            format!("{h}.{p}.{sig}.{sig}"),
            format!("{h}.{p}."),
            format!(".{p}.{sig}"),
            format!("{h}..{sig}"),
            format!("{h}.{p}.{sig}."),
        ] {
            assert_eq!(split(&bad), Err(TokenError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn refuses_parts_that_do_not_decode() {
        let sig = encode(&[7; 64]);
        let p = encode(br#"{"exp":1}"#);
        assert_eq!(
            split(&format!("eyJhbGciOiJFUzI1NiJ9=.{p}.{sig}")),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            split(&format!("eyJhbGciOiJFUzI1NiJ9.{p}+.{sig}")),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            split(&format!("eyJhbGciOiJFUzI1NiJ9.{p}.{sig} ")),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn needs_a_64_byte_signature() {
        let h = r#"{"alg":"ES256"}"#;
        for len in [1, 32, 63, 65, 72, 128] {
            let t = token(h, r#"{"exp":1}"#, &vec![1; len]);
            assert_eq!(split(&t), Err(TokenError::Malformed), "{len} bytes");
        }
        assert!(split(&token(h, r#"{"exp":1}"#, &[1; 64])).is_ok());
    }

    #[test]
    fn caps_the_length_at_4096() {
        let sig = [9; 64];
        let h = r#"{"alg":"ES256"}"#;
        // Grow the payload until the token is exactly at the cap, then one past it.
        let mut claims = String::from(r#"{"exp":1,"x":""}"#);
        while token(h, &claims, &sig).len() < MAX_TOKEN_LEN {
            claims.insert(claims.len() - 2, 'a');
        }
        let at_cap = token(h, &claims, &sig);
        if at_cap.len() == MAX_TOKEN_LEN {
            assert!(split(&at_cap).is_ok());
        }
        assert!(at_cap.len() <= MAX_TOKEN_LEN + 2);
        claims.insert(claims.len() - 2, 'a');
        claims.insert(claims.len() - 2, 'a');
        let over = token(h, &claims, &sig);
        assert!(over.len() > MAX_TOKEN_LEN);
        assert_eq!(split(&over), Err(TokenError::Malformed));
        assert_eq!(split(&"a".repeat(5000)), Err(TokenError::Malformed));
    }

    #[test]
    fn accepts_only_es256() {
        assert_eq!(check_alg(Some("ES256")), Ok(()));
        for bad in [
            "none", "None", "NONE", "", "HS256", "RS256", "ES384", "ES512", "es256", "ES256 ",
            " ES256", "ES256\0", "EdDSA", "PS256",
        ] {
            assert_eq!(
                check_alg(Some(bad)),
                Err(TokenError::UnsupportedAlgorithm),
                "{bad:?}"
            );
        }
        assert_eq!(check_alg(None), Err(TokenError::UnsupportedAlgorithm));
    }

    #[test]
    fn accepts_only_a_public_p256_jwk() {
        // RFC 7515 Appendix A.3's key.
        let x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
        let y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
        let ok = |kty, crv, x, y, d| check_jwk(kty, crv, x, y, d).is_ok();
        assert!(ok(Some("EC"), Some("P-256"), Some(x), Some(y), false));
        // The private half.
        assert!(!ok(Some("EC"), Some("P-256"), Some(x), Some(y), true));
        // Another type or curve.
        for (kty, crv) in [
            (None, Some("P-256")),
            (Some("RSA"), Some("P-256")),
            (Some("oct"), Some("P-256")),
            (Some("OKP"), Some("P-256")),
            (Some("ec"), Some("P-256")),
            (Some("EC"), None),
            (Some("EC"), Some("P-384")),
            (Some("EC"), Some("P-521")),
            (Some("EC"), Some("secp256k1")),
            (Some("EC"), Some("p-256")),
        ] {
            assert!(!ok(kty, crv, Some(x), Some(y), false), "{kty:?} {crv:?}");
        }
        // Missing, short, long or badly encoded coordinates.
        let short = &x[..42];
        let long = encode(&[1; 33]);
        let padded = x.to_string() + "=";
        let standard = y.replace('_', "/");
        for bad in [
            None,
            Some(""),
            Some(short),
            Some(&long),
            Some(&padded),
            Some(&standard),
        ] {
            assert!(
                !ok(Some("EC"), Some("P-256"), bad, Some(y), false),
                "x {bad:?}"
            );
            assert!(
                !ok(Some("EC"), Some("P-256"), Some(x), bad, false),
                "y {bad:?}"
            );
        }
        assert_eq!(
            check_jwk(Some("RSA"), None, None, None, false),
            Err(TokenError::BadKey)
        );
    }

    #[test]
    fn exp_is_required_and_finite() {
        assert_eq!(times(None, None, NOW_MS, 60), Err(TokenError::Malformed));
        assert_eq!(
            times(None, Some(NOW_S - 10.0), NOW_MS, 60),
            Err(TokenError::Malformed)
        );
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(
                times(Some(bad), None, NOW_MS, 60),
                Err(TokenError::Malformed)
            );
            assert_eq!(
                times(Some(NOW_S + 600.0), Some(bad), NOW_MS, 60),
                Err(TokenError::Malformed)
            );
        }
    }

    #[test]
    fn expires_after_exp_plus_leeway() {
        let at = |exp: f64, leeway| times(Some(exp), None, NOW_MS, leeway);
        assert_eq!(at(NOW_S + 600.0, 60), Ok(()));
        assert_eq!(at(NOW_S + 0.5, 0), Ok(()));
        // "The current date/time MUST be before the expiration date/time" (RFC 7519 §4.1.4).
        assert_eq!(at(NOW_S, 0), Err(TokenError::Expired));
        assert_eq!(at(NOW_S - 59.0, 60), Ok(()));
        assert_eq!(at(NOW_S - 59.999, 60), Ok(()));
        assert_eq!(at(NOW_S - 60.0, 60), Err(TokenError::Expired));
        assert_eq!(at(NOW_S - 3600.0, 60), Err(TokenError::Expired));
        assert_eq!(at(0.0, 60), Err(TokenError::Expired));
        assert_eq!(at(-1e300, 60), Err(TokenError::Expired));
        // Milliseconds where seconds belong would never expire: refused, and said so.
        assert_eq!(
            at(NOW_S * 1000.0 + 3_600_000.0, 60),
            Err(TokenError::TimeInMilliseconds)
        );
        assert_eq!(at(1e300, 60), Err(TokenError::TimeInMilliseconds));
        assert_eq!(at(1e11, 60), Ok(()), "the year 5138 in seconds");
        let nbf_ms = times(Some(NOW_S + 60.0), Some(NOW_S * 1000.0), NOW_MS, 60);
        assert_eq!(nbf_ms, Err(TokenError::TimeInMilliseconds));
        assert!(TokenError::TimeInMilliseconds.is_the_token_s());
    }

    #[test]
    fn not_valid_before_nbf_minus_leeway() {
        let exp = Some(NOW_S + 3600.0);
        let at = |nbf: f64, leeway| times(exp, Some(nbf), NOW_MS, leeway);
        assert_eq!(at(NOW_S - 10.0, 60), Ok(()));
        // "On or after" nbf (RFC 7519 §4.1.5).
        assert_eq!(at(NOW_S, 0), Ok(()));
        assert_eq!(at(NOW_S + 0.001, 0), Err(TokenError::NotYetValid));
        assert_eq!(at(NOW_S + 60.0, 60), Ok(()));
        assert_eq!(at(NOW_S + 61.0, 60), Err(TokenError::NotYetValid));
        assert_eq!(at(NOW_S + 300.0, 60), Err(TokenError::NotYetValid));
    }

    #[test]
    fn negative_leeway_counts_as_none() {
        assert_eq!(times(Some(NOW_S + 1.0), None, NOW_MS, -3600), Ok(()));
        assert_eq!(
            times(Some(NOW_S + 3600.0), Some(NOW_S), NOW_MS, -3600),
            Ok(())
        );
    }

    #[test]
    fn expiry_is_reported_before_nbf() {
        // A token whose window is wholly in the past or wholly inverted: expiry wins, since a new
        // token is the fix either way.
        assert_eq!(
            times(Some(NOW_S - 600.0), Some(NOW_S + 600.0), NOW_MS, 60),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn each_error_names_its_cause_and_fix() {
        let all = [
            TokenError::Malformed,
            TokenError::UnsupportedAlgorithm,
            TokenError::UnsupportedCritical,
            TokenError::BadSignature,
            TokenError::BadSignatureExpired,
            TokenError::Expired,
            TokenError::NotYetValid,
            TokenError::TimeInMilliseconds,
            TokenError::BadKey,
            TokenError::CryptoUnavailable,
        ];
        for e in all {
            let s = e.to_string();
            assert_eq!(s, e.message());
            assert!(s.contains("; "), "{s}: a cause, then the fix");
            assert!(!s.ends_with('.'), "{s}");
        }
        assert_eq!(
            TokenError::Expired.to_string(),
            "the subscriber token has expired; the publisher's login must issue a new one"
        );
        let mut texts: Vec<_> = all.iter().map(|e| e.message()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), all.len());
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::super::*;
        use super::{encode, times};
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(10_000))]

            #[test]
            fn decoding_any_string_never_panics(s in any::<String>()) {
                let _ = base64url_decode(&s);
            }

            #[test]
            fn decoding_near_alphabet_strings_never_panics(s in "[A-Za-z0-9_=+/. -]{0,64}") {
                let _ = base64url_decode(&s);
            }

            #[test]
            fn utf8_agrees_with_the_standard_library(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
                prop_assert_eq!(utf8(&bytes), std::str::from_utf8(&bytes).ok().map(String::from));
            }

            #[test]
            fn utf8_agrees_on_text_with_a_byte_changed_or_cut(
                text in any::<String>(),
                at in any::<proptest::sample::Index>(),
                byte in any::<u8>(),
                cut in any::<bool>(),
            ) {
                let mut bytes = text.clone().into_bytes();
                prop_assert_eq!(utf8(&bytes), Some(text));
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    if cut {
                        bytes.truncate(i);
                    } else {
                        bytes[i] = byte;
                    }
                }
                prop_assert_eq!(utf8(&bytes), std::str::from_utf8(&bytes).ok().map(String::from));
            }

            #[test]
            fn bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
                let text = encode(&bytes);
                prop_assert_eq!(text.len() % 4 == 1, false);
                prop_assert_eq!(base64url_decode(&text), Some(bytes));
            }

            #[test]
            fn every_accepted_string_is_the_one_encoding(s in "[A-Za-z0-9_-]{0,64}") {
                // Strictness: what decodes re-encodes to the same text, so a token has one form.
                if let Some(bytes) = base64url_decode(&s) {
                    prop_assert_eq!(encode(&bytes), s);
                } else {
                    let rem = s.len() % 4;
                    prop_assert!(rem != 0, "a whole group of alphabet characters always decodes");
                }
            }

            #[test]
            fn splitting_any_string_never_panics(s in any::<String>()) {
                let _ = split(&s);
            }

            #[test]
            fn splitting_token_shaped_strings_never_panics(s in "[A-Za-z0-9_.-]{0,200}") {
                if let Ok(parts) = split(&s) {
                    prop_assert_eq!(parts.signature.len(), SIGNATURE_LEN);
                    prop_assert!(s.starts_with(parts.signing_input));
                }
            }

            /// Three base64url parts, the last a 64-byte signature's 86 characters, with one to
            /// three characters put in, changed or taken out: strings on both sides of `split`'s
            /// rules, which a random string of the alphabet almost never reaches. What it takes
            /// has a 64-byte signature and the text before the last dot as its signing input.
            #[test]
            fn splitting_edited_tokens_keeps_to_the_form(
                header in "[A-Za-z0-9_-]{2,40}",
                payload in "[A-Za-z0-9_-]{2,60}",
                signature in "[A-Za-z0-9_-]{85}[AQgw]",
                edits in proptest::collection::vec((0..3u8, any::<proptest::sample::Index>(), "[A-Za-z0-9_.=+/-]"), 1..4),
            ) {
                let s = crate::edited(&(header + "." + &payload + "." + &signature), edits);
                if let Ok(parts) = split(&s) {
                    prop_assert_eq!(parts.signature.len(), SIGNATURE_LEN);
                    let input = parts.signing_input;
                    prop_assert!(s.starts_with(input) && s[input.len()..].starts_with('.'));
                    prop_assert_eq!(s[input.len() + 1..].matches('.').count(), 0);
                }
            }

            #[test]
            fn split_matches_its_earlier_form_on_token_shaped_strings(
                s in "[A-Za-z0-9_.=-]{0,200}",
                head in "[A-Za-z0-9_.=-]{0,12}",
                tail in "[A-Za-z0-9_.=-]{0,12}",
            ) {
                prop_assert_eq!(split(&s), super::split_earlier(&s));
                let t = head + "." + &"A".repeat(86) + &tail;
                prop_assert_eq!(split(&t), super::split_earlier(&t));
            }

            #[test]
            fn split_returns_what_was_encoded(
                header in proptest::collection::vec(any::<u8>(), 1..100),
                payload in proptest::collection::vec(any::<u8>(), 1..500),
                signature in proptest::collection::vec(any::<u8>(), 64..=64),
            ) {
                let input = encode(&header) + "." + &encode(&payload);
                let t = input.clone() + "." + &encode(&signature);
                let parts = split(&t).unwrap();
                prop_assert_eq!(parts.signing_input, input.as_str());
                prop_assert_eq!(parts.header, header);
                prop_assert_eq!(parts.payload, payload);
                prop_assert_eq!(parts.signature, signature);
            }

            #[test]
            fn times_never_panic(
                exp in proptest::option::of(any::<f64>()),
                nbf in proptest::option::of(any::<f64>()),
                now_ms in any::<i64>(),
                leeway_s in any::<i64>(),
            ) {
                let _ = times(exp, nbf, now_ms, leeway_s);
            }

            #[test]
            fn a_token_is_valid_in_its_window(
                nbf in 0i64..4_000_000_000,
                life in 1i64..1_000_000,
                at in 0.0f64..1.0,
            ) {
                let exp = nbf + life;
                let now_ms = nbf * 1000 + (at * (life * 1000) as f64) as i64;
                prop_assert_eq!(times(Some(exp as f64), Some(nbf as f64), now_ms, 0), Ok(()));
                prop_assert_eq!(
                    times(Some(exp as f64), Some(nbf as f64), exp * 1000, 0),
                    Err(TokenError::Expired)
                );
                prop_assert_eq!(
                    times(Some(exp as f64), Some(nbf as f64), nbf * 1000 - 1, 0),
                    Err(TokenError::NotYetValid)
                );
            }
        }
    }
}
