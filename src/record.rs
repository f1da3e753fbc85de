//! The stored form of a [`Record`]: a short, versioned ASCII string, small for any history.
//!
//! Layout of version 1 (one localStorage value under the key [`STORAGE_KEY`]):
//!
//! ```text
//! 1 m 10ap . hhxu4 . hhq2c . AbCdEf0042 ...
//! | |  |       |       |      `- entries, 10 characters each (see below), no separator
//! | |  |       |       `- registered at, minutes since the epoch, base 36 (empty: not registered)
//! | |  |       `- latest time seen, minutes since the epoch, base 36
//! | |  `- period bucket, base 36 (a leading '-' when negative)
//! | `- period tag: m, w, d, r, l ('-' for a record that has seen no view)
//! `- format version
//! ```
//!
//! A subscriber entitlement token, when the reader has one, follows the entries after a `~`
//! (at most [`MAX_TOKEN`] characters of base64url and dots: a compact JWS).
//!
//! An entry is 6 base64url characters of the article's 32-bit key, then 4 characters holding
//! 3 bits of allowance and 21 bits of age in minutes before "latest" (ages beyond about four
//! years are kept as four years: only rolling periods, at most 366 days, read them).
//! Allowance codes: 0 the shared allowance, 1 the registered one, 2 the article registered on,
//! 3 to 6 a section by its place among the configured sections in name order.
//!
//! Version 2 is version 1 but for sections, and is written only when an entry is charged to a
//! section, so a tab still running an older meterwall reads every other record. Code 3 is a
//! section by its id ([`crate::meter::section_id`] of its name), whose 24 bits follow as 4 more
//! characters: a section keeps its count when others are added or removed. Codes 4 to 7 are
//! version 1's places, read from a record of either version that another tab has merged.
//!
//! Limits are validated so a record holds at most [`MAX_ENTRIES`] entries: under 2,200
//! characters however long the reader's history.
//!
//! Migration rule: version 1 records are read as they are, their section places given ids by the
//! config the next time the meter decides. A value of a newer version (its number, 3 or more, then
//! a period tag or any other lower-case letter, with a `.` after it: every version keeps this
//! much of the layout) is read as a fresh record and never saved over (the shell decides that
//! page view without saving), so a rollback finds it intact. Every version also keeps a
//! subscriber's token last, after a `~`, and no other `~` ([`newer_token`]), so that a page still
//! serving this one during a rollout recognises the subscriber from it, and a logout there takes
//! the token off. Junk that only starts with a digit
//! ("5", "3 articles") is not one. Anything else that does not parse is replaced by a fresh
//! record (the reader's allowance starts again), once it is copied under [`UNREADABLE_KEY`]. The
//! cause is reported, never thrown.

use crate::article::ArticleKey;
use crate::config::MAX_ENTRIES;
use crate::meter::{Allowance, Entry, Record};

/// The localStorage key of the record (the other keys meterwall writes are [`HINT_KEY`] and
/// [`UNREADABLE_KEY`]).
pub const STORAGE_KEY: &str = "meterwall:v1";

/// The anti-flicker hint, a second key beside the record ([`crate::meter::Hint`]), in decimal ms
/// since the epoch: minus the time until which the next new article may be walled (the next
/// period), `"wall"` when that time never comes, the time from which it may be for a subscriber
/// by token, absent when it is free. The README's snippet reads it before the page paints and
/// hides the article when it is `"wall"`, a negative time still to come or a positive time that
/// has come; the loader starts at once for the same values.
/// Nothing else depends on it, so a stale or edited hint can only hide an article for the
/// snippet's one second at most.
pub const HINT_KEY: &str = "meterwall:next";

/// Where an unreadable value found under [`STORAGE_KEY`] is kept before a fresh record replaces
/// it (a newer version's record is never replaced, so never kept here): a publisher can still read
/// what was there. A later unreadable value replaces an earlier one.
pub const UNREADABLE_KEY: &str = "meterwall:unreadable";

/// The hint's value when the next new article may be walled.
pub const HINT_WALL: &str = "wall";
/// Values longer than this are rejected before parsing.
pub const MAX_STORED: usize = 16 * 1024;
/// The longest entitlement token kept: as long as any the token check accepts
/// ([`crate::token::MAX_TOKEN_LEN`]), so a verified token is never silently dropped. With the
/// entries it keeps a record under 6.5 KB.
pub const MAX_TOKEN: usize = crate::token::MAX_TOKEN_LEN;
/// The oldest age an entry can record, in minutes (2^21 - 1, about four years).
pub const MAX_AGE_MIN: i64 = (1 << 21) - 1;

const ENTRY_LEN: usize = 10;
/// The characters of a section id after a version 2 entry.
const ID_LEN: usize = 4;
/// The base64url alphabet (RFC 4648 §5): the record's digits, and the token decoder's.
pub(crate) const B64: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Why a stored value could not be read. The widget starts a fresh record either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// Longer than [`MAX_STORED`].
    TooLarge,
    /// Written by an older, unknown version of meterwall.
    OtherVersion,
    /// Written by a newer version of meterwall (format 3 to 9): read as a fresh meter, and never
    /// saved over, so that the version which wrote it (after a rollback, or on pages still
    /// serving it) finds it intact.
    NewerVersion,
    /// Not a meterwall record at all, or cut short.
    Malformed,
}

impl RecordError {
    /// What went wrong, for the console: the widget reports it as it is, without formatting
    /// (`to_string` would link the formatting machinery's `Display` path for it).
    pub fn message(self) -> &'static str {
        match self {
            RecordError::TooLarge => "the stored meter is larger than 16 KB, so it is not ours",
            RecordError::OtherVersion => "the stored meter was written by another version (serve every page the same version)",
            RecordError::NewerVersion => "the stored meter was written by a newer version of meterwall, so this page counts without saving over it (serve every page the same version)",
            RecordError::Malformed => "the stored meter is not a meterwall record or is cut short (does another script write meterwall:v1?)",
        }
    }
}

impl core::fmt::Display for RecordError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

/// The allowance's code in a record of version 1 (`v2` false) or 2.
fn alw_code(a: Allowance, v2: bool) -> u32 {
    match a {
        Allowance::Free => 0,
        Allowance::Registered => 1,
        Allowance::Gift => 2,
        Allowance::Section(_) => 3,
        Allowance::SectionAt(i) => (i as u32 & 3) + 3 + u32::from(v2),
    }
}

/// The allowance of `code`, and whether a section id follows.
fn alw_from(code: u32, v2: bool) -> Option<(Allowance, bool)> {
    Some(match (code, v2) {
        (0, _) => (Allowance::Free, false),
        (1, _) => (Allowance::Registered, false),
        (2, _) => (Allowance::Gift, false),
        (3, true) => (Allowance::Section(0), true),
        (3..=6, false) => (Allowance::SectionAt((code - 3) as u8), false),
        (4..=7, true) => (Allowance::SectionAt((code - 4) as u8), false),
        _ => return None,
    })
}

fn push_b64(out: &mut String, value: u64, chars: u32) {
    for i in (0..chars).rev() {
        out.push(B64[((value >> (6 * i)) & 63) as usize] as char);
    }
}

fn read_b64(text: &[u8]) -> Option<u64> {
    text.iter().try_fold(0u64, |acc, &c| {
        let digit = B64.iter().position(|&b| b == c)? as u64;
        Some(acc << 6 | digit)
    })
}

fn push_b36(out: &mut String, n: i64) {
    crate::config::push_int(out, n, 36);
}

fn read_b36(text: &str) -> Option<i64> {
    // By byte, the sign and the digits: all ASCII.
    let (neg, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        all => (false, all),
    };
    // 12 base-36 digits hold any minute count or bucket we can meet; more is not ours, and
    // neither is a sign or a capital (`+a`, `--1`, `A`), which only the digits below refuse.
    if digits.is_empty() || digits.len() > 12 {
        return None;
    }
    // Read by hand: 36^12 is below `i64::MAX`, so nothing can overflow. `i64::from_str_radix`
    // linked its checked 128-bit multiplication and `char::to_digit` (180 bytes of wasm, gzip).
    // Each digit by its place among the digits the record is written with, as base64url digits
    // are read: a search of the same text `push_int` writes from, not a match of two ranges.
    let n = digits.iter().try_fold(0i64, |n, &b| {
        let digit = crate::config::DIGITS.iter().position(|&d| d == b)?;
        Some(n * 36 + digit as i64)
    })?;
    Some(if neg { -n } else { n })
}

/// Writes a record in the stored form.
///
/// # Examples
///
/// ```
/// use meterwall::meter::Record;
/// use meterwall::record::{decode, encode};
/// let fresh = Record::default();
/// assert_eq!(encode(&fresh), "1-0.0..");
/// assert_eq!(decode(&encode(&fresh)), Ok(fresh));
/// ```
pub fn encode(record: &Record) -> String {
    let mut out = String::with_capacity(48 + record.entries.len() * (ENTRY_LEN + ID_LEN));
    let v2 = record
        .entries
        .iter()
        .any(|e| matches!(e.allowance, Allowance::Section(_)));
    out.push(if v2 { '2' } else { '1' });
    out.push(match record.period_tag {
        0 => '-',
        t => t as char,
    });
    push_b36(&mut out, record.bucket);
    out.push('.');
    push_b36(&mut out, record.latest_min);
    out.push('.');
    if let Some(at) = record.registered_min {
        push_b36(&mut out, at);
    }
    out.push('.');
    for e in record.entries.iter().take(MAX_ENTRIES) {
        push_b64(&mut out, e.key.0 as u64, 6);
        let age = (record.latest_min - e.at_min).clamp(0, MAX_AGE_MIN) as u64;
        push_b64(&mut out, (alw_code(e.allowance, v2) as u64) << 21 | age, 4);
        if let Allowance::Section(id) = e.allowance {
            push_b64(&mut out, u64::from(id & 0xFF_FFFF), ID_LEN as u32);
        }
    }
    if let Some(token) = record.token.as_deref().filter(|t| token_ok(t)) {
        out.push('~');
        out.push_str(token);
    }
    out
}

/// Whether `token` can be kept: short, and only the characters of a compact JWS.
pub fn token_ok(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN
        && token
            .bytes()
            // The base64url alphabet, searched as the record's digits are: no test of ranges.
            .all(|b| b == b'.' || crate::holds(B64, b))
}

/// The subscriber's token in a value of a newer version ([`RecordError::NewerVersion`]): what
/// follows its `~`, when that has a compact JWS's shape. Every version keeps the token there, and
/// has no other `~`,
/// so a page still serving an older meterwall during a rollout (or after a rollback) recognises a
/// subscriber from a record it cannot otherwise read. The token is checked as any kept token is.
///
/// # Examples
///
/// ```
/// use meterwall::record::newer_token;
/// assert_eq!(newer_token("3m0.0..any later layout~aGk.eyJ9.c2ln").as_deref(), Some("aGk.eyJ9.c2ln"));
/// assert_eq!(newer_token("3m0.0..no token"), None);
/// assert_eq!(newer_token("3m0.0..~not a token"), None);
/// assert_eq!(newer_token("3m0.0..~notAToken"), None);
/// ```
pub fn newer_token(stored: &str) -> Option<String> {
    let (_, token) = crate::cut(stored, b'~')?;
    // A compact JWS's shape (three parts), as well as its characters: no other text is taken
    // for a token and checked on every page view.
    (token_ok(token) && token.bytes().filter(|&b| b == b'.').count() == 2).then(|| token.into())
}

/// Reads a stored value.
///
/// # Errors
///
/// [`RecordError`] when the value is too large, of another version or not a record; the
/// caller starts a fresh record and reports the cause.
///
/// # Examples
///
/// ```
/// use meterwall::record::{decode, RecordError};
/// assert_eq!(decode("{"), Err(RecordError::Malformed));
/// assert_eq!(decode("3m0.0.."), Err(RecordError::NewerVersion));
/// ```
pub fn decode(stored: &str) -> Result<Record, RecordError> {
    if stored.len() > MAX_STORED {
        return Err(RecordError::TooLarge);
    }
    let bytes = stored.as_bytes();
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let version = stored.get(..digits).and_then(crate::config::int_value);
    let v2 = match (digits, version) {
        (1, Some(1)) => false,
        (1, Some(2)) => true,
        (1, Some(0)) => return Err(RecordError::OtherVersion),
        // Tested only here, in the guard, not before the match. A `.` after the tag is a `.`
        // anywhere: what comes before the tag is digits.
        (_, Some(3..))
            if matches!(bytes.get(digits), Some(b'-' | b'a'..=b'z'))
                && crate::holds(bytes, b'.') =>
        {
            return Err(RecordError::NewerVersion)
        }
        _ => return Err(RecordError::Malformed),
    };
    let malformed = RecordError::Malformed;
    let tag = match bytes.get(1) {
        Some(b'-') => 0,
        Some(&t @ (b'm' | b'w' | b'd' | b'r' | b'l')) => t,
        _ => return Err(malformed),
    };
    // The three fields before the entries by `cut`, which the page's URL already uses, rather
    // than `splitn(4, '.')` (22 bytes of wasm, gzip, less with `split_once`, as it was then).
    let rest = stored.get(2..).ok_or(malformed)?;
    let (bucket, rest) = crate::cut(rest, b'.').ok_or(malformed)?;
    let (latest_min, rest) = crate::cut(rest, b'.').ok_or(malformed)?;
    let (registered_min, field) = crate::cut(rest, b'.').ok_or(malformed)?;
    let bucket = read_b36(bucket).ok_or(malformed)?;
    let latest_min = read_b36(latest_min).ok_or(malformed)?;
    // Tested for emptiness, not matched with `""`: the match compared the texts by a call.
    let registered_min = if registered_min.is_empty() {
        None
    } else {
        Some(read_b36(registered_min).ok_or(malformed)?)
    };
    let (body, token) = match crate::cut(field, b'~') {
        Some((body, token)) if token_ok(token) => (body, Some(token.to_string())),
        Some(_) => return Err(malformed),
        None => (field, None),
    };
    let entries = read_entries(body.as_bytes(), latest_min, v2).ok_or(malformed)?;
    Ok(Record {
        period_tag: tag,
        bucket,
        latest_min,
        registered_min,
        entries,
        token,
    })
}

/// The entries of a record's body, each read in turn (a version 2 section entry is longer);
/// `None` for a body cut short, a bad character or code, or an article twice.
fn read_entries(mut body: &[u8], latest_min: i64, v2: bool) -> Option<Vec<Entry>> {
    let mut entries = Vec::new();
    while !body.is_empty() {
        if entries.len() == MAX_ENTRIES {
            return None;
        }
        let (key, rest) = body.split_at_checked(6)?;
        let (packed, rest) = rest.split_at_checked(4)?;
        let key = read_b64(key).filter(|&k| k <= u32::MAX as u64)? as u32;
        // Each article once: we never write one twice, and a duplicate would count twice.
        // Checked as each is read, one loop rather than every pair after.
        if entries.iter().any(|e: &Entry| e.key.0 == key) {
            return None;
        }
        let packed = read_b64(packed)?;
        let (mut allowance, with_id) = alw_from((packed >> 21) as u32, v2)?;
        body = rest;
        if with_id {
            let (id, rest) = body.split_at_checked(ID_LEN)?;
            allowance = Allowance::Section(read_b64(id)? as u32);
            body = rest;
        }
        entries.push(Entry {
            key: ArticleKey(key),
            allowance,
            at_min: latest_min - (packed & MAX_AGE_MIN as u64) as i64,
        });
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `read_b36` and `token_ok` as they were (verbatim), their characters tested by ranges: the
    /// same verdicts on every byte, alone and in texts of one to thirteen bytes.
    #[test]
    fn digits_by_their_place_match_the_ranges() {
        fn old_read_b36(text: &str) -> Option<i64> {
            // By byte, the sign and the digits: all ASCII.
            let (neg, digits) = match text.as_bytes() {
                [b'-', rest @ ..] => (true, rest),
                all => (false, all),
            };
            if digits.is_empty() || digits.len() > 12 {
                return None;
            }
            let n = digits.iter().try_fold(0i64, |n, &b| {
                let digit = match b {
                    b'0'..=b'9' => b - b'0',
                    b'a'..=b'z' => b - b'a' + 10,
                    _ => return None,
                };
                Some(n * 36 + i64::from(digit))
            })?;
            Some(if neg { -n } else { n })
        }
        fn old_token_ok(token: &str) -> bool {
            !token.is_empty()
                && token.len() <= MAX_TOKEN
                && token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        }
        for b in 0..=u8::MAX {
            for text in [vec![b], vec![b'-', b], vec![b'z', b, b'9'], vec![b'.', b]] {
                let Ok(text) = core::str::from_utf8(&text) else {
                    continue;
                };
                assert_eq!(read_b36(text), old_read_b36(text), "{text:?}");
                assert_eq!(token_ok(text), old_token_ok(text), "{text:?}");
            }
        }
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let chars = b"0123456789abcdefghijklmnopqrstuvwxyzAZ-_.+ /:`{~";
        for len in 1..=13 {
            for _ in 0..2_000 {
                let text: String = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        chars[(seed % chars.len() as u64) as usize] as char
                    })
                    .collect();
                assert_eq!(read_b36(&text), old_read_b36(&text), "{text:?}");
                assert_eq!(token_ok(&text), old_token_ok(&text), "{text:?}");
            }
        }
        let long = "a".repeat(MAX_TOKEN);
        assert_eq!(token_ok(&long), old_token_ok(&long));
        assert_eq!(token_ok(&(long.clone() + "a")), old_token_ok(&(long + "a")));
    }

    /// `decode` as it was, with `splitn` and the `.` looked for after the tag.
    fn old_decode(stored: &str) -> Result<Record, RecordError> {
        if stored.len() > MAX_STORED {
            return Err(RecordError::TooLarge);
        }
        let bytes = stored.as_bytes();
        let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        let version = stored.get(..digits).and_then(crate::config::int_value);
        let shaped = matches!(bytes.get(digits), Some(b'-' | b'a'..=b'z'))
            && bytes.get(digits..).is_some_and(|rest| rest.contains(&b'.'));
        let v2 = match (digits, version) {
            (1, Some(1)) => false,
            (1, Some(2)) => true,
            (1, Some(0)) => return Err(RecordError::OtherVersion),
            (_, Some(3..)) if shaped => return Err(RecordError::NewerVersion),
            _ => return Err(RecordError::Malformed),
        };
        let malformed = RecordError::Malformed;
        let tag = match bytes.get(1) {
            Some(b'-') => 0,
            Some(&t @ (b'm' | b'w' | b'd' | b'r' | b'l')) => t,
            _ => return Err(malformed),
        };
        let mut parts = stored.get(2..).ok_or(malformed)?.splitn(4, '.');
        let bucket = read_b36(parts.next().ok_or(malformed)?).ok_or(malformed)?;
        let latest_min = read_b36(parts.next().ok_or(malformed)?).ok_or(malformed)?;
        let registered_min = match parts.next().ok_or(malformed)? {
            "" => None,
            text => Some(read_b36(text).ok_or(malformed)?),
        };
        let field = parts.next().ok_or(malformed)?;
        let (body, token) = match field.split_once('~') {
            Some((body, token)) if token_ok(token) => (body, Some(token.to_string())),
            Some(_) => return Err(malformed),
            None => (field, None),
        };
        let entries = read_entries(body.as_bytes(), latest_min, v2).ok_or(malformed)?;
        Ok(Record {
            period_tag: tag,
            bucket,
            latest_min,
            registered_min,
            entries,
            token,
        })
    }

    #[test]
    fn decode_matches_the_splitn_form() {
        // Short values over the characters that matter, and mutations of real records.
        let alphabet = b"0123459.-~mwdrlaz.A_x.";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let real = [
            "1-0.0..",
            "1m10ap.hhxu4.hhq2c.AAAAAAAAAA",
            "2r0.hhxu4..AAAAABMAAAAAAAB~a.b.c",
            "3m0.0..",
            "12m0.0..",
            "0m0.0..",
        ];
        let mut checked = 0;
        for _ in 0..200_000 {
            let text: String = if next() % 2 == 0 {
                let len = (next() % 24) as usize;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char)
                    .collect()
            } else {
                let mut t = real[(next() % real.len() as u64) as usize]
                    .as_bytes()
                    .to_vec();
                for _ in 0..1 + next() % 3 {
                    let at = (next() % (t.len() as u64 + 1)) as usize;
                    let c = alphabet[(next() % alphabet.len() as u64) as usize];
                    match next() % 3 {
                        0 if at < t.len() => t[at] = c,
                        1 if at < t.len() => {
                            t.remove(at);
                        }
                        _ => t.insert(at, c),
                    }
                }
                String::from_utf8(t).expect("ASCII")
            };
            assert_eq!(decode(&text), old_decode(&text), "{text:?}");
            checked += u32::from(decode(&text).is_ok());
        }
        assert!(checked > 1000, "{checked} readable values");
    }

    /// `push_b36` as it was, through a digit buffer read back in reverse.
    fn old_push_b36(out: &mut String, n: i64) {
        if n < 0 {
            out.push('-');
        }
        let mut digits = [0u8; 14];
        let mut len = 0;
        let mut rest = n.unsigned_abs();
        loop {
            digits[len] = b"0123456789abcdefghijklmnopqrstuvwxyz"[(rest % 36) as usize];
            len += 1;
            rest /= 36;
            if rest == 0 {
                break;
            }
        }
        out.extend(digits[..len].iter().rev().map(|&d| d as char));
    }

    #[test]
    fn push_b36_by_recursion_writes_as_the_buffer() {
        let mut values = vec![0, 1, -1, i64::MIN, i64::MAX, i64::MIN + 1];
        let mut power = 1i64;
        while let Some(next) = power.checked_mul(36) {
            power = next;
            for n in [power - 1, power, power + 1] {
                values.extend([n, -n]);
            }
        }
        // Many others, spread over every magnitude (a xorshift sequence).
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push((x >> (x % 64)) as i64);
            values.push(x as i64);
        }
        values.extend(-2_000..2_000);
        for n in values {
            let (mut new, mut old) = ("x".to_string(), "x".to_string());
            push_b36(&mut new, n);
            old_push_b36(&mut old, n);
            assert_eq!(new, old, "{n}");
        }
    }

    fn sample() -> Record {
        Record {
            period_tag: b'm',
            bucket: 24_322,
            latest_min: 29_931_120,
            registered_min: Some(29_931_000),
            entries: vec![
                Entry {
                    key: ArticleKey(0),
                    allowance: Allowance::Free,
                    at_min: 29_931_120,
                },
                Entry {
                    key: ArticleKey(u32::MAX),
                    allowance: Allowance::Gift,
                    at_min: 29_931_000,
                },
                Entry {
                    key: ArticleKey(12345),
                    allowance: Allowance::Section(3),
                    at_min: 29_900_000,
                },
                Entry {
                    key: ArticleKey(777),
                    allowance: Allowance::Registered,
                    at_min: 29_931_119,
                },
            ],
            token: None,
        }
    }

    #[test]
    fn a_token_rides_after_the_entries_and_reads_back() {
        let mut r = sample();
        r.token = Some("eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2ln".into());
        let text = encode(&r);
        assert!(text.ends_with("~eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2ln"));
        assert_eq!(decode(&text), Ok(r));
        assert_eq!(decode("1m0.0..~"), Err(RecordError::Malformed));
        assert_eq!(decode("1m0.0..~bad token"), Err(RecordError::Malformed));
    }

    #[test]
    fn round_trips_a_full_record() {
        let r = sample();
        let text = encode(&r);
        assert!(text.is_ascii());
        assert_eq!(decode(&text), Ok(r));
    }

    #[test]
    fn garbage_values_are_not_records() {
        for bad in [
            "",
            "{",
            "null",
            "\"x\"",
            "[]",
            "1",
            "1m",
            "1m0",
            "1m0.0",
            "1x0.0..",
            "1m0.0..AAAA",
            "1m-.0..",
            "1m0.0.zzzzzzzzzzzzzzz.",
        ] {
            assert_eq!(decode(bad), Err(RecordError::Malformed), "{bad}");
        }
    }

    #[test]
    fn another_version_is_reported_as_such() {
        assert_eq!(decode("0m0.0.."), Err(RecordError::OtherVersion));
        assert_eq!(decode("3m0.0.."), Err(RecordError::NewerVersion));
        assert_eq!(decode("12x.any.thing"), Err(RecordError::NewerVersion));
        // A number or words written under the key are no newer meter, which would never be
        // saved over: the page would count on a fresh meter for good.
        for junk in ["5", "9", "42", "3 articles", "7{}", "9anything", "3M0.0.."] {
            assert_eq!(decode(junk), Err(RecordError::Malformed), "{junk}");
        }
    }

    #[test]
    fn oversized_values_are_rejected_before_parsing() {
        let huge = "1".repeat(4 * 1024 * 1024);
        assert_eq!(decode(&huge), Err(RecordError::TooLarge));
    }

    #[test]
    fn a_negative_count_or_far_future_time_still_reads_as_a_record() {
        // The meter takes the record as it is; `Record::roll` keeps time monotonic from there.
        let r = decode("1m-1.zzzzzzzzzzzz..").unwrap();
        assert_eq!(r.bucket, -1);
        assert!(r.latest_min > 4_000_000_000_000);
    }

    #[test]
    fn a_full_record_stays_under_six_kilobytes() {
        let mut r = sample();
        r.entries = (0..MAX_ENTRIES as u32)
            .map(|k| Entry {
                key: ArticleKey(k.wrapping_mul(2_654_435_761)),
                allowance: Allowance::Registered,
                at_min: 0,
            })
            .collect();
        r.latest_min = i64::MAX / 2;
        r.registered_min = Some(i64::MIN / 2);
        assert!(encode(&r).len() < 1_600, "{}", encode(&r).len());
        r.token = Some("t".repeat(crate::token::MAX_TOKEN_LEN));
        assert!(encode(&r).len() < 6_144, "{}", encode(&r).len());
        assert!(
            encode(&r).len() < MAX_STORED,
            "read back, never refused as too large"
        );
        assert_eq!(decode(&encode(&r)).unwrap().token, r.token, "kept whole");
        // Every entry in a section: version 2, four characters more each.
        for e in &mut r.entries {
            e.allowance = Allowance::Section(0xFF_FFFF);
        }
        r.token = None;
        assert!(encode(&r).len() < 2_200, "{}", encode(&r).len());
        r.token = Some("t".repeat(crate::token::MAX_TOKEN_LEN));
        assert!(encode(&r).len() < 6_656, "{}", encode(&r).len());
        let back = decode(&encode(&r)).unwrap();
        assert_eq!((back.entries.len(), back.token), (MAX_ENTRIES, r.token));
    }

    #[test]
    fn sections_by_id_are_version_2_and_places_stay_version_1() {
        let entry = |allowance| Entry {
            key: ArticleKey(1),
            allowance,
            at_min: 0,
        };
        let mut r = Record {
            entries: vec![entry(Allowance::SectionAt(2))],
            ..Record::default()
        };
        // A version 1 record is written as version 1 wrote it: code 5, the third place.
        let v1 = encode(&r);
        assert_eq!(v1, "1-0.0..AAAAABoAAA");
        assert_eq!(decode(&v1), Ok(r.clone()));
        r.entries.push(Entry {
            key: ArticleKey(2),
            ..entry(Allowance::Section(0x12_3456))
        });
        let v2 = encode(&r);
        // The place becomes code 6 in version 2; the id follows code 3.
        assert_eq!(v2, "2-0.0..AAAAABwAAAAAAAACYAAAEjRW");
        assert_eq!(decode(&v2), Ok(r));
        for bad in [
            "2-0.0..AAAAACYAAA",     // code 3 without its id
            "2-0.0..AAAAACYAAAEjR",  // an id cut short
            "2-0.0..AAAAACYAAAE#RW", // not base64url
        ] {
            assert_eq!(decode(bad), Err(RecordError::Malformed), "{bad}");
        }
        assert_eq!(
            decode("1-0.0..AAAAABYAAA").unwrap().entries[0].allowance,
            Allowance::SectionAt(0),
            "code 3 is the first place in version 1"
        );
    }

    #[test]
    fn signs_capitals_and_duplicate_articles_are_not_ours() {
        for text in [
            "1m+a.+0..",
            "1mA.0..",
            "1m--1.0..",
            "1m0.0..AAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(decode(text), Err(RecordError::Malformed), "{text}");
        }
        assert!(decode("1m0.0..AAAAAAAAAA").is_ok(), "one entry is fine");
    }

    #[test]
    fn invalid_allowance_code_is_malformed() {
        // Code 7 in the top bits of the packed field.
        let text = "1m0.0..AAAAAA4AAA";
        assert_eq!(decode(text), Err(RecordError::Malformed));
    }
}
