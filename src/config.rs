//! The publisher's configuration: parsed from plain values, validated with exact error paths.
//!
//! Config arrives in layers (a JSON block, the script tag's `data-*` attributes, the article
//! element's attributes, queued `config` calls), each a [`Value`] tree. Layers merge key by key,
//! later layers winning, and the result is checked here, in the core, so every rule runs on the
//! host too. serde turns a JS object into a [`Value`] (see `web`); the checks are hand-written so
//! each error can name its exact path and what was expected.

use crate::copy::{Copy, Lang, Text, NAMES};
use crate::period::Period;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A config value as the page gave it, before validation.
#[derive(Debug, PartialEq)]
pub enum Value {
    /// `null` or `undefined`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string (data attributes are always strings).
    Str(String),
    /// An array.
    List(Vec<Value>),
    /// An object, keys in the order given.
    Map(Vec<(String, Value)>),
}

/// Written out, with loops that push: the derived clone's copies of the slices' cloning are
/// larger.
impl Clone for Value {
    fn clone(&self) -> Self {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(*b),
            Value::Num(n) => Value::Num(*n),
            Value::Str(s) => Value::Str(s.clone()),
            Value::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(item.clone());
                }
                Value::List(out)
            }
            Value::Map(entries) => {
                let mut out = Vec::new();
                for (key, value) in entries {
                    out.push((key.clone(), value.clone()));
                }
                Value::Map(out)
            }
        }
    }
}

impl Value {
    /// The value under `key` of an object; `null` is "not given", like a missing key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .filter(|v| !matches!(v, Value::Null)),
            _ => None,
        }
    }

    /// Merges `over` onto `self`: objects merge key by key, `null` changes nothing (it means
    /// "not given", at any depth), anything else is replaced.
    pub fn merge(&mut self, over: &Value) {
        match (self, over) {
            (_, Value::Null) => {}
            (Value::Map(base), Value::Map(top)) => {
                for (key, value) in top {
                    // Not given: no key added for it, so that no walk of a map's entries (the
                    // copy's texts, the sections) meets a `null`.
                    if matches!(value, Value::Null) {
                        continue;
                    }
                    // A new key is added as `null`, and the value merged onto it as onto any
                    // other: one place that copies a value.
                    let at = match base.iter().position(|(k, _)| k == key) {
                        Some(at) => at,
                        None => {
                            base.push((key.clone(), Value::Null));
                            base.len() - 1
                        }
                    };
                    if let Some((_, slot)) = base.get_mut(at) {
                        // A key, or a set of keys, is one value: a later one replaces it whole
                        // (a JWK Set merged with a key would hold both, and the set would win);
                        // `null` still means "not given". Emptied first, the merge below copies
                        // it whole.
                        if key == "publicKey" && !matches!(value, Value::Null) {
                            *slot = Value::Null;
                        }
                        slot.merge(value);
                    }
                }
            }
            // An object where there was none is merged onto an empty one, leaving out its
            // `null`s as above.
            (slot, Value::Map(_)) => {
                *slot = Value::Map(Vec::new());
                slot.merge(over);
            }
            (slot, value) => *slot = value.clone(),
        }
    }

    /// How a value is described in an error message.
    fn describe(&self) -> String {
        // The fixed descriptions are texts of the errors' one list, looked up by place: one
        // copy of the text made, not one per kind of value.
        let found = match self {
            Value::Null => Expect::FoundNull,
            Value::Bool(true) => Expect::FoundTrue,
            Value::Bool(false) => Expect::FoundFalse,
            Value::Num(n) => match whole(*n) {
                Some(i) => return int_text(i),
                // `parseInt("")` and the like: not a number at all.
                None if !n.is_finite() => Expect::FoundNaN,
                None => Expect::FoundFraction,
            },
            Value::Str(s) => {
                // A loop that pushes, not `extend` and its reservation.
                let mut out = String::from("\"");
                for c in s.chars().take(40) {
                    out.push(c);
                }
                out.push('"');
                return out;
            }
            Value::List(_) => Expect::FoundList,
            Value::Map(_) => Expect::FoundObject,
        };
        found.text().into()
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str("a config value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Num(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Num(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Num(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.into()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

/// How registered readers spend their allowance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Each new article counts as it is opened.
    Auto,
    /// Nothing counts until the reader clicks "Unlock this article".
    Choose,
}

/// What a page is, for the meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageType {
    /// Counts against the allowance (the default).
    Metered,
    /// Never counts, never walled.
    Free,
    /// Never counts, always walled for anyone but a subscriber.
    Premium,
}

/// What happens when something fails (bad config, storage, a panic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailPolicy {
    /// The article stays readable.
    Open,
    /// The article is gated as if the allowance were spent.
    Closed,
}

/// A section with its own allowance, separate from the shared one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The section's name as pages give it (`data-meterwall-section`).
    pub name: String,
    /// Free articles a period in this section, for anonymous and registered readers alike.
    pub limit: u8,
}

/// How much of the article stays above the wall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Teaser {
    /// The first N block elements.
    Blocks(u8),
    /// The first N% of the block elements, rounded down, at least one when N > 0. (The wall
    /// counts the blocks of a wrapper or a list that holds the article's text in its place.)
    Percent(u8),
}

impl Teaser {
    /// How many of `total` blocks to keep.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::config::Teaser;
    /// assert_eq!(Teaser::Blocks(2).keep(9), 2);
    /// assert_eq!(Teaser::Percent(30).keep(9), 2);
    /// assert_eq!(Teaser::Percent(10).keep(3), 1);
    /// ```
    pub fn keep(self, total: usize) -> usize {
        match self {
            Teaser::Blocks(n) => (n as usize).min(total),
            Teaser::Percent(0) => 0,
            // At least one, and never more than there are (none of none).
            Teaser::Percent(p) => (total * p as usize / 100).max(1).min(total),
        }
    }
}

/// The most entries a record may hold; limits are validated so the allowance always fits.
pub const MAX_ENTRIES: usize = 150;
/// At most this many sections may have their own allowance.
pub const MAX_SECTIONS: usize = 4;

/// The validated configuration. Every key, its default and its meaning is listed in the README.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `limit`: free articles a period for anonymous readers. Default 3.
    pub limit: u8,
    /// `period`: how long an allowance lasts. Default calendar month.
    pub period: Period,
    /// `timeZone`: the IANA zone that calendar periods follow. Default `UTC`.
    pub time_zone: String,
    /// `registered.limit`: articles more a period once registered. Default 3.
    pub registered_limit: u8,
    /// `registered.mode`: `auto` or `choose`. Default `auto`.
    pub registered_mode: Mode,
    /// `sections`: `{ "name": limit }` sections with their own allowance. Default none.
    pub sections: Vec<Section>,
    /// `keepParams`: query parameters that distinguish articles. Default none.
    pub keep_params: Vec<String>,
    /// `selector`: CSS selector of the article body. Default `article`.
    pub selector: String,
    /// `teaser`: block elements kept above the wall, `2` or `"30%"`. Default 2.
    pub teaser: Teaser,
    /// `keep`: CSS selector of elements in the article that are never removed (ads, related
    /// links). Default `[data-meterwall-keep]`.
    pub keep: String,
    /// `locale`: the prompt's language; default the page's `<html lang>`.
    pub locale: Option<String>,
    /// `copy`: `{ "name": "text" }` replacements for any built-in string.
    pub copy: Copy,
    /// `stylesheet`: a publisher stylesheet loaded inside the prompt's shadow root.
    pub stylesheet: Option<String>,
    /// `timeoutMs`: how long one signup attempt may take. Default 8000.
    pub timeout_ms: u32,
    /// `maxAttempts`: signup attempts on network errors, 5xx and 429. Default 4.
    pub max_attempts: u8,
    /// `retryDelayMs`: the first retry's backoff ceiling, doubled each time. Default 1000.
    pub retry_delay_ms: u32,
    /// `endpoint`: where the email is POSTed. Default `/api/signup`.
    pub endpoint: String,
    /// `subscribeUrl`. Default `/subscribe`.
    pub subscribe_url: String,
    /// `loginUrl`. Default `/login`.
    pub login_url: String,
    /// `subscriber`: the publisher knows this reader subscribes. Default false.
    pub subscriber: bool,
    /// `articleId`: this page's article id (usually an attribute on the body element).
    pub article_id: Option<String>,
    /// `pageType`: `metered`, `free` or `premium`. Default `metered`.
    pub page_type: PageType,
    /// `section`: this page's section.
    pub section: Option<String>,
    /// `onError`: `open` or `closed`. Default `open`.
    pub on_error: FailPolicy,
    /// `onStorageUnavailable`: `open` or `closed` when localStorage is blocked. Default `open`.
    pub on_storage_unavailable: FailPolicy,
    /// `preview`: the `?meterwall=` preview parameters work on this page. Default false.
    pub preview: bool,
    /// `dataLayer`: events also go to `window.dataLayer` (read by the loader). Default false.
    pub data_layer: bool,
    /// `token`: a subscriber entitlement, a compact JWS signed ES256 by the publisher.
    pub token: Option<String>,
    /// `publicKey`: the publisher's P-256 public key (a JWK object) that signs tokens, or the
    /// keys of a change of key (a list or a JWK Set of at most [`crate::token::MAX_KEYS`]).
    pub public_key: Option<Value>,
}

/// The element holding the article text when the config names none.
pub const DEFAULT_SELECTOR: &str = "article";

impl Default for Config {
    fn default() -> Self {
        Config {
            limit: 3,
            period: Period::Month,
            time_zone: "UTC".into(),
            registered_limit: 3,
            registered_mode: Mode::Auto,
            sections: Vec::new(),
            keep_params: Vec::new(),
            selector: DEFAULT_SELECTOR.into(),
            teaser: Teaser::Blocks(2),
            keep: "[data-meterwall-keep]".into(),
            locale: None,
            copy: Copy::default(),
            stylesheet: None,
            timeout_ms: 8000,
            max_attempts: 4,
            retry_delay_ms: 1000,
            endpoint: "/api/signup".into(),
            subscribe_url: "/subscribe".into(),
            login_url: "/login".into(),
            subscriber: false,
            article_id: None,
            page_type: PageType::Metered,
            section: None,
            on_error: FailPolicy::Open,
            on_storage_unavailable: FailPolicy::Open,
            preview: false,
            data_layer: false,
            token: None,
            public_key: None,
        }
    }
}

/// A config value that cannot be used: where it is, what was expected, what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the value, e.g. `registered.limit`.
    pub path: String,
    /// What the value must be.
    pub expected: &'static str,
    /// What the page gave.
    pub found: String,
}

impl ConfigError {
    /// Appends the message (`path: expected …, found …`) to `out`: the widget's reports build
    /// it so, without `to_string`, which would link the formatting machinery's `Display` path.
    pub fn push_to(&self, out: &mut String) {
        out.push_str(&self.path);
        out.push_str(": expected ");
        out.push_str(self.expected);
        out.push_str(", found ");
        out.push_str(&self.found);
    }
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        let mut message = String::new();
        self.push_to(&mut message);
        f.write_str(&message)
    }
}

/// The keys `Config::from_value` knows at the top level, for "did you mean".
const KEYS: &str = texts![
    "preview",
    "dataLayer",
    "token",
    "publicKey",
    "onStorageUnavailable",
    "timeoutMs",
    "maxAttempts",
    "retryDelayMs",
    "keep",
    "locale",
    "copy",
    "stylesheet",
    "limit",
    "period",
    "timeZone",
    "registered",
    "sections",
    "keepParams",
    "selector",
    "teaser",
    "endpoint",
    "subscribeUrl",
    "loginUrl",
    "subscriber",
    "articleId",
    "pageType",
    "section",
    "onError",
];
const REGISTERED_KEYS: &str = texts!["limit", "mode"];

/// Declares `Expect`, what a value must be (and, last, the fixed descriptions of what was found
/// instead), one variant per text, and `EXPECTED`, the texts as one `texts!` list in the same
/// order: each check passes a one-byte code, not a text's address and length, and `err` and
/// `Value::describe` look the text up.
macro_rules! expectations {
    ($($name:ident: $text:literal,)*) => {
        #[derive(Clone, Copy)]
        enum Expect {
            $($name),*
        }
        const EXPECTED: &str = texts![$($text),*];
        const _: () = assert!(crate::list_len(EXPECTED) == [$(Expect::$name),*].len());
    };
}

expectations! {
    Object: "an object",
    Whole0To100: "a whole number from 0 to 100",
    PeriodText: "one of \"month\", \"week\", \"day\", \"lifetime\" or \"rolling:N\" (N from 1 to 366 days)",
    TimeZone: "an IANA time zone such as \"Europe/Paris\"",
    RegisteredObject: "an object like {\"limit\": 3}",
    ModeText: "\"auto\" or \"choose\"",
    Selector: "a CSS selector such as \".article-body\"",
    Keep: "a CSS selector such as \".related, .ad\"",
    Timeout: "a number of ms from 100 to 60000",
    Attempts: "a whole number from 1 to 10",
    RetryDelay: "a number of ms from 0 to 30000",
    PageText: "\"metered\", \"free\" or \"premium\"",
    PublicKey: "a P-256 public key as a JWK object, like {\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":…,\"y\":…}, or a list or JWK Set ({\"keys\":[…]}) of 1 to 4 of them (in a data attribute, as JSON text)",
    Total: "limit, registered.limit and the section limits to add up to at most 149",
    AString: "a string",
    Boolean: "true or false",
    Url: "an https: URL or a path starting with \"/\"",
    StringList: "a list of strings, or one comma-separated string",
    Sections: "an object of section names to limits, like {\"opinion\": 2}",
    SectionCount: "at most 4 sections with their own allowance",
    Policy: "\"open\" or \"closed\"",
    TeaserText: "a number of blocks from 0 to 50, or a percentage like \"30%\"",
    CopyObject: "an object of text names to strings, like {\"submit\": \"Read on\"}",
    CopyText: "a string of at most 2000 characters",
    // What was found instead, for `Value::describe`.
    FoundNull: "null",
    FoundTrue: "true",
    FoundFalse: "false",
    FoundNaN: "NaN or an infinite number",
    FoundFraction: "a fractional number",
    FoundList: "a list",
    FoundObject: "an object",
}

impl Expect {
    /// The code's text, from `EXPECTED`. Inlined into its two look-ups (`err`, `describe`): a call
    /// of its own cost more than the look-up.
    #[inline(always)]
    fn text(self) -> &'static str {
        crate::list_item(EXPECTED, self as usize)
    }
}

/// What the checks return: the error boxed, so that `?` after each key moves one pointer.
type Checked<T> = Result<T, Box<ConfigError>>;

impl Config {
    /// Reads and validates a merged config tree. Unknown keys are not errors: each gives a warning
    /// naming the nearest known key, returned beside the config.
    ///
    /// # Errors
    ///
    /// The first value that cannot be used, with its path.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::config::{Config, Value};
    /// let page = Value::Map(vec![("limit".into(), Value::Str("5".into()))]);
    /// let (config, warnings) = Config::from_value(&page).unwrap();
    /// assert_eq!(config.limit, 5);
    /// assert!(warnings.is_empty());
    ///
    /// let bad = Value::Map(vec![(
    ///     "registered".into(),
    ///     Value::Map(vec![("limit".into(), Value::Str("three".into()))]),
    /// )]);
    /// let err = Config::from_value(&bad).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "registered.limit: expected a whole number from 0 to 100, found \"three\""
    /// );
    /// ```
    pub fn from_value(root: &Value) -> Result<(Config, Vec<String>), ConfigError> {
        let mut c = Config::default();
        let mut warnings = Vec::new();
        // Filled in place: an early `?` in `read` then drops nothing, where returning from here
        // would repeat the drop of every field at each of its thirty exits (1.7 KB of wasm).
        c.read(root, &mut warnings).map_err(|e| *e)?;
        Ok((c, warnings))
    }

    fn read(&mut self, root: &Value, warnings: &mut Vec<String>) -> Checked<()> {
        let c = self;
        match root {
            Value::Map(_) | Value::Null => {}
            other => return Err(err("config", Expect::Object, other)),
        }
        unknown_keys(root, "", KEYS, warnings);
        if let Some(v) = root.get("limit") {
            c.limit = small_int(v, "limit", 100, Expect::Whole0To100)?;
        }
        if let Some(v) = root.get("period") {
            let text = string(v, "period", Expect::PeriodText)?;
            c.period = Period::parse(text).ok_or_else(|| err("period", Expect::PeriodText, v))?;
        }
        // The selectors and the zone through `key` too, each check a small function that gives
        // `non_empty` its message (22 bytes gzip less than three reads here).
        key(root, "timeZone", &mut c.time_zone, |v, path| {
            non_empty(v, path, Expect::TimeZone)
        })?;
        if let Some(reg) = root.get("registered") {
            if !matches!(reg, Value::Map(_)) {
                return Err(err("registered", Expect::RegisteredObject, reg));
            }
            unknown_keys(reg, "registered.", REGISTERED_KEYS, warnings);
            if let Some(v) = reg.get("limit") {
                c.registered_limit = small_int(v, "registered.limit", 100, Expect::Whole0To100)?;
            }
            if let Some(v) = reg.get("mode") {
                c.registered_mode = match string(v, "registered.mode", Expect::ModeText)? {
                    "auto" => Mode::Auto,
                    "choose" => Mode::Choose,
                    _ => return Err(err("registered.mode", Expect::ModeText, v)),
                };
            }
        }
        // The three lists are filled in place (each still empty: a key is read once), so that
        // no `Result` carries a list out to be moved in (18 bytes gzip).
        if let Some(v) = root.get("sections") {
            sections(v, &mut c.sections)?;
        }
        if let Some(v) = root.get("keepParams") {
            string_list(v, "keepParams", &mut c.keep_params)?;
        }
        key(root, "selector", &mut c.selector, |v, path| {
            non_empty(v, path, Expect::Selector)
        })?;
        if let Some(v) = root.get("teaser") {
            c.teaser = teaser(v)?;
        }
        key(root, "keep", &mut c.keep, |v, path| {
            non_empty(v, path, Expect::Keep)
        })?;
        key(root, "locale", &mut c.locale, optional_string)?;
        c.copy.lang = Lang::from_tag(c.locale.as_deref().unwrap_or(""));
        if let Some(v) = root.get("copy") {
            copy(v, warnings, &mut c.copy.overrides)?;
        }
        // A build that leaves a language's copy out (`cargo xtask build --languages`) shows
        // English on that language's pages wherever the config's copy gives no text of its own;
        // said unless it gives every one. Never in a build with every language: `left_out` is
        // then `None`, and this text not linked.
        let all_given = c.copy.overrides.len() >= crate::list_len(crate::copy::NAMES);
        if let (Some(tag), false) = (c.locale.as_deref(), all_given) {
            if let Some(lang) = Lang::left_out(tag) {
                let mut m = String::from("locale \"");
                m.push_str(tag);
                m.push_str("\" (the config's, or the page's lang): this build of meterwall leaves out the built-in ");
                m.push_str(lang.english_name());
                m.push_str(" copy, so every text that copy does not give shows in English; add ");
                m.push_str(lang.tag());
                m.push_str(" to the languages it is built with (cargo xtask build --languages), or give every text in copy");
                warnings.push(m);
            }
        }
        if let Some(v) = root.get("timeoutMs") {
            c.timeout_ms = int(v, "timeoutMs", 100, 60_000, Expect::Timeout)?;
        }
        if let Some(v) = root.get("maxAttempts") {
            c.max_attempts = int(v, "maxAttempts", 1, 10, Expect::Attempts)? as u8;
        }
        if let Some(v) = root.get("retryDelayMs") {
            c.retry_delay_ms = int(v, "retryDelayMs", 0, 30_000, Expect::RetryDelay)?;
        }
        if let Some(v) = root.get("stylesheet") {
            c.stylesheet = Some(url(v, "stylesheet")?);
        }
        key(root, "endpoint", &mut c.endpoint, url)?;
        key(root, "subscribeUrl", &mut c.subscribe_url, url)?;
        key(root, "loginUrl", &mut c.login_url, url)?;
        key(root, "subscriber", &mut c.subscriber, boolean)?;
        key(root, "articleId", &mut c.article_id, optional_string)?;
        if let Some(v) = root.get("pageType") {
            // A CMS may write `Premium`: the spelling is forgiven, not the word.
            // Compared without case rather than lowercased: no copy to allocate and drop.
            let given = string(v, "pageType", Expect::PageText)?;
            c.page_type = if given.eq_ignore_ascii_case("metered") {
                PageType::Metered
            } else if given.eq_ignore_ascii_case("free") {
                PageType::Free
            } else if given.eq_ignore_ascii_case("premium") {
                PageType::Premium
            } else {
                return Err(err("pageType", Expect::PageText, v));
            };
        }
        key(root, "section", &mut c.section, optional_string)?;
        key(root, "onError", &mut c.on_error, policy)?;
        key(root, "preview", &mut c.preview, boolean)?;
        key(root, "dataLayer", &mut c.data_layer, boolean)?;
        key(root, "token", &mut c.token, optional_string)?;
        if let Some(v) = root.get("publicKey") {
            // (`get` gives no `null`.) Checked first and cloned once: one copy of the clone's
            // call and its drop of the old value.
            // One key, the keys of a change of key, or a JWK Set (`{"keys": [...]}`) of them; the
            // shell checks each key's members. JSON text (a data attribute's) the shell has read
            // as what it holds, so text left here is not JSON.
            let keys = match v {
                Value::Map(_) => v.get("keys"),
                _ => Some(v),
            };
            let usable = match keys {
                None => true,
                Some(Value::List(keys)) => {
                    (1..=crate::token::MAX_KEYS).contains(&keys.len())
                        && keys.iter().all(|k| matches!(k, Value::Map(_)))
                }
                _ => false,
            };
            if !usable {
                return Err(err("publicKey", Expect::PublicKey, v));
            }
            c.public_key = Some(v.clone());
        }
        key(
            root,
            "onStorageUnavailable",
            &mut c.on_storage_unavailable,
            policy,
        )?;
        let total = c.limit as usize
            + c.registered_limit as usize
            + c.sections.iter().map(|s| s.limit as usize).sum::<usize>();
        if total + 1 > MAX_ENTRIES {
            // The count given to `err` as a number, which it describes in decimal: every error
            // built by the one function (40 bytes gzip less than building these two by hand).
            return Err(err("limit", Expect::Total, &Value::Num(total as f64)));
        }
        let given = |t: Text| c.copy.overrides.iter().any(|(o, _)| *o == t);
        // The built-in registration text makes the reference offer, in every language.
        if !given(Text::RegisterLead) && (c.registered_limit != 3 || c.period != Period::Month) {
            warnings.push("the built-in registration text promises three articles each month: with another registered.limit or period, set copy.registerLead to what readers get".into());
        }
        // Texts added in a later version: a copy written before them (in another language, say)
        // shows the built-in words there until it gives them too.
        for (elder, newer) in [
            (Text::SubscribeLead, Text::PremiumLead),
            (Text::SendFailed, Text::SignupRefused),
        ] {
            if given(elder) && !given(newer) {
                let mut m = String::from("copy gives ");
                m.push_str(elder.name());
                m.push_str(" but not ");
                let newer = newer.name();
                m.push_str(newer);
                m.push_str(", whose built-in text shows instead: give copy.");
                m.push_str(newer);
                m.push_str(" too");
                warnings.push(m);
            }
        }
        Ok(())
    }
}

fn err(path: &str, expected: Expect, found: &Value) -> Box<ConfigError> {
    Box::new(ConfigError {
        path: path.into(),
        expected: expected.text(),
        found: found.describe(),
    })
}

fn whole(n: f64) -> Option<i64> {
    // (NaN and the infinities fail the bound: no check of finiteness of their own.)
    (n.fract() == 0.0 && n.abs() < 9.0e15).then_some(n as i64)
}

/// The number a decimal text holds: ASCII digits with an optional leading `+`, at most
/// `u32::MAX`. One reader for every number the widget parses: each `str::parse::<T>` would link
/// its own copy of the standard library's parser into every reader's download.
///
/// # Examples
///
/// ```
/// use meterwall::config::int_value;
/// assert_eq!(int_value("042"), Some(42));
/// assert_eq!(int_value("+7"), Some(7));
/// assert_eq!(int_value("-1"), None);
/// assert_eq!(int_value(""), None);
/// assert_eq!(int_value("4294967296"), None);
/// ```
pub fn int_value(text: &str) -> Option<u32> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() {
        return None;
    }
    digits.bytes().try_fold(0u32, |n, c| {
        c.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u32::from(c - b'0')))?
    })
}

/// Decimal text of an integer, without `format!` (which would pull the formatting machinery
/// into every reader's download).
pub fn int_text(n: i64) -> String {
    let mut out = String::new();
    push_int(&mut out, n, 10);
    out
}

/// Appends `n` in base `radix` (10, or 36 for the stored record), lowercase: one writer for
/// both.
pub(crate) fn push_int(out: &mut String, n: i64, radix: u64) {
    if n < 0 {
        out.push('-');
    }
    push_digits(out, n.unsigned_abs(), radix);
}

/// The digits of base 36, lowercase, whose first ten are decimal's and first sixteen hex's: what
/// [`push_int`] writes, the stored record's numbers are read by, and the signup's article hex and
/// idempotency key are written from.
pub(crate) const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Appends the digits of `n`, the higher ones first by recursion: no buffer of digits to
/// reverse (at most twenty calls deep in base 10, thirteen in base 36).
fn push_digits(out: &mut String, n: u64, radix: u64) {
    if n >= radix {
        push_digits(out, n / radix, radix);
    }
    out.push(DIGITS[(n % radix) as usize] as char);
}

/// Inlined: an out-of-line function only moved `int`'s result into a narrower one, and its
/// four callers read the narrowed result as cheaply from `int`'s.
#[inline(always)]
fn small_int(v: &Value, path: &str, max: u8, expected: Expect) -> Checked<u8> {
    int(v, path, 0, max.into(), expected).map(|n| n as u8)
}

fn int(v: &Value, path: &str, min: u32, max: u32, expected: Expect) -> Checked<u32> {
    let n = match v {
        // A whole number from 0 to `u32::MAX` comes back from the saturating cast unchanged; a
        // fraction, a negative number, NaN or anything larger does not.
        Value::Num(n) => Some(*n as u32).filter(|&w| f64::from(w) == *n),
        // Data attributes arrive as strings: "3" is as good as 3.
        Value::Str(s) => int_value(crate::trim(s)),
        _ => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(err(path, expected, v)),
    }
}

fn string<'a>(v: &'a Value, path: &str, expected: Expect) -> Checked<&'a str> {
    match v {
        Value::Str(s) => Ok(crate::trim(s)),
        _ => Err(err(path, expected, v)),
    }
}

/// Inlined into the three checks of selectors and the zone, each a call of `string` and a copy.
#[inline(always)]
fn non_empty(v: &Value, path: &str, expected: Expect) -> Checked<String> {
    match string(v, path, expected)? {
        "" => Err(err(path, expected, v)),
        s => Ok(s.into()),
    }
}

fn optional_string(v: &Value, path: &str) -> Checked<Option<String>> {
    match v {
        Value::Null => Ok(None),
        _ => {
            let s = string(v, path, Expect::AString)?;
            Ok((!s.is_empty()).then(|| s.into()))
        }
    }
}

/// Reads `key` of `root` into `slot` with `check`, which names the key in its error, when the
/// key is given. Not inlined: `read` makes one call per key rather than repeating each key's
/// drop and store.
#[inline(never)]
fn key<T>(
    root: &Value,
    key: &str,
    slot: &mut T,
    check: fn(&Value, &str) -> Checked<T>,
) -> Checked<()> {
    if let Some(v) = root.get(key) {
        *slot = check(v, key)?;
    }
    Ok(())
}

/// A boolean, or its text as templates print it in a data attribute: `"true"` or `"1"`, and
/// `"false"`, `"0"` or nothing (PHP prints `false` as an empty string), so that an empty value
/// never switches `subscriber` or `preview` on.
fn boolean(v: &Value, path: &str) -> Checked<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Str(s) => match s.as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" | "" => Ok(false),
            _ => Err(err(path, Expect::Boolean, v)),
        },
        _ => Err(err(path, Expect::Boolean, v)),
    }
}

/// Link targets: `https:` URLs and same-origin relative paths only, so config can never
/// become a `javascript:` link.
fn url(v: &Value, path: &str) -> Checked<String> {
    let s = string(v, path, Expect::Url)?;
    let relative = s.starts_with('/') && !s.starts_with("//") && !s.bytes().any(|b| b == b'\\');
    let https = s.len() > 8
        && s.get(..8)
            .is_some_and(|h| h.eq_ignore_ascii_case("https://"));
    if (relative || https) && !s.chars().any(char::is_control) {
        Ok(s.into())
    } else {
        Err(err(path, Expect::Url, v))
    }
}

fn string_list(v: &Value, path: &str, out: &mut Vec<String>) -> Checked<()> {
    // Loops that push, not two `collect`s (one through `Result`): 0.8 KB less wasm.
    match v {
        Value::Str(s) => {
            for item in crate::pieces(s, b',').map(crate::trim) {
                if !item.is_empty() {
                    out.push(item.into());
                }
            }
        }
        Value::List(items) => {
            for item in items {
                match item {
                    Value::Str(s) => out.push(crate::trim(s).into()),
                    other => return Err(err(path, Expect::StringList, other)),
                }
            }
        }
        other => return Err(err(path, Expect::StringList, other)),
    }
    Ok(())
}

fn sections(v: &Value, out: &mut Vec<Section>) -> Checked<()> {
    let Value::Map(entries) = v else {
        return Err(err("sections", Expect::Sections, v));
    };
    if entries.len() > MAX_SECTIONS {
        return Err(err(
            "sections",
            Expect::SectionCount,
            &Value::Num(entries.len() as f64),
        ));
    }
    'entries: for (name, limit) in entries {
        // The path finished only for the error: no string made and dropped for each section.
        let limit = small_int(limit, "sections.", 100, Expect::Whole0To100).map_err(|mut e| {
            e.path.push_str(name);
            e
        })?;
        // Kept in name order: records of version 1 name a section by its place in this list, and
        // are read by that order. (Inserted in place: a slice sort would link 4 KB of sorting
        // code for at most four names.)
        // One pass finds a repeated name, or carries each later section one place on to make
        // room for a new one, the last pushed (`Vec::insert` would link its panic for an index
        // past the end).
        let mut carried = Section {
            name: name.clone(),
            limit,
        };
        for later in out.iter_mut() {
            if later.name == carried.name {
                // (Found before any swap: the sections after a carried one are all after it.)
                later.limit = limit;
                continue 'entries;
            }
            if later.name > carried.name {
                core::mem::swap(later, &mut carried);
            }
        }
        out.push(carried);
    }
    Ok(())
}

fn policy(v: &Value, path: &str) -> Checked<FailPolicy> {
    match string(v, path, Expect::Policy)? {
        "open" => Ok(FailPolicy::Open),
        "closed" => Ok(FailPolicy::Closed),
        _ => Err(err(path, Expect::Policy, v)),
    }
}

fn teaser(v: &Value) -> Checked<Teaser> {
    if let Value::Str(s) = v {
        if let Some(p) = crate::trim(s).strip_suffix('%') {
            return match int_value(crate::trim(p)) {
                Some(p) if p <= 100 => Ok(Teaser::Percent(p as u8)),
                _ => Err(err("teaser", Expect::TeaserText, v)),
            };
        }
    }
    small_int(v, "teaser", 50, Expect::TeaserText).map(Teaser::Blocks)
}

fn copy(v: &Value, warnings: &mut Vec<String>, out: &mut Vec<(Text, String)>) -> Checked<()> {
    let Value::Map(entries) = v else {
        return Err(err("copy", Expect::CopyObject, v));
    };
    unknown_keys(v, "copy.", NAMES, warnings);
    for (name, text) in entries {
        let Some(t) = Text::from_name(name) else {
            continue;
        };
        match text {
            // Always rendered as text, never as HTML; a cap keeps a runaway value off the page.
            // Characters, counted as the bytes that start one.
            Value::Str(s) if s.bytes().filter(|b| b & 0xC0 != 0x80).count() <= 2000 => {
                out.push((t, s.clone()))
            }
            other => {
                // The path built only for the error: no string made and dropped for each text.
                let mut e = err("copy.", Expect::CopyText, other);
                e.path.push_str(name);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Warns of each key of `map` not in `known` (a `texts!` list).
fn unknown_keys(map: &Value, prefix: &str, known: &'static str, warnings: &mut Vec<String>) {
    let Value::Map(entries) = map else { return };
    for (key, _) in entries {
        // A known key is its own nearest (no two known keys differ only in case: checked by a
        // test), so one walk of `known` both finds it and, for any other key, the suggestion.
        let near = nearest(key, known);
        if near == Some(key.as_str()) {
            continue;
        }
        let mut msg = String::from("unknown config key \"");
        msg.push_str(prefix);
        msg.push_str(key);
        msg.push('"');
        // `registered.limit` as the README's table spells it, or `registeredLimit` as a data
        // attribute arrives: a key of the `registered` object.
        let nested = key
            // One split, not two `get`s (20 bytes gzip).
            .split_at_checked(10)
            .filter(|(head, _)| prefix.is_empty() && head.eq_ignore_ascii_case("registered"))
            // `.limit`, `Limit`, `-limit`: one edit from a key, or none.
            .and_then(|(_, rest)| nearest(rest, REGISTERED_KEYS));
        if let Some(inner) = nested {
            msg.push_str(" (did you mean {\"registered\": {\"");
            msg.push_str(inner);
            msg.push_str("\": …}}");
            attribute_hint(&mut msg, key, inner, "registered-");
            msg.push_str("?)");
        } else if let Some(near) = near {
            msg.push_str(" (did you mean \"");
            msg.push_str(prefix);
            msg.push_str(near);
            msg.push('"');
            if prefix.is_empty() && near.eq_ignore_ascii_case(key) {
                attribute_hint(&mut msg, key, near, "");
            }
            msg.push_str("?)");
        }
        warnings.push(msg);
    }
}

/// A data attribute's name loses its capitals (`data-subscribeUrl` arrives as `subscribeurl`):
/// for a `key` of lower-case letters only that is `near` in lower case (`near` names the attribute, after
/// `data-` and `prefix`), says how the attribute is spelled (`data-subscribe-url`), which "did
/// you mean" alone would have the publisher write again.
fn attribute_hint(msg: &mut String, key: &str, near: &str, prefix: &str) {
    if key.bytes().all(|b| b.is_ascii_lowercase()) {
        msg.push_str(", as an attribute data-");
        msg.push_str(prefix);
        // Known keys are ASCII letters: a capital's lower case is its bit 5 set.
        for b in near.bytes() {
            if b.is_ascii_uppercase() {
                msg.push('-');
            }
            msg.push(char::from(b | 0x20));
        }
    }
}

/// The known key closest to `key` by edit distance, if it is close enough to be a typo.
fn nearest(key: &str, known: &'static str) -> Option<&'static str> {
    // A loop, not `filter` and `min_by_key`; like `min_by_key`, the first of equals wins.
    let mut best = None;
    let mut least = usize::MAX;
    for k in crate::list_items(known) {
        let d = edit_distance(key, k);
        if d <= 2.max(k.len() / 3) && d < least {
            (best, least) = (Some(k), d);
        }
    }
    best
}

/// Levenshtein distance over bytes, ASCII letters compared without case (known keys are ASCII;
/// a non-ASCII character in a typo counts as one edit per byte, which only makes it less near).
fn edit_distance(a: &str, b: &str) -> usize {
    // One row of the table, its first cell (the row's number) kept apart; walked by iterators,
    // and its last cell read with `get`, whose check cannot fail: no index can panic. On the
    // stack, not a vector allocated for each key compared: a known key is at most `ROW` bytes
    // (checked as the crate builds, below).
    let b = b.as_bytes();
    let mut row: [usize; ROW] = core::array::from_fn(|j| j + 1);
    for (i, ca) in a.bytes().enumerate() {
        let (mut diag, mut left) = (i, i + 1);
        for (cb, cell) in b.iter().zip(row.iter_mut()) {
            let above = *cell;
            left = (diag + usize::from(!ca.eq_ignore_ascii_case(cb)))
                .min(above + 1)
                .min(left + 1);
            *cell = left;
            diag = above;
        }
    }
    // The cell of `b`'s last byte; with no byte, the distance is `a`'s length.
    b.len()
        .checked_sub(1)
        .and_then(|last| row.get(last))
        .copied()
        .unwrap_or(a.len())
}

/// The longest key `edit_distance` may be given as `b`.
const ROW: usize = 24;
const _: () = assert!(
    longest(KEYS) <= ROW && longest(REGISTERED_KEYS) <= ROW && longest(NAMES) <= ROW,
    "a known key is longer than edit_distance's row"
);

/// The length in bytes of the longest item of a `texts!` list.
const fn longest(list: &str) -> usize {
    let bytes = list.as_bytes();
    let (mut i, mut len, mut most) = (0, 0, 0);
    while i < bytes.len() {
        if bytes[i] == 0x1f {
            len = 0;
        } else {
            len += 1;
            if len > most {
                most = len;
            }
        }
        i += 1;
    }
    most
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_without_its_finiteness_check_matches_the_old_form() {
        fn whole_before(n: f64) -> Option<i64> {
            (n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15).then_some(n as i64)
        }
        let edges = [
            0.0,
            -0.0,
            0.5,
            -1.5,
            3.0,
            -3.0,
            9.0e15,
            -9.0e15,
            8.999_999_999_999_998e15,
            1e300,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        for n in edges
            .into_iter()
            .chain((-2000..2000).map(|i| f64::from(i) * 0.25))
        {
            assert_eq!(whole(n), whole_before(n), "{n}");
        }
    }

    #[test]
    fn teaser_percent_without_clamp_matches_the_clamped_form() {
        fn keep_before(t: Teaser, total: usize) -> usize {
            match t {
                Teaser::Blocks(n) => (n as usize).min(total),
                Teaser::Percent(0) => 0,
                Teaser::Percent(p) => (total * p as usize / 100).clamp(1, total.max(1)).min(total),
            }
        }
        for total in 0..=400 {
            for n in 0..=u8::MAX {
                for t in [Teaser::Blocks(n), Teaser::Percent(n)] {
                    assert_eq!(t.keep(total), keep_before(t, total), "{t:?} {total}");
                }
            }
        }
    }

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
    fn s(text: &str) -> Value {
        Value::Str(text.into())
    }

    /// In a build with every language, a French page is no occasion for a warning; in one
    /// without French (`cargo xtask test` runs this with `--no-default-features` too), it is,
    /// unless the config gives copy of its own.
    #[test]
    fn a_locale_whose_copy_the_build_leaves_out_is_warned_of() {
        let told = |copy: Option<Value>| {
            let mut entries = vec![("locale", s("fr-CA"))];
            entries.extend(copy.map(|c| ("copy", c)));
            let (config, warnings) = Config::from_value(&map(&entries)).unwrap();
            // The page's language is kept (its plural rules, the signup's locale) in every build.
            assert_eq!(config.copy.lang, Lang::Fr);
            warnings
                .into_iter()
                .filter(|w| w.contains("--languages"))
                .collect::<Vec<String>>()
        };
        let some = map(&[("registerHeading", s("Continuez"))]);
        let every = Value::Map(
            crate::list_items(NAMES)
                .map(|name| (name.to_string(), s("Texte")))
                .collect(),
        );
        assert!(told(Some(every)).is_empty());
        if cfg!(feature = "lang-fr") {
            assert!(told(None).is_empty());
            assert!(told(Some(some)).is_empty());
        } else {
            let warnings = told(None);
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert_eq!(
                warnings[0],
                "locale \"fr-CA\" (the config's, or the page's lang): this build of meterwall \
                 leaves out the built-in French copy, so every text that copy does not give \
                 shows in English; add fr to the languages it is built with (cargo xtask build \
                 --languages), or give every text in copy"
            );
            // Some texts given: the others still show in English.
            assert_eq!(told(Some(some)), warnings);
        }
    }

    #[test]
    fn public_keys_are_one_a_list_or_a_set_of_up_to_four() {
        let jwk = || map(&[("kty", s("EC")), ("crv", s("P-256"))]);
        let keys = |n: usize| Value::List((0..n).map(|_| jwk()).collect());
        let set = |n: usize| map(&[("keys", keys(n))]);
        for given in [jwk(), keys(1), keys(4), set(1), set(4)] {
            let (c, _) = Config::from_value(&map(&[("publicKey", given.clone())])).unwrap();
            assert_eq!(c.public_key, Some(given));
        }
        // Text is what the shell could not read as JSON (it reads a data attribute's JSON text as
        // the object or list it holds): until this test, text that began like JSON was taken,
        // and a JWK Set of any size, so a bad key showed only once a token was checked.
        for wrong in [
            keys(0),
            keys(5),
            set(0),
            set(5),
            map(&[("keys", jwk())]),
            Value::List(vec![s("EC")]),
            s("EC"),
            s(r#"{kty:'EC'}"#),
            Value::Num(1.0),
        ] {
            let e = Config::from_value(&map(&[("publicKey", wrong.clone())])).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("publicKey") && text.contains("1 to 4"),
                "{wrong:?}: {text}"
            );
        }
    }

    #[test]
    fn a_later_public_key_replaces_an_earlier_set_whole() {
        let jwk = |x: &str| map(&[("kty", s("EC")), ("x", s(x))]);
        let mut merged = map(&[(
            "publicKey",
            map(&[("keys", Value::List(vec![jwk("a"), jwk("b")]))]),
        )]);
        merged.merge(&map(&[("publicKey", jwk("c"))]));
        assert_eq!(merged, map(&[("publicKey", jwk("c"))]));
        // A later layer's null (a template with nothing to fill in) leaves it.
        merged.merge(&map(&[("publicKey", Value::Null)]));
        assert_eq!(merged, map(&[("publicKey", jwk("c"))]));
        // Other objects still merge key by key.
        let mut merged = map(&[("copy", map(&[("heading", s("A"))]))]);
        merged.merge(&map(&[("copy", map(&[("lead", s("B"))]))]));
        assert_eq!(
            merged,
            map(&[("copy", map(&[("heading", s("A")), ("lead", s("B"))]))])
        );
    }

    #[test]
    fn defaults_when_nothing_is_configured() {
        let (c, w) = Config::from_value(&Value::Null).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.limit, 3);
        assert_eq!(c.period, Period::Month);
        assert!(w.is_empty());
    }

    #[test]
    fn data_attribute_strings_are_read_as_numbers_and_booleans() {
        let v = map(&[
            ("limit", s("5")),
            ("subscriber", s("true")),
            ("teaser", s("3")),
        ]);
        let (c, _) = Config::from_value(&v).unwrap();
        assert_eq!(
            (c.limit, c.subscriber, c.teaser),
            (5, true, Teaser::Blocks(3))
        );
        // As templates print booleans: an empty value is false, never a subscriber.
        for (text, on) in [("1", true), ("0", false), ("", false), ("false", false)] {
            for key in ["subscriber", "preview", "dataLayer"] {
                let (c, _) = Config::from_value(&map(&[(key, s(text))])).unwrap();
                let got = match key {
                    "subscriber" => c.subscriber,
                    "preview" => c.preview,
                    _ => c.data_layer,
                };
                assert_eq!(got, on, "{key}: {text:?}");
            }
        }
        let v = map(&[("subscriber", s("yes"))]);
        assert_eq!(
            Config::from_value(&v).unwrap_err().to_string(),
            "subscriber: expected true or false, found \"yes\""
        );
    }

    #[test]
    fn copy_texts_are_measured_in_characters_not_bytes() {
        // A thousand CJK characters are 3,000 bytes of UTF-8.
        let text = "\u{8a18}".repeat(1000);
        let v = map(&[("copy", map(&[("submit", s(&text))]))]);
        assert!(Config::from_value(&v).is_ok());
        let v = map(&[("copy", map(&[("submit", s(&"a".repeat(2001)))]))]);
        assert!(Config::from_value(&v).is_err());
    }

    #[test]
    fn invalid_limit_names_path_expectation_and_value() {
        let v = map(&[("limit", Value::Num(2.5))]);
        assert_eq!(
            Config::from_value(&v).unwrap_err().to_string(),
            "limit: expected a whole number from 0 to 100, found a fractional number"
        );
        for n in [f64::NAN, f64::INFINITY] {
            let v = map(&[("limit", Value::Num(n))]);
            assert_eq!(
                Config::from_value(&v).unwrap_err().to_string(),
                "limit: expected a whole number from 0 to 100, found NaN or an infinite number"
            );
        }
        let v = map(&[("limit", Value::Num(101.0))]);
        assert_eq!(
            Config::from_value(&v).unwrap_err().to_string(),
            "limit: expected a whole number from 0 to 100, found 101"
        );
    }

    #[test]
    fn nested_registered_settings_and_their_errors() {
        let v = map(&[(
            "registered",
            map(&[("limit", Value::Num(2.0)), ("mode", s("choose"))]),
        )]);
        let (c, _) = Config::from_value(&v).unwrap();
        assert_eq!((c.registered_limit, c.registered_mode), (2, Mode::Choose));
        let v = map(&[("registered", map(&[("mode", s("manual"))]))]);
        assert_eq!(
            Config::from_value(&v).unwrap_err().to_string(),
            "registered.mode: expected \"auto\" or \"choose\", found \"manual\""
        );
    }

    #[test]
    fn unknown_keys_warn_with_the_nearest_known_key() {
        let v = map(&[
            ("limt", Value::Num(2.0)),
            ("registered", map(&[("mdoe", s("auto"))])),
        ]);
        let (_, w) = Config::from_value(&v).unwrap();
        assert_eq!(
            w,
            vec![
                "unknown config key \"limt\" (did you mean \"limit\"?)".to_string(),
                "unknown config key \"registered.mdoe\" (did you mean \"registered.mode\"?)"
                    .to_string(),
            ]
        );
        // A key of `registered`, written flat.
        for flat in ["registered.limit", "registeredLimit", "Registered-Limit"] {
            let (c, w) = Config::from_value(&map(&[(flat, Value::Num(5.0))])).unwrap();
            assert_eq!(c.registered_limit, 3, "{flat}: not taken");
            assert_eq!(
                w,
                vec![format!(
                    "unknown config key \"{flat}\" (did you mean {{\"registered\": {{\"limit\": …}}}}?)"
                )]
            );
        }
        let (_, w) = Config::from_value(&map(&[("zzzzzzzz", Value::Null)])).unwrap();
        assert_eq!(w, vec!["unknown config key \"zzzzzzzz\"".to_string()]);
        // A key in another case (a data attribute's, say) is near the right one.
        let (_, w) = Config::from_value(&map(&[("SubscribeURL", s("/s"))])).unwrap();
        assert_eq!(
            w,
            vec![
                "unknown config key \"SubscribeURL\" (did you mean \"subscribeUrl\"?)".to_string()
            ]
        );
        // A data attribute written in camel case arrives in lower case: its spelling as an
        // attribute is given too (a key with no capital to lose is only near itself).
        let (_, w) = Config::from_value(&map(&[
            ("subscribeurl", s("/s")),
            ("timezone", s("UTC")),
            ("selectr", s("main")),
            ("registeredlimit", Value::Num(5.0)),
        ]))
        .unwrap();
        assert_eq!(
            w,
            vec![
                "unknown config key \"subscribeurl\" (did you mean \"subscribeUrl\", as an attribute data-subscribe-url?)".to_string(),
                "unknown config key \"timezone\" (did you mean \"timeZone\", as an attribute data-time-zone?)".to_string(),
                "unknown config key \"selectr\" (did you mean \"selector\"?)".to_string(),
                "unknown config key \"registeredlimit\" (did you mean {\"registered\": {\"limit\": …}}, as an attribute data-registered-limit?)".to_string(),
            ]
        );
        assert_eq!(edit_distance("límit", "limit"), 2, "bytes, not characters");
    }

    #[test]
    fn link_targets_accept_only_https_and_same_origin_paths() {
        for ok in ["/subscribe", "https://example.com/join"] {
            let (c, _) = Config::from_value(&map(&[("subscribeUrl", s(ok))])).unwrap();
            assert_eq!(c.subscribe_url, ok);
        }
        for bad in [
            "javascript:alert(1)",
            "//evil.example/x",
            "http://example.com",
            "sub",
        ] {
            let e = Config::from_value(&map(&[("loginUrl", s(bad))])).unwrap_err();
            assert_eq!(e.path, "loginUrl");
        }
    }

    #[test]
    fn later_layers_win_key_by_key() {
        let mut base = map(&[
            ("limit", Value::Num(3.0)),
            (
                "registered",
                map(&[("limit", Value::Num(3.0)), ("mode", s("choose"))]),
            ),
        ]);
        base.merge(&map(&[("registered", map(&[("limit", Value::Num(5.0))]))]));
        let (c, _) = Config::from_value(&base).unwrap();
        assert_eq!(
            (c.limit, c.registered_limit, c.registered_mode),
            (3, 5, Mode::Choose)
        );
    }

    #[test]
    fn sections_are_separate_allowances_bounded_in_number_and_total() {
        let v = map(&[("sections", map(&[("opinion", Value::Num(2.0))]))]);
        let (c, _) = Config::from_value(&v).unwrap();
        assert_eq!(
            c.sections,
            vec![Section {
                name: "opinion".into(),
                limit: 2
            }]
        );
        // In name order, whatever the order given: version 1 records name sections by place.
        let two = |first: &str, second: &str| {
            let v = map(&[("sections", map(&[(first, s("1")), (second, s("2"))]))]);
            Config::from_value(&v).unwrap().0.sections
        };
        assert_eq!(two("sport", "opinion")[0].name, "opinion");
        assert_eq!(
            two("sport", "opinion")
                .iter()
                .map(|s| &s.name)
                .collect::<Vec<_>>(),
            two("opinion", "sport")
                .iter()
                .map(|s| &s.name)
                .collect::<Vec<_>>()
        );
        let five = map(&[
            ("a", s("1")),
            ("b", s("1")),
            ("c", s("1")),
            ("d", s("1")),
            ("e", s("1")),
        ]);
        assert_eq!(
            Config::from_value(&map(&[("sections", five)]))
                .unwrap_err()
                .path,
            "sections"
        );
        let big = map(&[
            ("limit", s("100")),
            ("registered", map(&[("limit", s("100"))])),
        ]);
        assert!(Config::from_value(&big)
            .unwrap_err()
            .to_string()
            .contains("at most 149"));
    }

    #[test]
    fn the_reference_offer_warns_when_the_config_offers_something_else() {
        let warned = |v: &Value| {
            let (_, warnings) = Config::from_value(v).unwrap();
            warnings.iter().any(|w| w.contains("copy.registerLead"))
        };
        assert!(!warned(&map(&[])), "the defaults are the reference offer");
        assert!(warned(&map(&[("registered", map(&[("limit", s("5"))]))])));
        assert!(warned(&map(&[("period", s("week"))])));
        let own = map(&[
            ("period", s("week")),
            (
                "copy",
                map(&[("registerLead", s("Two more articles a week."))]),
            ),
        ]);
        assert!(
            !warned(&own),
            "the publisher's own text says what it offers"
        );
    }

    #[test]
    fn a_copy_without_the_texts_added_since_warns_of_them() {
        let warnings =
            |copy: &[(&str, Value)]| Config::from_value(&map(&[("copy", map(copy))])).unwrap().1;
        assert_eq!(
            warnings(&[("subscribeLead", s("Word abonnee.")), ("sendFailed", s("Geen verbinding."))]),
            [
                "copy gives subscribeLead but not premiumLead, whose built-in text shows instead: give copy.premiumLead too",
                "copy gives sendFailed but not signupRefused, whose built-in text shows instead: give copy.signupRefused too",
            ]
        );
        let both = [
            ("subscribeLead", s("Word abonnee.")),
            ("premiumLead", s("Alleen voor abonnees.")),
        ];
        assert!(warnings(&both).is_empty());
        assert!(warnings(&[]).is_empty());
    }

    #[test]
    fn null_is_not_given_even_where_no_layer_set_the_key() {
        let v = map(&[
            ("limit", Value::Null),
            ("registered", map(&[("limit", Value::Null)])),
            ("period", Value::Null),
            ("subscribeUrl", Value::Null),
        ]);
        let (c, _) = Config::from_value(&v).unwrap();
        assert_eq!(c, Config::default());
    }

    /// As the page's layers are merged: `null` inside `copy` and `sections` (a template with
    /// nothing to fill in, `mount({copy: {submit: t.submit}})` with no such text) is not given
    /// there either. Until this test it was an entry of its own, and the whole config was refused
    /// ("copy.submit: expected a string…, found null").
    #[test]
    fn null_inside_copy_and_sections_is_not_given() {
        let mut merged = Value::Map(Vec::new());
        merged.merge(&map(&[
            ("copy", map(&[("submit", s("Read on"))])),
            ("sections", map(&[("world", Value::Num(2.0))])),
        ]));
        merged.merge(&map(&[
            (
                "copy",
                map(&[("submit", Value::Null), ("registerLead", Value::Null)]),
            ),
            (
                "sections",
                map(&[
                    ("opinion", Value::Null),
                    ("a", Value::Null),
                    ("b", Value::Null),
                    ("c", Value::Null),
                ]),
            ),
            ("registered", map(&[("mode", Value::Null)])),
        ]));
        let (c, warnings) = Config::from_value(&merged).unwrap();
        assert_eq!(
            c.copy.overrides,
            vec![(Text::Submit, "Read on".to_owned())],
            "kept"
        );
        assert_eq!(c.sections.len(), 1, "{:?}", c.sections);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(c.registered_mode, Config::default().registered_mode);
    }

    #[test]
    fn period_and_page_type_spellings() {
        let v = map(&[("period", s("rolling:30")), ("pageType", s("premium"))]);
        let (c, _) = Config::from_value(&v).unwrap();
        assert_eq!(c.period, Period::Rolling { days: 30 });
        assert_eq!(c.page_type, PageType::Premium);
        let (c, _) = Config::from_value(&map(&[("pageType", s(" Free "))])).unwrap();
        assert_eq!(c.page_type, PageType::Free, "a CMS's capitals and spaces");
        assert_eq!(
            Config::from_value(&map(&[("pageType", s("paid"))]))
                .unwrap_err()
                .path,
            "pageType"
        );
        assert_eq!(
            Config::from_value(&map(&[("period", s("fortnight"))]))
                .unwrap_err()
                .path,
            "period"
        );
    }

    #[test]
    fn edit_distance_on_the_stack_matches_the_vector_row() {
        // The row as a vector, as it was before it moved to the stack.
        fn with_vec(a: &str, b: &str) -> usize {
            let b = b.as_bytes();
            let mut row: Vec<usize> = (1..=b.len()).collect();
            for (i, ca) in a.bytes().enumerate() {
                let (mut diag, mut left) = (i, i + 1);
                for (cb, cell) in b.iter().zip(row.iter_mut()) {
                    let above = *cell;
                    left = (diag + usize::from(!ca.eq_ignore_ascii_case(cb)))
                        .min(above + 1)
                        .min(left + 1);
                    *cell = left;
                    diag = above;
                }
            }
            row.last().copied().unwrap_or(a.len())
        }
        let known: Vec<&str> = crate::list_items(KEYS)
            .chain(crate::list_items(REGISTERED_KEYS))
            .chain(crate::list_items(NAMES))
            .chain([""])
            .collect();
        let mut given: Vec<String> = known.iter().map(|k| k.to_string()).collect();
        for k in &known {
            given.push(k.to_uppercase());
            given.push(k.chars().skip(1).collect());
            given.push(format!("{k}s"));
        }
        for odd in [
            "x",
            "límit",
            "registeredLimit",
            "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
        ] {
            given.push(odd.into());
        }
        for a in &given {
            for b in &known {
                assert_eq!(edit_distance(a, b), with_vec(a, b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn a_known_key_is_its_own_nearest() {
        for list in [KEYS, REGISTERED_KEYS, NAMES] {
            for k in crate::list_items(list) {
                assert_eq!(nearest(k, list), Some(k));
            }
        }
    }

    #[test]
    fn unknown_keys_by_nearest_match_the_separate_search() {
        // `unknown_keys` as it was, searching `known` for the key before finding the nearest.
        fn before(map: &Value, prefix: &str, known: &'static str, warnings: &mut Vec<String>) {
            let Value::Map(entries) = map else { return };
            for (key, _) in entries {
                if crate::list_items(known).any(|k| k == key) {
                    continue;
                }
                let mut msg = String::from("unknown config key \"");
                msg.push_str(prefix);
                msg.push_str(key);
                msg.push('"');
                let nested = key
                    .split_at_checked(10)
                    .filter(|(head, _)| {
                        prefix.is_empty() && head.eq_ignore_ascii_case("registered")
                    })
                    .and_then(|(_, rest)| nearest(rest, REGISTERED_KEYS));
                if let Some(inner) = nested {
                    msg.push_str(" (did you mean {\"registered\": {\"");
                    msg.push_str(inner);
                    msg.push_str("\": …}}");
                    attribute_hint(&mut msg, key, inner, "registered-");
                    msg.push_str("?)");
                } else if let Some(near) = nearest(key, known) {
                    msg.push_str(" (did you mean \"");
                    msg.push_str(prefix);
                    msg.push_str(near);
                    msg.push('"');
                    if prefix.is_empty() && near.eq_ignore_ascii_case(key) {
                        attribute_hint(&mut msg, key, near, "");
                    }
                    msg.push_str("?)");
                }
                warnings.push(msg);
            }
        }
        let mut given: Vec<String> = Vec::new();
        for list in [KEYS, REGISTERED_KEYS, NAMES] {
            for k in crate::list_items(list) {
                given.push(k.into());
                given.push(k.to_uppercase());
                given.push(k.to_lowercase());
                given.push(k.chars().skip(1).collect());
                given.push(format!("{k}s"));
                given.push(format!("registered{k}"));
                given.push(format!("Registered.{k}"));
            }
        }
        for odd in [
            "",
            "x",
            "límit",
            "registered",
            "registeredLimit",
            "zzzzzzzz",
        ] {
            given.push(odd.into());
        }
        for (prefix, known) in [
            ("", KEYS),
            ("registered.", REGISTERED_KEYS),
            ("copy.", NAMES),
        ] {
            for key in &given {
                let v = Value::Map(vec![(key.clone(), Value::Null)]);
                let (mut now, mut then) = (Vec::new(), Vec::new());
                unknown_keys(&v, prefix, known, &mut now);
                before(&v, prefix, known, &mut then);
                assert_eq!(now, then, "{prefix}{key}");
            }
        }
    }

    #[test]
    fn sections_carried_in_place_match_vec_insert() {
        // The list as `Vec::insert` built it before.
        fn with_insert(entries: &[(String, u8)]) -> Vec<Section> {
            let mut out: Vec<Section> = Vec::new();
            for (name, limit) in entries {
                let at = out
                    .iter()
                    .position(|s| s.name >= *name)
                    .unwrap_or(out.len());
                match out.get_mut(at) {
                    Some(existing) if existing.name == *name => existing.limit = *limit,
                    _ => out.insert(
                        at,
                        Section {
                            name: name.clone(),
                            limit: *limit,
                        },
                    ),
                }
            }
            out
        }
        let names = ["b", "a", "ab", "", "c", "B"];
        // Every list of up to four names (repeats included), each with its own limit.
        let mut lists: Vec<Vec<(String, u8)>> = vec![Vec::new()];
        let mut last = lists.clone();
        for len in 1..=MAX_SECTIONS {
            let mut longer = Vec::new();
            for list in &last {
                for name in names {
                    let mut l = list.clone();
                    l.push((name.to_string(), len as u8));
                    longer.push(l);
                }
            }
            lists.extend(longer.iter().cloned());
            last = longer;
        }
        assert!(lists.len() > 1000);
        for list in lists {
            let value = Value::Map(
                list.iter()
                    .map(|(n, l)| (n.clone(), Value::Num(f64::from(*l))))
                    .collect(),
            );
            let mut out = Vec::new();
            sections(&value, &mut out).unwrap();
            assert_eq!(out, with_insert(&list), "{list:?}");
        }
    }

    /// The same merge as the replacing one it was, but that a `null` it is given no longer leaves
    /// an entry of its own (the two are compared with every `null` entry left out).
    #[test]
    fn merge_through_null_matches_the_replacing_merge() {
        fn strip(v: &Value) -> Value {
            match v {
                Value::Map(entries) => Value::Map(
                    entries
                        .iter()
                        .filter(|(_, v)| !matches!(v, Value::Null))
                        .map(|(k, v)| (k.clone(), strip(v)))
                        .collect(),
                ),
                other => other.clone(),
            }
        }
        fn nulls(v: &Value) -> usize {
            match v {
                Value::Map(entries) => entries
                    .iter()
                    .map(|(_, v)| usize::from(matches!(v, Value::Null)) + nulls(v))
                    .sum(),
                Value::List(items) => items.iter().map(nulls).sum(),
                _ => 0,
            }
        }
        // `merge` as it was, replacing and pushing copies in three places.
        fn merge_before(this: &mut Value, over: &Value) {
            match (this, over) {
                (_, Value::Null) => {}
                (Value::Map(base), Value::Map(top)) => {
                    for (key, value) in top {
                        match base.iter_mut().find(|(k, _)| k == key) {
                            Some((_, slot))
                                if key == "publicKey" && !matches!(value, Value::Null) =>
                            {
                                *slot = value.clone()
                            }
                            Some((_, slot)) => merge_before(slot, value),
                            None => base.push((key.clone(), value.clone())),
                        }
                    }
                }
                (slot, value) => *slot = value.clone(),
            }
        }
        let leaves = [
            Value::Null,
            Value::Num(1.0),
            s("a"),
            Value::List(vec![s("b")]),
        ];
        let mut values = leaves.to_vec();
        for key in ["publicKey", "copy", "limit"] {
            for leaf in &leaves {
                values.push(map(&[(key, leaf.clone())]));
                values.push(map(&[(key, map(&[("x", leaf.clone())]))]));
                // A key once per object, as JS objects and JSON text give them.
                if key != "limit" {
                    values.push(map(&[
                        ("limit", leaf.clone()),
                        (key, map(&[("y", leaf.clone()), ("x", Value::Null)])),
                    ]));
                }
            }
        }
        for base in &values {
            for over in &values {
                let (mut now, mut before) = (base.clone(), base.clone());
                now.merge(over);
                merge_before(&mut before, over);
                assert_eq!(strip(&now), strip(&before), "{base:?} {over:?}");
                let mut onto_empty = Value::Map(Vec::new());
                onto_empty.merge(over);
                assert_eq!(nulls(&onto_empty), 0, "{over:?}");
            }
        }
    }

    #[test]
    fn int_value_reads_what_int_text_writes() {
        for n in [0u32, 1, 9, 10, 255, 60_000, u32::MAX] {
            assert_eq!(int_value(&int_text(n.into())), Some(n));
        }
        for bad in ["", "+", " 1", "1 ", "1.5", "1e3", "0x10", "٣", "--1"] {
            assert_eq!(int_value(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn int_text_by_recursion_matches_the_reversed_buffer() {
        // `int_text` as it was, its digits gathered last first and reversed.
        fn before(n: i64) -> String {
            let mut digits = Vec::new();
            let mut rest = n.unsigned_abs();
            loop {
                digits.push(b'0' + (rest % 10) as u8);
                rest /= 10;
                if rest == 0 {
                    break;
                }
            }
            let mut out = String::with_capacity(digits.len() + 1);
            if n < 0 {
                out.push('-');
            }
            out.extend(digits.iter().rev().map(|&d| d as char));
            out
        }
        let mut n: i64 = 1;
        for _ in 0..19 {
            for m in [n - 1, n, n + 1, n.wrapping_mul(3).wrapping_add(7)] {
                assert_eq!(int_text(m), before(m));
                assert_eq!(int_text(-m), before(-m));
            }
            n = n.saturating_mul(10);
        }
        for m in (-2000..2000).chain([i64::MIN, i64::MAX, i64::MIN + 1]) {
            assert_eq!(int_text(m), before(m));
        }
    }

    #[test]
    fn int_text_writes_decimal() {
        assert_eq!(int_text(0), "0");
        assert_eq!(int_text(-42), "-42");
        assert_eq!(int_text(i64::MIN), "-9223372036854775808");
    }

    /// `int` as it was before it read a number by a saturating cast, kept to compare.
    fn int_before(v: &Value, path: &str, min: u32, max: u32, expected: Expect) -> Checked<u32> {
        let n = match v {
            Value::Num(n) => whole(*n),
            // Data attributes arrive as strings: "3" is as good as 3.
            Value::Str(s) => int_value(s.trim()).map(i64::from),
            _ => None,
        };
        match n {
            Some(n) if (min as i64..=max as i64).contains(&n) => Ok(n as u32),
            _ => Err(err(path, expected, v)),
        }
    }

    #[test]
    fn int_reads_numbers_as_before() {
        let mut values = vec![
            Value::Null,
            Value::Bool(true),
            Value::List(vec![]),
            Value::Map(vec![]),
            s(""),
            s(" 7 "),
            s("+12"),
            s("-1"),
            s("4294967295"),
            s("4294967296"),
            s("1e3"),
        ];
        let mut numbers = vec![
            0.0,
            -0.0,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            f64::MAX,
            f64::MIN,
            u32::MAX as f64,
            u32::MAX as f64 + 1.0,
            u32::MAX as f64 - 0.5,
            9.0e15,
            9.0e15 - 1.0,
            -9.0e15,
            1e300,
            -1e300,
        ];
        for i in -1000..70_000 {
            numbers.push(f64::from(i));
            numbers.push(f64::from(i) + 0.5);
            numbers.push(f64::from(i) - 1e-9);
            numbers.push(f64::from(i) * 1001.0);
        }
        for n in numbers {
            values.push(Value::Num(n));
        }
        for v in &values {
            for (min, max, expected) in [
                (0, 100, Expect::Whole0To100),
                (0, 50, Expect::TeaserText),
                (100, 60_000, Expect::Timeout),
                (1, 10, Expect::Attempts),
                (0, 30_000, Expect::RetryDelay),
            ] {
                assert_eq!(
                    int(v, "k", min, max, expected),
                    int_before(v, "k", min, max, expected),
                    "{v:?} {min}..={max}"
                );
            }
        }
    }
}
