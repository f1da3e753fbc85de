//! Waiting on the browser's promises (fetch, WebCrypto) and timers with a callback, without an
//! async runtime in the wasm.
//!
//! The widget waits on a handful of promises, one after another: the signup's `fetch`, its
//! body, a retry's delay, the token's two WebCrypto calls. A callback per promise does that
//! with two wasm-bindgen closure types for all of them (`settled`, `once`), where `async`
//! blocks linked an executor, a task queue and a future per block.

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A promise seen only for its `then`, which takes a plain function here: the closures
    /// are turned into functions once (`Closure::once_into_js`) and free themselves when called.
    type Thenable;

    #[wasm_bindgen(method)]
    fn then(this: &Thenable, callback: &Function);
}

/// What runs once a promise settles: `Ok` with its value, `Err` with its reason.
pub type Then = Box<dyn FnOnce(Result<JsValue, JsValue>)>;

/// Runs `then` once `promise` settles, always in a later microtask.
///
/// Through `Promise.allSettled`, so a single closure hears both outcomes and is freed once it
/// has run (two closures for `then(ok, err)` would leave the one never called behind).
pub fn settled(promise: &Promise, then: Then) {
    let callback = Closure::once_into_js(move |outcomes: JsValue| {
        let outcome = super::reflect::value(&outcomes, "0");
        let field = |name: &str| super::reflect::value(&outcome, name);
        // Compared in JS (`===`), not copied out as a `String`. One call of `then` for both
        // outcomes, not one each.
        then(if field("status") == "fulfilled" {
            Ok(field("value"))
        } else {
            Err(field("reason"))
        });
    });
    Promise::all_settled(&Array::of1(promise))
        .unchecked_ref::<Thenable>()
        .then(callback.unchecked_ref());
}

/// `then` as a JS function that can run once, and frees itself when it does: one closure
/// type for every one-off callback the widget hands the browser.
pub fn once(then: Box<dyn FnOnce()>) -> Function {
    Closure::once_into_js(then).unchecked_into()
}

/// Runs `then` after `ms` milliseconds (a `setTimeout` task); the timer's handle, to cancel it.
pub fn after(ms: u32, then: Box<dyn FnOnce()>) -> Option<i32> {
    web_sys::window()?
        .set_timeout_with_callback_and_timeout_and_arguments_0(&once(then), ms as i32)
        .ok()
}

/// Runs `then` once the page has painted: in a task after the next animation frame. For the
/// widget's work that the wall's first frame need not wait for. A tab that does not paint (a
/// hidden one) runs it when it is shown.
pub fn after_paint(then: Box<dyn FnOnce()>) {
    if let Some(w) = web_sys::window() {
        let _ = w.request_animation_frame(&once(Box::new(move || {
            after(0, then);
        })));
    }
}
