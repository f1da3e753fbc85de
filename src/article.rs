//! Which article a page is: an explicit id, else its canonical or page URL normalised, hashed to an [`ArticleKey`].

/// A reader's article, hashed: the stored record holds only this, never a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArticleKey(pub u32);

/// Where the key came from, for the decision's reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The publisher's explicit article id (attribute or config).
    Id,
    /// The page's `<link rel="canonical">` URL.
    Canonical,
    /// The page's own URL.
    Url,
}

/// FNV-1a offset basis and prime, 32-bit (<http://www.isthe.com/chongo/tech/comp/fnv/>).
const FNV_OFFSET_BASIS: u32 = 2_166_136_261;
const FNV_PRIME: u32 = 16_777_619;

/// FNV-1a, 32-bit, over `bytes` (offset basis 2166136261, prime 16777619).
///
/// Fixed and documented, never to change: every stored record holds keys made by it, so a
/// different hash would reset every reader's meter. It is not for secrecy, only for a short,
/// stable key; a rare collision merely lets two articles count once.
///
/// # Examples
///
/// ```
/// use meterwall::article::fnv1a32;
/// assert_eq!(fnv1a32(b""), 0x811c_9dc5);
/// assert_eq!(fnv1a32(b"a"), 0xe40c_292c);
/// assert_eq!(fnv1a32(b"foobar"), 0xbf9c_f968);
/// ```
pub const fn fnv1a32(bytes: &[u8]) -> u32 {
    fnv_feed(FNV_OFFSET_BASIS, bytes)
}

/// Continues an FNV-1a hash with more bytes: feeding "id:" then the id equals hashing `"id:<id>"`,
/// without building that string.
const fn fnv_feed(mut hash: u32, bytes: &[u8]) -> u32 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u32;
        hash = hash.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    hash
}

/// The hashes of the prefixes `"id:"` and `"url:"`, computed as the crate builds: each key's
/// hash continues one, with no call to hash the prefix at run time.
const ID_PREFIX: u32 = fnv1a32(b"id:");
const URL_PREFIX: u32 = fnv1a32(b"url:");

/// Normalises an absolute http(s) URL so that every address of one article gives one string.
///
/// The result is `host[:port]/path[?kept]`:
/// - the scheme is dropped (http and https of one page are one article), the host lower-cased,
///   userinfo dropped, and a default port (`:80` or `:443`, whichever the scheme) removed;
/// - the fragment is dropped, and the query too, except parameters named in `keep_params`
///   (matched exactly; the first of each, in `keep_params`' order, whatever the URL's order,
///   as `name=value` joined by `&`); a parameter named `amp` is always dropped;
/// - trailing slashes are folded (`/a/b/` is `/a/b`; an empty path is the root `/`), and so are
///   AMP variants: a trailing `/amp` segment and a leading `/amp/` segment. Path case is kept.
///
/// The input is expected as a browser serialises it (`location.href`, `HTMLLinkElement.href`):
/// already absolute, percent-encoded and free of dot segments; those are not re-done here.
/// Anything that is not an absolute `http://` or `https://` URL with a host gives `None`.
///
/// # Examples
///
/// ```
/// use meterwall::article::normalise_url;
/// assert_eq!(
///     normalise_url("https://News.Example.com:443/World/x/amp/?page=2&utm_source=t#top", &["page"]).as_deref(),
///     Some("news.example.com/World/x?page=2"),
/// );
/// assert_eq!(normalise_url("http://example.com", &[]).as_deref(), Some("example.com/"));
/// assert_eq!(normalise_url("ftp://example.com/a", &[]), None);
/// ```
pub fn normalise_url(url: &str, keep_params: &[&str]) -> Option<String> {
    // The URL standard strips leading and trailing C0 controls and spaces before parsing. All
    // are ASCII, so they are found by byte: a `char` pattern decoded UTF-8 from both ends
    // (67 bytes of wasm, gzip). Nothing but them (an empty URL) is no URL either.
    let bytes = url.as_bytes();
    let start = bytes.iter().position(|&b| b > b' ')?;
    let end = bytes.iter().rposition(|&b| b > b' ')? + 1;
    let url = url.get(start..end)?;
    let rest = strip_prefix_ignore_case(url, "https://")
        .or_else(|| strip_prefix_ignore_case(url, "http://"))?;
    // A '#' ends the URL proper: a '?' after it belongs to the fragment.
    let rest = crate::cut(rest, b'#').map_or(rest, |(before, _)| before);
    let (rest, query) = crate::cut(rest, b'?').unwrap_or((rest, ""));
    // One pass by byte finds where the authority ends (the first '/'), where its host starts
    // (userinfo ends at the last '@', WHATWG URL, authority state, as a password may contain
    // '@') and the colon before a port: the last ':' of the host, after any ']' (an IPv6
    // literal is bracketed and full of colons; a port can only follow the ']').
    let mut host_start = 0;
    let mut authority_end = rest.len();
    let mut colon = None;
    for (i, b) in rest.bytes().enumerate() {
        match b {
            b'/' => {
                authority_end = i;
                break;
            }
            b'@' => {
                host_start = i + 1;
                colon = None;
            }
            b']' => colon = None,
            b':' => colon = Some(i),
            _ => {}
        }
    }
    let (host, path) = (
        rest.get(host_start..colon.unwrap_or(authority_end))?,
        rest.get(authority_end..)?,
    );
    let port = match colon {
        Some(colon) => port(rest.get(colon + 1..authority_end)?)?,
        None => None,
    };
    // Spaces, controls and the URL standard's other forbidden host code points mean this is no URL.
    if host.is_empty()
        || host
            .bytes()
            .any(|b| b <= b' ' || matches!(b, 0x7f | b'<' | b'>' | b'\\' | b'^' | b'|'))
    {
        return None;
    }

    let path = fold_path(path);
    // Grown as it is filled: for a string this short, reserving the parts' sum first costs more
    // code than the few reallocations it saves.
    let mut out = String::new();
    out.push_str(host);
    // Only the host is in `out` so far; hosts compare case-insensitively, paths do not.
    out.make_ascii_lowercase();
    if let Some(port) = port {
        out.push(':');
        crate::config::push_int(&mut out, port.into(), 10);
    }
    out.push_str(if path.is_empty() { "/" } else { path });
    let mut separator = '?';
    // In `keep_params`' order, the first of each: `?id=7&page=2` and `?page=2&id=7&id=7` are
    // one article.
    for &name in keep_params {
        if name.is_empty() || name == "amp" {
            continue;
        }
        let Some(value) = crate::pieces(query, b'&').find_map(|param| {
            let (n, v) = crate::cut(param, b'=').unwrap_or((param, ""));
            (n == name).then_some(v)
        }) else {
            continue;
        };
        out.push(separator);
        out.push_str(name);
        out.push('=');
        out.push_str(value);
        separator = '&';
    }
    Some(out)
}

/// `s` without `prefix`, compared ASCII case-insensitively (schemes are case-insensitive).
fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    // `get`, not indexing: a slicing panic would link string formatting into every download.
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Validates the digits after a host's colon; the port is `None` when empty or a default.
///
/// Both defaults are removed whatever the scheme, because the scheme is dropped too: keeping
/// `:443` on an http URL would make the result differ from the same string read back as https.
fn port(port: &str) -> Option<Option<u16>> {
    let Some(first) = port.bytes().next() else {
        return Some(None);
    };
    // The config's reader checks that every byte is a digit, but takes a leading `+`, which no
    // port has: only the first byte is checked here, not every byte twice.
    if !first.is_ascii_digit() {
        return None;
    }
    // Read as a number, by the config's reader, and written back in decimal: leading zeros do not
    // change a port number ("0080" is port 80, "000" port 0), and a number above 65535 (or too long
    // to read) is not a port. No text of digits to trim and compare.
    let port = u16::try_from(crate::config::int_value(port)?).ok()?;
    Some(Some(port).filter(|&p| p != 80 && p != 443))
}

/// Folds trailing slashes and AMP segments until none is left, so the result is a fixed point
/// (normalising a normalised URL changes nothing). Returns "" for the root.
fn fold_path(mut path: &str) -> &str {
    loop {
        let before = path.len();
        // By byte, not `trim_end_matches(char)` (20 bytes of wasm, gzip): the byte before the
        // trailing slashes ends a character, so the cut is on a boundary.
        let end = path.bytes().rposition(|b| b != b'/').map_or(0, |i| i + 1);
        path = path.get(..end).unwrap_or(path);
        if let Some(p) = path.strip_suffix("/amp") {
            path = p;
        }
        if path.starts_with("/amp/") {
            // Keep the '/' that starts the rest of the path.
            path = path.get(4..).unwrap_or(path);
        }
        if path.len() == before {
            return path;
        }
    }
}

/// The article key of a page: an explicit id first, then the canonical URL, then the page URL.
///
/// An id (trimmed, non-empty) hashes `"id:" + id`; a URL hashes `"url:" + normalise_url(..)`,
/// the prefixes keeping an id from ever colliding by construction with a URL of the same text.
/// A canonical URL that does not normalise (not absolute http(s)) falls back to the page URL.
/// Returns `None` only when nothing usable is given.
///
/// # Examples
///
/// ```
/// use meterwall::article::{article_key, fnv1a32, ArticleKey, KeySource};
/// let page = "https://example.com/world/x/amp?utm_source=t";
/// let (key, source) = article_key(None, Some("https://example.com/world/x"), page, &[]).unwrap();
/// assert_eq!(source, KeySource::Canonical);
/// assert_eq!(key, ArticleKey(fnv1a32(b"url:example.com/world/x")));
/// assert_eq!(article_key(Some(" 42 "), None, page, &[]), Some((ArticleKey(fnv1a32(b"id:42")), KeySource::Id)));
/// assert_eq!(article_key(None, None, "about:blank", &[]), None);
/// ```
pub fn article_key(
    id: Option<&str>,
    canonical: Option<&str>,
    page_url: &str,
    keep_params: &[&str],
) -> Option<(ArticleKey, KeySource)> {
    if let Some(id) = id.map(crate::trim).filter(|id| !id.is_empty()) {
        let hash = fnv_feed(ID_PREFIX, id.as_bytes());
        return Some((ArticleKey(hash), KeySource::Id));
    }
    let url_key = |normalised: String| ArticleKey(fnv_feed(URL_PREFIX, normalised.as_bytes()));
    if let Some(n) = canonical.and_then(|c| normalise_url(c, keep_params)) {
        return Some((url_key(n), KeySource::Canonical));
    }
    normalise_url(page_url, keep_params).map(|n| (url_key(n), KeySource::Url))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the last `byte` is in `s`, as the old `split_port` found its ']' and ':'. The URL
    /// is now scanned forward once, for the authority and its port (24 bytes of wasm, gzip,
    /// less than three of these when the port had its own scan).
    fn last(s: &str, byte: u8) -> Option<usize> {
        s.bytes().rposition(|b| b == byte)
    }

    /// `split_port` as it was before the port's leading zeros were dropped by byte and its colon
    /// found in one forward pass (the authority's scan now finds it, and the port is read as a
    /// number), for `old_normalise_url`.
    fn old_split_port(host_port: &str) -> Option<(&str, Option<&str>)> {
        // An IPv6 literal is bracketed and full of colons; a port can only follow the ']'.
        let search_from = last(host_port, b']').unwrap_or(0);
        let Some(colon) = last(host_port.get(search_from..)?, b':').map(|i| i + search_from) else {
            return Some((host_port, None));
        };
        let (host, port) = (host_port.get(..colon)?, host_port.get(colon + 1..)?);
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Leading zeros do not change a port number: "0080" is port 80.
        let trimmed = port.trim_start_matches('0');
        let port = if trimmed.is_empty() && !port.is_empty() {
            "0"
        } else {
            trimmed
        };
        // More than five digits, or a five-digit number above 65535, is not a port.
        if port.len() > 5 || (port.len() == 5 && port > "65535") {
            return None;
        }
        let port = match port {
            "" | "80" | "443" => None,
            p => Some(p),
        };
        Some((host, port))
    }

    /// `normalise_url` as it was before one pass found the port's colon with the host's start
    /// and the port was read as a number, with its `fold_path` and `split_port`, to compare.
    fn old_normalise_url(url: &str, keep_params: &[&str]) -> Option<String> {
        let bytes = url.as_bytes();
        let start = bytes.iter().position(|&b| b > b' ')?;
        let end = bytes.iter().rposition(|&b| b > b' ')? + 1;
        let url = url.get(start..end)?;
        let rest = strip_prefix_ignore_case(url, "https://")
            .or_else(|| strip_prefix_ignore_case(url, "http://"))?;
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut host_start = 0;
        let mut authority_end = rest.len();
        for (i, b) in rest.bytes().enumerate() {
            if b == b'/' {
                authority_end = i;
                break;
            }
            if b == b'@' {
                host_start = i + 1;
            }
        }
        let (host_port, path) = (
            rest.get(host_start..authority_end)?,
            rest.get(authority_end..)?,
        );
        let (host, port) = old_split_port(host_port)?;
        if host.is_empty()
            || host
                .bytes()
                .any(|b| b <= b' ' || b == 0x7f || b"<>\\^|".contains(&b))
        {
            return None;
        }
        let path = old_fold_path(path);
        let mut out = String::with_capacity(host_port.len() + path.len() + query.len() + 2);
        out.push_str(host);
        out.make_ascii_lowercase();
        if let Some(port) = port {
            out.push(':');
            out.push_str(port);
        }
        out.push_str(if path.is_empty() { "/" } else { path });
        let mut separator = '?';
        for &name in keep_params {
            if name.is_empty() || name == "amp" {
                continue;
            }
            let Some(value) = query.split('&').find_map(|param| {
                let (n, v) = param.split_once('=').unwrap_or((param, ""));
                (n == name).then_some(v)
            }) else {
                continue;
            };
            out.push(separator);
            out.push_str(name);
            out.push('=');
            out.push_str(value);
            separator = '&';
        }
        Some(out)
    }

    fn old_fold_path(mut path: &str) -> &str {
        loop {
            let before = path.len();
            let end = path.bytes().rposition(|b| b != b'/').map_or(0, |i| i + 1);
            path = path.get(..end).unwrap_or(path);
            if let Some(p) = path.strip_suffix("/amp") {
                path = p;
            }
            if let Some(p) = path.strip_prefix("/amp/") {
                path = path.get(path.len() - p.len() - 1..).unwrap_or(path);
            }
            if path.len() == before {
                return path;
            }
        }
    }

    #[test]
    fn one_scan_of_the_authority_and_a_numeric_port_match_the_old_normaliser() {
        let same = |url: &str| {
            for keep in [&[][..], &["page", "id"], &["amp", "", "x"]] {
                assert_eq!(
                    normalise_url(url, keep),
                    old_normalise_url(url, keep),
                    "{url:?} {keep:?}"
                );
            }
        };
        // Every authority of up to six characters from these: hosts, brackets, colons,
        // userinfo, ports with and without zeros, and what is not a digit.
        let chars = ["0", "4", "5", "6", "8", "o", ":", "[", "]", "@", "A"];
        let texts = crate::every_text(&chars, 6);
        assert!(texts.len() > 1_000_000);
        let long = [
            "example.com:00000080",
            "[::1]:000443",
            "[::1]:0065535",
            "[::1]:0065536",
            "h:000000",
            "h:00000000000000000000",
            "u:p@[::1]:8080",
            "u@h:99999999999",
            "h:4294967296",
            "h:4294967376",
        ];
        for text in texts.iter().map(String::as_str).chain(long) {
            let url = format!("http://{text}");
            assert_eq!(
                normalise_url(&url, &[]),
                old_normalise_url(&url, &[]),
                "{url:?}"
            );
        }
        // And every path, query and fragment of up to five pieces after a host and port.
        let pieces = [
            "/", "amp", "/amp", "a", "?", "#", "&", "=", "page", "id", "@", ":",
        ];
        for text in crate::every_text(&pieces, 5) {
            same(&format!("HTTPS://u:p@Example.COM:0080{text}"));
            same(&format!(" https://h{text}\n"));
        }
    }

    #[test]
    fn ports_checked_by_their_first_byte_match_the_old_normaliser() {
        // Every port of up to four characters from these, signs and other bytes among digits.
        let chars = ["0", "8", "4", "+", "-", " ", "a", "/"];
        for port in crate::every_text(&chars, 4) {
            for url in [
                format!("http://h:{port}"),
                format!("https://u@[::1]:{port}/p"),
            ] {
                assert_eq!(
                    normalise_url(&url, &[]),
                    old_normalise_url(&url, &[]),
                    "{url:?}"
                );
            }
        }
    }

    fn norm(url: &str) -> Option<String> {
        normalise_url(url, &["page", "id"])
    }

    fn key(url: &str) -> ArticleKey {
        article_key(None, None, url, &["page", "id"])
            .expect("usable URL")
            .0
    }

    #[test]
    fn fnv_known_vectors() {
        assert_eq!(fnv1a32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a32(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn fnv_feed_equals_hash_of_concatenation() {
        assert_eq!(fnv_feed(fnv1a32(b"foo"), b"bar"), fnv1a32(b"foobar"));
    }

    #[test]
    fn scheme_is_dropped() {
        assert_eq!(norm("http://example.com/a"), norm("https://example.com/a"));
        assert_eq!(
            norm("HTTPS://example.com/a").as_deref(),
            Some("example.com/a")
        );
    }

    #[test]
    fn host_is_lower_cased() {
        assert_eq!(
            norm("https://WWW.Example.COM/a").as_deref(),
            Some("www.example.com/a")
        );
    }

    #[test]
    fn default_ports_are_removed() {
        assert_eq!(
            norm("http://example.com:80/a").as_deref(),
            Some("example.com/a")
        );
        assert_eq!(
            norm("https://example.com:443/a").as_deref(),
            Some("example.com/a")
        );
        assert_eq!(
            norm("https://example.com:/a").as_deref(),
            Some("example.com/a")
        );
        assert_eq!(
            norm("https://example.com:0443/a").as_deref(),
            Some("example.com/a")
        );
        assert_eq!(
            norm("https://example.com:8080/a").as_deref(),
            Some("example.com:8080/a")
        );
        assert_eq!(
            norm("https://example.com:0/a").as_deref(),
            Some("example.com:0/a")
        );
        assert_eq!(
            norm("https://example.com:65535/a").as_deref(),
            Some("example.com:65535/a")
        );
    }

    #[test]
    fn bad_ports_are_not_urls() {
        assert_eq!(norm("https://example.com:65536/a"), None);
        assert_eq!(norm("https://example.com:123456/a"), None);
        assert_eq!(norm("https://example.com:8o/a"), None);
    }

    #[test]
    fn ipv6_hosts_keep_their_colons() {
        assert_eq!(norm("http://[::1]/a").as_deref(), Some("[::1]/a"));
        assert_eq!(norm("http://[::1]:80/a").as_deref(), Some("[::1]/a"));
        assert_eq!(
            norm("http://[2001:DB8::1]:8080/a").as_deref(),
            Some("[2001:db8::1]:8080/a")
        );
    }

    #[test]
    fn userinfo_is_dropped() {
        assert_eq!(
            norm("https://user:p@ss@example.com/a").as_deref(),
            Some("example.com/a")
        );
        assert_eq!(norm("https://user@/a"), None);
    }

    #[test]
    fn fragment_is_dropped() {
        assert_eq!(
            norm("https://example.com/a#comments").as_deref(),
            Some("example.com/a")
        );
        // A '?' inside the fragment is not a query.
        assert_eq!(
            norm("https://example.com/a#x?page=2").as_deref(),
            Some("example.com/a")
        );
    }

    #[test]
    fn unlisted_query_params_are_dropped() {
        assert_eq!(
            norm("https://example.com/a?utm_source=x&page=2&fbclid=y&id=7").as_deref(),
            Some("example.com/a?page=2&id=7"),
        );
        assert_eq!(
            norm("https://example.com/a?utm_source=x").as_deref(),
            Some("example.com/a")
        );
        assert_eq!(
            norm("https://example.com?page=3").as_deref(),
            Some("example.com/?page=3")
        );
    }

    #[test]
    fn kept_params_take_the_configured_order_and_shape() {
        assert_eq!(
            norm("https://example.com/a?id=7&&page&page=2").as_deref(),
            norm("https://example.com/a?page=&id=7").as_deref(),
        );
        assert_eq!(
            norm("https://example.com/a?page=2&x=1&id=7").as_deref(),
            norm("https://example.com/a?id=7&page=2&page=3").as_deref(),
            "one article, whatever the order or repeats"
        );
        assert_eq!(
            norm("https://example.com/a?id=7&page=2").as_deref(),
            Some("example.com/a?page=2&id=7")
        );
        // Names match exactly: no case folding, no prefix matching.
        assert_eq!(
            norm("https://example.com/a?Page=2&pages=3").as_deref(),
            Some("example.com/a")
        );
    }

    #[test]
    fn amp_query_param_is_always_dropped() {
        assert_eq!(
            normalise_url("https://example.com/a?amp=1", &["amp"]).as_deref(),
            Some("example.com/a")
        );
        assert_eq!(
            norm("https://example.com/a?amp").as_deref(),
            Some("example.com/a")
        );
    }

    #[test]
    fn trailing_slash_folds() {
        assert_eq!(
            norm("https://example.com/a/b/"),
            norm("https://example.com/a/b")
        );
        assert_eq!(
            norm("https://example.com/a/b//").as_deref(),
            Some("example.com/a/b")
        );
    }

    #[test]
    fn empty_path_is_root() {
        assert_eq!(norm("https://example.com").as_deref(), Some("example.com/"));
        assert_eq!(
            norm("https://example.com/").as_deref(),
            Some("example.com/")
        );
        assert_eq!(
            norm("https://example.com///").as_deref(),
            Some("example.com/")
        );
        assert_eq!(
            norm("https://example.com#x").as_deref(),
            Some("example.com/")
        );
    }

    #[test]
    fn amp_suffix_folds_into_article() {
        assert_eq!(
            norm("https://example.com/world/x/amp").as_deref(),
            Some("example.com/world/x")
        );
        assert_eq!(
            norm("https://example.com/world/x/amp/").as_deref(),
            Some("example.com/world/x")
        );
    }

    #[test]
    fn amp_prefix_folds_into_article() {
        assert_eq!(
            norm("https://example.com/amp/world/x").as_deref(),
            Some("example.com/world/x")
        );
        assert_eq!(
            norm("https://example.com/amp/world/x/amp").as_deref(),
            Some("example.com/world/x")
        );
    }

    #[test]
    fn amp_inside_words_or_middle_segments_is_kept() {
        assert_eq!(
            norm("https://example.com/world/camp").as_deref(),
            Some("example.com/world/camp")
        );
        assert_eq!(
            norm("https://example.com/ampere/x").as_deref(),
            Some("example.com/ampere/x")
        );
        assert_eq!(
            norm("https://example.com/a/amp/b").as_deref(),
            Some("example.com/a/amp/b")
        );
        assert_eq!(
            norm("https://example.com/world/AMP").as_deref(),
            Some("example.com/world/AMP")
        );
    }

    #[test]
    fn path_case_is_kept() {
        assert_ne!(
            norm("https://example.com/World"),
            norm("https://example.com/world")
        );
    }

    #[test]
    fn surrounding_spaces_are_ignored() {
        assert_eq!(
            norm("  https://example.com/a\n").as_deref(),
            Some("example.com/a")
        );
    }

    #[test]
    fn non_http_urls_are_rejected() {
        for bad in [
            "",
            "example.com/a",
            "/a/b",
            "//example.com/a",
            "ftp://example.com/a",
            "file:///tmp/a",
            "about:blank",
            "javascript:alert(1)",
            "data:text/html,x",
            "https://",
            "https:///a",
            "https://?a",
            "https:example.com",
            "https://exa mple.com/",
            "httpx://example.com",
            "https://ex<ample.com/",
        ] {
            assert_eq!(norm(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn non_ascii_input_does_not_panic() {
        assert_eq!(
            norm("https://exämple.com/ü").as_deref(),
            Some("exämple.com/ü")
        );
        assert_eq!(norm("ħttps://example.com"), None);
        assert_eq!(norm("httpsé"), None);
    }

    #[test]
    fn id_beats_canonical_beats_url() {
        let page = "https://example.com/page";
        let canonical = "https://example.com/canonical";
        let (k_id, s_id) = article_key(Some("A-1"), Some(canonical), page, &[]).unwrap();
        assert_eq!(s_id, KeySource::Id);
        assert_eq!(k_id, ArticleKey(fnv1a32(b"id:A-1")));
        let (k_c, s_c) = article_key(None, Some(canonical), page, &[]).unwrap();
        assert_eq!(s_c, KeySource::Canonical);
        assert_eq!(k_c, ArticleKey(fnv1a32(b"url:example.com/canonical")));
        let (k_u, s_u) = article_key(None, None, page, &[]).unwrap();
        assert_eq!(s_u, KeySource::Url);
        assert_eq!(k_u, ArticleKey(fnv1a32(b"url:example.com/page")));
    }

    #[test]
    fn blank_id_falls_through() {
        let page = "https://example.com/page";
        assert_eq!(
            article_key(Some("  "), None, page, &[]).unwrap().1,
            KeySource::Url
        );
        assert_eq!(
            article_key(Some(""), None, page, &[]).unwrap().1,
            KeySource::Url
        );
        assert_eq!(
            article_key(Some("\t42\n"), None, page, &[]),
            article_key(Some("42"), None, page, &[]),
        );
    }

    #[test]
    fn canonical_that_is_not_http_falls_back_to_page_url() {
        let page = "https://example.com/page";
        for canonical in [
            "",
            "/relative",
            "ftp://example.com/x",
            "android-app://com.example/x",
        ] {
            let (k, s) = article_key(None, Some(canonical), page, &[]).unwrap();
            assert_eq!(s, KeySource::Url, "{canonical:?}");
            assert_eq!(k, key(page));
        }
    }

    #[test]
    fn canonical_and_page_url_of_same_article_share_a_key() {
        let (k, _) = article_key(
            None,
            Some("https://example.com/x"),
            "https://example.com/x",
            &[],
        )
        .unwrap();
        assert_eq!(k, key("http://EXAMPLE.com/amp/x/?utm_campaign=z#top"));
    }

    #[test]
    fn nothing_usable_is_none() {
        assert_eq!(article_key(None, None, "", &[]), None);
        assert_eq!(
            article_key(Some(" "), Some("about:blank"), "file:///a", &[]),
            None
        );
    }

    #[test]
    fn id_and_url_with_same_text_differ() {
        let (by_id, _) = article_key(Some("example.com/a"), None, "", &[]).unwrap();
        assert_ne!(by_id, key("https://example.com/a"));
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::super::*;
        use proptest::prelude::*;

        const KEEP: &[&str] = &["page", "id"];

        /// A generated URL, in parts, so tests can add a fragment, slash or parameter in the right place.
        #[derive(Clone, Debug)]
        struct Parts {
            scheme: &'static str,
            userinfo: Option<String>,
            host: String,
            port: Option<u32>,
            path: String,
            params: Vec<(String, Option<String>)>,
            fragment: Option<String>,
        }

        impl Parts {
            fn url(&self) -> String {
                let mut s = String::from(self.scheme);
                if let Some(u) = &self.userinfo {
                    s.push_str(u);
                    s.push('@');
                }
                s.push_str(&self.host);
                if let Some(p) = self.port {
                    s.push(':');
                    s.push_str(&p.to_string());
                }
                s.push_str(&self.path);
                for (i, (name, value)) in self.params.iter().enumerate() {
                    s.push(if i == 0 { '?' } else { '&' });
                    s.push_str(name);
                    if let Some(v) = value {
                        s.push('=');
                        s.push_str(v);
                    }
                }
                if let Some(f) = &self.fragment {
                    s.push('#');
                    s.push_str(f);
                }
                s
            }
        }

        fn segment() -> impl Strategy<Value = String> {
            prop_oneof![
                "[A-Za-z0-9._~%!$'()*+,;=:@-]{0,8}",
                Just("amp".to_string()),
                Just(String::new()),
            ]
        }

        fn param_name() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("page".to_string()),
                Just("id".to_string()),
                Just("amp".to_string()),
                Just("utm_source".to_string()),
                "[a-zA-Z_]{0,6}",
            ]
        }

        fn parts() -> impl Strategy<Value = Parts> {
            (
                prop_oneof![Just("http://"), Just("https://"), Just("HTTPS://")],
                proptest::option::of("[a-z:]{0,6}"),
                "[a-zA-Z0-9-]{1,10}(\\.[a-zA-Z0-9-]{1,10}){0,2}",
                proptest::option::of(prop_oneof![Just(80u32), Just(443), 0u32..=65535]),
                proptest::collection::vec(segment(), 0..5),
                any::<bool>(),
                proptest::collection::vec(
                    (param_name(), proptest::option::of("[A-Za-z0-9%+=-]{0,5}")),
                    0..4,
                ),
                proptest::option::of("[A-Za-z0-9?#/&=]{0,6}"),
            )
                .prop_map(
                    |(scheme, userinfo, host, port, segs, trailing, params, fragment)| {
                        let mut path = String::new();
                        for s in &segs {
                            path.push('/');
                            path.push_str(s);
                        }
                        if trailing {
                            path.push('/');
                        }
                        Parts {
                            scheme,
                            userinfo,
                            host,
                            port,
                            path,
                            params,
                            fragment,
                        }
                    },
                )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(10_000))]

            #[test]
            fn generated_urls_normalise(p in parts()) {
                prop_assert!(normalise_url(&p.url(), KEEP).is_some(), "{}", p.url());
            }

            #[test]
            fn normalisation_is_idempotent(p in parts()) {
                let once = normalise_url(&p.url(), KEEP).unwrap();
                for scheme in ["https://", "http://"] {
                    let twice = normalise_url(&(scheme.to_string() + &once), KEEP);
                    prop_assert_eq!(twice.as_deref(), Some(once.as_str()));
                }
            }

            #[test]
            fn fragment_never_changes_key(p in parts(), frag in "[A-Za-z0-9?#/&=]{0,8}") {
                let mut with = p.clone();
                with.fragment = Some(frag);
                let mut without = p;
                without.fragment = None;
                prop_assert_eq!(
                    article_key(None, None, &with.url(), KEEP),
                    article_key(None, None, &without.url(), KEEP)
                );
            }

            #[test]
            fn trailing_slash_never_changes_key(p in parts()) {
                let mut slashed = p.clone();
                slashed.path.push('/');
                prop_assert_eq!(
                    article_key(None, None, &slashed.url(), KEEP),
                    article_key(None, None, &p.url(), KEEP)
                );
            }

            #[test]
            fn unlisted_param_never_changes_key(
                p in parts(),
                name in "(utm_[a-z]{1,5}|fbclid|gclid|amp|ref)",
                value in proptest::option::of("[A-Za-z0-9]{0,6}"),
                at in any::<proptest::sample::Index>(),
            ) {
                let mut extra = p.clone();
                let i = at.index(extra.params.len() + 1);
                extra.params.insert(i, (name, value));
                prop_assert_eq!(
                    article_key(None, None, &extra.url(), KEEP),
                    article_key(None, None, &p.url(), KEEP)
                );
            }

            #[test]
            fn normalise_never_panics(s in "\\PC{0,40}", keep in "[a-z]{0,3}") {
                let _ = normalise_url(&s, &[keep.as_str()]);
                let _ = normalise_url(&("https://".to_string() + &s), &[keep.as_str()]);
            }

            #[test]
            fn article_key_never_panics(
                id in proptest::option::of("\\PC{0,10}"),
                canonical in proptest::option::of("\\PC{0,20}"),
                page in "\\PC{0,20}",
            ) {
                let _ = article_key(id.as_deref(), canonical.as_deref(), &page, KEEP);
            }
        }
    }
}
