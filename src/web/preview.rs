//! Editors' tools: the `?meterwall=` preview parameters, the debug overlay, and the check of the
//! page's paywalled-content markup for search engines.

use crate::article::KeySource;
use crate::config::{int_text, Config};
use crate::meter::{Decision, Wall};
use crate::period::parse_date;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element};

/// What an editor asked for in the URL (only honoured with `preview: true`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// No parameter: the real meter.
    None,
    /// `?meterwall=debug`: the real meter, with its reasons shown.
    Debug,
    /// `?meterwall=reset`: forget this browser's meter, then meter as usual.
    Reset,
    /// `?meterwall=wall`: show the registration wall, count nothing.
    Wall,
    /// `?meterwall=off`: no wall, count nothing.
    Off,
    /// `?meterwall=simulate&views=N&now=YYYY-MM-DD`: a reader with N articles read by that date.
    Simulate {
        /// Articles already read.
        views: u8,
        /// The day, as ms since the epoch (noon UTC), or now.
        now_ms: Option<i64>,
    },
}

/// The value of the query parameter `name`, borrowed from the query: no copy of it to make and
/// free.
fn param<'a>(search: &'a str, name: &str) -> Option<&'a str> {
    // Every leading `?` dropped, as `trim_start_matches` would, without its char searcher
    // (45 bytes of wasm, gzip).
    let mut query = search;
    while let Some(rest) = query.strip_prefix('?') {
        query = rest;
    }
    crate::pieces(query, b'&')
        .filter_map(|pair| crate::cut(pair, b'='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Reads the preview parameters from the page's query string. Where the config does not allow
/// previews (`allowed`), or the value names none, the parameter is reported and the page metered
/// as usual: an editor's link that does nothing says why.
pub fn mode(allowed: bool) -> Mode {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let search = search.as_str();
    let given = param(search, "meterwall");
    if given.is_some() && !allowed {
        super::events::warn("?meterwall= is ignored: previews need preview: true in the config (editors' pages only)");
        return Mode::None;
    }
    match given {
        None => Mode::None,
        Some("debug") => Mode::Debug,
        Some("reset") => Mode::Reset,
        Some("wall") => Mode::Wall,
        Some("off") => Mode::Off,
        Some("simulate") => Mode::Simulate {
            views: param(search, "views")
                .and_then(crate::config::int_value)
                .map_or(0, |n| n.min(u8::MAX.into()) as u8),
            now_ms: param(search, "now")
                .and_then(parse_date)
                .map(|d| crate::period::days_from_civil(d) * 86_400_000 + 43_200_000),
        },
        Some(other) => {
            // The value as the URL has it (percent-encoded): console text, no event.
            let mut m = String::from("?meterwall=");
            m.push_str(other);
            m.push_str(" names no preview: debug, wall, off, reset or simulate");
            super::events::warn(&m);
            Mode::None
        }
    }
}

fn line(out: &mut Vec<String>, label: &str, value: &str) {
    let mut s = String::from(label);
    s.push_str(": ");
    s.push_str(value);
    out.push(s);
}

/// What each [`Reason`](crate::meter::Reason) is to an editor, in the order the reasons are
/// declared, and where the article's key came from, in the order of [`KeySource`]: `texts!` lists
/// read by the enum's number rather than matches, whose tables of pointers and lengths compress
/// poorly.
const REASONS: &str = texts![
    "subscriber: never walled, never counted",
    "free page: never counted",
    "premium page: subscribers only",
    "already opened this period",
    "a new article, counted",
    "registered, choose mode: may unlock",
    "allowance spent",
    "preview parameter",
];
const SOURCES: &str = texts![
    "from the explicit id",
    "from the canonical URL",
    "from the page URL",
];

/// One text for each reason and each source, the last of each being the last declared, checked
/// as the crate builds.
const _: () = assert!(
    crate::list_len(REASONS) == crate::meter::Reason::Preview as usize + 1
        && crate::list_len(SOURCES) == KeySource::Url as usize + 1
);

/// The decision and its reasons as lines of text, for the console and the overlay.
pub fn explain(d: &Decision, config: &Config, source: KeySource, mode: Mode) -> Vec<String> {
    let mut out = Vec::new();
    let wall = d.wall.map_or("none (the article is open)", Wall::name);
    line(&mut out, "wall", wall);
    let reason = crate::list_item(REASONS, d.reason as usize);
    line(&mut out, "reason", reason);
    line(&mut out, "tier", d.tier.name());
    let mut used = int_text(d.used.into());
    used.push_str(" of ");
    // Written onto the text, not made as a text of its own to copy and free.
    crate::config::push_int(&mut used, d.limit.into(), 10);
    line(&mut out, "used", &used);
    let article = crate::list_item(SOURCES, source as usize);
    line(&mut out, "article", article);
    line(&mut out, "time zone", &config.time_zone);
    if !matches!(mode, Mode::None | Mode::Debug) {
        line(&mut out, "preview", "nothing of this view is saved");
    }
    out
}

/// Checks the page's structured data for paywalled content (schema.org `isAccessibleForFree:
/// false` with `hasPart.cssSelector`), which search engines need to tell a paywall from
/// cloaking. A crawler's user agent proves nothing (anyone can send it), so the gated text is
/// declared in the page instead. The warnings are added to `warnings` (the overlay's lines), not
/// returned in a list of their own to be copied over (86 bytes of wasm, gzip).
pub fn seo_warnings(doc: &Document, body: &Element, warnings: &mut Vec<String>) {
    let mut selectors = Vec::new();
    if let Ok(scripts) = doc.query_selector_all("script[type=\"application/ld+json\"]") {
        for i in 0..super::reflect::length(&scripts) {
            let text = scripts
                .item(i)
                .and_then(|n| n.text_content())
                .unwrap_or_default();
            if let Ok(data) = js_sys::JSON::parse(&text) {
                collect(&data, &mut selectors, 0);
            }
        }
    }
    if selectors.is_empty() {
        warnings.push("no structured data marks this page as paywalled: add JSON-LD with \"isAccessibleForFree\": false and \"hasPart\": {\"@type\": \"WebPageElement\", \"isAccessibleForFree\": false, \"cssSelector\": \".your-article-class\"}".into());
    }
    // Borrowed, not consumed: no owning iterator to drop (44 bytes of wasm, gzip).
    for selector in &selectors {
        // The problem's end chosen first, so the message is built once (32 bytes of wasm
        // before compression).
        let problem = if !selector.starts_with('.') || selector.bytes().any(|b| b == b' ') {
            "\" is not a class selector; search engines expect one, like \".article-body\""
        } else if !body.matches(selector).unwrap_or(false) {
            "\" does not match the element meterwall gates"
        } else {
            continue;
        };
        let mut m = String::from("structured data cssSelector \"");
        m.push_str(selector);
        m.push_str(problem);
        warnings.push(m);
    }
}

/// Finds `cssSelector`s of parts not accessible for free, anywhere in a JSON-LD tree.
fn collect(v: &JsValue, out: &mut Vec<String>, depth: u8) {
    if depth > 6 || !v.is_object() {
        return;
    }
    if js_sys::Array::is_array(v) {
        // By index, without the array's iterator (see `intl`), and the two keys below called
        // in turn, not looped over.
        let items = v.unchecked_ref::<js_sys::Array>();
        for i in 0..items.length() {
            collect(&items.get(i), out, depth + 1);
        }
        return;
    }
    let free = super::reflect::value(v, "isAccessibleForFree");
    let not_free = free == JsValue::FALSE
        || free
            .as_string()
            .is_some_and(|s| s.eq_ignore_ascii_case("false"));
    if not_free {
        if let Some(selector) = super::reflect::value(v, "cssSelector").as_string() {
            out.push(selector);
        }
    }
    collect(&super::reflect::value(v, "hasPart"), out, depth + 1);
    collect(&super::reflect::value(v, "@graph"), out, depth + 1);
}

/// Shows an editor the decision's reasons and the page's warnings. Not inlined by rustc into
/// `finish`, its one caller, which every page view runs (26 bytes of wasm, gzip); wasm-opt, which
/// inlines a function with one caller, still puts it there afterwards.
#[inline(never)]
pub fn show(
    doc: &Document,
    body: &Element,
    d: &Decision,
    config: &Config,
    source: KeySource,
    mode: Mode,
) {
    let mut lines = explain(d, config, source, mode);
    seo_warnings(doc, body, &mut lines);
    if several(doc, &config.selector) {
        lines.push(SEVERAL.into());
    }
    overlay(doc, &lines);
}

/// The warning for an article selector that several elements match: the first in the page is
/// gated, which may be a teaser of another article (the default, `article`, on a page that lists
/// others), and the article itself left whole.
pub(super) const SEVERAL: &str = "the article selector matches more than one element and meterwall gates the first: make it name only the article's text";

/// Whether `selector` matches more than one element of the page. Asked in the editor's overlay,
/// and on a walled page view once its wall has painted (where a wrong match lets readers through),
/// not before any reader's decision.
pub(super) fn several(doc: &Document, selector: &str) -> bool {
    doc.query_selector_all(selector)
        .is_ok_and(|found| super::reflect::length(&found) > 1)
}

/// A small box, in its own shadow root, listing the decision's reasons and the warnings.
pub fn overlay(doc: &Document, lines: &[String]) {
    let Some(body) = doc.body() else { return };
    if let Ok(Some(old)) = doc.query_selector("[data-meterwall-debug]") {
        old.remove();
    }
    let Ok(host) = doc.create_element("div") else {
        return;
    };
    let _ = host.set_attribute("data-meterwall-debug", "");
    let Ok(root) = host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
    else {
        return;
    };
    const CSS: &str = ":host{all:initial;position:fixed;z-index:2147483647;inset-block-end:1rem;inset-inline-end:1rem;max-inline-size:26rem;font:13px/1.4 ui-monospace,monospace;background:#111;color:#eee;padding:.75rem 1rem;border-radius:6px;box-shadow:0 2px 8px #0008}b{color:#ffd479}p{margin:.2rem 0}";
    if !super::gate::adopt(&root, CSS) {
        let _ = super::gate::el(doc, &root, "style", CSS);
    }
    // The prompt's own maker of an element with its text, for the overlay's elements too.
    let _ = super::gate::el(doc, &root, "b", "meterwall debug");
    for text in lines {
        let _ = super::gate::el(doc, &root, "p", text);
        web_sys::console::info_1(&super::events::prefixed(text));
    }
    let _ = body.append_child(&host);
}
