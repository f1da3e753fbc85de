//! A bug must not break the page: after a trap the article is put back, and every later call
//! answers with an error.
//!
//! A panic aborts (`panic = "abort"`), and an abort in wasm is a trap: the module's frames end
//! where they are, their destructors unrun, and the browser throws a `WebAssembly.RuntimeError`
//! to the JS that called in. No panic hook runs here: installing one (`std::panic::set_hook`)
//! links the standard library's formatting of panic messages, 2.3 KB of wasm gzip, to format
//! messages that nobody reads. The glue catches the trap instead: the build wraps each of the
//! module's exports (`guard` in `xtask/src/build.rs`) so that, once the outermost call into the
//! module has ended in a trap, it calls [`meterwall_recover`].

use super::*;

thread_local! {
    static POISONED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
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

/// The widget trapped (a bug): put the article back if it was gated, say so once, and refuse
/// every later call. Called by the glue's guard when no call into the module is under way any
/// more; a plain export (no wasm-bindgen glue of its own), which the guard calls directly.
#[no_mangle]
pub extern "C" fn meterwall_recover() {
    if POISONED.with(|p| p.replace(true)) {
        return;
    }
    forget_held();
    MOUNTED.with(|cell| {
        // SAFETY: the glue calls this only once the outermost call into the module has ended,
        // so no Rust frame is left that could hold a borrow of the page state. A trap ends the
        // frames that borrowed it without their destructors, which leaves the cell's flag saying
        // it is borrowed, with no borrow behind it: the flag is not asked.
        let slot = unsafe { &mut *cell.as_ptr() };
        if let Some(mut m) = slot.take() {
            let _ = open_up(&mut m);
        }
    });
    report("internal error: meterwall has stopped and the article stays readable; please report this to the publisher");
}
