//! The imperative shell: the only module that touches the browser.
//!
//! One page view is one straight line: read the config and the page, load the record, ask the
//! core (`meter::decide`), save, gate the DOM, tell the page (events). Every failure is caught
//! here, logged once with the `[meterwall]` prefix, sent as a `meterwall:error` event, and
//! resolved by the configured policy; nothing in this module panics.

mod api;
mod events;
mod gate;
mod intl;
mod layers;
mod panic;
mod preview;
mod promise;
mod reflect;
mod signup;
mod store;
pub(crate) mod token;
mod types;

pub use api::{reset, set_subscriber, set_token, state, why};
use events::*;
use layers::*;
use panic::*;

use crate::article::article_key;
use crate::config::{Config, FailPolicy, Value};
use crate::meter::{self, Decision, Record, View, Wall};
use crate::record::RecordError;
use intl::ZoneCalendar;
use std::cell::RefCell;
use store::StoreError;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Node, Storage};

/// What the shell keeps between the first decision and the reader's next action.
pub(crate) struct Mounted {
    config: Config,
    key: crate::article::ArticleKey,
    body: Element,
    removed: gate::Removed,
    host: Option<Element>,
    storage: Option<Storage>,
    /// The record as last decided; also the in-memory meter when storage is unavailable.
    record: Record,
    /// Whether this page set the record's token since it last saved. Otherwise the token
    /// follows storage: one gone from there was removed by another tab (a logout there).
    token_here: bool,
    /// Whether this page has saved the record: if storage then has none, the meter was reset
    /// (`reset()` in another tab, or the reader cleared the site's data).
    saved: bool,
    decision: Decision,
    /// When the prompt was rendered (ms since the epoch), sent with the signup.
    shown_at: f64,
    /// Listeners owned by the prompt, dropped with it.
    listeners: Vec<Listener>,
    /// Which mount this is (its ticket, see `MOUNTS`): answers to an earlier page view's
    /// requests are ignored.
    generation: u32,
    /// Hears other tabs change the meter (a registration there lifts the wall here).
    storage_listener: Option<Listener>,
    /// Whether this reader subscribes: config, `setSubscriber`, or a verified token.
    subscriber: bool,
    /// When the token this reader subscribes by stops holding (ms since the epoch), if they
    /// subscribe by a token only: the anti-flicker hint walls the next page from then on.
    token_lapses: Option<i64>,
    /// Whether storage is blocked, so that `onStorageUnavailable` decides metered articles.
    blocked: bool,
    /// The reader's calendar (an `Intl.DateTimeFormat` for the configured zone), made once.
    calendar: ZoneCalendar,
    /// Watches the prompt come into view.
    observer: Option<web_sys::IntersectionObserver>,
    /// Whether `meterwall:seen` has fired for this prompt.
    seen: bool,
    /// The token the publisher has said does not make a subscriber here (`setSubscriber(false)`):
    /// another tab's change does not bring it back; a new one (a new login) is checked.
    declined: Option<String>,
    /// Whether the console has been told of an article selector that matches several elements:
    /// once a page view, and by the overlay where it shows (a preview or `?meterwall=debug`).
    several_told: bool,
}

thread_local! {
    static MOUNTED: RefCell<Option<Mounted>> = const { RefCell::new(None) };
    /// Set while a page view is being decided and gated (`finish`).
    static DECIDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Counts mounts: a decision that waited (for a token's check) is dropped if another mount
    /// began meanwhile. Each mount's count is also its page view's `generation`: one counter,
    /// not a second one for the views decided (22 bytes of wasm, gzip).
    static MOUNTS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// While the latest mount waits to decide (a prerendered page not yet shown, a kept token
    /// being checked), the API calls made meanwhile, to run in order once it has decided.
    /// Every borrow of it is a `try_` one that cannot fail, not `borrow()` or `borrow_mut()`,
    /// whose panic paths cost about 40 bytes of wasm, gzip: none is held while other code runs.
    /// (`MOUNTED`'s in `finish` and `unmount` keep panicking: a JS exception thrown through a
    /// `with_mounted` frame can leave it borrowed for good, and the widget then stops as on any
    /// bug, the article readable, rather than going on without its page view.)
    static WAITING: RefCell<Option<Vec<Call>>> = const { RefCell::new(None) };
    /// The wall of an unreadable config (`onError: "closed"`): the article, its prompt and what
    /// was removed, until the next mount.
    static CLOSED: std::cell::Cell<Option<(Element, Element, gate::Removed)>> = const { std::cell::Cell::new(None) };
}

/// An API call that waits for the page's decision.
type Call = Box<dyn FnOnce()>;

/// One step of the meter (decide, register, unlock), as [`Mounted::step`] runs it.
type Step = fn(&mut Record, &Config, &View, i64, &dyn crate::period::Calendar) -> Decision;

/// A mount that has to wait before it decides: API calls wait with it, and it answers with a
/// promise of its decision (`null` if another mount replaced it first).
fn wait() -> (JsValue, Option<js_sys::Function>) {
    WAITING.with(|w| {
        if let Ok(mut w) = w.try_borrow_mut() {
            w.get_or_insert_with(Vec::new);
        }
    });
    let mut resolve = None;
    let promise = js_sys::Promise::new(&mut |res, _| resolve = Some(res));
    (promise.into(), resolve)
}

/// Runs `then` the first time `target` fires `event`: one function for the mount's wait for a
/// prerendered page to be shown and the focus's `blur`. The function is made before the options,
/// in the order the two places made them.
fn on_once(target: &web_sys::EventTarget, event: &str, then: Box<dyn FnOnce()>) {
    let listener = promise::once(then);
    let options = web_sys::AddEventListenerOptions::new();
    options.set_once(true);
    let _ = target.add_event_listener_with_callback_and_add_event_listener_options(
        event, &listener, &options,
    );
}

fn resolve(with: Option<js_sys::Function>, value: &JsValue) {
    if let Some(f) = with {
        let _ = f.call1(&JsValue::NULL, value);
    }
}

/// Whether the page's decision is still to come (see [`wait`]).
pub(crate) fn waiting() -> bool {
    WAITING.with(|w| w.try_borrow().is_ok_and(|w| w.is_some()))
}

/// Runs `call` once the page has decided: now, or after the mount that is waiting.
pub(crate) fn when_decided(call: Call) {
    let call = WAITING.with(|w| match w.try_borrow_mut().as_deref_mut() {
        Ok(Some(calls)) => {
            calls.push(call);
            None
        }
        _ => Some(call),
    });
    if let Some(call) = call {
        call();
    }
}

/// The latest mount has decided (or failed): the calls that waited for it run, in order.
fn decided() {
    let calls = WAITING.with(|w| w.try_borrow_mut().ok()?.take());
    // Not `Option::into_iter().flatten()`, whose adapter is large (165 bytes of wasm, gzip),
    // nor an empty list made for none (17 bytes).
    if let Some(calls) = calls {
        for call in calls {
            call();
        }
    }
}

/// A new mount's ticket: the number of mounts so far, this one included.
fn next_ticket() -> u32 {
    MOUNTS.with(|n| {
        n.set(n.get().wrapping_add(1));
        n.get()
    })
}

fn document() -> Option<Document> {
    web_sys::window()?.document()
}

/// Entry point of `mount(config)`: every layer given is page config, under the article
/// element's own attributes.
pub fn mount(input: JsValue) -> Result<JsValue, JsValue> {
    mount_with(input, JsValue::UNDEFINED)
}

/// The loader's entry point. Precedence, lowest first: `<html lang>`, the `page` layers (the
/// JSON block, the script's `data-*`), the article element's attributes, then the `calls`
/// layers (`["config", …]` commands and `mount(config)` calls).
pub fn mount_with(page: JsValue, calls: JsValue) -> Result<JsValue, JsValue> {
    check_poisoned()?;
    let doc = document().ok_or_else(|| JsValue::from_str("[meterwall] no document"))?;
    // A prerendered page (Speculation Rules) is not a view until the reader sees it: decide
    // then. https://wicg.github.io/nav-speculation/prerendering.html#document-prerendering
    // `true` itself, read as a boolean rather than compared as an `Option` of the value (14
    // bytes of wasm, gzip).
    let prerendering = reflect::get(&doc, "prerendering").is_ok_and(|v| v.as_bool() == Some(true));
    if prerendering {
        // A ticket of its own, so that a later mount while the page is still not shown (a
        // single-page app's own `mount()`) replaces this one: one wall, never two.
        let ticket = next_ticket();
        let (promise, done) = wait();
        on_once(
            &doc,
            "prerenderingchange",
            Box::new(move || {
                // Replaced meanwhile: `null`, as a replaced token check gives.
                let decision = if MOUNTS.with(|n| n.get()) == ticket {
                    mount_with(page, calls).unwrap_or(JsValue::NULL)
                } else {
                    JsValue::NULL
                };
                resolve(done, &decision);
            }),
        );
        return Ok(promise);
    }
    // A second mount (a single-page app's next article) first puts the previous page back; not
    // from a listener that runs while a page view is being decided or changed (`before-lock`,
    // `error`), which would gate the page twice.
    if DECIDING.with(|d| d.get()) || MOUNTED.with(|cell| cell.try_borrow_mut().is_err()) {
        return Err(fail(
            "mount() cannot run while meterwall is deciding (from a meterwall:before-lock or meterwall:error listener); call it after the event",
        ));
    }
    let ticket = next_ticket();
    unmount();
    let p = match prepare(&doc, &page, &calls, ticket) {
        Ok(p) => p,
        Err(e) => {
            DECIDING.with(|d| d.set(false));
            decided();
            return Err(e);
        }
    };
    if p.m.config.public_key.is_none() && p.m.config.token.is_some() && !p.m.config.subscriber {
        report("the config gives a subscriber token but no publicKey to verify it with, so the reader is metered; set publicKey (or data-public-key) to the public half of the key the login signs with");
    }
    if p.m.config.public_key.is_some() && !p.m.config.subscriber {
        // The page's token first; if it is refused (a stale one from the page's own cookie, say),
        // the one kept from an earlier login, which may still hold (`check`). The one chosen is
        // cloned, not each in its branch (25 bytes of wasm, gzip).
        let first =
            p.m.config
                .token
                .as_ref()
                .or(p.m.record.token.as_ref())
                .cloned();
        if let Some(token) = first {
            // The subscriber's entitlement is checked before anything is decided, so a subscriber
            // never sees the wall flash; WebCrypto answers within milliseconds.
            let (promise, done) = wait();
            DECIDING.with(|d| d.set(false));
            check(doc, p, token, done);
            return Ok(promise);
        }
    }
    let decision = finish(&doc, p);
    // A listener of this view may have mounted another page, which now waits in turn: the calls
    // held for a decision are that page's.
    if MOUNTS.with(|n| n.get()) == ticket {
        decided();
    }
    Ok(decision)
}

/// Checks `token` for the waiting mount (its `generation`), then decides the page; a refused page
/// token is followed by a check of the kept one (the record's, unchanged until the page decides),
/// if it is another. That one is found then, not carried from the mount beside the first (55 bytes
/// of wasm, gzip).
fn check(doc: Document, mut p: Box<Prepared>, token: String, done: Option<js_sys::Function>) {
    // The key (always given here) made for each check from the config: `verify_now` keeps
    // its own handles to the key objects as the check starts, so the one made for a first
    // check is not cloned and kept for a second (22 bytes of wasm, gzip). Made only when
    // there is a token to check (34 bytes).
    let key =
        p.m.config
            .public_key
            .as_ref()
            .map_or(JsValue::NULL, value_to_js);
    token::verify_now(
        token,
        &key,
        Box::new(move |token, verified| {
            // Another mount began while the token was checked (a single-page app's next
            // article): this page view is no longer the page's. Nor is it after the widget has
            // stopped (a bug) meanwhile: the article stays as the stop left it.
            let ticket = p.m.generation;
            if MOUNTS.with(|n| n.get()) != ticket || check_poisoned().is_err() {
                resolve(done, &JsValue::NULL);
                // Dropped as the `Mounted` it holds, through that type's one drop function
                // rather than a copy of it made for `Prepared` (60 bytes of wasm, gzip).
                drop(p.m);
                return;
            }
            // Decided from here on: an error listener cannot mount meanwhile.
            DECIDING.with(|d| d.set(true));
            p.read_now = false;
            // Whether this is the page's token (the first checked, when the page gives one).
            let page_s = p.m.config.token.as_deref() == Some(token.as_str());
            let rejected = match verified {
                Ok(lapses) => {
                    p.m.subscriber = true;
                    p.m.token_lapses = Some(lapses);
                    p.m.token_here = page_s;
                    p.m.record.token = Some(token);
                    None
                }
                Err(e) => {
                    report(e.message());
                    // The page's key or the browser, not the token: a kept token would fail
                    // alike, and is kept for a page that can check it.
                    if page_s && e.is_the_token_s() {
                        if let Some(kept) =
                            p.m.record.token.as_ref().filter(|k| **k != token).cloned()
                        {
                            DECIDING.with(|d| d.set(false));
                            return check(doc, p, kept, done);
                        }
                    }
                    e.is_for_good().then_some(token)
                }
            };
            let decision = finish(&doc, p);
            // A kept token that no page will accept (expired, malformed) is forgotten, here
            // and in storage, so later pages do not check it again.
            if let Some(bad) = rejected {
                with_mounted(|m| {
                    if m.record.token.as_deref() == Some(bad.as_str()) {
                        m.forget_token();
                    }
                });
            }
            resolve(done, &decision);
            // A listener of this view may have mounted another page, which now waits in
            // turn: the calls held for a decision are that page's.
            if MOUNTS.with(|n| n.get()) == ticket {
                decided();
            }
        }),
    );
}

/// Everything a page view needs before the meter decides. Boxed from `prepare` on: handed
/// to `finish` or to a token's check (and its callback, and a second check) as one pointer,
/// not moved whole at each step (131 bytes of wasm, gzip).
struct Prepared {
    /// The state to keep, its decision still to come: made whole here, so that deciding fills
    /// in the rest and keeps it, rather than moving it over field by field (40 bytes of wasm,
    /// gzip). A token verified before deciding is in its record, `token_here` when it is the
    /// config's.
    m: Mounted,
    source: crate::article::KeySource,
    /// Why the stored value could not be read, if it could not: a newer version's record, which
    /// this page must not save over, or one this page replaces when it saves, reported then.
    unreadable: Option<RecordError>,
    /// Whether the record was read in the task that decides (false after awaiting a token).
    read_now: bool,
}

/// Reads the config and the page, and loads the record, for the page view `generation`.
fn prepare(
    doc: &Document,
    page: &JsValue,
    calls: &JsValue,
    generation: u32,
) -> Result<Box<Prepared>, JsValue> {
    // The page's language is the lowest layer: any config may name another. Made as that layer
    // itself, as merging it into an empty one would give, without the merge.
    let mut layer = Vec::new();
    if let Some(lang) = doc.document_element().and_then(|e| e.get_attribute("lang")) {
        layer.push(("locale".into(), Value::Str(lang)));
    }
    let mut merged = Value::Map(layer);
    let (page, page_objects) = config_layers(page);
    merged.merge(&page);
    drop(page);
    let (calls, calls_objects) = config_layers(calls);
    // Deciding from here on: an `error` listener of the config, the storage or the token (which
    // fire while the page is read) cannot mount a page over this one. Set once the page's JS
    // values are read, not before: a config object whose getter throws ends the mount with the
    // exception, and the flag would stay set for every later mount.
    DECIDING.with(|d| d.set(true));
    if !(page_objects && calls_objects) {
        // A number or a text where a layer should be: an invalid config, under the failure policy
        // that the other layers give.
        merged.merge(&calls);
        return Err(unreadable(doc, merged, None, None, false));
    }
    // What is done with is dropped at once (this block, the `drop`s below), not kept to the
    // end, where each of the later exits would drop it again (41 bytes of wasm, gzip).
    // The config read without the article's attributes, for its selector only.
    let body = {
        let mut first = merged.clone();
        first.merge(&calls);
        // The layers move on to `unreadable`, not cloned there (20 bytes of wasm, gzip).
        let selector = match Config::from_value(&first) {
            Ok((config, _)) => config.selector,
            // A fault in a key the article element's attributes may override (later layers win
            // key by key): the selector, read before those keys and found valid, and the config
            // again with those attributes below. Any other fault is told as it is.
            Err(e) if attribute_of(&e.path).is_some() => selector_of(&first).into(),
            Err(e) => return Err(unreadable(doc, first, Some(&e), None, false)),
        };
        match doc.query_selector(&selector) {
            Ok(Some(body)) => body,
            Ok(None) => return Err(fail(&missing_body(&selector))),
            Err(_) => return Err(fail(&bad_selector(&selector))),
        }
    };
    let element = element_layer(&body);
    merged.merge(&element);
    merged.merge(&calls);
    let (config, warnings) = match Config::from_value(&merged) {
        Ok(read) => read,
        Err(e) => {
            // Named as the article element's attribute only where the value is the attribute's
            // (the page config's own is read through the article's attributes too).
            let from_element = element.get(&e.path).is_some() && calls.get(&e.path).is_none();
            return Err(unreadable(doc, merged, Some(&e), Some(&body), from_element));
        }
    };
    drop(calls);
    drop(element);
    drop(merged);
    for w in &warnings {
        warn(w);
    }
    drop(warnings);
    let found = {
        // One empty default for both failures.
        let location = web_sys::window()
            .and_then(|w| w.location().href().ok())
            .unwrap_or_default();
        // Pushed in a loop, not `collect`ed from a `map` (24 bytes of wasm, gzip).
        let mut keep = Vec::new();
        for k in &config.keep_params {
            keep.push(k.as_str());
        }
        let canonical = canonical(doc);
        article_key(
            config.article_id.as_deref(),
            canonical.as_deref(),
            &location,
            &keep,
        )
    };
    let Some((key, source)) = found else {
        return Err(failed(doc, &body, &config, "this page has no article id and no http(s) URL: add data-meterwall-id to the article element"));
    };
    let Some(calendar) = ZoneCalendar::new(&config.time_zone) else {
        let mut m = String::from("timeZone: the browser does not know the zone \"");
        m.push_str(&config.time_zone);
        m.push_str("\"; use an IANA name such as \"Europe/Paris\"");
        return Err(failed(doc, &body, &config, &m));
    };
    let storage = store::probe();
    let (record, problem) = store::load(storage.as_ref());
    let storage_ok = !matches!(problem, Some(StoreError::Unavailable));
    // A newer version's record is left for that version: this view is decided without saving.
    // Any other unreadable value is reported once the decision knows whether this page replaces
    // it (`finish`).
    let mut unreadable = None;
    match problem {
        Some(StoreError::Unreadable(e)) if e != RecordError::NewerVersion => unreadable = Some(e),
        Some(StoreError::Unreadable(e)) => {
            unreadable = Some(e);
            report_record("starting a fresh meter", e, None);
        }
        Some(p) => report_store(&p, config.on_storage_unavailable),
        None => {}
    }
    let subscriber = config.subscriber;
    Ok(Box::new(Prepared {
        m: Mounted {
            config,
            key,
            body,
            removed: gate::Removed::default(),
            host: None,
            storage: if storage_ok { storage } else { None },
            record,
            token_here: false,
            saved: false,
            // Replaced by the decision (`finish`).
            decision: Decision::preview(None),
            shown_at: 0.0,
            listeners: Vec::new(),
            generation,
            storage_listener: None,
            subscriber,
            token_lapses: None,
            blocked: false,
            calendar,
            observer: None,
            seen: false,
            declined: None,
            several_told: false,
        },
        source,
        unreadable,
        read_now: true,
    }))
}

/// The config `value` cannot be read (`e`; `None` when a layer is not an object): reported, and
/// with `onError: "closed"` the article gated anyway, with what of the config can be read. `body`
/// is the article the config's selector found; before it is known (`None`), the one found through
/// the selector as given (or the default). One function for both reads of the config (110 bytes
/// of wasm before compression). `from_element`: the faulty value is the article element's.
fn unreadable(
    doc: &Document,
    value: Value,
    e: Option<&crate::config::ConfigError>,
    body: Option<&Element>,
    from_element: bool,
) -> JsValue {
    let policy = config_policy(&value);
    if policy == FailPolicy::Closed {
        // The article given is borrowed, not cloned beside the one found.
        let queried;
        let found = match body {
            Some(body) => Some(body),
            None => {
                // The default's selector by its name, not read from a whole default config made
                // for it (64 bytes of wasm, gzip).
                queried = doc.query_selector(selector_of(&value)).ok().flatten();
                queried.as_ref()
            }
        };
        if let Some(found) = found {
            close_on_error(doc, found, &lenient(value));
        }
    }
    fail(&config_message(e, policy, from_element))
}

/// Decides this page view, saves, and gates the page. Returns the event detail.
fn finish(doc: &Document, mut p: Box<Prepared>) -> JsValue {
    // `view` and `lock` fire once the page is decided and its state kept.
    let _hold = Hold::enter();
    DECIDING.with(|d| d.set(true));
    let mode = preview::mode(p.m.config.preview);
    let view = view_of(p.m.key, &p.m.config, p.m.subscriber);
    let mut now = js_sys::Date::now() as i64;
    // Previews decide on a copy of the meter and never save it.
    let mut saving = p.m.storage.is_some() && p.unreadable != Some(RecordError::NewerVersion);
    match mode {
        preview::Mode::Reset => {
            if let Some(s) = &p.m.storage {
                store::clear(s);
            }
            p.m.record = Record::default();
        }
        preview::Mode::Simulate { views, now_ms } => {
            // `now=` names a date in the configured zone, not in UTC.
            now = now_ms.map_or(now, |ms| crate::period::on_local_date(ms, &p.m.calendar));
            p.m.record = meter::simulate(&p.m.config, view.section, views, now, &p.m.calendar);
            saving = false;
        }
        preview::Mode::Wall | preview::Mode::Off => saving = false,
        preview::Mode::None | preview::Mode::Debug => {}
    }
    let mut decision = match mode {
        preview::Mode::Wall => Decision::preview(Some(Wall::Register)),
        preview::Mode::Off => Decision::preview(None),
        _ => meter::decide(&mut p.m.record, &p.m.config, &view, now, &p.m.calendar),
    };
    // Without storage the meter cannot count, so the policy decides: open by default.
    // (Also in the previews that show the reader's own decision.)
    let blocked = p.m.storage.is_none()
        && matches!(
            mode,
            preview::Mode::None | preview::Mode::Debug | preview::Mode::Reset
        );
    if blocked {
        decision = meter::without_storage(decision, &p.m.config);
    }
    // `matches!`, not `!=`: the derived comparison, payload and all, is a function of its own
    // (120 bytes of wasm, gzip, with the test in `preview::explain`).
    if !matches!(mode, preview::Mode::None) {
        preview::show(doc, &p.m.body, &decision, &p.m.config, p.source, mode);
        p.m.several_told = true;
    }
    if !saving {
        p.m.storage = None;
    }
    // An unreadable value, kept aside first where this page replaces it; a preview only reads
    // past it.
    if let Some(e) = p.unreadable.filter(|e| *e != RecordError::NewerVersion) {
        let aside = p.m.storage.as_ref().map(store::keep_aside);
        report_record("starting a fresh meter", e, aside);
    }
    p.m.decision = decision;
    p.m.blocked = blocked;
    // Read in this same task, no other tab can have saved since, so no merge is needed;
    // otherwise merged first, as `persist` does, with one call of `save` for both.
    if !p.read_now {
        p.m.merge_stored();
    }
    p.m.save();
    let detail = detail(&decision);
    emit("view", &detail);
    apply(doc, &mut p.m);
    pending_done(doc);
    timing();
    MOUNTED.with(|cell| *cell.borrow_mut() = Some(p.m));
    DECIDING.with(|d| d.set(false));
    detail
}

/// The anti-flicker snippet hides the article while `<html>` has this class; deciding ends it.
fn pending_done(doc: &Document) {
    if let Some(html) = doc.document_element() {
        let _ = html.class_list().remove_1("meterwall-pending");
    }
}

fn report_store(p: &StoreError, policy: FailPolicy) {
    match p {
        StoreError::Unavailable => report(match policy {
            FailPolicy::Open => "localStorage is unavailable (blocked by the browser's settings?): the meter cannot count on this page, so the article stays open (onStorageUnavailable: \"open\")",
            FailPolicy::Closed => "localStorage is unavailable (blocked by the browser's settings?): the meter cannot count on this page, so the wall is shown (onStorageUnavailable: \"closed\")",
        }),
        StoreError::WriteFailed => report("could not save the meter (storage full or revoked): later pages will not know what this one changed (a view, a registration, a token)"),
        StoreError::Unreadable(e) => report_record("starting a fresh meter", *e, None),
    }
}

/// Reports an unreadable record, saying first what is done about it (`what`) and what became of
/// the value where it is replaced (`aside`; `None` where it is not): one function for the mount's
/// and a merge's report (20 bytes of wasm, gzip).
fn report_record(what: &str, e: RecordError, aside: Option<store::Aside>) {
    let mut m = String::from(what);
    m.push_str(match aside {
        None | Some(store::Aside::Gone) => ": ",
        Some(store::Aside::Kept) => " (the old value is kept under meterwall:unreadable): ",
        Some(store::Aside::Refused) => {
            " (the old value could not be kept: storage is full or refused it): "
        }
        Some(store::Aside::TooLarge) => " (the old value is not kept): ",
    });
    m.push_str(e.message());
    report(&m);
}

fn fail(message: &str) -> JsValue {
    report(message);
    // The console's own prefixing: one function builds the text for both.
    prefixed(message)
}

/// A page that cannot be decided (its article has no key, its zone is unknown): reported, and with
/// `onError: "closed"` walled, unless the config says the reader subscribes or the page is free.
fn failed(doc: &Document, body: &Element, config: &Config, message: &str) -> JsValue {
    let exempt = config.subscriber || config.page_type == crate::config::PageType::Free;
    if config.on_error == FailPolicy::Closed && !exempt {
        close_on_error(doc, body, config);
    }
    fail(message)
}

/// What the wall of an unreadable config can still use: every key but the ones it cannot read
/// (its language, copy and links, most usefully).
fn lenient(mut value: Value) -> Config {
    // Each failure takes out the key it names (`copy.submit`: all of `copy`), a few at most.
    for _ in 0..8 {
        match Config::from_value(&value) {
            Ok((config, _)) => return config,
            Err(e) => {
                if let Value::Map(entries) = &mut value {
                    // Before the first dot.
                    let key = crate::cut(&e.path, b'.').map_or(e.path.as_str(), |(k, _)| k);
                    // The one error under `limit` that is not its value is the limits' total, which
                    // `registered` and `sections` add to.
                    let limits = |k: &str| key == "limit" && matches!(k, "registered" | "sections");
                    entries.retain(|(k, _)| k != key && !limits(k));
                }
            }
        }
    }
    Config::default()
}

/// `onError: "closed"` and a page that cannot be decided: the subscribe wall (its links work
/// without the meter, where a registration form could not), kept so that the next `mount()` (a
/// fixed config, a single-page app's next article) puts the article back first.
fn close_on_error(doc: &Document, body: &Element, config: &Config) {
    let text = prompt_text(body, config, &Decision::closed());
    if let Some((host, removed)) = gate::gate(doc, body, Wall::Subscribe, config, &text) {
        set_state(body, "locked");
        CLOSED.with(|c| c.set(Some((body.clone(), host, removed))));
    }
}

fn prompt_text(body: &Element, config: &Config, d: &Decision) -> gate::PromptText {
    let plural = config.copy.lang.plural(d.remaining);
    // The prompt states its direction: the article's, as its nearest `dir` says (the page's
    // `<html>`, its `<body>`, or the article itself), when its text is the publisher's; the
    // built-in copy (English, French, German, Spanish) reads left to right on any page.
    // Read only for the publisher's text, by plain `if`s rather than an `Option` chain (25
    // bytes of wasm, gzip).
    let mut dir = "ltr";
    if !config.copy.overrides.is_empty() {
        if let Ok(Some(e)) = body.closest("[dir]") {
            if e.get_attribute("dir")
                .is_some_and(|d| d.eq_ignore_ascii_case("rtl"))
            {
                dir = "rtl";
            }
        }
    }
    gate::PromptText {
        unlock: config
            .copy
            .unlock(d.remaining, d.limit, config.period, plural),
        dir,
        spent: d.spent_free_articles(),
    }
}

/// Fires `meterwall:<event>` with the detail of decision `d`: one call, not inlined, for the
/// four places that fire an event with nothing else to do with its detail.
#[inline(never)]
fn tell(event: &'static str, d: &Decision) {
    emit(event, &detail(d));
}

/// Marks the article with the widget's state (`data-meterwall-state`), for the page's CSS and
/// scripts. One call, not inlined, for the six places that set it (95 bytes of wasm
/// before compression).
#[inline(never)]
fn set_state(body: &Element, state: &str) {
    let _ = body.set_attribute("data-meterwall-state", state);
}

/// Makes the page match the decision: gate (with the prompt) or leave open.
fn apply(doc: &Document, m: &mut Mounted) {
    let Some(wall) = m.decision.wall else {
        set_state(&m.body, "open");
        return;
    };
    let generation = m.generation;
    promise::after_paint(Box::new(move || painted(generation)));
    // A publisher may render its own wall: `preventDefault()` on this event leaves the page to it.
    if !dispatch("before-lock", &detail(&m.decision), true) {
        set_state(&m.body, "publisher");
        return;
    }
    let text = prompt_text(&m.body, &m.config, &m.decision);
    let Some((host, removed)) = gate::gate(doc, &m.body, wall, &m.config, &text) else {
        // The page is exactly as it was: readable, whatever the decision.
        report("could not show the prompt (the page refused a change to its DOM); the article stays readable");
        set_state(&m.body, "open");
        return;
    };
    m.shown_at = js_sys::Date::now();
    // The list is empty here: only a wall's listeners are ever in it, and a wall goes only
    // through `open_up`, which clears it. So they are pushed onto it rather than replacing it,
    // which dropped the old list first (18 bytes of wasm, gzip), and pushed directly rather
    // than returned in lists of their own that it is extended with. `signup::unlisten` finds
    // the signup's listeners first in it.
    signup::listen(&host, wall, &mut m.listeners);
    clicks(&host, &mut m.listeners);
    m.host = Some(host);
    m.removed = removed;
    set_state(&m.body, "locked");
    tell("lock", &m.decision);
}

/// What the wall's first frame need not wait for, once it has painted (its listeners are in place
/// before): hearing other tabs (the first `storage` listener on a page costs Firefox 0.6 ms) and
/// reading what another tab saved meanwhile, watching the prompt come into view, and taking back
/// a submission that a reload left pending (the first sessionStorage read on a page costs Chrome
/// 0.4 ms).
fn painted(generation: u32) {
    // Nothing to do for a page view that has been replaced since. Checked in the same use of
    // the state as the work, not in one of its own (20 bytes of wasm, gzip).
    let Some(register) = with_mounted(|m| {
        (m.generation == generation).then(|| {
            after_paint_start();
            watch(m)
        })
    })
    .flatten() else {
        return;
    };
    // Outside the borrow: a submission goes out from here, and its answer needs the state.
    if let Some(host) = register {
        signup::restore_pending(&host);
    }
    after_paint_done();
}

/// The setup `painted` does on the mounted state; returns the registration wall's prompt, for
/// a pending submission to be restored into.
fn watch(m: &mut Mounted) -> Option<Element> {
    // The page may have opened before its paint (a registration, `setSubscriber`), and the
    // wall may have been applied twice (`setSubscriber(true)`, then `false`): each is set up
    // once, and only while there is a wall.
    m.decision.wall?;
    if m.storage.is_some() && m.storage_listener.is_none() {
        m.storage_listener = other_tabs();
        m.changed_elsewhere();
    }
    // Borrowed, and cloned only for the registration wall that needs it outside.
    let host = m.host.as_ref()?;
    if m.observer.is_none() {
        m.observer = seen(host, &mut m.listeners);
    }
    // Once a wall, told where the publisher looks: the wall may be on the wrong element. Once a
    // page view, not again for a wall put up again (`setSubscriber(true)`, then `false`).
    if !m.several_told {
        m.several_told = true;
        if document().is_some_and(|doc| preview::several(&doc, &m.config.selector)) {
            warn(preview::SEVERAL);
        }
    }
    (m.decision.wall == Some(Wall::Register)).then(|| host.clone())
}

/// Takes the prompt away and puts the article back, exactly as it was. Returns the first
/// restored node, where focus goes when the reader's own action opened the article.
fn open_up(m: &mut Mounted) -> Option<Node> {
    if let Some(host) = m.host.take() {
        host.remove();
    }
    let first = gate::restore(std::mem::take(&mut m.removed));
    signup::unlisten(&m.listeners);
    m.listeners.clear();
    if let Some(observer) = m.observer.take() {
        observer.disconnect();
    }
    // The window asked for only when there is a listener to remove.
    if let Some(l) = m.storage_listener.take() {
        unlisten_window("storage", &l);
    }
    set_state(&m.body, "open");
    first
}

/// Removes the window's listener `l` for `event`: one function for the `storage` listener and
/// the signup's `online` one.
fn unlisten_window(event: &str, l: &Listener) {
    if let Some(w) = web_sys::window() {
        let _ = w.remove_event_listener_with_callback(event, l.as_ref().unchecked_ref());
    }
}

fn unmount() {
    if let Some((body, host, mut removed)) = CLOSED.with(|c| c.take()) {
        // As below.
        removed.forget_if_replaced(&body, &host);
        host.remove();
        gate::restore(removed);
        let _ = body.remove_attribute("data-meterwall-state");
    }
    MOUNTED.with(|cell| {
        if let Some(mut m) = cell.borrow_mut().take() {
            // A single-page app that reused the article element may have replaced the walled
            // page: what the wall removed then belongs to that page, not to the next article.
            if let Some(host) = &m.host {
                m.removed.forget_if_replaced(&m.body, host);
            }
            let _ = open_up(&mut m);
        }
    });
    signup::forget();
}

/// The view of article `key` under `config`: one function for the three places that make one
/// (beside a record borrowed mutably, so not all through [`Mounted::view`]), not inlined in
/// each (20 bytes of wasm, gzip).
#[inline(never)]
fn view_of(key: crate::article::ArticleKey, config: &Config, subscriber: bool) -> View<'_> {
    View {
        key,
        page: config.page_type,
        section: config.section.as_deref(),
        subscriber,
    }
}

/// Runs `f` on the mounted state, if any.
pub(crate) fn with_mounted<R>(f: impl FnOnce(&mut Mounted) -> R) -> Option<R> {
    let _hold = using()?;
    MOUNTED.with(|cell| cell.try_borrow_mut().ok()?.as_mut().map(f))
}

/// The widget's code about to run on the mounted state, unless it has stopped: its events held
/// until the borrow has ended. Not inlined: `with_mounted` has a copy per caller.
#[inline(never)]
fn using() -> Option<Hold> {
    check_poisoned().ok()?;
    Some(Hold::enter())
}

impl Mounted {
    /// The section is the config's, not a copy kept beside it (18 bytes of wasm, gzip).
    fn view(&self) -> View<'_> {
        view_of(self.key, &self.config, self.subscriber)
    }

    /// Saves the record as it is.
    fn save(&mut self) {
        if let Some(s) = &self.storage {
            let hint = meter::next_hint(
                &self.record,
                &self.config,
                self.subscriber,
                self.token_lapses,
                js_sys::Date::now() as i64,
                &self.calendar,
            );
            if let Err(p) = store::save(s, &self.record, hint) {
                // Not saved: a token set here still stands over what storage holds.
                return report_store(&p, self.config.on_storage_unavailable);
            }
            self.saved = true;
        }
        self.token_here = false;
    }

    /// Folds in whatever another tab saved since this one read the record. The token is
    /// storage's unless this page has set one since it last saved.
    fn merge_stored(&mut self) {
        let Some(s) = &self.storage else {
            return;
        };
        match store::load(Some(s)) {
            // Gone since this page saved it: reset elsewhere, so this page forgets its copy too
            // (its token included) rather than saving the old meter back.
            (stored, None) if self.saved && !store::present(s) => {
                // A token this page set since it last saved is newer than the reset: it stays.
                let token = if self.token_here {
                    self.record.token.take()
                } else {
                    None
                };
                self.record = stored;
                self.record.token = token;
            }
            (mut stored, None) => {
                if !self.token_here {
                    self.record.token = stored.token.take();
                }
                self.record.merge(&stored);
            }
            // A newer version's record, written since this page read its own (a page of that
            // version, open beside this one): left for that version, as at the mount, so this
            // page stops saving.
            (_, Some(StoreError::Unreadable(e @ RecordError::NewerVersion))) => {
                report(e.message());
                self.storage = None;
            }
            // Anything else unreadable is replaced by this page's record when it saves next.
            (_, Some(StoreError::Unreadable(e))) => report_record(
                "replacing the stored meter with this page's",
                e,
                Some(store::keep_aside(s)),
            ),
            // Storage gone since the mount: the save that follows reports it.
            (_, Some(_)) => {}
        }
    }

    /// Saves the record, first folding in whatever another tab saved since this one read it.
    fn persist(&mut self) {
        self.merge_stored();
        self.save();
    }

    /// Runs one step of the meter (decide, register, unlock) for this page at the current
    /// time, on the record as every tab has left it (another tab may have spent an article
    /// since), keeps its record and decision, and saves.
    fn step(&mut self, step: Step) -> Decision {
        self.merge_stored();
        self.step_merged(step)
    }

    /// [`Self::step`] on a record that has just been merged.
    fn step_merged(&mut self, step: Step) -> Decision {
        // The record stepped where it is, beside the view made from the other fields, not
        // taken out and put back (which made an empty record and dropped it).
        let decision = step(
            &mut self.record,
            &self.config,
            &view_of(self.key, &self.config, self.subscriber),
            js_sys::Date::now() as i64,
            &self.calendar,
        );
        self.decision = decision;
        self.save();
        decision
    }

    /// Makes the page show the decision after a change from wall `was`: the article opened
    /// (focus on its first restored block when `focus`), the wall shown, or one wall replaced
    /// by another (registered elsewhere, now in `choose` mode; the last article spent in
    /// another tab).
    fn show(&mut self, was: Option<Wall>, focus: bool) {
        if was == self.decision.wall {
            return;
        }
        // Focus in the prompt (the document's active element is then its host) goes where the
        // reader's own action would send it, also when something else changed the wall (another
        // tab, the page's `setSubscriber`, a submission sent again): not lost to the page.
        let focus = focus
            || (self.host.is_some() && document().and_then(|d| d.active_element()) == self.host);
        if was.is_some() {
            // Nothing removed (an article as short as its teaser): the article takes focus, which
            // went with the prompt.
            let first = open_up(self).unwrap_or_else(|| self.body.clone().into());
            if focus && self.decision.wall.is_none() {
                gate::focus(&first);
            }
        }
        if self.decision.wall.is_some() {
            if let Some(doc) = document() {
                apply(&doc, self);
            }
            // The reader's button went with the old wall: focus goes to the new one's heading,
            // which says what happened.
            if let (true, Some(_), Some(host)) = (focus, was, &self.host) {
                if let Some(title) = gate::find(host, "mw-title") {
                    gate::focus(&title);
                }
            }
        }
    }

    /// The reader's email was accepted: registered from now on, and this article is theirs
    /// (unless they had registered in another tab meanwhile and spent their articles).
    /// `focus`: the reader submitted on this page (not on one a single-page app has left).
    /// `article`: the one they submitted on, which is theirs whichever the page shows by now.
    pub(crate) fn registered(&mut self, focus: bool, article: crate::article::ArticleKey) {
        let was = self.decision.wall;
        // Already told if this page knew the reader registered: from another tab
        // (`registered_elsewhere` tells it), or from an earlier answer to the same submission
        // (a single-page app's next page sends a pending one again while the first is under
        // way, and in `choose` mode that page stays walled). Asked before the stored record is
        // merged: a registration there that this page has not heard of yet is told here.
        let told = self.record.registered_min.is_some();
        self.merge_stored();
        let now = js_sys::Date::now() as i64;
        meter::register_on(
            &mut self.record,
            &self.config,
            Some(article),
            now,
            &self.calendar,
        );
        let decision = self.step_merged(meter::register);
        // Held, before the `lock` of a wall that `show` may put up: events in the order of a view.
        if !told {
            tell("register", &decision);
        }
        self.show(was, focus);
    }

    /// Another tab changed the meter: decide this page again with its record, and lift the wall
    /// if the reader may now read (registered or subscribed there).
    fn changed_elsewhere(&mut self) {
        let Some(storage) = &self.storage else { return };
        let (record, problem) = store::load(Some(storage));
        if problem.is_some() || self.decision.wall.is_none() {
            return;
        }
        // A subscription in another tab: that tab kept a token; it is verified here too (again,
        // if this page refused it: not valid yet then, it may be now), unless the publisher has
        // said on this page that it does not make a subscriber (`setSubscriber(false)`).
        // The token moved out of the record read, not cloned, and the key made only for a
        // check (40 bytes of wasm, gzip).
        let not_declined = record.token != self.declined;
        if let (Some(token), Some(key), false, true) = (
            record.token,
            &self.config.public_key,
            self.subscriber,
            not_declined,
        ) {
            let generation = self.generation;
            let calls = api::set_token_calls();
            token::verify_now(
                token,
                &value_to_js(key),
                Box::new(move |token, verified| {
                    with_mounted(|m| {
                        // Replaced, or opened meanwhile (another tab's change, checked twice); or
                        // this page has since said otherwise (`setToken`, a logout say, or
                        // `setSubscriber(false)` against this very token): the last word wins.
                        if m.generation != generation
                            || m.subscriber
                            || m.decision.wall.is_none()
                            || api::set_token_calls() != calls
                            || m.declined.as_deref() == Some(token.as_str())
                        {
                            return;
                        }
                        if let Ok(lapses) = verified {
                            m.record.token = Some(token);
                            m.token_lapses = Some(lapses);
                            m.resubscribe(true);
                        } else {
                            // Not a subscriber here (that tab's mount reports the token); a
                            // registration there still counts.
                            m.registered_elsewhere();
                        }
                    });
                }),
            );
            return;
        }
        self.registered_elsewhere();
    }

    /// Another tab may have registered the reader (or, registered, unlocked this article, or
    /// spent the last one): decide this page again on the record every tab has left.
    fn registered_elsewhere(&mut self) {
        let Some(storage) = &self.storage else { return };
        let (mut record, problem) = store::load(Some(storage));
        if problem.is_some() || self.decision.wall.is_none() || record.registered_min.is_none() {
            return;
        }
        record.merge(&self.record);
        let decision = meter::decide(
            &mut record,
            &self.config,
            &self.view(),
            js_sys::Date::now() as i64,
            &self.calendar,
        );
        let was = self.decision.wall;
        if decision.wall == was && decision.remaining == self.decision.remaining {
            return;
        }
        // Registered there (or, already registered, this article unlocked there).
        let newly = self.record.registered_min.is_none();
        if newly {
            // A submission this tab still holds (offline, say) has nothing left to do, and its
            // address should not outstay it in the tab's sessionStorage.
            signup::clear_pending();
        }
        self.record = record;
        self.decision = decision;
        self.persist();
        if decision.wall == was {
            // The same wall, but in `choose` mode another tab has spent an article: the button's
            // count follows, as `why()` does.
            let button = self
                .host
                .as_ref()
                .and_then(|h| gate::find_in(h, "button.unlock"));
            if let Some(button) = button {
                let text = prompt_text(&self.body, &self.config, &decision);
                button.set_text_content(Some(&text.unlock));
            }
            return;
        }
        let event = match (newly, decision.reason) {
            (true, _) => "register",
            // Opened because that tab opened this very article; a new period opening it is a
            // view like any other.
            (false, meter::Reason::AlreadyOpened) => "unlock",
            _ => "view",
        };
        tell(event, &decision);
        self.show(was, false);
    }

    /// Forgets the subscriber token here and in storage (a merge would otherwise bring it back).
    fn forget_token(&mut self) {
        self.merge_stored();
        self.record.token = None;
        self.token_lapses = None;
        self.save();
    }

    /// Decides this page again for a reader who does (or no longer does) subscribe.
    fn resubscribe(&mut self, on: bool) -> JsValue {
        self.subscriber = on;
        let was = self.decision.wall;
        let mut decision = self.step(meter::decide);
        // Deciding again follows the storage policy too, or `setSubscriber(false)` would open a
        // page that policy keeps closed. (A registration or an unlock is the reader's own: it
        // opens the article, as it would with storage.)
        if self.blocked {
            decision = meter::without_storage(decision, &self.config);
            self.decision = decision;
        }
        // `view` first, as on every page view: held, it fires before the `lock` of `apply`.
        let d = detail(&decision);
        emit("view", &d);
        self.show(was, false);
        d
    }

    /// A registered reader in `choose` mode spends one article here (if another tab has spent
    /// the last one meanwhile, the subscribe wall replaces the button).
    pub(crate) fn unlock(&mut self) {
        let was = self.decision.wall;
        let decision = self.step(meter::unlock);
        // Unlocked, or (the last article spent in another tab) decided again: `view` before the
        // new wall's `lock`.
        tell(
            if decision.wall.is_none() {
                "unlock"
            } else {
                "view"
            },
            &decision,
        );
        self.show(was, true);
    }
}

/// Listens for the `storage` event, which fires in every other tab of the origin when one tab
/// writes localStorage: a reader who registers in one tab finds the wall lifted in the others.
fn other_tabs() -> Option<Listener> {
    let listener = listener(|e| {
        // Compared in JS (`===`), not copied into a `String` first (26 bytes of wasm, gzip).
        if reflect::get(&e, "key").is_ok_and(|k| k == crate::record::STORAGE_KEY) {
            with_mounted(|m| m.changed_elsewhere());
        }
    });
    listen_window("storage", &listener)?;
    Some(listener)
}

/// Adds `l` as the window's listener for `event`; `None` if it could not be added. One function
/// for the `storage` listener and the signup's `online` one, as [`unlisten_window`] is.
fn listen_window(event: &str, l: &Listener) -> Option<()> {
    web_sys::window()?
        .add_event_listener_with_callback(event, l.as_ref().unchecked_ref())
        .ok()
}
