//! The imperative shell: the only module that touches the browser.
//!
//! One page view is one straight line: read the config and the page, load the record, ask the
//! core (`meter::decide`), save, gate the DOM, tell the page (events). Every failure is caught
//! here, logged once with the `[meterwall]` prefix, sent as a `meterwall:error` event, and
//! resolved by the configured policy; nothing in this module panics.

mod gate;
mod intl;
mod signup;
mod store;
pub(crate) mod token;
mod types;

use crate::article::article_key;
use crate::config::{Config, FailPolicy, PageType, Value};
use crate::meter::{self, Decision, Record, View, Wall};
use intl::ZoneCalendar;
use std::cell::RefCell;
use store::StoreError;
use wasm_bindgen::prelude::*;
use web_sys::{CustomEvent, CustomEventInit, Document, Element, Node, Storage};

/// What the shell keeps between the first decision and the reader's next action.
pub(crate) struct Mounted {
    config: Config,
    key: crate::article::ArticleKey,
    section: Option<String>,
    body: Element,
    removed: gate::Removed,
    host: Option<Element>,
    storage: Option<Storage>,
    /// The record as last decided; also the in-memory meter when storage is unavailable.
    record: Record,
    decision: Decision,
    /// When the prompt was rendered (ms since the epoch), sent with the signup.
    shown_at: f64,
    /// Listeners owned by the prompt, dropped with it.
    listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
    /// Which mount this is: answers to an earlier page view's requests are ignored.
    generation: u32,
    /// Hears other tabs change the meter (a registration there lifts the wall here).
    storage_listener: Option<Closure<dyn FnMut(web_sys::Event)>>,
}

thread_local! {
    static MOUNTED: RefCell<Option<Mounted>> = const { RefCell::new(None) };
    static GENERATION: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Logs `[meterwall] message` once to the console and fires `meterwall:error`.
pub(crate) fn report(message: &str) {
    let mut text = String::from("[meterwall] ");
    text.push_str(message);
    web_sys::console::error_1(&text.as_str().into());
    let detail = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&detail, &"message".into(), &message.into());
    emit("error", &detail);
}

fn warn(message: &str) {
    let mut text = String::from("[meterwall] ");
    text.push_str(message);
    web_sys::console::warn_1(&text.as_str().into());
}

/// Fires `meterwall:<name>` on `document` with `detail`.
pub(crate) fn emit(name: &str, detail: &JsValue) {
    let Some(doc) = document() else { return };
    let mut kind = String::from("meterwall:");
    kind.push_str(name);
    let init = CustomEventInit::new();
    init.set_detail(detail);
    if let Ok(event) = CustomEvent::new_with_event_init_dict(&kind, &init) {
        let _ = doc.dispatch_event(&event);
    }
}

fn document() -> Option<Document> {
    web_sys::window()?.document()
}

fn to_js(decision: &Decision) -> JsValue {
    use serde::Serialize;
    // `wall: null` rather than undefined: "no wall" is a value publishers test for.
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    decision.serialize(&serializer).unwrap_or(JsValue::NULL)
}

/// A JS value as a config tree. Walked by hand rather than through serde-wasm-bindgen's
/// deserializer, whose error paths link float formatting into every reader's download;
/// `Value` still implements `Deserialize` for the host and the fuzzer.
fn to_value(v: &JsValue, depth: u8) -> Value {
    if depth > 8 || v.is_null() || v.is_undefined() {
        Value::Null
    } else if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if let Some(n) = v.as_f64() {
        Value::Num(n)
    } else if let Some(s) = v.as_string() {
        Value::Str(s)
    } else if js_sys::Array::is_array(v) {
        let list: &js_sys::Array = v.unchecked_ref();
        Value::List(list.iter().map(|item| to_value(&item, depth + 1)).collect())
    } else if v.is_object() && !v.is_function() {
        let entries = js_sys::Object::entries(v.unchecked_ref());
        Value::Map(
            entries
                .iter()
                .filter_map(|pair| {
                    let pair: js_sys::Array = pair.unchecked_into();
                    Some((pair.get(0).as_string()?, to_value(&pair.get(1), depth + 1)))
                })
                .collect(),
        )
    } else {
        // Functions, symbols, bigints: nothing a config key takes.
        Value::Str(String::from("(unsupported value)"))
    }
}

fn config_layers(input: &JsValue) -> Result<Value, String> {
    let parsed = to_value(input, 0);
    if !matches!(parsed, Value::Map(_) | Value::List(_) | Value::Null) {
        return Err("mount(config): config must be an object or a list of objects".into());
    }
    Ok(match parsed {
        Value::List(layers) => layers
            .iter()
            .fold(Value::Map(Vec::new()), |mut acc, layer| {
                acc.merge(layer);
                acc
            }),
        other => other,
    })
}

/// The article element's own attributes, which win over the script's config.
fn element_layer(body: &Element) -> Value {
    let mut entries = Vec::new();
    for (attr, key) in [
        ("data-meterwall-id", "articleId"),
        ("data-meterwall-type", "pageType"),
        ("data-meterwall-section", "section"),
    ] {
        if let Some(v) = body.get_attribute(attr) {
            entries.push((key.into(), Value::Str(v)));
        }
    }
    Value::Map(entries)
}

fn canonical(doc: &Document) -> Option<String> {
    let link = doc.query_selector("link[rel=canonical]").ok()??;
    link.dyn_into::<web_sys::HtmlLinkElement>()
        .ok()
        .map(|l| l.href())
}

thread_local! {
    static POISONED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Set while the widget's own code runs: only its panics stop it (a test harness or another
    /// module sharing this instance may panic for its own reasons).
    static ACTIVE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Marks the widget's code as running for as long as it lives.
pub(crate) struct Active;

impl Active {
    pub(crate) fn enter() -> Active {
        ACTIVE.with(|a| a.set(a.get() + 1));
        Active
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        ACTIVE.with(|a| a.set(a.get().saturating_sub(1)));
    }
}

/// After an internal error every call answers with this, rather than running on broken state.
pub(crate) fn check_poisoned() -> Result<(), JsValue> {
    if POISONED.with(|p| p.get()) {
        Err(JsValue::from_str(
            "[meterwall] stopped after an internal error; reload the page",
        ))
    } else {
        Ok(())
    }
}

/// A panic (a bug) must leave the page readable and say so once: put the article back if it
/// was gated, report, and refuse later calls. The previous hook (a test harness's) still runs.
fn install_panic_hook() {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ours = ACTIVE.with(|a| a.get()) > 0;
            if ours && !POISONED.with(|p| p.replace(true)) {
                MOUNTED.with(|cell| {
                    if let Ok(mut slot) = cell.try_borrow_mut() {
                        if let Some(mut m) = slot.take() {
                            let _ = open_up(&mut m);
                        }
                    }
                });
                report("internal error: meterwall has stopped and the article stays readable; please report this to the publisher");
            }
            previous(info);
        }));
    });
}

/// Entry point of `mount(config)`.
pub fn mount(input: JsValue) -> Result<JsValue, JsValue> {
    check_poisoned()?;
    let _active = Active::enter();
    install_panic_hook();
    let doc = document().ok_or_else(|| JsValue::from_str("[meterwall] no document"))?;
    // A prerendered page (Speculation Rules) is not a view until the reader sees it: decide
    // then. https://wicg.github.io/nav-speculation/prerendering.html#document-prerendering
    let prerendering =
        js_sys::Reflect::get(&doc, &"prerendering".into()).ok() == Some(JsValue::TRUE);
    if prerendering {
        let later = Closure::once_into_js(move || {
            let _ = mount(input);
        });
        let options = web_sys::AddEventListenerOptions::new();
        options.set_once(true);
        let _ = doc.add_event_listener_with_callback_and_add_event_listener_options(
            "prerenderingchange",
            later.unchecked_ref(),
            &options,
        );
        return Ok(JsValue::NULL);
    }
    // A second mount (a single-page app's next article) first puts the previous page back.
    unmount();
    // The page's language is the lowest layer: any config may name another.
    let mut merged = Value::Map(Vec::new());
    if let Some(lang) = doc.document_element().and_then(|e| e.get_attribute("lang")) {
        merged.merge(&Value::Map(vec![("locale".into(), Value::Str(lang))]));
    }
    merged.merge(&config_layers(&input).map_err(|e| fail(&e))?);
    let (config, _) = Config::from_value(&merged).map_err(|e| fail(&config_message(&e)))?;
    let body = match doc.query_selector(&config.selector) {
        Ok(Some(body)) => body,
        Ok(None) => return Err(fail(&missing_body(&config.selector))),
        Err(_) => return Err(fail(&bad_selector(&config.selector))),
    };
    merged.merge(&element_layer(&body));
    let (config, warnings) = Config::from_value(&merged).map_err(|e| {
        let message = config_message(&e);
        if config_policy(&merged) == FailPolicy::Closed {
            close_on_error(&doc, &body, &Config::default());
        }
        fail(&message)
    })?;
    for w in &warnings {
        warn(w);
    }
    let location = web_sys::window()
        .map(|w| w.location().href().unwrap_or_default())
        .unwrap_or_default();
    let keep: Vec<&str> = config.keep_params.iter().map(String::as_str).collect();
    let canonical = canonical(&doc);
    let Some((key, _source)) = article_key(
        config.article_id.as_deref(),
        canonical.as_deref(),
        &location,
        &keep,
    ) else {
        return Err(fail("this page has no article id and no http(s) URL: add data-meterwall-id to the article element"));
    };
    let Some(calendar) = ZoneCalendar::new(&config.time_zone) else {
        let mut m = String::from("timeZone: the browser does not know the zone \"");
        m.push_str(&config.time_zone);
        m.push_str("\"; use an IANA name such as \"Europe/Paris\"");
        return Err(fail(&m));
    };

    let storage = store::probe();
    let (mut record, problem) = match &storage {
        Some(s) => store::load(s),
        None => (Record::default(), Some(StoreError::Unavailable)),
    };
    let storage_ok = !matches!(problem, Some(StoreError::Unavailable));
    if let Some(p) = problem {
        report_store(&p, config.on_storage_unavailable);
    }
    let view = View {
        key,
        page: config.page_type,
        section: config.section.as_deref(),
        subscriber: config.subscriber,
    };
    let now = js_sys::Date::now() as i64;
    let mut decision = meter::decide(&mut record, &config, &view, now, &calendar);
    if storage_ok {
        if let Some(s) = &storage {
            if let Err(p) = store::save(s, &record) {
                report_store(&p, config.on_storage_unavailable);
            }
        }
    } else if config.on_storage_unavailable == FailPolicy::Open
        && config.page_type != PageType::Premium
    {
        // Without storage the meter cannot count, so the policy decides: open by default.
        decision.wall = None;
    } else if decision.wall.is_none() && config.on_storage_unavailable == FailPolicy::Closed {
        decision.wall = Some(Wall::Register);
    }
    let section = config.section.clone();
    let mut mounted = Mounted {
        config,
        key,
        section,
        body,
        removed: gate::Removed::default(),
        host: None,
        storage: if storage_ok { storage } else { None },
        record,
        decision,
        shown_at: 0.0,
        listeners: Vec::new(),
        generation: GENERATION.with(|g| {
            g.set(g.get().wrapping_add(1));
            g.get()
        }),
        storage_listener: None,
    };
    if mounted.decision.wall.is_some() && mounted.storage.is_some() {
        mounted.storage_listener = other_tabs();
    }
    let detail = to_js(&decision);
    emit("view", &detail);
    apply(&doc, &mut mounted);
    MOUNTED.with(|m| *m.borrow_mut() = Some(mounted));
    Ok(detail)
}

fn config_policy(merged: &Value) -> FailPolicy {
    // The config is invalid, so read only its failure policy, as leniently as possible.
    match merged {
        Value::Map(entries)
            if entries
                .iter()
                .any(|(k, v)| k == "onError" && *v == Value::Str("closed".into())) =>
        {
            FailPolicy::Closed
        }
        _ => FailPolicy::Open,
    }
}

fn config_message(e: &crate::config::ConfigError) -> String {
    let mut m = String::from("invalid config: ");
    m.push_str(&e.to_string());
    m.push_str(". The article stays readable until it is fixed.");
    m
}

fn missing_body(selector: &str) -> String {
    let mut m = String::from("no element matches the article selector \"");
    m.push_str(selector);
    m.push_str("\": set data-selector on the script tag to the element holding the article text");
    m
}

fn bad_selector(selector: &str) -> String {
    let mut m = String::from("selector \"");
    m.push_str(selector);
    m.push_str("\" is not a valid CSS selector");
    m
}

fn report_store(p: &StoreError, policy: FailPolicy) {
    match p {
        StoreError::Unavailable => report(match policy {
            FailPolicy::Open => "localStorage is unavailable (blocked by the browser's settings?): the meter cannot count on this page, so the article stays open (onStorageUnavailable: \"open\")",
            FailPolicy::Closed => "localStorage is unavailable (blocked by the browser's settings?): the meter cannot count on this page, so the wall is shown (onStorageUnavailable: \"closed\")",
        }),
        StoreError::WriteFailed => report("could not save the meter (storage full or revoked): this view will not be remembered"),
        StoreError::Unreadable(e) => {
            let mut m = String::from("starting a fresh meter: ");
            m.push_str(&e.to_string());
            report(&m);
        }
    }
}

fn fail(message: &str) -> JsValue {
    report(message);
    let mut text = String::from("[meterwall] ");
    text.push_str(message);
    JsValue::from_str(&text)
}

/// `onError: "closed"` with a config that cannot be read: the wall with the default config.
fn close_on_error(doc: &Document, body: &Element, config: &Config) {
    let text = prompt_text(doc, config, &Decision::closed());
    if gate::gate(doc, body, Wall::Register, config, &text).is_some() {
        let _ = body.set_attribute("data-meterwall-state", "locked");
    }
}

fn prompt_text(doc: &Document, config: &Config, d: &Decision) -> gate::PromptText {
    let lang = config.copy.lang.tag();
    let plural = intl::plural(lang, d.remaining);
    // The prompt's own `all: initial` resets direction, so it takes the page's explicitly.
    let dir = doc
        .document_element()
        .and_then(|e| e.get_attribute("dir"))
        .filter(|d| d.eq_ignore_ascii_case("rtl"))
        .map_or("ltr", |_| "rtl");
    gate::PromptText {
        unlock: config
            .copy
            .unlock(d.remaining, d.limit, config.period, plural),
        dir: dir.into(),
    }
}

/// Makes the page match the decision: gate (with the prompt) or leave open.
fn apply(doc: &Document, m: &mut Mounted) {
    match m.decision.wall {
        None => {
            let _ = m.body.set_attribute("data-meterwall-state", "open");
        }
        Some(wall) => {
            let text = prompt_text(doc, &m.config, &m.decision);
            let Some((host, removed)) = gate::gate(doc, &m.body, wall, &m.config, &text) else {
                // The page is exactly as it was: readable, whatever the decision.
                report("could not show the prompt (the page refused a change to its DOM); the article stays readable");
                let _ = m.body.set_attribute("data-meterwall-state", "open");
                return;
            };
            m.host = Some(host);
            m.removed = removed;
            m.shown_at = js_sys::Date::now();
            if let Some(host) = &m.host {
                m.listeners = signup::listen(host, wall);
            }
            let _ = m.body.set_attribute("data-meterwall-state", "locked");
            let detail = to_js(&m.decision);
            let _ =
                js_sys::Reflect::set(&detail, &"wallType".into(), &gate::wall_name(wall).into());
            emit("lock", &detail);
        }
    }
}

/// Takes the prompt away and puts the article back, exactly as it was. Returns the first
/// restored node, where focus goes when the reader's own action opened the article.
fn open_up(m: &mut Mounted) -> Option<Node> {
    if let Some(host) = m.host.take() {
        host.remove();
    }
    let first = gate::restore(&m.body, std::mem::take(&mut m.removed));
    signup::unlisten(&m.listeners);
    m.listeners.clear();
    if let (Some(w), Some(l)) = (web_sys::window(), m.storage_listener.take()) {
        let _ = w.remove_event_listener_with_callback("storage", l.as_ref().unchecked_ref());
    }
    let _ = m.body.set_attribute("data-meterwall-state", "open");
    first
}

fn unmount() {
    MOUNTED.with(|cell| {
        if let Some(mut m) = cell.borrow_mut().take() {
            let _ = open_up(&mut m);
        }
    });
    signup::forget();
}

/// Runs `f` on the mounted state, if any.
pub(crate) fn with_mounted<R>(f: impl FnOnce(&mut Mounted) -> R) -> Option<R> {
    if POISONED.with(|p| p.get()) {
        return None;
    }
    let _active = Active::enter();
    MOUNTED.with(|cell| cell.try_borrow_mut().ok()?.as_mut().map(f))
}

impl Mounted {
    fn view(&self) -> View<'_> {
        View {
            key: self.key,
            page: self.config.page_type,
            section: self.section.as_deref(),
            subscriber: self.config.subscriber,
        }
    }

    fn calendar(&self) -> ZoneCalendar {
        ZoneCalendar::new(&self.config.time_zone).unwrap_or(ZoneCalendar::Utc)
    }

    /// Saves the record, first folding in whatever another tab saved since this one read it.
    fn persist(&mut self) {
        if let Some(s) = &self.storage {
            if let (stored, None) = store::load(s) {
                self.record.merge(&stored);
            }
            if let Err(p) = store::save(s, &self.record) {
                report_store(&p, self.config.on_storage_unavailable);
            }
        }
    }

    /// The reader's email was accepted: registered from now on, this article is theirs.
    pub(crate) fn registered(&mut self) {
        let calendar = self.calendar();
        let mut record = self.record.clone();
        let decision = meter::register(
            &mut record,
            &self.config,
            &self.view(),
            js_sys::Date::now() as i64,
            &calendar,
        );
        self.record = record;
        self.decision = decision;
        self.persist();
        if let Some(first) = open_up(self) {
            gate::focus(&first);
        }
        emit("register", &to_js(&decision));
    }

    /// Another tab changed the meter: decide this page again with its record, and lift the wall
    /// if the reader may now read (registered or subscribed there).
    fn changed_elsewhere(&mut self) {
        let Some(storage) = &self.storage else { return };
        let (mut record, problem) = store::load(storage);
        if problem.is_some() || record.registered_min.is_none() || self.decision.wall.is_none() {
            return;
        }
        let calendar = self.calendar();
        let decision = meter::decide(
            &mut record,
            &self.config,
            &self.view(),
            js_sys::Date::now() as i64,
            &calendar,
        );
        if decision.wall.is_none() {
            self.record = record;
            self.decision = decision;
            self.persist();
            let _ = open_up(self);
            emit("register", &to_js(&decision));
        }
    }

    /// A registered reader in `choose` mode spends one article here.
    pub(crate) fn unlock(&mut self) {
        let calendar = self.calendar();
        let mut record = self.record.clone();
        let decision = meter::unlock(
            &mut record,
            &self.config,
            &self.view(),
            js_sys::Date::now() as i64,
            &calendar,
        );
        self.record = record;
        self.decision = decision;
        self.persist();
        if decision.wall.is_none() {
            if let Some(first) = open_up(self) {
                gate::focus(&first);
            }
            emit("unlock", &to_js(&decision));
        }
    }
}

/// Listens for the `storage` event, which fires in every other tab of the origin when one tab
/// writes localStorage: a reader who registers in one tab finds the wall lifted in the others.
fn other_tabs() -> Option<Closure<dyn FnMut(web_sys::Event)>> {
    let listener: Closure<dyn FnMut(web_sys::Event)> = Closure::new(|e: web_sys::Event| {
        let key = js_sys::Reflect::get(&e, &"key".into())
            .ok()
            .and_then(|k| k.as_string());
        if key.as_deref() == Some(crate::record::STORAGE_KEY) {
            with_mounted(|m| m.changed_elsewhere());
        }
    });
    web_sys::window()?
        .add_event_listener_with_callback("storage", listener.as_ref().unchecked_ref())
        .ok()?;
    Some(listener)
}

/// The last decision, or `null`.
pub fn why() -> JsValue {
    if check_poisoned().is_err() {
        return JsValue::NULL;
    }
    with_mounted(|m| to_js(&m.decision)).unwrap_or(JsValue::NULL)
}

/// Forgets the reader's meter.
pub fn reset() {
    if let Some(s) = store::probe() {
        store::clear(&s);
    }
}
