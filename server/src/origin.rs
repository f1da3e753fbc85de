//! Which pages may post a signup: the Origin allow-list and the Fetch Metadata check.

use axum::http::header::{HOST, ORIGIN};
use axum::http::HeaderMap;

/// Why a request was refused before its body was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `Origin` header: not a browser `fetch` from a page (browsers always send it on POST).
    MissingOrigin,
    /// An `Origin` that is neither this site nor on the allow-list.
    ForeignOrigin,
    /// `Sec-Fetch-Site: cross-site` from an origin that is not on the allow-list.
    CrossSite,
}

impl Refusal {
    /// The reason as logged.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::MissingOrigin => "missing Origin",
            Self::ForeignOrigin => "Origin not allowed",
            Self::CrossSite => "Sec-Fetch-Site cross-site",
        }
    }
}

/// Decides whether the page that sent this request may sign readers up.
///
/// The request's `Origin` must be on `allowed` (compared without a trailing slash), or be this
/// site itself: its host and port equal the request's `Host`. A browser sets both headers and a
/// page cannot forge them, so another site cannot post signups through its readers' browsers.
/// `Sec-Fetch-Site: cross-site` (Fetch Metadata, <https://www.w3.org/TR/fetch-metadata/>) is refused
/// unless the origin is allow-listed: a same-origin match by `Host` alone is not trusted for it.
pub(crate) fn check(headers: &HeaderMap, allowed: &[String]) -> Result<(), Refusal> {
    let origin = headers
        .get(ORIGIN)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim_end_matches('/'))
        .filter(|value| !value.is_empty() && *value != "null")
        .ok_or(Refusal::MissingOrigin)?;
    let listed = allowed
        .iter()
        .any(|entry| entry.trim_end_matches('/').eq_ignore_ascii_case(origin));
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("cross-site"));
    if cross_site && !listed {
        return Err(Refusal::CrossSite);
    }
    if listed || same_origin(origin, headers) {
        Ok(())
    } else {
        Err(Refusal::ForeignOrigin)
    }
}

/// An allow-list entry in the form browsers send `Origin`: `http(s)://host[:port]`, lower case,
/// no trailing slash, no default port (browsers leave `:443` and `:80` out). `None` if it is not
/// an origin (a path, a query, another scheme, spaces) or its host is not ASCII (browsers send
/// such a host in punycode, which the entry must then be written in).
pub(crate) fn normalize(entry: &str) -> Option<String> {
    let origin = entry.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://")?;
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    let valid = !authority.is_empty()
        && authority.is_ascii()
        && !authority.contains(['/', '?', '#', '@'])
        && !authority.chars().any(char::is_whitespace);
    valid.then(|| format!("{scheme}://{authority}"))
}

/// `origin` is `scheme://host[:port]`; the page is this site when `host[:port]` is the `Host` it asked.
fn same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(HOST).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return false,
    };
    // Browsers omit the default port from Origin but some clients keep it in Host (RFC 6454 §6.1).
    let strip = |value: &str| {
        value
            .strip_suffix(default_port)
            .unwrap_or(value)
            .to_ascii_lowercase()
    };
    strip(authority) == strip(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_site_itself_may_post() {
        let h = headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert_eq!(check(&h, &[]), Ok(()));
        let h = headers(&[
            ("origin", "https://news.example"),
            ("host", "news.example:443"),
        ]);
        assert_eq!(check(&h, &[]), Ok(()));
    }

    #[test]
    fn another_site_may_not() {
        let h = headers(&[("origin", "http://evil.example"), ("host", "news.example")]);
        assert_eq!(check(&h, &[]), Err(Refusal::ForeignOrigin));
        let h = headers(&[
            ("origin", "http://news.example:8080"),
            ("host", "news.example"),
        ]);
        assert_eq!(check(&h, &[]), Err(Refusal::ForeignOrigin));
    }

    #[test]
    fn an_allow_listed_origin_may_post_cross_site() {
        let allowed = vec!["https://www.news.example/".to_owned()];
        let h = headers(&[
            ("origin", "https://www.news.example"),
            ("host", "signup.news.example"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert_eq!(check(&h, &allowed), Ok(()));
    }

    #[test]
    fn cross_site_fetches_need_the_allow_list() {
        let h = headers(&[
            ("origin", "http://news.example"),
            ("host", "news.example"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert_eq!(check(&h, &[]), Err(Refusal::CrossSite));
    }

    #[test]
    fn allow_list_entries_are_origins() {
        assert_eq!(
            normalize(" HTTPS://News.Example:8443/ ").as_deref(),
            Some("https://news.example:8443")
        );
        assert_eq!(normalize("https://news.example/articles"), None);
        assert_eq!(normalize("news.example"), None);
        assert_eq!(normalize("ftp://news.example"), None);
        assert_eq!(normalize("https://"), None);
        // Browsers leave the default port out of `Origin`, so an entry that names it would
        // never match.
        assert_eq!(
            normalize("https://www.news.example:443").as_deref(),
            Some("https://www.news.example")
        );
        assert_eq!(
            normalize("http://news.example:80/").as_deref(),
            Some("http://news.example")
        );
        assert_eq!(
            normalize("http://news.example:8080").as_deref(),
            Some("http://news.example:8080")
        );
        assert_eq!(
            normalize("https://nouvelles.exemple.fr").as_deref(),
            Some("https://nouvelles.exemple.fr")
        );
        assert_eq!(
            normalize("https://société.example"),
            None,
            "punycode, as browsers send it"
        );
    }

    #[test]
    fn no_origin_or_an_opaque_one_is_refused() {
        let h = headers(&[("host", "news.example")]);
        assert_eq!(check(&h, &[]), Err(Refusal::MissingOrigin));
        let h = headers(&[("origin", "null"), ("host", "news.example")]);
        assert_eq!(check(&h, &[]), Err(Refusal::MissingOrigin));
    }
}
