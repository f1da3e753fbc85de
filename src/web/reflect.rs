//! `Reflect.get`, `Reflect.set` and `Reflect.has` with the property's name passed as text, which
//! the glue turns into a JS string. js-sys's take the name as a `JsValue`, which the wasm would
//! make (an externref slot) and drop again around each of the widget's property reads and writes
//! (0.1 KB of wasm gzip).

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `Reflect.get(target, key)`; `Err` where it throws (not an object, a throwing getter).
    #[wasm_bindgen(js_namespace = Reflect, js_name = get, catch)]
    pub fn get(target: &JsValue, key: &str) -> Result<JsValue, JsValue>;

    /// `Reflect.set(target, key, value)`; `Err` where it throws, `Ok(false)` where it is refused.
    #[wasm_bindgen(js_namespace = Reflect, js_name = set, catch)]
    pub fn set(target: &JsValue, key: &str, value: &JsValue) -> Result<bool, JsValue>;

    /// `Reflect.has(target, key)`; `Err` where it throws (not an object, a proxy's trap).
    #[wasm_bindgen(js_namespace = Reflect, js_name = has, catch)]
    pub fn has(target: &JsValue, key: &str) -> Result<bool, JsValue>;
}

/// `Reflect.get(target, key)`, with `undefined` where it throws: one function for the lenient
/// reads of the preview's structured data, the calendar's parts, the token's keys and a settled
/// promise's outcome, rather than the same fallback at each.
pub fn value(target: &JsValue, key: &str) -> JsValue {
    get(target, key).unwrap_or_default()
}

/// `v.length`, whatever `v` is (a string, a `NodeList`), read through js-sys's `Array` getter:
/// the same `arg.length` in JS, and one import and glue shim for all of them instead of one per
/// type.
pub fn length(v: &JsValue) -> u32 {
    v.unchecked_ref::<js_sys::Array>().length()
}

/// `root.querySelector(selectors)` for any root (the prompt's shadow root), through web-sys's
/// `Document` binding: the same `arg.querySelector(..)` in JS, caught the same way, and one import
/// and glue shim for the page's queries and the prompt's.
pub fn query_selector(
    root: &JsValue,
    selectors: &str,
) -> Result<Option<web_sys::Element>, JsValue> {
    root.unchecked_ref::<web_sys::Document>()
        .query_selector(selectors)
}
