//! When to send a signup again: which answers are final, and how long to wait before a retry.

/// What an answer (or its absence) means for the submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx with a JSON answer, or 204: the reader is registered.
    Accepted,
    /// A network error, a timeout (ours, or the server's 408), 5xx or 429: worth another
    /// attempt, after `after_ms` if the server said (`Retry-After`).
    Retry {
        /// The server's `Retry-After`, in ms.
        after_ms: Option<u32>,
    },
    /// Any other 4xx: refused, and trying again at once would not help ([`refusal`] says
    /// whose the refusal is).
    Refused,
    /// 2xx with a body that is not JSON: not the signup service's answer but a page (a redirect
    /// the browser followed, a site's catch-all route), which took nothing.
    NotTheService,
}

/// Classifies an HTTP status (`None`: no answer at all), whether its body is JSON, and its
/// `Retry-After` header.
///
/// # Examples
///
/// ```
/// use meterwall::retry::{classify, Outcome};
/// assert_eq!(classify(Some(201), true, None), Outcome::Accepted);
/// assert_eq!(classify(Some(200), false, None), Outcome::NotTheService);
/// assert_eq!(classify(Some(429), false, Some("2")), Outcome::Retry { after_ms: Some(2000) });
/// assert_eq!(classify(None, false, None), Outcome::Retry { after_ms: None });
/// assert_eq!(classify(Some(400), true, None), Outcome::Refused);
/// ```
pub fn classify(status: Option<u16>, json: bool, retry_after: Option<&str>) -> Outcome {
    match status {
        Some(204) => Outcome::Accepted,
        Some(200..=299) if json => Outcome::Accepted,
        Some(200..=299) => Outcome::NotTheService,
        // 408: the server gave up waiting for the request (RFC 9110 §15.5.9); the same
        // submission, sent again with its key, is answered as the first was if it was stored.
        None | Some(408) | Some(429) | Some(500..=599) => Outcome::Retry {
            after_ms: retry_after.and_then(retry_after_ms),
        },
        Some(_) => Outcome::Refused,
    }
}

/// Whose a refusal ([`Outcome::Refused`]) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 400, 409 or 422: this submission (the address, a bot's trap, one already taken). The
    /// server's sentence is the reader's; the submission is dropped, and the publisher told
    /// nothing.
    Submission,
    /// 401, 403, 404, 405, 410, 413 or 415: the endpoint or the service's setup, which refuses
    /// every reader. Told to the publisher; the submission is kept for a reload.
    Setup,
    /// Any other 4xx: told to the publisher; the submission is dropped.
    Other,
}

/// Whose the refusal with `status` is.
///
/// # Examples
///
/// ```
/// use meterwall::retry::{refusal, Refusal};
/// assert_eq!(refusal(422), Refusal::Submission);
/// assert_eq!(refusal(403), Refusal::Setup);
/// assert_eq!(refusal(406), Refusal::Other);
/// ```
pub fn refusal(status: u16) -> Refusal {
    match status {
        400 | 409 | 422 => Refusal::Submission,
        401 | 403 | 404 | 405 | 410 | 413 | 415 => Refusal::Setup,
        _ => Refusal::Other,
    }
}

/// `Retry-After` in delay-seconds form (RFC 9110 §10.2.3), as ms. The HTTP-date form is not
/// read: without a trustworthy clock it is no better than our own backoff. More seconds than a
/// `u32` holds are more than the widget waits: saturated, not ignored.
fn retry_after_ms(value: &str) -> Option<u32> {
    let value = crate::trim(value);
    let seconds = match crate::config::int_value(value) {
        Some(seconds) => seconds,
        None if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => u32::MAX,
        None => return None,
    };
    Some(seconds.saturating_mul(1000))
}

/// The longest wait the widget accepts before giving up on automatic retries; a server asking
/// for more is answered by the reader trying again later.
pub const MAX_WAIT_MS: u32 = 30_000;

/// How long to wait before attempt `attempt + 1`, after `attempt` failed (1-based):
/// exponential backoff from `base_ms` with "equal jitter" (half fixed, half random, so clients
/// that failed together do not retry together), at most [`MAX_WAIT_MS`], or the server's
/// `Retry-After` when it gave one. `None` when the server asks for longer than
/// [`MAX_WAIT_MS`]. `random` is in `[0, 1)`.
///
/// # Examples
///
/// ```
/// use meterwall::retry::delay_ms;
/// assert_eq!(delay_ms(1, 1000, 0.0, None), Some(500));
/// assert_eq!(delay_ms(3, 1000, 0.999, None), Some(3998));
/// assert_eq!(delay_ms(1, 1000, 0.5, Some(2000)), Some(2000));
/// assert_eq!(delay_ms(1, 1000, 0.5, Some(120_000)), None);
/// // The backoff itself stops growing at 30 s: every configured attempt is made.
/// assert_eq!(delay_ms(9, 1000, 0.0, None), Some(30_000));
/// ```
pub fn delay_ms(attempt: u32, base_ms: u32, random: f64, retry_after: Option<u32>) -> Option<u32> {
    let wait = match retry_after {
        Some(ms) => ms,
        None => {
            let ceiling = base_ms.saturating_mul(1u32 << attempt.clamp(1, 16).saturating_sub(1));
            let half = ceiling / 2;
            let wait = half + (f64::from(ceiling - half) * random.clamp(0.0, 0.999_999)) as u32;
            return Some(wait.min(MAX_WAIT_MS));
        }
    };
    (wait <= MAX_WAIT_MS).then_some(wait)
}

/// A submission kept in sessionStorage (never localStorage) until the server accepts it, so a
/// reload or a lost connection loses nothing:
/// `5|<newsletter 0 or 1>|<told 0 to 3>|<elapsed ms>|<article>|<idempotency key>|<email>`
/// (elapsed ms and article empty when unknown). The older forms are read too:
/// `4|<newsletter>|<reported 0 or 1>|…` as version 5, a `1` there read as told of every kind of
/// trouble (version 4 did not say which); `3|<newsletter>|<elapsed ms>|<article>|<key>|<email>`,
/// `2|<newsletter>|<elapsed ms>|<key>|<email>` and `1|<newsletter>|<key>|<email>`, as told of
/// nothing, the last without the time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The address as validated.
    pub email: String,
    /// The reader's newsletter choice.
    pub newsletter: bool,
    /// Names this submission to the server across retries and reloads.
    pub key: String,
    /// How long the reader took, from the prompt's appearance to the submit (the server's
    /// check against bots); kept, so that a resend after a reload, moments after the new
    /// prompt appeared, still tells the reader's time.
    pub elapsed_ms: Option<u32>,
    /// The article the reader submitted on (its key): theirs once the answer comes, whichever
    /// page it comes to.
    pub article: Option<u32>,
    /// The kinds of trouble with this submission the publisher has been told of
    /// (`meterwall:error`), as bits ([`TOLD_SERVER`], [`TOLD_REFUSAL`]): kept, so that the
    /// reader's next try or a reload does not tell the same trouble again, while another kind
    /// (a refusal after a server error) is still told.
    pub told: u8,
}

/// [`Pending::told`]: the service was not reached, or answered with a server error (a retry
/// followed, or the tries ended).
pub const TOLD_SERVER: u8 = 1;
/// [`Pending::told`]: the endpoint or the service refused the submission for a fault of its own
/// (a 403, 404, or another status that is not the reader's), or answered with a page rather than
/// the service's JSON.
pub const TOLD_REFUSAL: u8 = 2;

impl Pending {
    /// The stored form.
    pub fn encode(&self) -> String {
        let mut out = String::from("5|");
        out.push_str(if self.newsletter { "1|" } else { "0|" });
        out.push(char::from(b'0' + (self.told & 3)));
        out.push('|');
        if let Some(ms) = self.elapsed_ms {
            crate::config::push_int(&mut out, ms.into(), 10);
        }
        out.push('|');
        if let Some(article) = self.article {
            crate::config::push_int(&mut out, article.into(), 10);
        }
        out.push('|');
        out.push_str(&self.key);
        out.push('|');
        out.push_str(&self.email);
        out
    }

    /// Whether `text` is the stored form of a later version than this one reads (its version, the
    /// number it starts with, is 6 to 9 before the `|`, or has two digits or more): a submission a
    /// newer meterwall left during a rollout or a rollback, which this one leaves as it is rather
    /// than drop with its address.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::retry::Pending;
    /// assert!(Pending::newer("6|0|k1|a@b.c"));
    /// assert!(Pending::newer("12|whatever"));
    /// assert!(!Pending::newer("5|0|0|||k1|a@b.c"));
    /// assert!(!Pending::newer("4|0|0|||k1|a@b.c"));
    /// assert!(!Pending::newer("05|x"));
    /// assert!(!Pending::newer("5"));
    /// assert!(!Pending::newer("junk"));
    /// ```
    pub fn newer(text: &str) -> bool {
        // Read by its first bytes: 5 to 9 and the bar, or two digits (10 and on), not a search
        // for the bar and a walk of what comes before it.
        matches!(
            text.as_bytes(),
            [b'6'..=b'9', b'|', ..] | [b'1'..=b'9', b'0'..=b'9', ..]
        )
    }

    /// Reads the stored form; anything else is `None` (and is dropped by the caller, unless it is
    /// a [newer](Pending::newer) version's).
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::retry::Pending;
    /// let p = Pending {
    ///     email: "a|b@example.com".into(),
    ///     newsletter: true,
    ///     key: "k1".into(),
    ///     elapsed_ms: Some(5200),
    ///     article: Some(48879),
    ///     told: 0,
    /// };
    /// assert_eq!(Pending::decode(&p.encode()), Some(p));
    /// assert_eq!(Pending::decode("1|0|k1|a@b.c").unwrap().elapsed_ms, None);
    /// assert_eq!(Pending::decode("junk"), None);
    /// ```
    pub fn decode(text: &str) -> Option<Pending> {
        let (version, mut rest) = crate::cut(text, b'|')?;
        // Version 1 had no time, version 2 no article, version 3 no reported flag, version 4 a
        // flag rather than the kinds told.
        // One digit, 1 to 5, read by byte rather than compared with each version's text.
        let version = match version.as_bytes() {
            &[digit @ b'1'..=b'5'] => usize::from(digit - b'0'),
            _ => return None,
        };
        // The fields before the address, each ended by a `|`; the address is the rest, which may
        // hold a `|` of its own.
        let mut next = || {
            let (part, after) = crate::cut(rest, b'|')?;
            rest = after;
            Some(part)
        };
        let mut flag = |present: bool| match present.then(&mut next) {
            None | Some(Some("0")) => Some(false),
            Some(Some("1")) => Some(true),
            _ => None,
        };
        let newsletter = flag(true)?;
        // Version 4's `1` did not say which trouble was told: every kind, so none is told twice.
        let told = match (version >= 4).then(&mut next) {
            None => 0,
            Some(part) => match (version, part?.as_bytes()) {
                (_, [b'0']) => 0,
                (4, [b'1']) => TOLD_SERVER | TOLD_REFUSAL,
                (5, &[digit @ b'1'..=b'3']) => digit - b'0',
                _ => return None,
            },
        };
        let mut number = |present: bool| match present.then(&mut next) {
            None | Some(Some("")) => Some(None),
            Some(Some(n)) => crate::config::int_value(n).map(Some),
            Some(None) => None,
        };
        let elapsed_ms = number(version >= 2)?;
        let article = number(version >= 3)?;
        let key = next()?;
        let email = rest;
        let valid_key =
            !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric());
        (valid_key && crate::email::validate(email).is_ok()).then(|| Pending {
            email: email.into(),
            newsletter,
            key: key.into(),
            elapsed_ms,
            article,
            told,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Pending::decode` as it was, with `split_once` and `splitn` by `char`, and version 5's
    /// kinds told read as its flag was.
    fn old_decode(text: &str) -> Option<Pending> {
        let (version, rest) = text.split_once('|')?;
        let version = match version.as_bytes() {
            &[digit @ b'1'..=b'5'] => usize::from(digit - b'0'),
            _ => return None,
        };
        // Version 5 has version 4's fields.
        let mut parts = rest.splitn(version.min(4) + 2, '|');
        let mut flag = |present: bool| match present.then(|| parts.next()) {
            None | Some(Some("0")) => Some(false),
            Some(Some("1")) => Some(true),
            _ => None,
        };
        let newsletter = flag(true)?;
        let told = match (version >= 4).then(|| parts.next()) {
            None => 0,
            Some(told) => match (version, told?) {
                (_, "0") => 0,
                (4, "1") => 3,
                (5, "1") => 1,
                (5, "2") => 2,
                (5, "3") => 3,
                _ => return None,
            },
        };
        let mut number = |present: bool| match present.then(|| parts.next()) {
            None | Some(Some("")) => Some(None),
            Some(Some(n)) => crate::config::int_value(n).map(Some),
            Some(None) => None,
        };
        let elapsed_ms = number(version >= 2)?;
        let article = number(version >= 3)?;
        let key = parts.next()?;
        let email = parts.next()?;
        let valid_key =
            !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric());
        (valid_key && crate::email::validate(email).is_ok()).then(|| Pending {
            email: email.into(),
            newsletter,
            key: key.into(),
            elapsed_ms,
            article,
            told,
        })
    }

    #[test]
    fn decode_matches_the_splitn_form() {
        // Every version's prefix, then fields that each position takes or refuses, an address
        // with a `|` of its own, and missing or extra separators.
        let pieces = [
            "1|", "2|", "3|", "4|", "5|", "|", "0", "1", "2", "3", "12", "k", "a@b.co", "x|y@b.co",
        ];
        let mut decoded = 0;
        for text in crate::every_text(&pieces, 6) {
            let new = Pending::decode(&text);
            decoded += usize::from(new.is_some());
            assert_eq!(new, old_decode(&text), "{text:?}");
        }
        // The inputs reach both sides: many decode.
        assert!(decoded > 100, "{decoded}");
    }

    /// Every 4xx the widget does not retry falls to exactly one side: the submission's (dropped,
    /// told to no one), the setup's (kept, told) or another (dropped, told).
    #[test]
    fn each_refusal_is_the_submission_s_the_setup_s_or_another() {
        let whose: Vec<_> = (400..500)
            .filter(|&s| classify(Some(s), true, None) == Outcome::Refused)
            .map(|s| (s, refusal(s)))
            .filter(|&(_, r)| r != Refusal::Other)
            .collect();
        assert_eq!(
            whose,
            [
                (400, Refusal::Submission),
                (401, Refusal::Setup),
                (403, Refusal::Setup),
                (404, Refusal::Setup),
                (405, Refusal::Setup),
                (409, Refusal::Submission),
                (410, Refusal::Setup),
                (413, Refusal::Setup),
                (415, Refusal::Setup),
                (422, Refusal::Submission),
            ]
        );
    }

    #[test]
    fn only_network_errors_5xx_and_429_are_retried() {
        for status in [None, Some(408), Some(500), Some(502), Some(503), Some(429)] {
            assert!(
                matches!(classify(status, true, None), Outcome::Retry { .. }),
                "{status:?}"
            );
        }
        for status in [400, 401, 403, 404, 409, 413, 415, 422] {
            assert_eq!(
                classify(Some(status), true, None),
                Outcome::Refused,
                "{status}"
            );
        }
        assert_eq!(classify(Some(204), false, None), Outcome::Accepted);
        assert_eq!(classify(Some(200), true, None), Outcome::Accepted);
        for status in [200, 201, 202] {
            assert_eq!(
                classify(Some(status), false, None),
                Outcome::NotTheService,
                "{status}"
            );
        }
    }

    #[test]
    fn retry_after_seconds_are_honoured_and_dates_ignored() {
        assert_eq!(
            classify(Some(503), true, Some(" 3 ")),
            Outcome::Retry {
                after_ms: Some(3000)
            }
        );
        assert_eq!(
            classify(Some(429), true, Some("Wed, 21 Oct 2026 07:28:00 GMT")),
            Outcome::Retry { after_ms: None }
        );
        assert_eq!(classify(Some(400), true, Some("3")), Outcome::Refused);
        // Until this case, more seconds than a u32 holds were read as no `Retry-After`, and the
        // widget retried within a second.
        let huge = classify(Some(429), true, Some("9999999999"));
        assert_eq!(
            huge,
            Outcome::Retry {
                after_ms: Some(u32::MAX)
            }
        );
        let Outcome::Retry { after_ms } = huge else {
            unreachable!()
        };
        assert_eq!(
            delay_ms(1, 1000, 0.5, after_ms),
            None,
            "more than the widget waits"
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_in_the_upper_half() {
        for attempt in 1..=4 {
            let ceiling = 1000 << (attempt - 1);
            let low = delay_ms(attempt, 1000, 0.0, None).unwrap();
            let high = delay_ms(attempt, 1000, 0.999_999, None).unwrap();
            assert_eq!(low, ceiling / 2);
            assert!(high < ceiling && high >= ceiling - 1);
        }
        // Capped, never given up on: the tenth attempt of ten still goes out.
        assert_eq!(delay_ms(6, 1000, 0.999_999, None), Some(30_000));
        assert_eq!(delay_ms(9, 30_000, 0.5, None), Some(30_000));
        assert_eq!(delay_ms(1, 30_000, 0.999_999, None), Some(29_999));
        assert_eq!(delay_ms(40, 0, 0.5, None), Some(0));
    }

    #[test]
    fn pending_submissions_round_trip_and_reject_junk() {
        let mut p = Pending {
            email: "reader@example.com".into(),
            newsletter: false,
            key: "abc123".into(),
            elapsed_ms: Some(7_300),
            article: Some(4_294_967_295),
            told: TOLD_SERVER,
        };
        assert_eq!(
            p.encode(),
            "5|0|1|7300|4294967295|abc123|reader@example.com"
        );
        assert_eq!(Pending::decode(&p.encode()), Some(p.clone()));
        for told in [TOLD_REFUSAL, TOLD_SERVER | TOLD_REFUSAL] {
            p.told = told;
            assert_eq!(Pending::decode(&p.encode()), Some(p.clone()));
        }
        // Version 4's flag did not say which trouble was told: read as every kind.
        assert_eq!(
            Pending::decode("4|0|1|7300|4294967295|abc123|reader@example.com"),
            Some(p.clone())
        );
        p.told = 0;
        assert_eq!(Pending::decode(&p.encode()), Some(p.clone()));
        assert_eq!(
            Pending::decode("4|0|0|7300|4294967295|abc123|reader@example.com"),
            Some(p.clone())
        );
        // What earlier versions kept: read as told of nothing.
        assert_eq!(
            Pending::decode("3|0|7300|4294967295|abc123|reader@example.com"),
            Some(p.clone())
        );
        p.article = None;
        assert_eq!(Pending::decode(&p.encode()), Some(p.clone()));
        // What earlier versions kept: read, without the article (and the time).
        assert_eq!(
            Pending::decode("2|0|7300|abc123|reader@example.com"),
            Some(p.clone())
        );
        p.elapsed_ms = None;
        assert_eq!(Pending::decode(&p.encode()), Some(p.clone()));
        assert_eq!(Pending::decode("1|0|abc123|reader@example.com"), Some(p));
        for junk in [
            "",
            "2|0|k|a@b.c",
            "2|0|-5|k|a@b.c",
            "3|0|1|k|a@b.c",
            "3|0|1|-1|k|a@b.c",
            "3|0|1|4294967296|k|a@b.c",
            "4|0|1|1|k|a@b.c",
            "4|0|2|1|1|k|a@b.c",
            "4|0||1|1|k|a@b.c",
            "5|0|4|1|1|k|a@b.c",
            "5|0|11|1|1|k|a@b.c",
            "4|0|3|1|1|k|a@b.c",
            "6|0|0|1|1|k|a@b.c",
            "1|x|k|a@b.c",
            "1|0||a@b.c",
            "1|0|k|not an email",
            "1|0|k-k|a@b.c",
        ] {
            assert_eq!(Pending::decode(junk), None, "{junk}");
        }
    }
}
