//! The meter: a pure state machine that decides, for one page view, whether the reader reads on
//! or meets a wall, and why.
//!
//! Rules (the README's "How the meter counts" states them for publishers):
//! - One view per distinct article per period counts; a re-read never counts again and an
//!   article once opened or unlocked in the period stays open.
//! - `free` pages never count and are never walled; `premium` pages never count and wall
//!   everyone but subscribers with the subscribe wall.
//! - Anonymous readers get `limit` articles a period, then the registration wall. Registered
//!   readers get `registered.limit` more, counted as opened (`auto`) or spent on a click
//!   (`choose`), then the subscribe wall. The article they register on is theirs on top.
//! - Subscribers are never walled and never counted.
//! - Sections listed in `sections` have their own allowance in place of `limit`.
//! - The record keeps the latest time it has seen: a clock set back never reopens an allowance;
//!   a clock set forward rolls the period forward (an accepted limit of any client-side meter).

use crate::article::ArticleKey;
use crate::config::{Config, FailPolicy, Mode, PageType, MAX_ENTRIES};
use crate::period::{days_from_civil, Calendar, CivilDate, Period};

/// Which allowance an opened article was charged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Allowance {
    /// The shared anonymous allowance (`limit`).
    Free,
    /// A section's own allowance, by the section's id ([`section_id`] of its name, 24 bits: the
    /// record keeps no more): a section keeps its count when others are added or removed.
    Section(u32),
    /// A section's allowance as records of version 1 name it: its place among the sections in
    /// name order. It becomes that section's id the next time the meter decides.
    SectionAt(u8),
    /// The registered readers' allowance (`registered.limit`).
    Registered,
    /// The article a reader registered on: theirs, charged to no allowance.
    Gift,
}

/// A section's id in the record: 24 bits of FNV-1a over its name. Two sections whose names share
/// an id (for two sections, about one chance in 17 million) would share a count.
///
/// # Examples
///
/// ```
/// use meterwall::meter::section_id;
/// assert_eq!(section_id("opinion"), section_id("opinion"));
/// assert_ne!(section_id("opinion"), section_id("sport"));
/// assert!(section_id("opinion") < 1 << 24);
/// ```
pub fn section_id(name: &str) -> u32 {
    crate::article::fnv1a32(name.as_bytes()) & 0xFF_FFFF
}

/// One article opened in the current period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The article, hashed.
    pub key: ArticleKey,
    /// What it was charged to.
    pub allowance: Allowance,
    /// When it was opened, in minutes since the Unix epoch.
    pub at_min: i64,
}

/// A reader's meter, as stored between page views. No URLs, no personal data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// The period kind the entries belong to (`Period::tag`); 0 for a fresh record.
    pub period_tag: u8,
    /// The calendar bucket the entries belong to (`Period::bucket`).
    pub bucket: i64,
    /// The latest time seen, in minutes since the Unix epoch.
    pub latest_min: i64,
    /// When the reader registered, in minutes since the Unix epoch.
    pub registered_min: Option<i64>,
    /// Articles opened in the current period, oldest first.
    pub entries: Vec<Entry>,
    /// The reader's subscriber entitlement (a signed token, verified on every page), so that
    /// cached pages and other tabs recognise a subscriber without a network call.
    pub token: Option<String>,
}

/// Who the reader is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// Not known to the publisher.
    Anonymous,
    /// Gave an email address.
    Registered,
    /// Pays; never walled.
    Subscriber,
}

/// Which wall a reader meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wall {
    /// "Keep reading for free!": give an email to read on.
    Register,
    /// "Unlock this article (2 of 3 left this month)": registered, `choose` mode.
    Unlock,
    /// Subscribe to read on.
    Subscribe,
}

/// The rule that decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Subscribers are never walled.
    Subscriber,
    /// The page is `free`.
    FreePage,
    /// The page is `premium` and the reader does not subscribe.
    PremiumPage,
    /// Already opened or unlocked this period.
    AlreadyOpened,
    /// A new article, charged to an allowance with room left.
    Counted,
    /// Registered in `choose` mode: the reader may spend one on this article.
    MayUnlock,
    /// Every allowance this reader has is spent.
    AllowanceSpent,
    /// An editor's preview (`?meterwall=off` or `wall`) decided, not the meter.
    Preview,
}

impl Tier {
    /// The tier as events and `why()` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Anonymous => "anonymous",
            Tier::Registered => "registered",
            Tier::Subscriber => "subscriber",
        }
    }
}

impl Wall {
    /// The wall as events, `why()` and the prompt's `data-wall` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Wall::Register => "register",
            Wall::Unlock => "unlock",
            Wall::Subscribe => "subscribe",
        }
    }
}

impl Reason {
    /// The reason as events and `why()` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Subscriber => "subscriber",
            Reason::FreePage => "freePage",
            Reason::PremiumPage => "premiumPage",
            Reason::AlreadyOpened => "alreadyOpened",
            Reason::Counted => "counted",
            Reason::MayUnlock => "mayUnlock",
            Reason::AllowanceSpent => "allowanceSpent",
            Reason::Preview => "preview",
        }
    }
}

/// The outcome of one page view, with its reasons: what a publisher sees through `why()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The wall to show, or none: the article is readable.
    pub wall: Option<Wall>,
    /// The rule that decided.
    pub reason: Reason,
    /// Who the reader is.
    pub tier: Tier,
    /// Whether this view was charged to an allowance just now.
    pub counted: bool,
    /// Articles charged to the allowance that applies here, this period.
    pub used: u8,
    /// The size of that allowance.
    pub limit: u8,
    /// `limit - used`.
    pub remaining: u8,
}

/// A decision as publishers read it (`why()`, every event's detail): a map of plain strings,
/// numbers and booleans, `wall` null when the article is open. Written as a map with string keys
/// rather than derived: serde-wasm-bindgen serializes struct field names through a cache of JS
/// strings that links a hash map into the wasm, 1.2 KB gzip for these seven keys.
impl serde::Serialize for Decision {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(7))?;
        // Every entry in one loop, in the keys' order, its value one type: one entry's code
        // for the seven rather than one per type of value.
        for (key, value) in [
            ("wall", Value::Text(self.wall.map(Wall::name))),
            ("reason", Value::Text(Some(self.reason.name()))),
            ("tier", Value::Text(Some(self.tier.name()))),
            ("counted", Value::Flag(self.counted)),
            ("used", Value::Number(self.used)),
            ("limit", Value::Number(self.limit)),
            ("remaining", Value::Number(self.remaining)),
        ] {
            map.serialize_entry(key, &value)?;
        }
        map.end()
    }
}

/// A value of a decision's map: a text (or null), a boolean or a number.
enum Value {
    Text(Option<&'static str>),
    Flag(bool),
    Number(u8),
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            // `Some(text)` serializes as the text itself, `None` as null.
            Value::Text(text) => text.serialize(serializer),
            Value::Flag(flag) => serializer.serialize_bool(flag),
            Value::Number(n) => serializer.serialize_u8(n),
        }
    }
}

impl Decision {
    /// Whether the reader has read the free articles they had, as the subscribe wall's lead says:
    /// a registered reader has (the article they registered on, at least); an anonymous one under
    /// an allowance of none, or walled by `onError: "closed"`, has not, nor has one on a premium
    /// page.
    pub fn spent_free_articles(&self) -> bool {
        self.reason == Reason::AllowanceSpent && (self.limit > 0 || self.tier == Tier::Registered)
    }

    /// The wall shown when a failure and `onError: "closed"` decide, not the meter.
    pub fn closed() -> Decision {
        decision(
            Some(Wall::Subscribe),
            Reason::AllowanceSpent,
            Tier::Anonymous,
            false,
            0,
            0,
        )
    }

    /// What an editor's preview parameter forces: `wall` or none, nothing counted.
    pub fn preview(wall: Option<Wall>) -> Decision {
        decision(wall, Reason::Preview, Tier::Anonymous, false, 0, 0)
    }
}

/// One page view, as the meter needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View<'a> {
    /// The article.
    pub key: ArticleKey,
    /// Its page type.
    pub page: PageType,
    /// Its section, if the page says.
    pub section: Option<&'a str>,
    /// The publisher says this reader subscribes (config, API or a verified token).
    pub subscriber: bool,
}

const MS_PER_MIN: i64 = 60_000;
const QUARTER_HOUR_MS: i64 = 900_000;
const MS_PER_DAY: i64 = 86_400_000;
/// The last minute a JS `Date` can hold (8.64e15 ms): later stored times are clamped to it, so a
/// far-future value in storage can neither overflow nor wrap.
pub const MAX_MIN: i64 = 8_640_000_000_000_000 / MS_PER_MIN;

impl Record {
    /// Brings the record to the present: time never goes back, and entries of a past period
    /// (or past their rolling window) are dropped. Returns the effective time in minutes.
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::meter::Record;
    /// use meterwall::period::{Period, Utc};
    /// let mut r = Record::default();
    /// r.roll(Period::Month, 1_000 * 60_000, &Utc);
    /// // The clock is set back an hour: the record keeps the later time.
    /// assert_eq!(r.roll(Period::Month, 940 * 60_000, &Utc), 1_000);
    /// ```
    pub fn roll(&mut self, period: Period, now_ms: i64, calendar: &dyn Calendar) -> i64 {
        let now_min = now_ms
            .div_euclid(MS_PER_MIN)
            .max(self.latest_min)
            .clamp(-MAX_MIN, MAX_MIN);
        self.latest_min = now_min;
        let (tag, bucket) = match period.rolling_ms() {
            Some(_) => (period.tag(), 0),
            None => (
                period.tag(),
                period.bucket(calendar.date_at(now_min * MS_PER_MIN)),
            ),
        };
        // Only forward: a calendar that puts the same moment in an earlier period (the publisher
        // changed `timeZone`, or pages of one site disagree on it) keeps the later one, and its
        // articles, rather than opening a new allowance each time the zones alternate.
        if self.period_tag != tag || self.bucket < bucket {
            self.entries.clear();
            self.period_tag = tag;
            self.bucket = bucket;
        }
        if let Some(window_ms) = period.rolling_ms() {
            let window_min = window_ms / MS_PER_MIN;
            self.entries.retain(|e| e.at_min + window_min > now_min);
        }
        // Entry times are only read by rolling periods (at most 366 days); older ones are kept as
        // the oldest age the stored form holds, so a record reads back exactly as written.
        for e in &mut self.entries {
            e.at_min = e
                .at_min
                .clamp(now_min - crate::record::MAX_AGE_MIN, now_min);
        }
        now_min
    }

    /// Folds in what another tab saved since this one read the record, so that two tabs never
    /// overwrite each other's views: the later period wins; within one period the articles are
    /// the union of both; time is the later of both, registration the earlier; the token is this
    /// record's, else the other's (the shell first lets storage decide for a token its page has
    /// not changed, so that a logout in another tab holds).
    ///
    /// # Examples
    ///
    /// ```
    /// use meterwall::article::ArticleKey;
    /// use meterwall::config::{Config, PageType};
    /// use meterwall::meter::{decide, Record, View};
    /// use meterwall::period::Utc;
    /// let config = Config::default();
    /// let view = |n| View { key: ArticleKey(n), page: PageType::Metered, section: None, subscriber: false };
    /// let (mut here, mut there) = (Record::default(), Record::default());
    /// decide(&mut here, &config, &view(1), 0, &Utc);
    /// decide(&mut there, &config, &view(2), 0, &Utc);
    /// here.merge(&there);
    /// assert_eq!(here.entries.len(), 2);
    /// ```
    pub fn merge(&mut self, other: &Record) {
        // The earlier registration, as a test of the other's: a match of the pair of options
        // was 25 bytes of wasm (gzip) more.
        if let Some(b) = other.registered_min {
            if self.registered_min.is_none_or(|a| b < a) {
                self.registered_min = Some(b);
            }
        }
        let same_kind = self.period_tag == other.period_tag || self.period_tag == 0;
        if same_kind && (other.bucket > self.bucket || self.period_tag == 0) {
            // The other tab is already in a later period (or this record is fresh): its
            // articles, by the union below into none. A record never lists an article twice (nor
            // more than MAX_ENTRIES), so the union is a copy; a clone of the list was 15 bytes of
            // wasm (gzip) more.
            self.period_tag = other.period_tag;
            self.bucket = other.bucket;
            self.entries.clear();
        }
        if same_kind && other.bucket == self.bucket {
            for e in &other.entries {
                let room = self.entries.len() < MAX_ENTRIES;
                match self.entries.iter_mut().find(|mine| mine.key == e.key) {
                    // The later view of an article both tabs list: under a rolling period a tab
                    // left open holds views that have dropped out since, which the other tab's
                    // newer view of the same article replaces.
                    Some(mine) if e.at_min > mine.at_min => *mine = *e,
                    Some(_) => {}
                    None if room => self.entries.push(*e),
                    None => {}
                }
            }
        }
        self.latest_min = self
            .latest_min
            .max(other.latest_min)
            .clamp(-MAX_MIN, MAX_MIN);
        if self.token.is_none() {
            // Assigned, not `clone_from`: with this token none the two do the same, and the
            // assignment is 25 bytes of wasm (gzip) less.
            self.token = other.token.clone();
        }
    }

    /// Gives each section entry of a version 1 record (a place among the sections) the id of
    /// the section at that place in `config`; a place no section has any more stays as it is and
    /// counts for none.
    fn place_sections(&mut self, config: &Config) {
        for e in &mut self.entries {
            if let Allowance::SectionAt(i) = e.allowance {
                if let Some(s) = config.sections.get(usize::from(i)) {
                    e.allowance = Allowance::Section(section_id(&s.name));
                }
            }
        }
    }

    fn used(&self, allowance: Allowance) -> u8 {
        self.entries
            .iter()
            .filter(|e| e.allowance == allowance)
            .count() as u8
    }

    fn opened(&self, key: ArticleKey) -> bool {
        self.entries.iter().any(|e| e.key == key)
    }

    fn charge(&mut self, key: ArticleKey, allowance: Allowance, at_min: i64, config: &Config) {
        // Validated config keeps the allowances' limits within MAX_ENTRIES, but a period can
        // hold more than its config allows now. A full record makes room by forgetting, oldest
        // first: an article of a section since removed from the config (or renamed), which
        // counts for nothing; else one beyond its allowance's limit (a limit lowered during the
        // period), whose allowance stays spent without it; else the article a reader registered
        // on. The guard keeps the record bounded even if the core is driven with unchecked
        // limits.
        if self.entries.len() >= MAX_ENTRIES {
            let limit = |a: Allowance| match a {
                Allowance::Free => Some(config.limit),
                Allowance::Registered => Some(config.registered_limit),
                Allowance::Section(id) => config
                    .sections
                    .iter()
                    .find(|s| section_id(&s.name) == id)
                    .map(|s| s.limit),
                Allowance::SectionAt(_) | Allowance::Gift => None,
            };
            let rank = |a: Allowance| match (a, limit(a)) {
                (Allowance::Gift, _) => Some(2),
                (_, None) => Some(0),
                (_, Some(limit)) => (self.used(a) > limit).then_some(1),
            };
            // One loop, not `filter_map` and `min` over tuples: the lowest rank, then the
            // oldest, then (strictly less, so) the first (107 bytes of wasm, gzip). Every rank is
            // below `u8::MAX`, so the first ranked entry is always less than the start. The place
            // is counted from 1 (0 for none) and the entry dropped by `retain`: `Vec::remove`
            // links a formatted panic (together 48 bytes of wasm, gzip, less).
            let mut forget = 0;
            let mut least = (u8::MAX, i64::MAX);
            for (i, e) in self.entries.iter().enumerate() {
                if let Some(r) = rank(e.allowance) {
                    if (r, e.at_min) < least {
                        (forget, least) = (i + 1, (r, e.at_min));
                    }
                }
            }
            let mut place = 0;
            self.entries.retain(|_| {
                place += 1;
                place != forget
            });
        }
        if self.entries.len() < MAX_ENTRIES {
            self.entries.push(Entry {
                key,
                allowance,
                at_min,
            });
        }
    }
}

fn tier(record: &Record, view: &View) -> Tier {
    if view.subscriber {
        Tier::Subscriber
    } else if record.registered_min.is_some() {
        Tier::Registered
    } else {
        Tier::Anonymous
    }
}

/// The allowance a metered view of this section draws on first, and its size.
fn first_allowance(config: &Config, section: Option<&str>) -> (Allowance, u8) {
    section
        // A CMS may write `Opinion` for the config's `opinion`, as for page types; the name as
        // written first, should the config have both.
        .and_then(|name| {
            let sections = || config.sections.iter();
            sections()
                .find(|s| s.name == name)
                .or_else(|| sections().find(|s| s.name.eq_ignore_ascii_case(name)))
        })
        .map(|s| (Allowance::Section(section_id(&s.name)), s.limit))
        .unwrap_or((Allowance::Free, config.limit))
}

fn decision(
    wall: Option<Wall>,
    reason: Reason,
    tier: Tier,
    counted: bool,
    used: u8,
    limit: u8,
) -> Decision {
    Decision {
        wall,
        reason,
        tier,
        counted,
        used,
        limit,
        remaining: limit.saturating_sub(used),
    }
}

/// Decides one page view and charges it if it counts. `record` is updated in place; save it.
///
/// # Examples
///
/// ```
/// use meterwall::article::ArticleKey;
/// use meterwall::config::{Config, PageType};
/// use meterwall::meter::{decide, Reason, Record, View, Wall};
/// use meterwall::period::Utc;
///
/// let config = Config { limit: 1, ..Config::default() };
/// let mut record = Record::default();
/// let view = |n| View { key: ArticleKey(n), page: PageType::Metered, section: None, subscriber: false };
///
/// assert_eq!(decide(&mut record, &config, &view(1), 0, &Utc).reason, Reason::Counted);
/// assert_eq!(decide(&mut record, &config, &view(1), 0, &Utc).reason, Reason::AlreadyOpened);
/// assert_eq!(decide(&mut record, &config, &view(2), 0, &Utc).wall, Some(Wall::Register));
/// ```
pub fn decide(
    record: &mut Record,
    config: &Config,
    view: &View,
    now_ms: i64,
    calendar: &dyn Calendar,
) -> Decision {
    let now_min = record.roll(config.period, now_ms, calendar);
    record.place_sections(config);
    let tier = tier(record, view);
    let (first, first_limit) = first_allowance(config, view.section);
    let first_used = record.used(first);
    // Every outcome as the fields that differ, made into one decision at the end: a
    // `decision(..)` per outcome wrote the whole struct at each (47 bytes of wasm, gzip).
    let subscribe = Some(Wall::Subscribe);
    let (wall, reason, counted, used, limit) = if tier == Tier::Subscriber {
        (None, Reason::Subscriber, false, first_used, first_limit)
    } else if view.page == PageType::Free {
        (None, Reason::FreePage, false, first_used, first_limit)
    } else if view.page == PageType::Premium {
        (
            subscribe,
            Reason::PremiumPage,
            false,
            first_used,
            first_limit,
        )
    } else if record.opened(view.key) {
        (None, Reason::AlreadyOpened, false, first_used, first_limit)
    } else if first_used < first_limit {
        record.charge(view.key, first, now_min, config);
        (None, Reason::Counted, true, first_used + 1, first_limit)
    } else if tier == Tier::Anonymous {
        let wall = Some(Wall::Register);
        (wall, Reason::AllowanceSpent, false, first_used, first_limit)
    } else {
        let used = record.used(Allowance::Registered);
        let limit = config.registered_limit;
        if used >= limit {
            (subscribe, Reason::AllowanceSpent, false, used, limit)
        } else if config.registered_mode == Mode::Choose {
            (Some(Wall::Unlock), Reason::MayUnlock, false, used, limit)
        } else {
            record.charge(view.key, Allowance::Registered, now_min, config);
            (None, Reason::Counted, true, used + 1, limit)
        }
    };
    decision(wall, reason, tier, counted, used, limit)
}

/// Registers the reader, unless they were already, and gives them `article` (charged to no
/// allowance) if it is a metered one. It need not be the page's: a single-page app may have
/// moved on before the signup service answered, and the reader registered on the one they read.
pub fn register_on(
    record: &mut Record,
    config: &Config,
    article: Option<ArticleKey>,
    now_ms: i64,
    calendar: &dyn Calendar,
) {
    let now_min = record.roll(config.period, now_ms, calendar);
    if record.registered_min.is_none() {
        record.registered_min = Some(now_min);
        if let Some(key) = article.filter(|&key| !record.opened(key)) {
            record.charge(key, Allowance::Gift, now_min, config);
        }
    }
}

/// A reader's meter as if they had opened `views` other articles of `section` (this page's) by
/// `now_ms`: what an editor previews with `?meterwall=simulate&views=N&now=YYYY-MM-DD`, so that
/// a section with its own allowance shows its own wall. Nothing real is touched.
///
/// # Examples
///
/// ```
/// use meterwall::config::Config;
/// use meterwall::meter::simulate;
/// use meterwall::period::Utc;
/// let record = simulate(&Config::default(), None, 5, 0, &Utc);
/// assert_eq!(record.entries.len(), 3); // the free allowance; the rest met the wall
/// ```
pub fn simulate(
    config: &Config,
    section: Option<&str>,
    views: u8,
    now_ms: i64,
    calendar: &dyn Calendar,
) -> Record {
    let mut record = Record::default();
    for n in 0..views {
        let view = View {
            key: ArticleKey(u32::MAX - u32::from(n)),
            page: PageType::Metered,
            section,
            subscriber: false,
        };
        decide(&mut record, config, &view, now_ms, calendar);
    }
    record
}

/// A decision made without storage (blocked by the browser): the meter cannot count, so
/// `onStorageUnavailable` decides metered articles, `open` (the default) opening them and `closed`
/// walling them, uncounted. Subscribers, free pages and premium pages are decided as ever.
///
/// # Examples
///
/// ```
/// use meterwall::config::{Config, FailPolicy};
/// use meterwall::meter::{decide, without_storage, Reason, Record, View, Wall};
/// use meterwall::article::ArticleKey;
/// use meterwall::config::PageType;
/// use meterwall::period::Utc;
/// let closed = Config { on_storage_unavailable: FailPolicy::Closed, ..Config::default() };
/// let view = |subscriber| View { key: ArticleKey(1), page: PageType::Metered, section: None, subscriber };
/// let d = without_storage(decide(&mut Record::default(), &closed, &view(false), 0, &Utc), &closed);
/// assert_eq!((d.wall, d.counted), (Some(Wall::Register), false));
/// let d = without_storage(decide(&mut Record::default(), &closed, &view(true), 0, &Utc), &closed);
/// assert_eq!((d.wall, d.reason), (None, Reason::Subscriber));
/// ```
pub fn without_storage(mut decision: Decision, config: &Config) -> Decision {
    let metered = !matches!(
        decision.reason,
        Reason::Subscriber | Reason::FreePage | Reason::PremiumPage | Reason::Preview
    );
    if metered {
        match config.on_storage_unavailable {
            FailPolicy::Open => decision.wall = None,
            FailPolicy::Closed if decision.wall.is_none() => {
                decision.wall = Some(Wall::Register);
                decision.counted = false;
            }
            FailPolicy::Closed => {}
        }
    }
    decision
}

/// Whether the next new metered article this reader opens, in whichever section, will be open:
/// the hint the anti-flicker snippet reads on the next page, before anything else runs, to
/// decide whether to hide the article until the widget has decided. `false` means "may be
/// walled": premium pages are not covered (the publisher knows them when serving the page), nor
/// are sections with a limit of 0, walled for every anonymous reader like them (else every
/// reader's every page would be hidden), and the period may roll over before the next page, which
/// can only make that page freer.
///
/// # Examples
///
/// ```
/// use meterwall::config::Config;
/// use meterwall::meter::{next_is_free, simulate};
/// use meterwall::period::Utc;
/// let config = Config::default(); // three free articles
/// assert!(next_is_free(&simulate(&config, None, 2, 0, &Utc), &config, false, 0, &Utc));
/// assert!(!next_is_free(&simulate(&config, None, 3, 0, &Utc), &config, false, 0, &Utc));
/// assert!(next_is_free(&simulate(&config, None, 3, 0, &Utc), &config, true, 0, &Utc));
/// ```
#[inline(never)]
pub fn next_is_free(
    record: &Record,
    config: &Config,
    subscriber: bool,
    now_ms: i64,
    calendar: &dyn Calendar,
) -> bool {
    // An article this record has not opened: the record holds at most MAX_ENTRIES keys, far
    // fewer than this range's. (A half-open range: an inclusive one keeps a flag for its end, 82
    // bytes of wasm before compression.)
    let Some(key) = (0..u32::MAX).map(ArticleKey).find(|&k| !record.opened(k)) else {
        return false;
    };
    let free = |section| {
        let view = View {
            key,
            page: PageType::Metered,
            section,
            subscriber,
        };
        // A copy without the token, which `decide` never reads: cloning it (and dropping the
        // clone) only added code.
        let mut record = Record {
            entries: record.entries.clone(),
            token: None,
            ..*record
        };
        decide(&mut record, config, &view, now_ms, calendar)
            .wall
            .is_none()
    };
    // The sections with a limit of 0 skipped in the same test, not by `filter` on a chain after
    // the no-section view: the `once` and `chain` adapters were 63 bytes of wasm (gzip).
    free(None)
        && config
            .sections
            .iter()
            .all(|s| s.limit == 0 || free(Some(s.name.as_str())))
}

/// The anti-flicker hint left for the next page ([`crate::record::HINT_KEY`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    /// The next new article will be open: no hint is stored.
    Free,
    /// The next new article may be walled.
    Wall,
    /// Open while a subscriber's token holds, walled from this time on (ms since the epoch):
    /// the token's `exp` plus the leeway, when a page would refuse it.
    WallFrom(i64),
    /// Walled until this time (ms since the epoch), when the next period starts or, for a rolling
    /// period, the oldest view drops out ([`free_again`]).
    WallUntil(i64),
}

/// The hint for the next page: [`next_is_free`], with the time until which the next article
/// would be walled ([`free_again`]), so that a reader back in a new period is not hidden; and
/// for a reader who subscribes by a token only (`token_lapses`, when the token stops holding)
/// and would be walled without it, the time from which the snippet hides the article again.
/// Without it, the first page after the token lapsed would paint the full article before the
/// wall.
///
/// # Examples
///
/// ```
/// use meterwall::config::Config;
/// use meterwall::meter::{next_hint, simulate, Hint};
/// use meterwall::period::Utc;
/// let config = Config::default(); // three free articles
/// let spent = simulate(&config, None, 3, 0, &Utc);
/// // Walled until the first of next month (UTC midnight, 1 February 1970).
/// assert_eq!(next_hint(&spent, &config, false, None, 0, &Utc), Hint::WallUntil(31 * 86_400_000));
/// assert_eq!(next_hint(&spent, &config, true, None, 0, &Utc), Hint::Free);
/// assert_eq!(next_hint(&spent, &config, true, Some(9_000), 0, &Utc), Hint::WallFrom(9_000));
/// let fresh = simulate(&config, None, 1, 0, &Utc);
/// assert_eq!(next_hint(&fresh, &config, true, Some(9_000), 0, &Utc), Hint::Free);
/// ```
pub fn next_hint(
    record: &Record,
    config: &Config,
    subscriber: bool,
    token_lapses: Option<i64>,
    now_ms: i64,
    calendar: &dyn Calendar,
) -> Hint {
    // A subscriber is never walled: what matters is the meter without the subscription.
    if next_is_free(record, config, false, now_ms, calendar) {
        return Hint::Free;
    }
    if subscriber && token_lapses.is_none() {
        return Hint::Free;
    }
    let again = free_again(record, config, now_ms, calendar);
    match (subscriber, token_lapses, again) {
        // Free again by the time the token lapses: nothing to hide then either.
        (true, Some(at), Some(free)) if free <= at => Hint::Free,
        (true, Some(at), _) => Hint::WallFrom(at),
        (_, _, Some(until)) => Hint::WallUntil(until),
        _ => Hint::Wall,
    }
}

/// The time `free_again` counts from: the record's own time if the clock was since set back (it
/// never goes back), or `None` past the last instant a JS Date holds (+275760-09-13), with a
/// month to spare, where the browser's calendar throws and there is no time to tell.
///
/// `saturating_mul` by hand: it linked a 128-bit multiply (22 bytes of wasm, gzip). A time past
/// `MAX_MIN` is past that last instant, and one that would saturate low leaves `now_ms` as it is.
fn counted_from(latest_min: i64, now_ms: i64) -> Option<i64> {
    let latest_ms = match latest_min {
        m if m > MAX_MIN => return None,
        m if m < i64::MIN / MS_PER_MIN => i64::MIN,
        m => m * MS_PER_MIN,
    };
    let now_ms = now_ms.max(latest_ms);
    (now_ms <= LAST_MS - 40 * MS_PER_DAY).then_some(now_ms)
}

/// When the next new article is free again without the reader doing anything (ms since the
/// epoch): the start of the next calendar period in the
/// reader's calendar, or, for a rolling period, when the oldest view drops out. `None` for a
/// lifetime allowance, and when the meter would still wall then (a `limit` of 0, say).
///
/// # Examples
///
/// ```
/// use meterwall::config::Config;
/// use meterwall::meter::{free_again, simulate};
/// use meterwall::period::{FixedOffset, Utc};
/// let config = Config::default(); // three free articles a month
/// let spent = simulate(&config, None, 3, 0, &Utc);
/// assert_eq!(free_again(&spent, &config, 0, &Utc), Some(31 * 86_400_000));
/// // In Paris (UTC+1), February begins an hour earlier.
/// let paris = FixedOffset { minutes: 60 };
/// assert_eq!(free_again(&spent, &config, 0, &paris), Some(31 * 86_400_000 - 3_600_000));
/// ```
pub fn free_again(
    record: &Record,
    config: &Config,
    now_ms: i64,
    calendar: &dyn Calendar,
) -> Option<i64> {
    let now_ms = counted_from(record.latest_min, now_ms)?;
    let free = |at: i64| at > now_ms && next_is_free(record, config, false, at, calendar);
    let at = match config.period {
        Period::Lifetime => return None,
        Period::Rolling { .. } => {
            // The first time a view drops out and frees an allowance: the oldest may not (a
            // section's, a gift), and the record keeps views oldest first but for those merged
            // from another tab, so every one is tried and the earliest taken.
            let window = config.period.rolling_ms()?;
            return record
                .entries
                .iter()
                .map(|e| e.at_min * MS_PER_MIN + window)
                .filter(|&at| free(at))
                .min();
        }
        period => {
            // The next period's first day, then its first quarter hour in the reader's zone
            // (every zone is a whole number of quarter hours from UTC): local midnight of a day
            // falls within 15 hours before and 13 hours after UTC's.
            // The record's own period if it is later: a page in a zone ahead of this one put it
            // there, and `roll` never takes it back.
            let mut bucket = period.bucket(calendar.date_at(now_ms));
            if record.period_tag == period.tag() {
                bucket = bucket.max(record.bucket);
            }
            // The bucket is the month's number, or the day number of the week's Monday or of
            // the day.
            let day = match period {
                Period::Month => days_from_civil(CivilDate {
                    year: (bucket + 1).div_euclid(12) as i32,
                    month: (bucket + 1).rem_euclid(12) as u8 + 1,
                    day: 1,
                }),
                Period::Week => bucket + 7,
                _ => bucket + 1,
            };
            first_quarter(day * MS_PER_DAY - 60 * QUARTER_HOUR_MS, 112, &|t| {
                period.bucket(calendar.date_at(t)) > bucket
            })
        }
    };
    free(at).then_some(at)
}

/// The last instant a JS `Date` holds, in ms since the epoch (ECMA-262 §21.4.1.1).
const LAST_MS: i64 = 8_640_000_000_000_000;

/// The first of the instants `from + q` quarter hours, `q` from 1 to `quarters`, at which `later`
/// holds, found by bisection (`later` holds from some instant on, and at the last of them).
#[inline(never)]
fn first_quarter(from: i64, quarters: i64, later: &dyn Fn(i64) -> bool) -> i64 {
    let (mut before, mut after) = (0, quarters);
    while after - before > 1 {
        let mid = (before + after) / 2;
        if later(from + mid * QUARTER_HOUR_MS) {
            after = mid;
        } else {
            before = mid;
        }
    }
    from + after * QUARTER_HOUR_MS
}

/// A registered reader in `choose` mode spends one article on this page. Anything else
/// (not registered, nothing left, not metered) is decided as an ordinary view.
///
/// # Examples
///
/// ```
/// use meterwall::article::ArticleKey;
/// use meterwall::config::{Config, Mode, PageType};
/// use meterwall::meter::{decide, register, unlock, Record, View, Wall};
/// use meterwall::period::Utc;
///
/// let config = Config { limit: 0, registered_mode: Mode::Choose, ..Config::default() };
/// let mut record = Record::default();
/// register(&mut record, &config, &View { key: ArticleKey(9), page: PageType::Metered, section: None, subscriber: false }, 0, &Utc);
/// let view = View { key: ArticleKey(1), page: PageType::Metered, section: None, subscriber: false };
/// assert_eq!(decide(&mut record, &config, &view, 0, &Utc).wall, Some(Wall::Unlock));
/// let d = unlock(&mut record, &config, &view, 0, &Utc);
/// assert_eq!((d.wall, d.remaining), (None, 2));
/// ```
pub fn unlock(
    record: &mut Record,
    config: &Config,
    view: &View,
    now_ms: i64,
    calendar: &dyn Calendar,
) -> Decision {
    let d = decide(record, config, view, now_ms, calendar);
    if d.wall != Some(Wall::Unlock) {
        return d;
    }
    record.charge(view.key, Allowance::Registered, record.latest_min, config);
    decision(None, Reason::Counted, d.tier, true, d.used + 1, d.limit)
}

/// The reader gave an email address: they are registered from now on, and the article they
/// registered on is theirs this period, charged to no allowance.
///
/// # Examples
///
/// ```
/// use meterwall::article::ArticleKey;
/// use meterwall::config::{Config, PageType};
/// use meterwall::meter::{decide, register, Reason, Record, Tier, View};
/// use meterwall::period::Utc;
///
/// let config = Config { limit: 0, ..Config::default() };
/// let view = View { key: ArticleKey(7), page: PageType::Metered, section: None, subscriber: false };
/// let mut record = Record::default();
/// let d = register(&mut record, &config, &view, 0, &Utc);
/// assert_eq!((d.wall, d.reason, d.tier), (None, Reason::AlreadyOpened, Tier::Registered));
/// assert_eq!(d.remaining, 3); // the registered allowance is untouched
/// ```
pub fn register(
    record: &mut Record,
    config: &Config,
    view: &View,
    now_ms: i64,
    calendar: &dyn Calendar,
) -> Decision {
    let article = (view.page == PageType::Metered).then_some(view.key);
    register_on(record, config, article, now_ms, calendar);
    let d = decide(record, config, view, now_ms, calendar);
    if d.reason == Reason::AlreadyOpened {
        let used = record.used(Allowance::Registered);
        return decision(None, d.reason, d.tier, false, used, config.registered_limit);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Section;
    use crate::period::{FixedOffset, Utc};

    const DAY: i64 = 86_400_000;
    // 2026-11-28T12:00:00Z
    const NOW: i64 = 1_795_867_200_000;

    /// `Record::merge` as it was before it took the later period's articles by the union into
    /// none and the earlier registration by a test of the other's.
    fn merge_before(this: &mut Record, other: &Record) {
        this.registered_min = match (this.registered_min, other.registered_min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let same_kind = this.period_tag == other.period_tag || this.period_tag == 0;
        if same_kind && (other.bucket > this.bucket || this.period_tag == 0) {
            // The other tab is already in a later period (or this record is fresh).
            this.period_tag = other.period_tag;
            this.bucket = other.bucket;
            this.entries = other.entries.clone();
        } else if same_kind && other.bucket == this.bucket {
            for e in &other.entries {
                let room = this.entries.len() < MAX_ENTRIES;
                match this.entries.iter_mut().find(|mine| mine.key == e.key) {
                    // The later view of an article both tabs list: under a rolling period a tab
                    // left open holds views that have dropped out since, which the other tab's
                    // newer view of the same article replaces.
                    Some(mine) if e.at_min > mine.at_min => *mine = *e,
                    Some(_) => {}
                    None if room => this.entries.push(*e),
                    None => {}
                }
            }
        }
        this.latest_min = this
            .latest_min
            .max(other.latest_min)
            .clamp(-MAX_MIN, MAX_MIN);
        if this.token.is_none() {
            this.token = other.token.clone();
        }
    }

    /// Records of every kind a page holds (each article once, at most `MAX_ENTRIES`, as `decode`
    /// and `charge` keep them) merge as they did before.
    #[test]
    fn merge_matches_its_earlier_form() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let record = |next: &mut dyn FnMut(u64) -> u64| {
            let tags = [0, b'm', b'w', b'd', b'r', b'l'];
            let mut r = Record {
                period_tag: tags[next(6) as usize],
                bucket: next(4) as i64 - 1,
                latest_min: next(2_000) as i64 - 100,
                registered_min: (next(3) > 0).then(|| next(2_000) as i64),
                entries: Vec::new(),
                token: (next(2) == 0).then(|| format!("t{}", next(9))),
            };
            let len = match next(4) {
                0 => MAX_ENTRIES,
                1 => MAX_ENTRIES - next(3) as usize,
                _ => next(12) as usize,
            };
            while r.entries.len() < len {
                let key =
                    ArticleKey(next(if len > 40 { 4 * MAX_ENTRIES as u64 } else { 30 }) as u32);
                if !r.opened(key) {
                    let allowance = [
                        Allowance::Free,
                        Allowance::Registered,
                        Allowance::Gift,
                        Allowance::Section(5),
                        Allowance::SectionAt(1),
                    ][next(5) as usize];
                    let at_min = next(2_000) as i64 - 100;
                    r.entries.push(Entry {
                        key,
                        allowance,
                        at_min,
                    });
                }
            }
            r
        };
        for _ in 0..20_000 {
            let (here, there) = (record(&mut next), record(&mut next));
            let (mut now, mut before) = (here.clone(), here.clone());
            now.merge(&there);
            merge_before(&mut before, &there);
            assert_eq!(now, before, "{here:?} with {there:?}");
        }
    }

    /// `free_again` once took `now_ms.max(latest_min.saturating_mul(MS_PER_MIN))` and returned
    /// `None` past `LAST_MS - 40 days`; `counted_from` now saturates by hand. Both give the same
    /// answer.
    #[test]
    fn free_again_s_floor_matches_saturating_mul() {
        let old = |latest: i64, now: i64| {
            let now = now.max(latest.saturating_mul(MS_PER_MIN));
            (now <= LAST_MS - 40 * MS_PER_DAY).then_some(now)
        };
        let edges = [
            i64::MIN,
            i64::MIN + 1,
            i64::MIN / MS_PER_MIN - 1,
            i64::MIN / MS_PER_MIN,
            i64::MIN / MS_PER_MIN + 1,
            -MAX_MIN - 1,
            -MAX_MIN,
            -1,
            0,
            1,
            MAX_MIN - 40 * 1440 - 1,
            MAX_MIN - 40 * 1440,
            MAX_MIN - 40 * 1440 + 1,
            MAX_MIN - 1,
            MAX_MIN,
            MAX_MIN + 1,
            i64::MAX / MS_PER_MIN,
            i64::MAX / MS_PER_MIN + 1,
            i64::MAX,
        ];
        let nows = [
            i64::MIN,
            -LAST_MS,
            -1,
            0,
            NOW,
            LAST_MS - 40 * MS_PER_DAY,
            LAST_MS,
            i64::MAX,
        ];
        for &latest in &edges {
            for &now in &nows {
                assert_eq!(
                    old(latest, now),
                    counted_from(latest, now),
                    "{latest} {now}"
                );
            }
        }
    }

    // serde_json is a host dev-dependency; the browser tests read the same shape in JS.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn a_decision_serializes_as_publishers_read_it() {
        let open = decision(None, Reason::Counted, Tier::Anonymous, true, 1, 3);
        assert_eq!(
            serde_json::to_value(open).unwrap(),
            serde_json::json!({
                "wall": null, "reason": "counted", "tier": "anonymous", "counted": true,
                "used": 1, "limit": 3, "remaining": 2
            })
        );
        let walled = decision(
            Some(Wall::Subscribe),
            Reason::AllowanceSpent,
            Tier::Registered,
            false,
            6,
            6,
        );
        let json = serde_json::to_string(&walled).unwrap();
        assert_eq!(
            json,
            r#"{"wall":"subscribe","reason":"allowanceSpent","tier":"registered","counted":false,"used":6,"limit":6,"remaining":0}"#
        );
        // The names the README lists under "Decisions have reasons".
        for (reason, name) in [
            (Reason::Subscriber, "subscriber"),
            (Reason::FreePage, "freePage"),
            (Reason::PremiumPage, "premiumPage"),
            (Reason::AlreadyOpened, "alreadyOpened"),
            (Reason::Counted, "counted"),
            (Reason::MayUnlock, "mayUnlock"),
            (Reason::AllowanceSpent, "allowanceSpent"),
            (Reason::Preview, "preview"),
        ] {
            assert_eq!(reason.name(), name);
        }
        assert_eq!(Wall::Unlock.name(), "unlock");
        assert_eq!(Wall::Register.name(), "register");
        assert_eq!(Tier::Subscriber.name(), "subscriber");
    }

    #[test]
    fn without_storage_the_policy_decides_metered_pages_only() {
        let policy = |on: FailPolicy, limit: u8, page: PageType| {
            let config = Config {
                on_storage_unavailable: on,
                ..cfg(limit)
            };
            let v = View { page, ..view(1) };
            without_storage(
                decide(&mut Record::default(), &config, &v, 0, &Utc),
                &config,
            )
        };
        // Open: a spent allowance opens; a premium page stays walled.
        let d = policy(FailPolicy::Open, 0, PageType::Metered);
        assert_eq!((d.wall, d.reason), (None, Reason::AllowanceSpent));
        let d = policy(FailPolicy::Open, 3, PageType::Premium);
        assert_eq!(d.wall, Some(Wall::Subscribe));
        // Closed: an article the allowance would open is walled and not counted; a free page is
        // open; a wall already decided stays as it is.
        let d = policy(FailPolicy::Closed, 3, PageType::Metered);
        assert_eq!((d.wall, d.counted), (Some(Wall::Register), false));
        assert_eq!(policy(FailPolicy::Closed, 3, PageType::Free).wall, None);
        let d = policy(FailPolicy::Closed, 0, PageType::Metered);
        assert_eq!(
            (d.wall, d.reason),
            (Some(Wall::Register), Reason::AllowanceSpent)
        );
    }

    #[test]
    fn a_zone_that_puts_now_in_an_earlier_period_never_reopens_the_allowance() {
        use crate::period::FixedOffset;
        let config = cfg(1);
        // 2026-11-30T23:00Z: already December 1 an hour east, still November 30 in UTC.
        let now = 1_796_079_600_000;
        let east = FixedOffset { minutes: 60 };
        let mut record = Record::default();
        assert_eq!(
            decide(&mut record, &config, &view(1), now, &east).wall,
            None
        );
        // Pages that still say UTC, then east again, then UTC: one allowance, not one per switch.
        let walls: Vec<Option<Wall>> = [(2, &Utc as &dyn Calendar), (3, &east), (4, &Utc)]
            .into_iter()
            .map(|(n, zone)| decide(&mut record, &config, &view(n), now + 60_000, zone).wall)
            .collect();
        assert_eq!(walls, [Some(Wall::Register); 3]);
        assert_eq!(
            record.entries.len(),
            1,
            "the article read in December, kept"
        );
    }

    fn view(n: u32) -> View<'static> {
        View {
            key: ArticleKey(n),
            page: PageType::Metered,
            section: None,
            subscriber: false,
        }
    }

    fn cfg(limit: u8) -> Config {
        Config {
            limit,
            ..Config::default()
        }
    }

    #[test]
    fn next_is_free_follows_the_allowance_the_next_new_article_would_meet() {
        let config = cfg(2);
        let mut record = Record::default();
        assert!(next_is_free(&record, &config, false, NOW, &Utc));
        decide(&mut record, &config, &view(1), NOW, &Utc);
        assert!(next_is_free(&record, &config, false, NOW, &Utc));
        decide(&mut record, &config, &view(2), NOW, &Utc);
        // Both free articles spent: the next new one meets the registration wall...
        assert!(!next_is_free(&record, &config, false, NOW, &Utc));
        // ...though a re-read stays open, which is why "free" is a promise and "wall" only a maybe.
        assert_eq!(
            decide(&mut record.clone(), &config, &view(1), NOW, &Utc).wall,
            None
        );
        // Registered readers in auto mode have articles left; subscribers are never walled.
        register(&mut record, &config, &view(3), NOW, &Utc);
        assert!(next_is_free(&record, &config, false, NOW, &Utc));
        assert!(next_is_free(&record, &cfg(0), true, NOW, &Utc));
        // Next period the allowance is back.
        let later = NOW + 40 * DAY;
        let mut spent = Record::default();
        decide(&mut spent, &cfg(1), &view(1), NOW, &Utc);
        assert!(!next_is_free(&spent, &cfg(1), false, NOW, &Utc));
        assert!(next_is_free(&spent, &cfg(1), false, later, &Utc));
    }

    #[test]
    fn next_is_free_needs_every_section_and_choose_mode_to_be_open() {
        let config = Config {
            limit: 3,
            sections: vec![Section {
                name: "opinion".into(),
                limit: 1,
            }],
            ..Config::default()
        };
        let mut record = Record::default();
        assert!(next_is_free(&record, &config, false, NOW, &Utc));
        let opinion = View {
            section: Some("opinion"),
            ..view(7)
        };
        decide(&mut record, &config, &opinion, NOW, &Utc);
        // The shared allowance has three left, but a new opinion piece would be walled.
        assert!(!next_is_free(&record, &config, false, NOW, &Utc));

        // In choose mode a registered reader with articles left is offered the unlock prompt,
        // which is a wall until they choose.
        let choose = Config {
            limit: 0,
            registered_mode: Mode::Choose,
            ..Config::default()
        };
        let mut registered = Record::default();
        register(&mut registered, &choose, &view(1), NOW, &Utc);
        assert!(!next_is_free(&registered, &choose, false, NOW, &Utc));
    }

    #[test]
    fn a_token_subscriber_over_the_limit_is_hinted_walled_from_the_lapse() {
        let config = cfg(1);
        let mut record = Record::default();
        decide(&mut record, &config, &view(1), NOW, &Utc);
        let lapses = Some(NOW + DAY);
        let hint = |subscriber, lapses| next_hint(&record, &config, subscriber, lapses, NOW, &Utc);
        // NOW is noon on 28 November: December begins 60 hours later.
        let december = NOW + 60 * 3_600_000;
        assert_eq!(hint(false, None), Hint::WallUntil(december));
        assert_eq!(
            hint(false, lapses),
            Hint::WallUntil(december),
            "not a subscriber: the token is not held"
        );
        assert_eq!(
            hint(true, None),
            Hint::Free,
            "a subscriber by the config or setSubscriber"
        );
        assert_eq!(hint(true, lapses), Hint::WallFrom(NOW + DAY));
        assert_eq!(
            hint(true, Some(NOW + 3 * DAY)),
            Hint::Free,
            "lapsing in December, when the reader has articles again"
        );
        let lifetime = Config {
            period: Period::Lifetime,
            ..cfg(1)
        };
        let mut for_life = Record::default();
        decide(&mut for_life, &lifetime, &view(1), NOW, &Utc);
        assert_eq!(
            next_hint(&for_life, &lifetime, false, None, NOW, &Utc),
            Hint::Wall,
            "a lifetime allowance never comes back"
        );
        // Under the limit without the token: nothing to hide, whenever it lapses.
        let fresh = Record::default();
        assert_eq!(
            next_hint(&fresh, &config, true, lapses, NOW, &Utc),
            Hint::Free
        );
    }

    #[test]
    fn free_again_when_the_next_period_starts_in_the_reader_s_zone() {
        const HOUR: i64 = 3_600_000;
        // NOW: Saturday 28 November 2026, 12:00 UTC.
        let spent = |period| {
            let config = Config { period, ..cfg(1) };
            let mut record = Record::default();
            decide(&mut record, &config, &view(1), NOW, &Utc);
            (config, record)
        };
        let at = |period, calendar: &dyn Calendar| {
            let (config, record) = spent(period);
            free_again(&record, &config, NOW, calendar)
        };
        let december = NOW + 60 * HOUR;
        assert_eq!(at(Period::Month, &Utc), Some(december));
        for minutes in [-720, -300, 60, 345, 780, 840] {
            let zone = FixedOffset { minutes };
            let local = december - i64::from(minutes) * 60_000;
            assert_eq!(at(Period::Month, &zone), Some(local), "UTC{minutes:+} min");
        }
        // Monday 30 November, and Sunday 29 November, at midnight.
        assert_eq!(at(Period::Week, &Utc), Some(NOW + 36 * HOUR));
        assert_eq!(at(Period::Day, &Utc), Some(NOW + 12 * HOUR));
        // Rolling: when the oldest view drops out of the window.
        assert_eq!(at(Period::Rolling { days: 7 }, &Utc), Some(NOW + 7 * DAY));
        assert_eq!(at(Period::Lifetime, &Utc), None);
        // Still walled in the next period: no time to give.
        let mut none_free = Record::default();
        decide(&mut none_free, &cfg(0), &view(1), NOW, &Utc);
        assert_eq!(free_again(&none_free, &cfg(0), NOW, &Utc), None);
        // A clock set back a month: the record's own time counts, and its period ends first.
        let (config, record) = spent(Period::Month);
        assert_eq!(
            free_again(&record, &config, NOW - 30 * DAY, &Utc),
            Some(december)
        );
        // What the hint promises holds: walled just before, free from then on.
        let (config, record) = spent(Period::Month);
        assert!(!next_is_free(&record, &config, false, december - 1, &Utc));
        assert!(next_is_free(&record, &config, false, december, &Utc));
    }

    #[test]
    fn free_again_across_the_year_for_rolling_sections_and_at_the_end_of_time() {
        // 15 December 2026, noon UTC: the next period is 1 January 2027.
        let december = NOW + 17 * DAY;
        let mut record = Record::default();
        decide(&mut record, &cfg(1), &view(1), december, &Utc);
        let january = 1_798_761_600_000;
        assert_eq!(free_again(&record, &cfg(1), december, &Utc), Some(january));
        // Rolling: the oldest view is a section's, whose dropping out frees nothing while the
        // next one still holds the shared allowance.
        let config = Config {
            limit: 1,
            period: Period::Rolling { days: 7 },
            sections: vec![Section {
                name: "opinion".into(),
                limit: 1,
            }],
            ..Config::default()
        };
        let mut record = Record::default();
        let opinion = View {
            section: Some("opinion"),
            ..view(1)
        };
        decide(&mut record, &config, &opinion, NOW, &Utc);
        decide(&mut record, &config, &view(2), NOW + DAY, &Utc);
        assert_eq!(
            free_again(&record, &config, NOW + DAY, &Utc),
            Some(NOW + 8 * DAY)
        );
        // A record at the end of time: a calendar that would throw is never asked.
        struct Bounded;
        impl Calendar for Bounded {
            fn date_at(&self, ms: i64) -> crate::period::CivilDate {
                assert!(ms <= 8_640_000_000_000_000, "a JS Date throws at {ms}");
                Utc.date_at(ms)
            }
        }
        let last = 8_640_000_000_000_000 - DAY;
        let mut record = Record::default();
        decide(&mut record, &cfg(1), &view(1), last, &Bounded);
        assert_eq!(free_again(&record, &cfg(1), last, &Bounded), None);
    }

    /// Pages that disagree on `timeZone`: one ahead of UTC has put the record in December while
    /// it is still November in UTC. Until this test the UTC page looked for the period after
    /// November, which is the record's own, found no time there and hinted "wall" for good.
    #[test]
    fn free_again_from_a_period_a_zone_ahead_put_the_record_in() {
        // 30 November 2026, 23:00 UTC: December already at UTC+1.
        let late = NOW + 2 * DAY + 11 * 3_600_000;
        let mut record = Record::default();
        decide(
            &mut record,
            &cfg(1),
            &view(1),
            late,
            &FixedOffset { minutes: 60 },
        );
        let january = 1_798_761_600_000;
        assert_eq!(
            free_again(&record, &cfg(1), late + 60_000, &Utc),
            Some(january)
        );
        assert_eq!(
            next_hint(&record, &cfg(1), false, None, late + 60_000, &Utc),
            Hint::WallUntil(january)
        );
        // What the hint promises holds there too.
        assert!(!next_is_free(&record, &cfg(1), false, january - 1, &Utc));
        assert!(next_is_free(&record, &cfg(1), false, january, &Utc));
    }

    /// Under a rolling period a merge from another tab can leave a later view before an earlier
    /// one. Until this test the first view in the record's order that freed an allowance was
    /// taken, not the earliest.
    #[test]
    fn free_again_under_a_rolling_period_is_the_earliest_time() {
        let c = Config {
            limit: 2,
            period: Period::Rolling { days: 7 },
            registered_limit: 0,
            ..Config::default()
        };
        let mut open_tab = Record::default();
        decide(&mut open_tab, &c, &view(1), NOW, &Utc);
        decide(&mut open_tab, &c, &view(2), NOW + 3 * DAY, &Utc);
        let mut other = open_tab.clone();
        // Article 1 read again in another tab once its first view has dropped out.
        decide(&mut other, &c, &view(1), NOW + 8 * DAY, &Utc);
        open_tab.merge(&other);
        assert_eq!(
            free_again(&open_tab, &c, NOW + 8 * DAY, &Utc),
            Some(NOW + 10 * DAY)
        );
        assert!(!next_is_free(
            &open_tab,
            &c,
            false,
            NOW + 10 * DAY - 1,
            &Utc
        ));
        assert!(next_is_free(&open_tab, &c, false, NOW + 10 * DAY, &Utc));
    }

    #[test]
    fn next_is_free_is_read_only() {
        let mut record = Record::default();
        decide(&mut record, &cfg(3), &view(1), NOW, &Utc);
        let before = record.clone();
        next_is_free(&record, &cfg(3), false, NOW + 40 * DAY, &Utc);
        assert_eq!(record, before);
    }

    #[test]
    fn first_views_count_then_the_registration_wall() {
        let c = cfg(3);
        let mut r = Record::default();
        for n in 1..=3 {
            let d = decide(&mut r, &c, &view(n), NOW, &Utc);
            assert_eq!(
                (d.wall, d.reason, d.used, d.remaining),
                (None, Reason::Counted, n as u8, 3 - n as u8)
            );
        }
        let d = decide(&mut r, &c, &view(4), NOW, &Utc);
        assert_eq!(
            (d.wall, d.reason, d.tier),
            (
                Some(Wall::Register),
                Reason::AllowanceSpent,
                Tier::Anonymous
            )
        );
    }

    #[test]
    fn rereading_an_article_never_counts_again() {
        let c = cfg(1);
        let mut r = Record::default();
        decide(&mut r, &c, &view(1), NOW, &Utc);
        let before = r.clone();
        let d = decide(&mut r, &c, &view(1), NOW + 1000, &Utc);
        assert_eq!(
            (d.wall, d.reason, d.counted),
            (None, Reason::AlreadyOpened, false)
        );
        assert_eq!(r.entries, before.entries);
    }

    #[test]
    fn free_pages_never_count_and_are_never_walled() {
        let c = cfg(0);
        let mut r = Record::default();
        let v = View {
            page: PageType::Free,
            ..view(1)
        };
        let d = decide(&mut r, &c, &v, NOW, &Utc);
        assert_eq!(
            (d.wall, d.reason, d.counted),
            (None, Reason::FreePage, false)
        );
        assert!(r.entries.is_empty());
    }

    #[test]
    fn premium_pages_wall_everyone_but_subscribers_and_never_count() {
        let c = cfg(3);
        let mut r = Record::default();
        let v = View {
            page: PageType::Premium,
            ..view(1)
        };
        let d = decide(&mut r, &c, &v, NOW, &Utc);
        assert_eq!(
            (d.wall, d.reason),
            (Some(Wall::Subscribe), Reason::PremiumPage)
        );
        assert!(r.entries.is_empty());
        let d = decide(
            &mut r,
            &c,
            &View {
                subscriber: true,
                ..v
            },
            NOW,
            &Utc,
        );
        assert_eq!((d.wall, d.reason), (None, Reason::Subscriber));
    }

    #[test]
    fn subscribers_are_never_walled_and_never_counted() {
        let c = cfg(0);
        let mut r = Record::default();
        for n in 0..50 {
            let d = decide(
                &mut r,
                &c,
                &View {
                    subscriber: true,
                    ..view(n)
                },
                NOW,
                &Utc,
            );
            assert_eq!(d.wall, None);
        }
        assert!(r.entries.is_empty());
    }

    #[test]
    fn registered_readers_get_more_in_auto_mode_then_the_subscribe_wall() {
        let c = cfg(1);
        let mut r = Record::default();
        decide(&mut r, &c, &view(1), NOW, &Utc);
        assert_eq!(
            decide(&mut r, &c, &view(2), NOW, &Utc).wall,
            Some(Wall::Register)
        );
        let d = register(&mut r, &c, &view(2), NOW, &Utc);
        assert_eq!((d.wall, d.tier, d.remaining), (None, Tier::Registered, 3));
        for n in 3..=5 {
            let d = decide(&mut r, &c, &view(n), NOW, &Utc);
            assert_eq!((d.wall, d.reason), (None, Reason::Counted));
        }
        let d = decide(&mut r, &c, &view(6), NOW, &Utc);
        assert_eq!(
            (d.wall, d.reason, d.remaining),
            (Some(Wall::Subscribe), Reason::AllowanceSpent, 0)
        );
        // Everything opened stays open.
        for n in 1..=5 {
            assert_eq!(decide(&mut r, &c, &view(n), NOW, &Utc).wall, None);
        }
    }

    #[test]
    fn choose_mode_spends_only_on_unlock() {
        let c = Config {
            limit: 0,
            registered_mode: Mode::Choose,
            registered_limit: 2,
            ..Config::default()
        };
        let mut r = Record::default();
        register(&mut r, &c, &view(100), NOW, &Utc);
        let d = decide(&mut r, &c, &view(1), NOW, &Utc);
        assert_eq!((d.wall, d.remaining, d.limit), (Some(Wall::Unlock), 2, 2));
        assert_eq!(
            decide(&mut r, &c, &view(1), NOW, &Utc).remaining,
            2,
            "looking is free"
        );
        let d = unlock(&mut r, &c, &view(1), NOW, &Utc);
        assert_eq!((d.wall, d.remaining), (None, 1));
        assert_eq!(
            decide(&mut r, &c, &view(1), NOW, &Utc).reason,
            Reason::AlreadyOpened
        );
        unlock(&mut r, &c, &view(2), NOW, &Utc);
        let d = unlock(&mut r, &c, &view(3), NOW, &Utc);
        assert_eq!(d.wall, Some(Wall::Subscribe));
    }

    #[test]
    fn unlock_for_an_anonymous_reader_is_just_a_view() {
        let c = Config {
            limit: 0,
            registered_mode: Mode::Choose,
            ..Config::default()
        };
        let mut r = Record::default();
        assert_eq!(
            unlock(&mut r, &c, &view(1), NOW, &Utc).wall,
            Some(Wall::Register)
        );
        assert!(r.entries.is_empty());
    }

    #[test]
    fn registering_twice_gifts_only_once() {
        let c = cfg(0);
        let mut r = Record::default();
        register(&mut r, &c, &view(1), NOW, &Utc);
        register(&mut r, &c, &view(2), NOW, &Utc);
        assert_eq!(
            r.entries
                .iter()
                .filter(|e| e.allowance == Allowance::Gift)
                .count(),
            1
        );
    }

    #[test]
    fn a_simulated_reader_spends_the_allowance_of_the_page_s_section() {
        let c = Config {
            limit: 5,
            sections: vec![Section {
                name: "opinion".into(),
                limit: 2,
            }],
            ..Config::default()
        };
        let op = View {
            section: Some("opinion"),
            ..view(1)
        };
        // Three opinion pieces read: the section's two are spent, the shared five are not.
        let mut record = simulate(&c, Some("opinion"), 3, NOW, &Utc);
        assert_eq!(
            decide(&mut record, &c, &op, NOW, &Utc).wall,
            Some(Wall::Register)
        );
        let mut record = simulate(&c, Some("opinion"), 3, NOW, &Utc);
        assert_eq!(decide(&mut record, &c, &view(1), NOW, &Utc).wall, None);
    }

    #[test]
    fn a_tab_left_open_under_a_rolling_period_keeps_another_tab_s_newer_view() {
        let c = Config {
            limit: 1,
            registered_limit: 0,
            period: Period::Rolling { days: 7 },
            ..Config::default()
        };
        // Day 0: article 1 counted; a second tab, walled on article 2, stays open with that.
        let mut open_tab = Record::default();
        decide(&mut open_tab, &c, &view(1), NOW, &Utc);
        assert!(decide(&mut open_tab, &c, &view(2), NOW, &Utc)
            .wall
            .is_some());
        // Day 8, another tab: the day-0 view has dropped out, and article 1 counts again.
        let later = NOW + 8 * DAY;
        let mut other = open_tab.clone();
        assert_eq!(
            decide(&mut other, &c, &view(1), later, &Utc).reason,
            Reason::Counted
        );
        // The open tab merges what the other saved (as before a registration there): the
        // day-8 view stands, and the allowance stays spent.
        open_tab.merge(&other);
        let kept = open_tab.entries.iter().find(|e| e.key == ArticleKey(1));
        assert_eq!(kept.map(|e| e.at_min), Some(later / 60_000));
        assert_eq!(
            decide(&mut open_tab, &c, &view(3), later, &Utc).wall,
            Some(Wall::Register)
        );
    }

    #[test]
    fn a_section_of_no_free_articles_does_not_hint_every_page_walled() {
        let c = Config {
            limit: 3,
            sections: vec![Section {
                name: "investigations".into(),
                limit: 0,
            }],
            ..Config::default()
        };
        let mut r = Record::default();
        decide(&mut r, &c, &view(1), NOW, &Utc);
        assert_eq!(next_hint(&r, &c, false, None, NOW, &Utc), Hint::Free);
        for n in 2..=3 {
            decide(&mut r, &c, &view(n), NOW, &Utc);
        }
        assert!(matches!(
            next_hint(&r, &c, false, None, NOW, &Utc),
            Hint::WallUntil(_)
        ));
    }

    #[test]
    fn sections_with_their_own_limit_are_separate_allowances() {
        let c = Config {
            limit: 1,
            sections: vec![Section {
                name: "opinion".into(),
                limit: 2,
            }],
            ..Config::default()
        };
        let mut r = Record::default();
        let op = |n| View {
            section: Some("opinion"),
            ..view(n)
        };
        assert_eq!(decide(&mut r, &c, &view(1), NOW, &Utc).wall, None);
        assert_eq!(
            decide(&mut r, &c, &view(2), NOW, &Utc).wall,
            Some(Wall::Register)
        );
        assert_eq!(decide(&mut r, &c, &op(3), NOW, &Utc).wall, None);
        // The page's name in another case is the same section.
        let shouting = View {
            section: Some("Opinion"),
            ..view(4)
        };
        let d = decide(&mut r, &c, &shouting, NOW, &Utc);
        assert_eq!((d.wall, d.used, d.limit), (None, 2, 2));
        // Two names apart only by case: each page draws on its own.
        let both = Config {
            sections: vec![
                Section {
                    name: "Opinion".into(),
                    limit: 1,
                },
                Section {
                    name: "opinion".into(),
                    limit: 5,
                },
            ],
            ..c.clone()
        };
        let lower = View {
            section: Some("opinion"),
            ..view(40)
        };
        let d = decide(&mut Record::default(), &both, &lower, NOW, &Utc);
        assert_eq!(d.limit, 5);
        assert_eq!(
            decide(&mut r, &c, &op(5), NOW, &Utc).wall,
            Some(Wall::Register)
        );
        // A section without its own limit shares the main allowance.
        let other = View {
            section: Some("world"),
            ..view(6)
        };
        assert_eq!(
            decide(&mut r, &c, &other, NOW, &Utc).wall,
            Some(Wall::Register)
        );
    }

    #[test]
    fn a_section_keeps_its_count_when_another_is_added() {
        let section = |name: &str, limit| Section {
            name: name.into(),
            limit,
        };
        let before = Config {
            sections: vec![section("opinion", 2)],
            ..Config::default()
        };
        // Mid-period, a section that sorts first in name order.
        let after = Config {
            sections: vec![section("analysis", 1), section("opinion", 2)],
            ..Config::default()
        };
        let in_section = |name, n| View {
            section: Some(name),
            ..view(n)
        };
        let mut r = Record::default();
        decide(&mut r, &before, &in_section("opinion", 1), NOW, &Utc);
        decide(&mut r, &before, &in_section("opinion", 2), NOW, &Utc);
        // Stored and read back, as the next page does.
        let mut r = crate::record::decode(&crate::record::encode(&r)).unwrap();
        let d = decide(&mut r, &after, &in_section("opinion", 3), NOW, &Utc);
        assert_eq!(
            (d.wall, d.used),
            (Some(Wall::Register), 2),
            "opinion is spent"
        );
        let d = decide(&mut r, &after, &in_section("analysis", 4), NOW, &Utc);
        assert_eq!((d.wall, d.used), (None, 1), "analysis is untouched");
    }

    #[test]
    fn a_full_record_makes_room_from_a_removed_section() {
        let with = |name: &str| Config {
            sections: vec![Section {
                name: name.into(),
                limit: 100,
            }],
            ..Config::default()
        };
        let (before, after) = (with("opinion"), with("analysis"));
        let in_section = |name, n| View {
            section: Some(name),
            ..view(n)
        };
        let mut r = Record::default();
        for n in 0..100 {
            decide(&mut r, &before, &in_section("opinion", n), NOW, &Utc);
        }
        // Renamed mid-period: the opinion articles stay, counting for nothing, and fill the
        // record after 50 analysis articles; the other 50 still count, then the wall.
        for n in 100..200 {
            let d = decide(&mut r, &after, &in_section("analysis", n), NOW, &Utc);
            assert_eq!((d.wall, d.used), (None, (n - 99) as u8), "article {n}");
        }
        assert!(r.entries.len() <= MAX_ENTRIES);
        let d = decide(&mut r, &after, &in_section("analysis", 200), NOW, &Utc);
        assert_eq!(d.wall, Some(Wall::Register));
    }

    #[test]
    fn a_full_record_under_lowered_limits_forgets_what_is_over_them_and_still_walls() {
        let limits = |limit, registered_limit| Config {
            limit,
            registered_limit,
            ..Config::default()
        };
        let (before, after) = (limits(100, 49), limits(50, 99));
        let mut r = Record::default();
        for n in 0..100 {
            decide(&mut r, &before, &view(n), NOW, &Utc);
        }
        register(&mut r, &before, &view(100), NOW, &Utc);
        for n in 101..150 {
            decide(&mut r, &before, &view(n), NOW, &Utc);
        }
        assert_eq!(r.entries.len(), MAX_ENTRIES);
        // Mid-period the publisher lowers the free limit and raises the registered one. The
        // record is full: the free articles beyond the new limit make room, not the article the
        // reader registered on, and every article counted is kept, up to the wall.
        for n in 150..200 {
            let d = decide(&mut r, &after, &view(n), NOW, &Utc);
            assert_eq!((d.wall, d.used), (None, (n - 100) as u8), "article {n}");
            assert!(r.opened(ArticleKey(n)), "article {n} is kept");
        }
        assert!(r.opened(ArticleKey(100)), "the gift stays");
        let d = decide(&mut r, &after, &view(200), NOW, &Utc);
        assert_eq!(d.wall, Some(Wall::Subscribe));
        assert!(r.entries.len() <= MAX_ENTRIES);
    }

    #[test]
    fn a_version_1_record_gives_its_section_places_the_config_s_ids() {
        let c = Config {
            sections: vec![
                Section {
                    name: "analysis".into(),
                    limit: 1,
                },
                Section {
                    name: "opinion".into(),
                    limit: 2,
                },
            ],
            ..Config::default()
        };
        // As version 1 wrote it: two articles in the second section in name order.
        let mut r = Record::default();
        decide(&mut r, &c, &view(10), NOW, &Utc);
        r.entries = [11, 12]
            .map(|n| Entry {
                key: ArticleKey(n),
                allowance: Allowance::SectionAt(1),
                at_min: r.latest_min,
            })
            .to_vec();
        let v1 = crate::record::encode(&r);
        assert!(v1.starts_with("1m"), "{v1}");
        let mut r = crate::record::decode(&v1).unwrap();
        assert_eq!(r.entries[0].allowance, Allowance::SectionAt(1));
        let opinion = View {
            section: Some("opinion"),
            ..view(13)
        };
        let d = decide(&mut r, &c, &opinion, NOW, &Utc);
        assert_eq!((d.wall, d.used), (Some(Wall::Register), 2), "still spent");
        assert!(r
            .entries
            .iter()
            .all(|e| e.allowance == Allowance::Section(section_id("opinion"))));
        assert!(
            crate::record::encode(&r).starts_with('2'),
            "written as version 2"
        );
    }

    #[test]
    fn a_new_calendar_month_opens_a_new_allowance() {
        let c = cfg(1);
        let mut r = Record::default();
        // 2026-11-30T23:59:00Z then 2026-12-01T00:00:00Z
        let end_nov = 1_796_083_140_000;
        decide(&mut r, &c, &view(1), end_nov, &Utc);
        assert_eq!(
            decide(&mut r, &c, &view(2), end_nov + 59_000, &Utc).wall,
            Some(Wall::Register)
        );
        assert_eq!(
            decide(&mut r, &c, &view(2), end_nov + 60_000, &Utc).wall,
            None
        );
    }

    #[test]
    fn month_boundary_follows_the_configured_zone() {
        let c = cfg(1);
        let mut r = Record::default();
        let paris = FixedOffset { minutes: 60 };
        // 2026-11-30T23:30:00Z is already December in UTC+1.
        let t = 1_796_081_400_000 + 23 * 3_600_000 + 30 * 60_000 - 1_796_081_400_000 % DAY;
        decide(&mut r, &c, &view(1), t - DAY, &paris);
        assert_eq!(decide(&mut r, &c, &view(2), t, &paris).wall, None);
    }

    #[test]
    fn rolling_periods_expire_each_view_separately() {
        let c = Config {
            limit: 2,
            period: Period::Rolling { days: 7 },
            ..Config::default()
        };
        let mut r = Record::default();
        decide(&mut r, &c, &view(1), NOW, &Utc);
        decide(&mut r, &c, &view(2), NOW + 3 * DAY, &Utc);
        assert_eq!(
            decide(&mut r, &c, &view(3), NOW + 7 * DAY - 60_000, &Utc).wall,
            Some(Wall::Register)
        );
        // Seven days after the first view, its slot comes back; the second is still held.
        assert_eq!(decide(&mut r, &c, &view(3), NOW + 7 * DAY, &Utc).wall, None);
        assert_eq!(
            decide(&mut r, &c, &view(4), NOW + 7 * DAY, &Utc).wall,
            Some(Wall::Register)
        );
    }

    #[test]
    fn lifetime_allowance_never_resets() {
        let c = Config {
            limit: 1,
            period: Period::Lifetime,
            ..Config::default()
        };
        let mut r = Record::default();
        decide(&mut r, &c, &view(1), NOW, &Utc);
        assert_eq!(
            decide(&mut r, &c, &view(2), NOW + 4000 * DAY, &Utc).wall,
            Some(Wall::Register)
        );
    }

    #[test]
    fn clock_set_back_never_reopens_the_allowance() {
        let c = cfg(1);
        let mut r = Record::default();
        // Spend November's allowance, then set the clock back into October.
        decide(&mut r, &c, &view(1), NOW, &Utc);
        let d = decide(&mut r, &c, &view(2), NOW - 60 * DAY, &Utc);
        assert_eq!(d.wall, Some(Wall::Register));
        assert_eq!(r.latest_min, NOW / 60_000);
    }

    #[test]
    fn clock_jumped_forward_rolls_the_period_forward() {
        let c = cfg(1);
        let mut r = Record::default();
        decide(&mut r, &c, &view(1), NOW, &Utc);
        assert_eq!(
            decide(&mut r, &c, &view(2), NOW + 40 * DAY, &Utc).wall,
            None
        );
        // ... and coming back to the true time stays in the later period (documented limit).
        assert_eq!(
            decide(&mut r, &c, &view(3), NOW, &Utc).wall,
            Some(Wall::Register)
        );
    }

    #[test]
    fn changing_the_period_kind_starts_afresh() {
        let mut r = Record::default();
        decide(&mut r, &cfg(1), &view(1), NOW, &Utc);
        let weekly = Config {
            period: Period::Week,
            ..cfg(1)
        };
        assert_eq!(decide(&mut r, &weekly, &view(2), NOW, &Utc).wall, None);
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::*;
        use crate::record::{decode, encode};
        use proptest::prelude::*;
        use std::collections::HashSet;

        #[derive(Clone, Debug)]
        enum Step {
            Read {
                key: u32,
                page: u8,
                section: u8,
                subscriber: bool,
            },
            Clock(i64),
            Register(u32),
            Unlock(u32),
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                6 => (0u32..24, 0u8..10, 0u8..3, prop::bool::weighted(0.1))
                    .prop_map(|(key, page, section, subscriber)| Step::Read { key, page, section, subscriber }),
                2 => prop_oneof![-40 * DAY..0, 0..2 * DAY, 0..60 * DAY].prop_map(Step::Clock),
                1 => (0u32..24).prop_map(Step::Register),
                1 => (0u32..24).prop_map(Step::Unlock),
            ]
        }

        fn config() -> impl Strategy<Value = Config> {
            let period = prop_oneof![
                Just(Period::Month),
                Just(Period::Week),
                Just(Period::Day),
                Just(Period::Lifetime),
                (1u16..=366).prop_map(|days| Period::Rolling { days }),
            ];
            (
                0u8..8,
                0u8..8,
                any::<bool>(),
                period,
                prop::option::of(0u8..5),
            )
                .prop_map(|(limit, registered_limit, choose, period, opinion)| {
                    Config {
                        limit,
                        registered_limit,
                        registered_mode: if choose { Mode::Choose } else { Mode::Auto },
                        period,
                        sections: opinion
                            .map(|limit| {
                                vec![Section {
                                    name: "opinion".into(),
                                    limit,
                                }]
                            })
                            .unwrap_or_default(),
                        ..Config::default()
                    }
                })
        }

        fn view_of(key: u32, page: u8, section: u8, subscriber: bool) -> View<'static> {
            View {
                key: ArticleKey(key),
                page: match page {
                    0 => PageType::Free,
                    1 => PageType::Premium,
                    _ => PageType::Metered,
                },
                section: [None, Some("opinion"), Some("world")][section as usize],
                subscriber,
            }
        }

        fn charged(r: &Record) -> usize {
            r.entries
                .iter()
                .filter(|e| e.allowance != Allowance::Gift)
                .count()
        }

        /// Records of any period tag, a bucket in `buckets`, up to `most` entries (each a key, an
        /// allowance code, an age before the latest time and a section id) and a token of `token`.
        fn records(
            buckets: std::ops::Range<i64>,
            most: usize,
            token: impl Strategy<Value = String>,
        ) -> impl Strategy<Value = Record> {
            let entry = (
                any::<u32>(),
                0u8..9,
                0i64..crate::record::MAX_AGE_MIN,
                0u32..1 << 24,
            );
            (
                prop::sample::select(vec![0u8, b'm', b'w', b'd', b'r', b'l']),
                buckets,
                0i64..MAX_MIN,
                prop::option::of(0i64..MAX_MIN),
                prop::collection::vec(entry, 0..most),
                prop::option::of(token),
            )
                .prop_map(|(tag, bucket, latest, registered, raw, token)| {
                    // Each article once, as the meter keeps them (a record holding one twice is
                    // malformed): two random keys are rarely equal, but shrinking makes them so.
                    let mut seen = HashSet::new();
                    let entries = raw
                        .into_iter()
                        .filter(|&(k, ..)| seen.insert(k))
                        .map(|(k, a, age, id)| Entry {
                            key: ArticleKey(k),
                            // Both versions: section places alone (version 1), or with ids
                            // (version 2).
                            allowance: match a {
                                0 => Allowance::Free,
                                1 => Allowance::Registered,
                                2 => Allowance::Gift,
                                7 | 8 => Allowance::Section(id),
                                n => Allowance::SectionAt(n - 3),
                            },
                            at_min: latest - age,
                        })
                        .collect();
                    Record {
                        period_tag: tag,
                        bucket,
                        latest_min: latest,
                        registered_min: registered,
                        entries,
                        token,
                    }
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(10_000))]

            /// Runs random journeys and checks every invariant after every step.
            #[test]
            fn meter_invariants_hold_over_any_journey(config in config(), steps in prop::collection::vec(step(), 1..40)) {
                let mut record = Record::default();
                let mut now = NOW;
                // Metered articles the reader was let into, ever: the count can never exceed them.
                let mut opened: HashSet<u32> = HashSet::new();
                for s in steps {
                    let before = record.clone();
                    match s {
                        Step::Read { key, page, section, subscriber } => {
                            let v = view_of(key, page, section, subscriber);
                            let d = decide(&mut record, &config, &v, now, &Utc);
                            if subscriber {
                                prop_assert_eq!(d.wall, None, "a subscriber is never walled");
                                prop_assert_eq!(charged(&record), charged(&before));
                            }
                            if d.wall.is_none() && v.page == PageType::Metered {
                                opened.insert(key);
                            }
                            // A re-read changes neither the count nor the decision.
                            let after = record.clone();
                            let again = decide(&mut record, &config, &v, now, &Utc);
                            prop_assert_eq!(again.wall, d.wall);
                            prop_assert_eq!(&record.entries, &after.entries);
                        }
                        Step::Clock(delta) => {
                            now += delta;
                            let v = view_of(9_999, 0, 0, false);
                            decide(&mut record, &config, &v, now, &Utc);
                            if delta < 0 {
                                prop_assert!(charged(&record) >= charged(&before), "clock back never lowers the count");
                                prop_assert_eq!(record.latest_min, before.latest_min.max(record.latest_min));
                            }
                        }
                        Step::Register(key) => {
                            let d = register(&mut record, &config, &view_of(key, 2, 0, false), now, &Utc);
                            // Registering opens the article; a reader registered before meets the
                            // wall of registered readers instead.
                            if before.registered_min.is_none() {
                                prop_assert_eq!(d.wall, None);
                            }
                            if d.wall.is_none() {
                                opened.insert(key);
                            }
                        }
                        Step::Unlock(key) => {
                            let d = unlock(&mut record, &config, &view_of(key, 2, 0, false), now, &Utc);
                            if d.wall.is_none() {
                                opened.insert(key);
                            }
                        }
                    }
                    let keys: HashSet<u32> = record.entries.iter().map(|e| e.key.0).collect();
                    prop_assert_eq!(keys.len(), record.entries.len(), "one entry per article");
                    prop_assert!(keys.is_subset(&opened), "only opened articles are counted");
                    prop_assert!(record.latest_min >= before.latest_min, "time never goes back");
                    let text = encode(&record);
                    prop_assert!(text.len() < 2_200, "record stays under 2.2 KB");
                    prop_assert_eq!(decode(&text), Ok(record.clone()));
                }
            }

            /// Two tabs' records merged keep every article either counted, once, within bounds.
            #[test]
            fn merging_two_tabs_loses_no_view(
                config in config(),
                a in prop::collection::vec(0u32..40, 0..12),
                b in prop::collection::vec(0u32..40, 0..12),
            ) {
                let (mut here, mut there) = (Record::default(), Record::default());
                let mut opened = HashSet::new();
                for (record, keys) in [(&mut here, &a), (&mut there, &b)] {
                    for &k in keys {
                        if decide(record, &config, &view_of(k, 2, 0, false), NOW, &Utc).wall.is_none() {
                            opened.insert(k);
                        }
                    }
                }
                let mut merged = here.clone();
                merged.merge(&there);
                let keys: HashSet<u32> = merged.entries.iter().map(|e| e.key.0).collect();
                prop_assert_eq!(keys.len(), merged.entries.len());
                let expected: HashSet<u32> = here.entries.iter().chain(&there.entries).map(|e| e.key.0).collect();
                prop_assert_eq!(keys, expected);
                prop_assert!(merged.entries.iter().all(|e| opened.contains(&e.key.0)));
                let mut again = merged.clone();
                again.merge(&there);
                prop_assert_eq!(again, merged, "merging twice changes nothing");
            }

            /// The stored form of any record reads back as the same record, its token found where
            /// every version keeps it.
            #[test]
            fn decode_encode_round_trips(
                // Up to the longest token kept (4,096 characters), made cheaply from a short run.
                r in records(
                    -1_000_000..1_000_000,
                    MAX_ENTRIES,
                    ("[A-Za-z0-9_.-]{1,16}", 1usize..=256).prop_map(|(run, n)| run.repeat(n)),
                ),
            ) {
                let text = encode(&r);
                // Under 6.5 KB with the longest token, under MAX_STORED: every record reads back.
                prop_assert!(text.len() < 6_656);
                // The token last, after a `~`, as every version keeps it: a page of an older
                // version finds it there (when it has a compact JWS's three parts).
                prop_assert_eq!(
                    crate::record::newer_token(&text),
                    r.token.clone().filter(|t| t.matches('.').count() == 2)
                );
                prop_assert_eq!(decode(&text), Ok(r));
            }

            /// Whatever a page or an extension leaves under our key, reading it never panics.
            #[test]
            fn decode_never_panics(text in ".{0,300}") {
                let _ = decode(&text);
            }

            /// A stored record with one to three characters put in, changed or taken out (a
            /// truncated write, an extension's edit), mostly past the header that a random text
            /// never gets beyond: reading it never panics, and what it reads as is a record
            /// that is stored and read back as itself.
            #[test]
            fn an_edited_record_reads_as_a_record_or_is_refused(
                r in records(-1_000..1_000, 8, "[A-Za-z0-9_.-]{1,40}"),
                edits in prop::collection::vec((0..3u8, any::<prop::sample::Index>(), "[0-9a-z.A-Z_|~-]"), 1..4),
            ) {
                let text = crate::edited(&encode(&r), edits);
                if let Ok(read) = decode(&text) {
                    prop_assert_eq!(decode(&encode(&read)), Ok(read));
                }
            }
        }
    }
}
