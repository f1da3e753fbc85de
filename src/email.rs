//! Whether a reader's email address is one we can send to: length caps and the WHATWG HTML rule.

/// Why an address was refused; `Display` is the sentence shown to the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailError {
    /// Nothing but whitespace was entered.
    Empty,
    /// More than 254 characters in all (RFC 5321's path limit, less the angle brackets).
    TooLong,
    /// More than 64 characters before the `@` (RFC 5321, section 4.5.3.1.1).
    LocalTooLong,
    /// Not a valid e-mail address by the WHATWG HTML rule.
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
/// browser, it accepts a domain of one label (`name@localhost`) and dots anywhere in the local part.
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
/// ```
pub fn validate(input: &str) -> Result<&str, EmailError> {
    let address = input.trim();
    if address.is_empty() {
        return Err(EmailError::Empty);
    }
    // Characters, not bytes, so the message counts what the reader typed.
    if chars(address) > MAX_ADDRESS {
        return Err(EmailError::TooLong);
    }
    let (local, domain) = address.split_once('@').ok_or(EmailError::Invalid)?;
    if chars(local) > MAX_LOCAL {
        return Err(EmailError::LocalTooLong);
    }
    let local_ok = !local.is_empty() && local.bytes().all(is_local_byte);
    // A second '@' lands in the domain, where no label may contain it.
    if local_ok && domain.split('.').all(is_label) {
        Ok(address)
    } else {
        Err(EmailError::Invalid)
    }
}

/// WHATWG's local-part characters: `atext` plus `.`.
fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&b)
}

/// WHATWG's `label`: 1-63 letters, digits or hyphens, a letter or digit at each end.
fn is_label(label: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn address(local_len: usize, domain_len: usize) -> String {
        // Domain of 63-letter labels joined by dots, the last label shorter, `domain_len` in all.
        let mut domain = String::new();
        while domain.len() < domain_len {
            if !domain.is_empty() {
                domain.push('.');
            }
            let label = (domain_len - domain.len()).min(63);
            domain.push_str(&"d".repeat(label));
        }
        assert_eq!(domain.len(), domain_len);
        "l".repeat(local_len) + "@" + &domain
    }

    #[test]
    fn valid_examples_pass() {
        for ok in [
            "name@example.com",
            "a@b",
            "x@localhost",
            "first.last+news@sub.example.co.uk",
            "USER@EXAMPLE.COM",
            "!#$%&'*+/=?^_`{|}~-@example.com",
            "1@123.456",
            "name@xn--bcher-kva.example",
            "name@a-b.c-d",
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

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn check_accepted(input: &str) -> Result<(), TestCaseError> {
            if let Ok(address) = validate(input) {
                prop_assert_eq!(address.matches('@').count(), 1);
                prop_assert_eq!(address, input.trim());
                prop_assert!(address.is_ascii());
                prop_assert!(address.len() <= 254);
                prop_assert!(address.find('@').is_some_and(|at| (1..=64).contains(&at)));
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(10_000))]

            #[test]
            fn any_string_is_handled(s in any::<String>()) {
                check_accepted(&s)?;
            }

            #[test]
            fn email_like_strings_are_handled(s in "[ \t\u{a0}a-zA-Z0-9@.!#%+_é-]{0,300}") {
                check_accepted(&s)?;
            }

            #[test]
            fn rule_shaped_addresses_are_accepted(
                local in "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}",
                labels in proptest::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?", 1..3),
                pad in "[ \t\n]{0,3}",
            ) {
                let address = local + "@" + &labels.join(".");
                let input = pad.clone() + &address + &pad;
                prop_assert_eq!(validate(&input), Ok(address.as_str()));
            }
        }
    }
}
