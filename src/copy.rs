//! The words of the prompt: the reference experience's English copy, one place for every string.

use crate::config::int_text;
use crate::meter::Wall;
use crate::period::Period;

/// A list item of the subscription benefits.
pub const BENEFITS: [&str; 4] = [
    "Unlimited access to every article, analysis and briefing",
    "The daily newsletter with the day's essential reporting from around the world",
    "The complete archive, searchable back to our first issue",
    "Invitations to subscriber-only briefings with our correspondents",
];

/// The prompt's heading for each wall.
pub fn heading(wall: Wall) -> &'static str {
    match wall {
        Wall::Register => "Keep reading for free!",
        Wall::Unlock => "Use one of your free articles?",
        Wall::Subscribe => "Subscribe to keep reading",
    }
}

/// The line under the heading.
pub fn lead(wall: Wall, period: Period) -> String {
    match wall {
        Wall::Register => "Get instant access to the rest of this article by submitting your email address below. You'll also get access to three articles of your choice each month and our free newsletter:".into(),
        Wall::Unlock => "As a registered reader you choose which articles to read in full.".into(),
        Wall::Subscribe => {
            let mut s = String::from("You've read all of your free articles");
            s.push_str(match period {
                Period::Month => " this month",
                Period::Week => " this week",
                Period::Day => " today",
                Period::Rolling { .. } | Period::Lifetime => "",
            });
            s.push_str(". Subscribe for unlimited access.");
            s
        }
    }
}

/// The unlock button: "Unlock this article (2 of 3 left this month)".
///
/// # Examples
///
/// ```
/// use meterwall::copy::unlock_label;
/// use meterwall::period::Period;
/// assert_eq!(unlock_label(2, 3, Period::Month), "Unlock this article (2 of 3 left this month)");
/// ```
pub fn unlock_label(remaining: u8, limit: u8, period: Period) -> String {
    let mut s = String::from("Unlock this article (");
    s.push_str(&int_text(remaining.into()));
    s.push_str(" of ");
    s.push_str(&int_text(limit.into()));
    s.push_str(" left");
    s.push_str(match period {
        Period::Month => " this month)",
        Period::Week => " this week)",
        Period::Day => " today)",
        Period::Rolling { .. } | Period::Lifetime => ")",
    });
    s
}

/// Label of the email field.
pub const EMAIL_LABEL: &str = "Email address";
/// The submit button.
pub const SUBMIT: &str = "Get access";
/// While the email is on its way.
pub const SENDING: &str = "Sending…";
/// When the server cannot be reached or fails without saying why.
pub const SEND_FAILED: &str =
    "We couldn't reach the server. Please check your connection and try again.";
/// The sentence around the subscribe link: before, link text, after.
pub const SUBSCRIBE: [&str; 3] = ["Or, ", "Subscribe now", " to get full access."];
/// The sentence around the log-in link.
pub const LOGIN: [&str; 3] = ["Already a subscriber? ", "Log in here", "."];
/// Heading of the benefits list.
pub const BENEFITS_HEADING: &str = "What you'll get with an All-Access subscription";
/// The prompt region's accessible name when the heading is not enough.
pub const REGION_LABEL: &str = "Subscription offer";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_copy_is_exact() {
        assert_eq!(heading(Wall::Register), "Keep reading for free!");
        assert!(lead(Wall::Register, Period::Month)
            .starts_with("Get instant access to the rest of this article"));
        assert_eq!(SUBSCRIBE.concat(), "Or, Subscribe now to get full access.");
        assert_eq!(LOGIN.concat(), "Already a subscriber? Log in here.");
    }

    #[test]
    fn unlock_label_names_the_period() {
        assert_eq!(
            unlock_label(1, 3, Period::Week),
            "Unlock this article (1 of 3 left this week)"
        );
        assert_eq!(
            unlock_label(0, 5, Period::Lifetime),
            "Unlock this article (0 of 5 left)"
        );
    }
}
