//! Shared helpers of the browser tests: fixtures, the prompt's shadow DOM, fetch stubs.
#![allow(dead_code)]

use js_sys::{Function, Promise, Reflect, JSON};
use meterwall::record::{HINT_KEY, STORAGE_KEY, UNREADABLE_KEY};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, Element, HtmlElement, HtmlInputElement, Storage};

pub const SECRET: &str = "The third paragraph is what the wall removes.";

pub fn doc() -> Document {
    web_sys::window().unwrap().document().unwrap()
}

pub fn storage() -> Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

/// A fresh article element `#fixture` with five blocks.
pub fn fixture(id: &str) -> Element {
    let d = doc();
    if let Some(old) = d.get_element_by_id("fixture") {
        old.remove();
    }
    let body = d.create_element("div").unwrap();
    body.set_id("fixture");
    body.set_attribute("data-meterwall-id", id).unwrap();
    body.set_inner_html(&format!(
        "<p>First paragraph.</p><p>Second paragraph.</p><p id=\"third\">{SECRET}</p>\
         <h2>A subheading</h2><p>Fifth block.</p>"
    ));
    d.body().unwrap().append_child(&body).unwrap();
    body
}

pub fn config(extra: &str) -> JsValue {
    let text = format!(
        "{{\"selector\":\"#fixture\",\"limit\":\"3\",\"subscribeUrl\":\"/subscribe.html\",\"loginUrl\":\"/login.html\"{extra}}}"
    );
    JSON::parse(&text).unwrap()
}

pub fn field(v: &JsValue, name: &str) -> JsValue {
    Reflect::get(v, &name.into()).unwrap()
}

pub fn mount(id: &str) -> JsValue {
    fixture(id);
    meterwall::mount(config("")).unwrap()
}

pub fn clean() {
    storage().remove_item(STORAGE_KEY).unwrap();
    storage().remove_item(HINT_KEY).unwrap();
    storage().remove_item(UNREADABLE_KEY).unwrap();
}

/// Removes the editor's overlays (`?meterwall=debug` and the other previews) a test left.
pub fn remove_overlays() {
    for overlay in doc()
        .query_selector_all("[data-meterwall-debug]")
        .unwrap()
        .values()
    {
        overlay.unwrap().unchecked_into::<Element>().remove();
    }
}

/// Collects the console's warnings from here on, in place of printing them, until
/// [`collected_warnings`].
pub fn collect_warnings() {
    Function::new_no_args(
        "window.__warnings = []; window.__warn = console.warn;
         console.warn = function (m) { window.__warnings.push(String(m)); };",
    )
    .call0(&JsValue::NULL)
    .unwrap();
}

/// The warnings collected since [`collect_warnings`]; the console prints them again from here.
pub fn collected_warnings() -> Vec<String> {
    Function::new_no_args("console.warn = window.__warn;")
        .call0(&JsValue::NULL)
        .unwrap();
    let warnings = Reflect::get(&web_sys::window().unwrap(), &"__warnings".into()).unwrap();
    js_sys::Array::from(&warnings)
        .iter()
        .filter_map(|w| w.as_string())
        .collect()
}

pub fn prompt() -> Option<Element> {
    doc()
        .query_selector("#fixture [data-meterwall-prompt]")
        .unwrap()
}

pub fn shadow(selector: &str) -> Element {
    prompt()
        .expect("prompt shown")
        .shadow_root()
        .expect("open shadow root")
        .query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("{selector} in the prompt"))
}

pub fn page_text() -> String {
    doc().body().unwrap().text_content().unwrap_or_default()
}

/// How many times the widget has measured its work after a page's first paint
/// (`meterwall:work`): the listener for other tabs, the pending submission's restore and the
/// prompt's watch are in place once it grows.
fn work_measured() -> u32 {
    js_sys::Function::new_no_args("return performance.getEntriesByName('meterwall:work').length;")
        .call0(&wasm_bindgen::JsValue::NULL)
        .unwrap()
        .as_f64()
        .unwrap() as u32
}

thread_local! {
    static WORK_BEFORE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Notes the work measured so far, before a mount that [`painted`] waits for.
pub fn expect_paint() {
    WORK_BEFORE.with(|w| w.set(work_measured()));
}

/// Waits until the page mounted since [`expect_paint`] has done its work after its first paint,
/// polling for up to 10 s: a slow machine's late frame, not a set time, decides when.
pub async fn painted() {
    let before = WORK_BEFORE.with(|w| w.get());
    for _ in 0..1000 {
        if work_measured() > before {
            return;
        }
        sleep(10).await;
    }
    panic!("the page's work after its first paint never came");
}

pub async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

pub async fn wait_for_state(state: &str) {
    for _ in 0..200 {
        let now = doc()
            .get_element_by_id("fixture")
            .and_then(|b| b.get_attribute("data-meterwall-state"));
        if now.as_deref() == Some(state) {
            return;
        }
        sleep(10).await;
    }
    panic!("article never became {state}");
}

/// Replaces `fetch` with a stub answering `status` and `body`, recording each request in
/// `window.__sent`.
pub fn stub_fetch(status: u16, body: &str) {
    let source = format!(
        "window.__sent = []; window.fetch = function (url, init) {{ window.__sent.push({{url: url, body: init.body}}); \
         return Promise.resolve(new Response({body:?}, {{status: {status}, headers: {{'Content-Type': 'application/json'}}}})); }};"
    );
    Function::new_no_args(&source)
        .call0(&JsValue::NULL)
        .unwrap();
}

pub fn sent() -> js_sys::Array {
    Reflect::get(&web_sys::window().unwrap(), &"__sent".into())
        .unwrap()
        .unchecked_into()
}

/// Waits (up to 3 s) until the fetch stub has had `n` requests.
pub async fn until_sent(n: u32) {
    for _ in 0..300 {
        if sent().length() == n {
            return;
        }
        sleep(10).await;
    }
}

pub fn submit_email(address: &str) {
    let input: HtmlInputElement = shadow("input[type=email]").unchecked_into();
    input.set_value(address);
    let button: HtmlElement = shadow("button[type=submit]").unchecked_into();
    button.click();
}

pub fn wall_after_three() {
    clean();
    for id in ["a1", "a2", "a3"] {
        mount(id);
    }
    mount("a4");
}
