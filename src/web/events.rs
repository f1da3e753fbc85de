//! What the widget tells the page: console messages, `meterwall:*` events and their versioned
//! detail, User Timing marks, and the prompt's click and visibility events.

use super::*;
use web_sys::{CustomEvent, CustomEventInit};

/// Logs `[meterwall] message` once to the console and fires `meterwall:error`.
pub(crate) fn report(message: &str) {
    web_sys::console::error_1(&prefixed(message));
    let detail = js_sys::Object::new();
    let _ = reflect::set(&detail, "message", &message.into());
    // At once, never held: the recovery after a failure reports through here, and nothing of the
    // widget runs after it.
    dispatch("error", &detail, false);
}

pub(super) fn warn(message: &str) {
    web_sys::console::warn_1(&prefixed(message));
}

/// `[meterwall] message`, as the console shows the widget's errors, warnings and debug lines:
/// one function for them all.
pub(super) fn prefixed(message: &str) -> JsValue {
    let mut text = String::from("[meterwall] ");
    text.push_str(message);
    text.as_str().into()
}

thread_local! {
    /// How many [`Hold`]s are alive, one more while held events are being fired (firing holds
    /// what listeners cause meanwhile, as a hold does: one count, not a flag beside it), and the
    /// events.
    static HOLDS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    static HELD: std::cell::Cell<Vec<(&'static str, JsValue)>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Fires `meterwall:<name>` on `document` with `detail`, versioned; while a [`Hold`] lives, once
/// the last one goes, and while held events are being fired, after them.
pub(crate) fn emit(name: &'static str, detail: &JsValue) {
    if HOLDS.with(|h| h.get()) > 0 {
        HELD.with(|held| {
            let mut events = held.take();
            events.push((name, detail.clone()));
            // What it replaces is the empty list `take` left (nothing runs in between): no drop
            // of it to make.
            std::mem::forget(held.replace(events));
        });
    } else {
        dispatch(name, detail, false);
    }
}

/// Holds the widget's events back while its state is in use (a page view being decided, a call
/// changing it), so that listeners find the page decided and can call the API (`why()`,
/// `state()`, `mount()`), and a slow listener does not delay the wall. Dropped last, it fires
/// them in order. (`before-lock`, which can cancel the wall, and errors fire at once.)
pub(crate) struct Hold;

impl Hold {
    // Not inlined: `with_mounted`, which holds, has a copy per caller.
    #[inline(never)]
    pub(crate) fn enter() -> Hold {
        HOLDS.with(|h| h.set(h.get() + 1));
        Hold
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        release();
    }
}

/// Fires the held events, all those held at once in order, then those that listeners' calls
/// caused meanwhile (`setSubscriber` from a `view` listener), and so on, so everything fires in
/// the order it happened. A batch at a time, not one taken from the front each time:
/// `Vec::remove` moved the rest and carried a panic.
#[inline(never)]
fn release() {
    let left = HOLDS.with(|h| {
        h.set(h.get().saturating_sub(1));
        h.get()
    });
    if left > 0 {
        return;
    }
    // Firing: the one count more.
    HOLDS.with(|h| h.set(1));
    loop {
        let batch = HELD.with(|held| held.take());
        if batch.is_empty() {
            break;
        }
        // After a listener's call has stopped the widget (a bug), `dispatch` refuses the rest.
        for (name, detail) in &batch {
            dispatch(name, detail, false);
        }
    }
    HOLDS.with(|h| h.set(0));
}

/// Fires `meterwall:<name>`, its detail marked version 1 (the one place that does); returns
/// false when a listener cancelled a `cancelable` event.
pub(super) fn dispatch(name: &str, detail: &JsValue, cancelable: bool) -> bool {
    // Once the widget has stopped (a bug), only its errors fire: events held before the stop, and
    // those of an outer call that goes on to its end after it, tell the page nothing more.
    if name != "error" && check_poisoned().is_err() {
        return true;
    }
    let Some(doc) = document() else { return true };
    if detail.is_object() {
        let _ = reflect::set(detail, "version", &JsValue::from_f64(1.0));
    }
    let mut kind = String::from("meterwall:");
    kind.push_str(name);
    let init = CustomEventInit::new();
    init.set_detail(detail);
    init.set_cancelable(cancelable);
    match CustomEvent::new_with_event_init_dict(&kind, &init) {
        Ok(event) => doc.dispatch_event(&event).unwrap_or(true),
        Err(_) => true,
    }
}

/// The detail of every event about a decision: the decision with the wall's name.
pub(super) fn detail(decision: &Decision) -> JsValue {
    let detail = to_js(decision);
    if let Some(wall) = decision.wall {
        let _ = reflect::set(&detail, "wallType", &wall.name().into());
    }
    detail
}

pub(super) fn to_js(decision: &Decision) -> JsValue {
    use serde::Serialize;
    // A plain object, and `wall: null` rather than undefined: "no wall" is a value publishers
    // test for.
    let serializer = serde_wasm_bindgen::Serializer::new()
        .serialize_maps_as_objects(true)
        .serialize_missing_as_null(true);
    decision.serialize(&serializer).unwrap_or(JsValue::NULL)
}

#[wasm_bindgen]
extern "C" {
    // User Timing, bound directly rather than looked up and applied through `Reflect` (0.17 KB
    // of wasm, gzip); each throws (and is caught: nothing happens) where it is missing.
    #[wasm_bindgen(js_namespace = performance, catch)]
    fn mark(name: &str) -> Result<(), JsValue>;

    #[wasm_bindgen(js_namespace = performance, js_name = getEntriesByName, catch)]
    fn entries_by_name(name: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = performance, catch)]
    fn measure(name: &str, start: &str) -> Result<(), JsValue>;

    #[wasm_bindgen(js_namespace = performance, js_name = measure, catch)]
    fn measure_to(name: &str, start: &str, end: &str) -> Result<(), JsValue>;
}

/// Marks the decision (User Timing) and measures from the loader's `meterwall:start`: the
/// "time to decision" `cargo xtask bench` reports.
pub(super) fn timing() {
    let _ = mark("meterwall:decided");
    let started = entries_by_name("meterwall:start")
        .is_ok_and(|list| js_sys::Array::from(&list).length() > 0);
    if started {
        let _ = measure_to("meterwall:decision", "meterwall:start", "meterwall:decided");
    }
}

/// Marks the start of the widget's work after the first paint; [`after_paint_done`] measures it
/// as `meterwall:work`, the widget's main-thread time that `cargo xtask bench` adds up.
pub(super) fn after_paint_start() {
    let _ = mark("meterwall:painted");
}

pub(super) fn after_paint_done() {
    let _ = measure("meterwall:work", "meterwall:painted");
}

/// An event listener the widget adds, kept alive as long as what it listens to.
pub(crate) type Listener = Closure<dyn FnMut(web_sys::Event)>;

/// A listener that runs `handler`: one closure type for every listener the widget adds, so
/// the wasm carries one set of wasm-bindgen shims for them all.
pub(crate) fn listener(handler: fn(web_sys::Event)) -> Listener {
    Closure::new(handler)
}

/// `meterwall:subscribe-click` and `meterwall:login-click`, for the publisher's analytics; the
/// links then go where they go. The listeners are pushed onto `out`, the prompt's list.
pub(super) fn clicks(host: &Element, out: &mut Vec<Listener>) {
    for (selector, handler) in [
        ("a.subscribe", subscribe_click as fn(web_sys::Event)),
        ("a.login", login_click),
    ] {
        // Found by the prompt's own finder, not a shadow-root query of this function's own.
        let Some(link) = gate::find_in(host, selector) else {
            continue;
        };
        let listener = listener(handler);
        let _ = link.add_event_listener_with_callback("click", listener.as_ref().unchecked_ref());
        out.push(listener);
    }
}

fn subscribe_click(_: web_sys::Event) {
    emit_decision("subscribe-click");
}

fn login_click(_: web_sys::Event) {
    emit_decision("login-click");
}

/// `meterwall:<name>` with the mounted page's decision as its detail.
fn emit_decision(name: &'static str) {
    emit(name, &mounted_decision(detail));
}

/// The mounted page's decision made a JS value by `as_js` ([`detail`], or [`to_js`] for
/// `why()`), or `null`: one `with_mounted` for both rather than a copy each.
pub(super) fn mounted_decision(as_js: fn(&Decision) -> JsValue) -> JsValue {
    with_mounted(|m| as_js(&m.decision)).unwrap_or(JsValue::NULL)
}

/// `meterwall:seen` once the prompt has entered the viewport, through IntersectionObserver. The
/// callback is pushed onto `out`, the prompt's list, here rather than returned beside the
/// observer for the caller to push (with `restore_pending` kept out of line, 21 bytes of wasm,
/// gzip).
pub(super) fn seen(
    host: &Element,
    out: &mut Vec<Listener>,
) -> Option<web_sys::IntersectionObserver> {
    let callback = listener(intersections);
    let observer = web_sys::IntersectionObserver::new(callback.as_ref().unchecked_ref()).ok()?;
    observer.observe(host);
    out.push(callback);
    Some(observer)
}

/// The observer's entries (an array, passed where the listener type says event).
fn intersections(entries: web_sys::Event) {
    let entries: &js_sys::Array = entries.unchecked_ref();
    // By index, without the array's iterator (see `intl`), and `=== true` in JS through the
    // lenient get (a throwing getter is `undefined`, not true), as `as_bool() == Some(true)` on
    // a caught get is.
    let mut visible = false;
    for i in 0..entries.length() {
        if reflect::value(&entries.get(i), "isIntersecting") == JsValue::TRUE {
            visible = true;
            break;
        }
    }
    if !visible {
        return;
    }
    let first = with_mounted(|m| !std::mem::replace(&mut m.seen, true)).unwrap_or(false);
    if first {
        emit_decision("seen");
    }
}
