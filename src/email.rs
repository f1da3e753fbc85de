//! Whether a reader's email address is one we can send to: length caps, the WHATWG HTML rule, and
//! a domain that can be reached from the internet.

/// Why an address was refused; `Display` is the sentence shown to the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailError {
    /// Nothing but whitespace was entered.
    Empty,
    /// More than 254 characters in all (RFC 5321's path limit, less the angle brackets).
    TooLong,
    /// More than 64 characters before the `@` (RFC 5321, section 4.5.3.1.1).
    LocalTooLong,
    /// Not a valid e-mail address by the WHATWG HTML rule, or its domain has no dot or does not
    /// end in a top-level domain ([`EmailError::cause`] tells which, for a service's log).
    Invalid,
}

impl core::fmt::Display for EmailError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Reader-facing: say what to fix, in words a reader uses.
        f.write_str(match self {
            EmailError::Empty => "Please enter your email address.",
            EmailError::TooLong => "That email address is too long (254 characters at most).",
            EmailError::LocalTooLong => {
                "The part before the @ is too long (64 characters at most)."
            }
            EmailError::Invalid => "Please enter a valid email address, like name@example.com.",
        })
    }
}

impl std::error::Error for EmailError {}

impl EmailError {
    /// What is wrong with `input`, which [`validate`] refused with this error, in a publisher's
    /// words: for a service's log, where the reader's sentence (`Display`) would not tell a
    /// dotless domain from a typo.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::email::validate;
    /// let refused = validate("ann@gmailcom").unwrap_err();
    /// assert_eq!(refused.cause("ann@gmailcom"), "invalid email: the domain has no dot");
    /// ```
    pub fn cause(self, input: &str) -> &'static str {
        match self {
            EmailError::Empty => "no email",
            EmailError::TooLong => "email over 254 characters",
            EmailError::LocalTooLong => "email local part over 64 characters",
            EmailError::Invalid => match crate::cut(crate::trim(input), b'@').map(rule) {
                Some(Broken::NoDot) => "invalid email: the domain has no dot",
                Some(Broken::NoTopLevel) => {
                    "invalid email: the domain does not end in a top-level domain"
                }
                _ => "invalid email",
            },
        }
    }
}

/// Most characters in a whole address and in its local part (RFC 5321, section 4.5.3.1).
const MAX_ADDRESS: usize = 254;
const MAX_LOCAL: usize = 64;

/// The number of characters: the bytes that start one. `chars().count()` would link the standard
/// library's wide counting loop for two short strings.
fn chars(text: &str) -> usize {
    text.bytes().filter(|b| (b & 0xC0) != 0x80).count()
}

/// Checks an address as typed and returns it without surrounding whitespace.
///
/// In order: trims surrounding whitespace (pasted addresses often bring a space or a newline);
/// refuses an empty one, then one over 254 characters, then a local part over 64; then applies
/// the WHATWG HTML "valid e-mail address" rule, the one `<input type="email">` uses
/// (<https://html.spec.whatwg.org/multipage/input.html#valid-e-mail-address>): one `@`, a local
/// part of ASCII letters, digits and `` .!#$%&'*+/=?^_`{|}~- ``, and a domain of dot-separated labels
/// of 1 to 63 letters, digits and hyphens that neither start nor end with a hyphen. Like the
/// browser, it accepts dots anywhere in the local part. Unlike the browser, it wants at least two
/// labels, the last a top-level domain's (letters only, or an internationalised one's `xn--`
/// form): `name@localhost` or `ann@gmailcom` cannot receive mail from the internet, and a
/// publisher who stored one would never reach the reader. A domain in Unicode (`bücher.de`) is
/// refused: it is taken in its ASCII form (`xn--bcher-kva.de`), which the widget asks the browser
/// for.
///
/// # Errors
///
/// [`EmailError::Empty`], [`EmailError::TooLong`], [`EmailError::LocalTooLong`] or
/// [`EmailError::Invalid`], the first that applies in the order above.
///
/// # Examples
///
/// ```
/// use meterwall::email::{validate, EmailError};
/// assert_eq!(validate("  Name+news@Example.com\n"), Ok("Name+news@Example.com"));
/// assert_eq!(validate(" "), Err(EmailError::Empty));
/// assert_eq!(validate("name@example..com"), Err(EmailError::Invalid));
/// assert_eq!(validate("ann@gmailcom"), Err(EmailError::Invalid));
/// ```
pub fn validate(input: &str) -> Result<&str, EmailError> {
    let address = crate::trim(input);
    if address.is_empty() {
        return Err(EmailError::Empty);
    }
    // Characters, not bytes, so the message counts what the reader typed.
    if chars(address) > MAX_ADDRESS {
        return Err(EmailError::TooLong);
    }
    let (local, domain) = crate::cut(address, b'@').ok_or(EmailError::Invalid)?;
    if chars(local) > MAX_LOCAL {
        return Err(EmailError::LocalTooLong);
    }
    match rule((local, domain)) {
        Broken::None => Ok(address),
        _ => Err(EmailError::Invalid),
    }
}

/// Which part of the address rule (see [`validate`]) an address split at its first `@` breaks.
enum Broken {
    None,
    /// WHATWG's: the local part's characters, or the domain's labels.
    Syntax,
    /// Ours: the domain is one label.
    NoDot,
    /// Ours: the last label is no top-level domain's.
    NoTopLevel,
}

fn rule((local, domain): (&str, &str)) -> Broken {
    // A second '@' lands in the domain, where no label may contain it. One pass over the labels
    // also finds the last: a reverse search would link the standard library's backward searcher.
    let mut top = "";
    let all_labels = crate::pieces(domain, b'.').all(|label| {
        top = label;
        is_label(label)
    });
    // A last label shorter than the domain: there is a dot.
    let dotted = top.len() < domain.len();
    let top = top.as_bytes();
    let top_level = top.iter().all(u8::is_ascii_alphabetic)
        || top
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"));
    let local_ok = !local.is_empty() && local.bytes().all(is_local_byte);
    if !local_ok || !all_labels {
        Broken::Syntax
    } else if !dotted {
        Broken::NoDot
    } else if !top_level {
        Broken::NoTopLevel
    } else {
        Broken::None
    }
}

/// WHATWG's local-part characters: `atext` plus `.`, that is ASCII letters and digits and
/// `` .!#$%&'*+/=?^_`{|}~- ``. As a bit per ASCII byte, two words, not a search of that list.
fn is_local_byte(b: u8) -> bool {
    let set: u64 = if b < 64 {
        0xa3ff_ecfa_0000_0000
    } else {
        0x7fff_ffff_c7ff_fffe
    };
    b < 128 && set >> (b & 63) & 1 != 0
}

/// WHATWG's `label`: 1-63 letters, digits or hyphens, a letter or digit at each end (of those
/// characters, not a hyphen).
fn is_label(label: &str) -> bool {
    let b = label.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            b.len() <= 63
                && *first != b'-'
                && *last != b'-'
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(local_len: usize, domain_len: usize) -> String {
        // Domain of 63-letter labels joined by dots, the last label shorter, then `.com`:
        // `domain_len` in all.
        let mut domain = String::new();
        while domain.len() < domain_len - 4 {
            if !domain.is_empty() {
                domain.push('.');
            }
            let label = (domain_len - 4 - domain.len()).min(63);
            domain.push_str(&"d".repeat(label));
        }
        domain.push_str(".com");
        assert_eq!(domain.len(), domain_len);
        "l".repeat(local_len) + "@" + &domain
    }

    #[test]
    fn valid_examples_pass() {
        for ok in [
            "name@example.com",
            "a@b.c",
            "first.last+news@sub.example.co.uk",
            "USER@EXAMPLE.COM",
            "!#$%&'*+/=?^_`{|}~-@example.com",
            "1@123.456.com",
            "name@xn--bcher-kva.example",
            "name@a-b.c-d.org",
            // WHATWG deliberately allows what RFC 5322 forbids here.
            ".dot..dots.@example.com",
        ] {
            assert_eq!(validate(ok), Ok(ok), "{ok:?}");
        }
    }

    #[test]
    fn invalid_examples_fail() {
        for bad in [
            "plainaddress",
            "@example.com",
            "name@",
            "name@@example.com",
            "a@b@example.com",
            "name@-example.com",
            "name@example-.com",
            "name@exa_mple.com",
            "name@example..com",
            "name@.example.com",
            "name@example.com.",
            "na me@example.com",
            "name@exam ple.com",
            "\"quoted\"@example.com",
            "name(comment)@example.com",
            "name@[127.0.0.1]",
            "<name@example.com>",
            "name@example.com>",
            "name,other@example.com",
            "name;@example.com",
            "name@example.com\0",
        ] {
            assert_eq!(validate(bad), Err(EmailError::Invalid), "{bad:?}");
        }
    }

    #[test]
    fn the_domain_needs_a_dot_and_a_top_level_domain() {
        // What the browser's own rule lets through, and no mail from the internet reaches.
        for bad in [
            "ann@gmailcom",
            "a@b",
            "x@localhost",
            "1@123.456",
            "name@example.c0m",
            "name@a-b.c-d",
            "name@example.xn-",
        ] {
            assert_eq!(validate(bad), Err(EmailError::Invalid), "{bad:?}");
        }
        // An internationalised top-level domain, in the ASCII form the widget sends (.рф).
        for ok in ["name@example.xn--p1ai", "name@EXAMPLE.XN--P1AI", "a@b.co"] {
            assert_eq!(validate(ok), Ok(ok), "{ok:?}");
        }
    }

    #[test]
    fn a_service_s_log_names_the_cause() {
        for (input, cause) in [
            ("ann@gmailcom", "invalid email: the domain has no dot"),
            (" x@localhost ", "invalid email: the domain has no dot"),
            (
                "ann@gmail.c0m",
                "invalid email: the domain does not end in a top-level domain",
            ),
            ("a@b@example.com", "invalid email"),
            ("an n@gmailcom", "invalid email"),
            ("", "no email"),
        ] {
            let refused = validate(input).unwrap_err();
            assert_eq!(refused.cause(input), cause, "{input:?}");
        }
        // The reader is told what any invalid address gets.
        assert_eq!(
            validate("ann@gmailcom").unwrap_err().to_string(),
            "Please enter a valid email address, like name@example.com."
        );
    }

    #[test]
    fn empty_and_blank_are_empty() {
        assert_eq!(validate(""), Err(EmailError::Empty));
        assert_eq!(validate(" \t\r\n"), Err(EmailError::Empty));
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        assert_eq!(validate("  name@example.com\n"), Ok("name@example.com"));
        assert_eq!(validate("\tname@example.com\r\n"), Ok("name@example.com"));
        // A no-break space comes along when pasting from a web page or a word processor.
        assert_eq!(
            validate("\u{a0}name@example.com\u{a0}"),
            Ok("name@example.com")
        );
        assert_eq!(validate("name @example.com"), Err(EmailError::Invalid));
    }

    #[test]
    fn total_length_cap_is_254() {
        let at_cap = address(64, 189);
        assert_eq!(at_cap.len(), 254);
        assert_eq!(validate(&at_cap), Ok(at_cap.as_str()));
        let over = address(64, 190);
        assert_eq!(over.len(), 255);
        assert_eq!(validate(&over), Err(EmailError::TooLong));
        // Whitespace around does not count.
        let padded = "  ".to_string() + &at_cap + " ";
        assert_eq!(validate(&padded), Ok(at_cap.as_str()));
    }

    #[test]
    fn local_length_cap_is_64() {
        let at_cap = address(64, 11);
        assert_eq!(validate(&at_cap), Ok(at_cap.as_str()));
        assert_eq!(validate(&address(65, 11)), Err(EmailError::LocalTooLong));
    }

    #[test]
    fn total_cap_is_checked_before_local_cap() {
        let both = address(65, 190);
        assert_eq!(validate(&both), Err(EmailError::TooLong));
    }

    #[test]
    fn label_length_cap_is_63() {
        let at_cap = "name@".to_string() + &"d".repeat(63) + ".com";
        assert_eq!(validate(&at_cap), Ok(at_cap.as_str()));
        let over = "name@".to_string() + &"d".repeat(64) + ".com";
        assert_eq!(validate(&over), Err(EmailError::Invalid));
    }

    #[test]
    fn unicode_is_rejected() {
        for bad in [
            "josé@example.com",
            "name@exämple.com",
            "用户@例子.广告",
            "name＠example.com",
            "name@example.com\u{200b}",
        ] {
            assert_eq!(validate(bad), Err(EmailError::Invalid), "{bad:?}");
        }
    }

    #[test]
    fn caps_count_characters_not_bytes() {
        // 200 two-byte characters are 400 bytes but only 200 characters: invalid, not too long.
        let accented = "é".repeat(200);
        assert_eq!(validate(&accented), Err(EmailError::Invalid));
        assert_eq!(validate(&"é".repeat(255)), Err(EmailError::TooLong));
        let local = "é".repeat(64) + "@example.com";
        assert_eq!(validate(&local), Err(EmailError::Invalid));
    }

    #[test]
    fn messages_tell_the_reader_what_to_fix() {
        assert_eq!(
            EmailError::Empty.to_string(),
            "Please enter your email address."
        );
        assert_eq!(
            EmailError::TooLong.to_string(),
            "That email address is too long (254 characters at most)."
        );
        assert_eq!(
            EmailError::LocalTooLong.to_string(),
            "The part before the @ is too long (64 characters at most)."
        );
        assert_eq!(
            EmailError::Invalid.to_string(),
            "Please enter a valid email address, like name@example.com."
        );
    }

    /// `is_local_byte` before it was a bitmap, verbatim.
    fn is_local_byte_earlier(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&b)
    }

    /// `is_label` before its ends were tested as "not a hyphen", verbatim.
    fn is_label_earlier(label: &str) -> bool {
        let b = label.as_bytes();
        match (b.first(), b.last()) {
            (Some(first), Some(last)) => {
                b.len() <= 63
                    && first.is_ascii_alphanumeric()
                    && last.is_ascii_alphanumeric()
                    && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            }
            _ => false,
        }
    }

    #[test]
    fn is_local_byte_matches_its_earlier_form_on_every_byte() {
        for b in 0..=u8::MAX {
            assert_eq!(is_local_byte(b), is_local_byte_earlier(b), "byte {b}");
        }
    }

    #[test]
    fn is_label_matches_its_earlier_form() {
        let same = |label: &str| assert_eq!(is_label(label), is_label_earlier(label), "{label:?}");
        // Every string of one or two ASCII characters.
        same("");
        for a in 0..128u8 {
            same(&char::from(a).to_string());
            for b in 0..128u8 {
                same(&[char::from(a), char::from(b)].iter().collect::<String>());
            }
        }
        // Every string of up to five characters from a few that matter, non-ASCII too.
        let alphabet = ['a', 'Z', '0', '9', '-', '.', '_', '@', ' ', 'é', 'ß'];
        let mut labels = vec![String::new()];
        for _ in 0..5 {
            let mut longer = Vec::new();
            for label in &labels {
                for c in alphabet {
                    let mut l = label.clone();
                    l.push(c);
                    same(&l);
                    longer.push(l);
                }
            }
            labels = longer;
        }
        // Around the 63-character cap, with each end a letter or a hyphen.
        for len in 60..=66 {
            for (first, last) in [("a", "a"), ("-", "a"), ("a", "-"), ("-", "-")] {
                same(&(first.to_string() + &"b".repeat(len - 2) + last));
                same(&(first.to_string() + &"-".repeat(len - 2) + last));
            }
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::super::*;
        use proptest::prelude::*;
        use proptest::strategy::ValueTree;

        fn check_accepted(input: &str) -> Result<(), TestCaseError> {
            if let Ok(address) = validate(input) {
                prop_assert_eq!(address.matches('@').count(), 1);
                prop_assert_eq!(address, input.trim());
                prop_assert!(address.is_ascii());
                prop_assert!(address.len() <= 254);
                prop_assert!(address.find('@').is_some_and(|at| (1..=64).contains(&at)));
                prop_assert!(address
                    .rsplit_once('@')
                    .is_some_and(|(_, domain)| domain.contains('.')));
            }
            Ok(())
        }

        /// The rule `validate` documents, written out plainly and on its own (characters
        /// counted, labels split into a list, the local part's characters looked up in their
        /// list): the answer every generated string is checked against, accepted or refused.
        fn by_the_rule(input: &str) -> Result<&str, EmailError> {
            const LOCAL: &str = ".!#$%&'*+/=?^_`{|}~-";
            let address = input.trim();
            if address.is_empty() {
                return Err(EmailError::Empty);
            }
            if address.chars().count() > 254 {
                return Err(EmailError::TooLong);
            }
            let Some((local, domain)) = address.split_once('@') else {
                return Err(EmailError::Invalid);
            };
            if local.chars().count() > 64 {
                return Err(EmailError::LocalTooLong);
            }
            let label = |l: &str| {
                (1..=63).contains(&l.len())
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            };
            let labels: Vec<&str> = domain.split('.').collect();
            let top = labels[labels.len() - 1];
            let top_level = top.chars().all(|c| c.is_ascii_alphabetic())
                || top.to_ascii_lowercase().starts_with("xn--");
            let valid = !local.is_empty()
                && local
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || LOCAL.contains(c))
                && labels.iter().all(|l| label(l))
                && labels.len() >= 2
                && top_level;
            if valid {
                Ok(address)
            } else {
                Err(EmailError::Invalid)
            }
        }

        /// A rule-shaped address with one to three edits (a character put in, replaced or taken
        /// out, from those that matter to the rule): strings on both sides of it, near its edges.
        fn near_addresses() -> impl Strategy<Value = String> {
            let address = (
                "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,66}",
                proptest::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}[a-zA-Z0-9])?", 1..4),
                "[a-zA-Z]{1,6}|[xX][nN]--[a-z0-9]{1,8}",
                "[ \t\n\u{a0}]{0,2}",
            )
                .prop_map(|(local, labels, top, pad)| {
                    pad.clone() + &local + "@" + &labels.join(".") + "." + &top + &pad
                });
            let edit = (
                0..3u8,
                any::<prop::sample::Index>(),
                "[a-zA-Z0-9@. _é\u{a0}-]",
            );
            (address, proptest::collection::vec(edit, 1..4))
                .prop_map(|(address, edits)| crate::edited(&address, edits))
        }

        /// How many of `cases` strings that `strategy` makes (from a fixed seed) `validate`
        /// accepts.
        fn accepted_of(strategy: impl Strategy<Value = String>, cases: u32) -> u32 {
            let mut runner = proptest::test_runner::TestRunner::deterministic();
            (0..cases)
                .filter(|_| {
                    let s = strategy.new_tree(&mut runner).expect("a case").current();
                    validate(&s).is_ok()
                })
                .count() as u32
        }

        /// The generators below reach both sides of the rule: a check of accepted addresses
        /// whose generator made none would pass without checking anything.
        #[test]
        fn near_addresses_fall_on_both_sides_of_the_rule() {
            let accepted = accepted_of(near_addresses(), 2_000);
            assert!(
                (200..=1_800).contains(&accepted),
                "{accepted} of 2,000 near addresses accepted"
            );
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(10_000))]

            #[test]
            fn any_string_is_handled(s in any::<String>()) {
                check_accepted(&s)?;
                prop_assert_eq!(validate(&s), by_the_rule(&s));
            }

            #[test]
            fn near_addresses_are_judged_by_the_rule(s in near_addresses()) {
                check_accepted(&s)?;
                prop_assert_eq!(validate(&s), by_the_rule(&s));
            }

            #[test]
            fn email_like_strings_are_handled(s in "[ \t\u{a0}a-zA-Z0-9@.!#%+_é-]{0,300}") {
                check_accepted(&s)?;
                prop_assert_eq!(validate(&s), by_the_rule(&s));
            }

            #[test]
            fn rule_shaped_addresses_are_accepted(
                local in "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}",
                labels in proptest::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?", 1..3),
                top in "[a-zA-Z]{1,24}|xn--[a-z0-9]([a-z0-9-]{0,16}[a-z0-9])?",
                pad in "[ \t\n]{0,3}",
            ) {
                let address = local + "@" + &labels.join(".") + "." + &top;
                let input = pad.clone() + &address + &pad;
                prop_assert_eq!(validate(&input), Ok(address.as_str()));
            }
        }
    }
}
